use async_trait::async_trait;
use refhub_domain::DomainResult;
use refhub_domain::flows::{FlowTrigger, FlowTriggerRepository};
use refhub_domain::ids::{FlowId, FlowTriggerId, TenantId};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::mapping;
use crate::Store;
use crate::entities::flow_triggers;
use crate::error::{internal, unique_as_conflict};
use crate::id_list::among;
use crate::scope::{self, run};

const RULE_TAKEN: &str = "the same rule already starts a flow on this page";

fn in_tenant(tenant_id: TenantId) -> sea_orm::Select<flow_triggers::Entity> {
    flow_triggers::Entity::find()
        .filter(flow_triggers::Column::TenantId.eq(tenant_id.0))
        .order_by_asc(flow_triggers::Column::Id)
}

#[async_trait]
impl FlowTriggerRepository for Store {
    async fn create(&self, trigger: &FlowTrigger) -> DomainResult<()> {
        let txn = scope::for_tenant(&self.db, trigger.tenant_id)
            .await
            .map_err(internal)?;
        mapping::trigger_row(trigger)
            .insert(&txn)
            .await
            .map_err(|err| unique_as_conflict(err, "rule", RULE_TAKEN))?;
        txn.commit().await.map_err(internal)
    }

    async fn delete(&self, tenant_id: TenantId, id: FlowTriggerId) -> DomainResult<bool> {
        let delete = flow_triggers::Entity::delete_many()
            .filter(flow_triggers::Column::TenantId.eq(tenant_id.0))
            .filter(flow_triggers::Column::Id.eq(id.0));
        Ok(run::delete(&self.db, tenant_id, delete).await? > 0)
    }

    async fn list(&self, tenant_id: TenantId) -> DomainResult<Vec<FlowTrigger>> {
        run::all(&self.db, tenant_id, in_tenant(tenant_id))
            .await?
            .into_iter()
            .map(mapping::trigger)
            .collect()
    }

    async fn list_for_flows(
        &self,
        tenant_id: TenantId,
        flow_ids: &[FlowId],
    ) -> DomainResult<Vec<FlowTrigger>> {
        if flow_ids.is_empty() {
            return Ok(Vec::new());
        }
        let query = in_tenant(tenant_id).filter(among(
            self.db.get_database_backend(),
            flow_triggers::Column::FlowId,
            flow_ids.iter().map(|id| id.0),
        ));
        run::all(&self.db, tenant_id, query)
            .await?
            .into_iter()
            .map(mapping::trigger)
            .collect()
    }
}
