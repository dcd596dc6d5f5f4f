use async_trait::async_trait;
use refhub_domain::DomainResult;
use refhub_domain::catalogue::{Page, PageRepository};
use refhub_domain::ids::{PageId, TenantId};
use refhub_domain::pagination::{Page as ListPage, PageRequest};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};

use super::mapping;
use crate::Store;
use crate::entities::pages;
use crate::error::{internal, unique_as_conflict};
use crate::pagination::keyset_page;
use crate::scope;

#[async_trait]
impl PageRepository for Store {
    async fn create(&self, page: &Page) -> DomainResult<()> {
        let txn = scope::for_tenant(&self.db, page.tenant_id)
            .await
            .map_err(internal)?;
        mapping::page_row(page).insert(&txn).await.map_err(|err| {
            unique_as_conflict(err, "facebookPageId", "this page is already connected")
        })?;
        txn.commit().await.map_err(internal)
    }

    async fn find(&self, tenant_id: TenantId, id: PageId) -> DomainResult<Option<Page>> {
        let txn = scope::for_tenant(&self.db, tenant_id)
            .await
            .map_err(internal)?;
        let row = pages::Entity::find_by_id((tenant_id.0, id.0))
            .one(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        Ok(row.map(mapping::page))
    }

    async fn find_by_facebook_id(
        &self,
        tenant_id: TenantId,
        facebook_page_id: &str,
    ) -> DomainResult<Option<Page>> {
        let txn = scope::for_tenant(&self.db, tenant_id)
            .await
            .map_err(internal)?;
        let row = pages::Entity::find()
            .filter(pages::Column::TenantId.eq(tenant_id.0))
            .filter(pages::Column::FacebookPageId.eq(facebook_page_id))
            .one(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        Ok(row.map(mapping::page))
    }

    async fn list(&self, tenant_id: TenantId, page: PageRequest) -> DomainResult<ListPage<Page>> {
        let txn = scope::for_tenant(&self.db, tenant_id)
            .await
            .map_err(internal)?;
        let query = pages::Entity::find().filter(pages::Column::TenantId.eq(tenant_id.0));
        let rows = keyset_page(&txn, query, pages::Column::Id, page)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        Ok(rows.map(mapping::page))
    }

    async fn update(&self, page: &Page) -> DomainResult<()> {
        let txn = scope::for_tenant(&self.db, page.tenant_id)
            .await
            .map_err(internal)?;
        mapping::page_row(page)
            .update(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)
    }

    async fn delete(&self, tenant_id: TenantId, id: PageId) -> DomainResult<bool> {
        let txn = scope::for_tenant(&self.db, tenant_id)
            .await
            .map_err(internal)?;
        let result = pages::Entity::delete_by_id((tenant_id.0, id.0))
            .exec(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        Ok(result.rows_affected > 0)
    }
}
