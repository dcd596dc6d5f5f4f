use async_trait::async_trait;
use refhub_domain::DomainResult;
use refhub_domain::identity::{Tenant, TenantRepository, TenantStatus};
use refhub_domain::ids::TenantId;
use refhub_domain::pagination::{Page, PageRequest};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::mapping;
use crate::Store;
use crate::entities::tenants;
use crate::error::internal;
use crate::pagination::keyset_page;

#[async_trait]
impl TenantRepository for Store {
    async fn find(&self, id: TenantId) -> DomainResult<Option<Tenant>> {
        tenants::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .map_err(internal)?
            .map(mapping::tenant)
            .transpose()
    }

    async fn list(
        &self,
        status: Option<TenantStatus>,
        page: PageRequest,
    ) -> DomainResult<Page<Tenant>> {
        let mut query = tenants::Entity::find();
        if let Some(status) = status {
            query = query.filter(tenants::Column::Status.eq(status.as_str()));
        }
        let rows = keyset_page(&self.db, query, tenants::Column::Id, page)
            .await
            .map_err(internal)?;
        let items = rows
            .items
            .into_iter()
            .map(mapping::tenant)
            .collect::<DomainResult<_>>()?;
        Ok(Page {
            items,
            has_next_page: rows.has_next_page,
            total_count: rows.total_count,
        })
    }

    async fn set_status(&self, id: TenantId, status: TenantStatus) -> DomainResult<Option<Tenant>> {
        let Some(row) = tenants::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .map_err(internal)?
        else {
            return Ok(None);
        };
        let mut active: tenants::ActiveModel = row.into();
        active.status = Set(status.as_str().to_owned());
        active.updated_at = Set(chrono::Utc::now());
        let row = active.update(&self.db).await.map_err(internal)?;
        mapping::tenant(row).map(Some)
    }

    async fn set_time_zone(&self, id: TenantId, time_zone: &str) -> DomainResult<Option<Tenant>> {
        let Some(row) = tenants::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .map_err(internal)?
        else {
            return Ok(None);
        };
        let mut active: tenants::ActiveModel = row.into();
        active.time_zone = Set(time_zone.to_owned());
        active.updated_at = Set(chrono::Utc::now());
        let row = active.update(&self.db).await.map_err(internal)?;
        mapping::tenant(row).map(Some)
    }
}
