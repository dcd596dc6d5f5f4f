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
use crate::scope::{self, run};

fn in_tenant(tenant_id: TenantId) -> sea_orm::Select<pages::Entity> {
    pages::Entity::find().filter(pages::Column::TenantId.eq(tenant_id.0))
}

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
        let query = in_tenant(tenant_id).filter(pages::Column::Id.eq(id.0));
        Ok(run::one(&self.db, tenant_id, query)
            .await?
            .map(mapping::page))
    }

    async fn find_by_facebook_id(
        &self,
        tenant_id: TenantId,
        facebook_page_id: &str,
    ) -> DomainResult<Option<Page>> {
        let query = in_tenant(tenant_id).filter(pages::Column::FacebookPageId.eq(facebook_page_id));
        Ok(run::one(&self.db, tenant_id, query)
            .await?
            .map(mapping::page))
    }

    async fn list(&self, tenant_id: TenantId, page: PageRequest) -> DomainResult<ListPage<Page>> {
        let rows = run::page(
            &self.db,
            tenant_id,
            in_tenant(tenant_id),
            pages::Column::Id,
            page,
        )
        .await?;
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
        let delete = pages::Entity::delete_many()
            .filter(pages::Column::TenantId.eq(tenant_id.0))
            .filter(pages::Column::Id.eq(id.0));
        Ok(run::delete(&self.db, tenant_id, delete).await? > 0)
    }
}
