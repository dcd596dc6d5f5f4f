use async_trait::async_trait;
use refhub_domain::DomainResult;
use refhub_domain::catalogue::{Tag, TagRepository};
use refhub_domain::ids::{TagId, TenantId};
use refhub_domain::pagination::{Page as ListPage, PageRequest};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};

use super::mapping;
use crate::Store;
use crate::entities::tags;
use crate::error::{internal, unique_as_conflict};
use crate::pagination::keyset_page;
use crate::scope;

const NAME_TAKEN: &str = "a tag with this name already exists";

#[async_trait]
impl TagRepository for Store {
    async fn create(&self, tag: &Tag) -> DomainResult<()> {
        let txn = scope::for_tenant(&self.db, tag.tenant_id)
            .await
            .map_err(internal)?;
        mapping::tag_row(tag)
            .insert(&txn)
            .await
            .map_err(|err| unique_as_conflict(err, "name", NAME_TAKEN))?;
        txn.commit().await.map_err(internal)
    }

    async fn find(&self, tenant_id: TenantId, id: TagId) -> DomainResult<Option<Tag>> {
        let txn = scope::for_tenant(&self.db, tenant_id)
            .await
            .map_err(internal)?;
        let row = tags::Entity::find_by_id((tenant_id.0, id.0))
            .one(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        Ok(row.map(mapping::tag))
    }

    async fn find_many(&self, tenant_id: TenantId, ids: &[TagId]) -> DomainResult<Vec<Tag>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let txn = scope::for_tenant(&self.db, tenant_id)
            .await
            .map_err(internal)?;
        let rows = tags::Entity::find()
            .filter(tags::Column::TenantId.eq(tenant_id.0))
            .filter(tags::Column::Id.is_in(ids.iter().map(|id| id.0)))
            .all(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        Ok(rows.into_iter().map(mapping::tag).collect())
    }

    async fn list(&self, tenant_id: TenantId, page: PageRequest) -> DomainResult<ListPage<Tag>> {
        let txn = scope::for_tenant(&self.db, tenant_id)
            .await
            .map_err(internal)?;
        let query = tags::Entity::find().filter(tags::Column::TenantId.eq(tenant_id.0));
        let rows = keyset_page(&txn, query, tags::Column::Id, page)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        Ok(rows.map(mapping::tag))
    }

    async fn update(&self, tag: &Tag) -> DomainResult<()> {
        let txn = scope::for_tenant(&self.db, tag.tenant_id)
            .await
            .map_err(internal)?;
        mapping::tag_row(tag)
            .update(&txn)
            .await
            .map_err(|err| unique_as_conflict(err, "name", NAME_TAKEN))?;
        txn.commit().await.map_err(internal)
    }

    async fn delete(&self, tenant_id: TenantId, id: TagId) -> DomainResult<bool> {
        let txn = scope::for_tenant(&self.db, tenant_id)
            .await
            .map_err(internal)?;
        let result = tags::Entity::delete_by_id((tenant_id.0, id.0))
            .exec(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        Ok(result.rows_affected > 0)
    }
}
