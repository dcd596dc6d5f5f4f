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
use crate::id_list::among;
use crate::scope::{self, run};

const NAME_TAKEN: &str = "a tag with this name already exists";

fn in_tenant(tenant_id: TenantId) -> sea_orm::Select<tags::Entity> {
    tags::Entity::find().filter(tags::Column::TenantId.eq(tenant_id.0))
}

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
        let query = in_tenant(tenant_id).filter(tags::Column::Id.eq(id.0));
        Ok(run::one(&self.db, tenant_id, query)
            .await?
            .map(mapping::tag))
    }

    async fn find_many(&self, tenant_id: TenantId, ids: &[TagId]) -> DomainResult<Vec<Tag>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let query = in_tenant(tenant_id).filter(among(
            self.db.get_database_backend(),
            tags::Column::Id,
            ids.iter().map(|id| id.0),
        ));
        let rows = run::all(&self.db, tenant_id, query).await?;
        Ok(rows.into_iter().map(mapping::tag).collect())
    }

    async fn list(&self, tenant_id: TenantId, page: PageRequest) -> DomainResult<ListPage<Tag>> {
        let rows = run::page(
            &self.db,
            tenant_id,
            in_tenant(tenant_id),
            tags::Column::Id,
            page,
        )
        .await?;
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
        let delete = tags::Entity::delete_many()
            .filter(tags::Column::TenantId.eq(tenant_id.0))
            .filter(tags::Column::Id.eq(id.0));
        Ok(run::delete(&self.db, tenant_id, delete).await? > 0)
    }
}
