use async_trait::async_trait;
use refhub_domain::DomainResult;
use refhub_domain::catalogue::{MessengerApp, MessengerAppRepository};
use refhub_domain::ids::TenantId;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};

use super::mapping;
use crate::Store;
use crate::entities::messenger_apps;
use crate::error::internal;
use crate::scope;

#[async_trait]
impl MessengerAppRepository for Store {
    async fn find(&self, tenant_id: TenantId) -> DomainResult<Option<MessengerApp>> {
        let txn = scope::for_tenant(&self.db, tenant_id)
            .await
            .map_err(internal)?;
        let row = messenger_apps::Entity::find()
            .filter(messenger_apps::Column::TenantId.eq(tenant_id.0))
            .one(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        Ok(row.map(mapping::messenger_app))
    }

    async fn save(&self, app: &MessengerApp) -> DomainResult<()> {
        let txn = scope::for_tenant_writing(&self.db, app.tenant_id)
            .await
            .map_err(internal)?;
        let exists = messenger_apps::Entity::find_by_id((app.tenant_id.0, app.id.0))
            .one(&txn)
            .await
            .map_err(internal)?
            .is_some();
        let row = mapping::messenger_app_row(app);
        if exists {
            row.update(&txn).await.map_err(internal)?;
        } else {
            row.insert(&txn).await.map_err(internal)?;
        }
        txn.commit().await.map_err(internal)
    }

    async fn delete(&self, tenant_id: TenantId) -> DomainResult<bool> {
        let txn = scope::for_tenant(&self.db, tenant_id)
            .await
            .map_err(internal)?;
        let result = messenger_apps::Entity::delete_many()
            .filter(messenger_apps::Column::TenantId.eq(tenant_id.0))
            .exec(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        Ok(result.rows_affected > 0)
    }
}
