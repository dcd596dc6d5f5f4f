use async_trait::async_trait;
use chrono::{DateTime, Utc};
use refhub_domain::DomainResult;
use refhub_domain::flows::{Flow, FlowRepository, RunStatus};
use refhub_domain::ids::{FlowId, TenantId};
use refhub_domain::pagination::{Page, PageRequest};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};

use super::mapping;
use crate::Store;
use crate::entities::{flow_runs, flow_triggers, flows, ref_links};
use crate::error::internal;
use crate::id_list::among;
use crate::pagination::try_map_page;
use crate::scope::{self, run};

fn live(tenant_id: TenantId) -> sea_orm::Select<flows::Entity> {
    flows::Entity::find()
        .filter(flows::Column::TenantId.eq(tenant_id.0))
        .filter(flows::Column::DeletedAt.is_null())
}

#[async_trait]
impl FlowRepository for Store {
    async fn create(&self, flow: &Flow) -> DomainResult<()> {
        let txn = scope::for_tenant(&self.db, flow.tenant_id)
            .await
            .map_err(internal)?;
        mapping::flow_row(flow)
            .insert(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)
    }

    async fn find(&self, tenant_id: TenantId, id: FlowId) -> DomainResult<Option<Flow>> {
        let query = live(tenant_id).filter(flows::Column::Id.eq(id.0));
        run::one(&self.db, tenant_id, query)
            .await?
            .map(mapping::flow)
            .transpose()
    }

    async fn find_many(&self, tenant_id: TenantId, ids: &[FlowId]) -> DomainResult<Vec<Flow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let query = live(tenant_id).filter(among(
            self.db.get_database_backend(),
            flows::Column::Id,
            ids.iter().map(|id| id.0),
        ));
        run::all(&self.db, tenant_id, query)
            .await?
            .into_iter()
            .map(mapping::flow)
            .collect()
    }

    async fn list(&self, tenant_id: TenantId, page: PageRequest) -> DomainResult<Page<Flow>> {
        let rows = run::page(
            &self.db,
            tenant_id,
            live(tenant_id),
            flows::Column::Id,
            page,
        )
        .await?;
        try_map_page(rows, mapping::flow)
    }

    async fn update(&self, flow: &Flow) -> DomainResult<()> {
        let txn = scope::for_tenant(&self.db, flow.tenant_id)
            .await
            .map_err(internal)?;
        mapping::flow_row(flow)
            .update(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)
    }

    async fn delete(
        &self,
        tenant_id: TenantId,
        id: FlowId,
        at: DateTime<Utc>,
    ) -> DomainResult<bool> {
        let txn = scope::for_tenant_writing(&self.db, tenant_id)
            .await
            .map_err(internal)?;
        let deleted = flows::Entity::update_many()
            .col_expr(flows::Column::DeletedAt, Expr::value(at))
            .filter(flows::Column::TenantId.eq(tenant_id.0))
            .filter(flows::Column::Id.eq(id.0))
            .filter(flows::Column::DeletedAt.is_null())
            .exec(&txn)
            .await
            .map_err(internal)?;
        if deleted.rows_affected == 0 {
            return Ok(false);
        }
        flow_triggers::Entity::delete_many()
            .filter(flow_triggers::Column::TenantId.eq(tenant_id.0))
            .filter(flow_triggers::Column::FlowId.eq(id.0))
            .exec(&txn)
            .await
            .map_err(internal)?;
        ref_links::Entity::update_many()
            .col_expr(
                ref_links::Column::FlowId,
                Expr::value(Option::<uuid::Uuid>::None),
            )
            .filter(ref_links::Column::TenantId.eq(tenant_id.0))
            .filter(ref_links::Column::FlowId.eq(id.0))
            .exec(&txn)
            .await
            .map_err(internal)?;
        let unfinished = flow_runs::Entity::find()
            .filter(flow_runs::Column::TenantId.eq(tenant_id.0))
            .filter(flow_runs::Column::FlowId.eq(id.0))
            .filter(flow_runs::Column::Status.is_in(
                [RunStatus::Running, RunStatus::Waiting, RunStatus::Sending].map(RunStatus::as_str),
            ))
            .all(&txn)
            .await
            .map_err(internal)?;
        for row in unfinished {
            let mut run = mapping::run(row)?;
            run.cancel(at, "the flow was deleted");
            mapping::run_row(&run)
                .update(&txn)
                .await
                .map_err(internal)?;
        }
        txn.commit().await.map_err(internal)?;
        Ok(true)
    }
}
