use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use refhub_domain::DomainResult;
use refhub_domain::flows::{FlowRun, FlowRunRepository, OutboundMessage, RunFilter};
use refhub_domain::ids::{FlowRunId, TenantId};
use refhub_domain::pagination::{Page, PageRequest};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter};

use super::mapping;
use crate::Store;
use crate::claims::{ClaimSql, ParkSql, claim};
use crate::entities::{flow_runs, outbound_messages};
use crate::error::internal;
use crate::pagination::try_map_page;
use crate::scope::{self, run};

// `next_step_at` is when a run is next due (start, end of a wait, end of a worker's claim) and
// NULL while it waits for a message or once it has ended: due runs are the head of its index.
const CLAIM: ClaimSql = ClaimSql {
    scope: "flow-worker",
    postgres: "
    UPDATE flow_runs SET next_step_at = $1, attempts = attempts + 1
    WHERE (tenant_id, id) IN (
        SELECT tenant_id, id FROM flow_runs
        WHERE next_step_at <= $2 AND status IN ('running', 'waiting')
        ORDER BY next_step_at
        LIMIT $3
        FOR UPDATE SKIP LOCKED)
    RETURNING *",
    sqlite: "
    UPDATE flow_runs SET next_step_at = ?1, attempts = attempts + 1
    WHERE (tenant_id, id) IN (
        SELECT tenant_id, id FROM flow_runs
        WHERE next_step_at <= ?2 AND status IN ('running', 'waiting')
        ORDER BY next_step_at
        LIMIT ?3)
    RETURNING *",
    // A run that cannot be read ends as failed, its error saying so.
    park: ParkSql {
        what: "flow run",
        postgres: "UPDATE flow_runs SET status = 'failed', error = $3, next_step_at = NULL
                   WHERE tenant_id = $1 AND id = $2",
        sqlite: "UPDATE flow_runs SET status = 'failed', error = ?3, next_step_at = NULL
                 WHERE tenant_id = ?1 AND id = ?2",
    },
};

const UNFINISHED: [&str; 3] = ["running", "waiting", "sending"];

/// Saves a run unless it ended meanwhile; `false` then.
pub(super) async fn save_unless_ended(
    txn: &DatabaseTransaction,
    run: &FlowRun,
    only_while: &[&str],
) -> DomainResult<bool> {
    let updated = flow_runs::Entity::update_many()
        .set(mapping::run_row(run))
        .filter(flow_runs::Column::TenantId.eq(run.tenant_id.0))
        .filter(flow_runs::Column::Id.eq(run.id.0))
        .filter(flow_runs::Column::Status.is_in(only_while.iter().copied()))
        .exec(txn)
        .await
        .map_err(internal)?;
    Ok(updated.rows_affected == 1)
}

/// Queues a message unless one with its key exists.
pub(super) async fn queue(
    txn: &DatabaseTransaction,
    message: &OutboundMessage,
) -> DomainResult<()> {
    outbound_messages::Entity::insert(mapping::message_row(message))
        .on_conflict(
            OnConflict::columns([
                outbound_messages::Column::TenantId,
                outbound_messages::Column::IdempotencyKey,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(txn)
        .await
        .map_err(internal)?;
    Ok(())
}

#[async_trait]
impl FlowRunRepository for Store {
    async fn insert(&self, runs: &[FlowRun]) -> DomainResult<()> {
        let Some(first) = runs.first() else {
            return Ok(());
        };
        let txn = scope::for_tenant(&self.db, first.tenant_id)
            .await
            .map_err(internal)?;
        flow_runs::Entity::insert_many(runs.iter().map(mapping::run_row))
            .on_conflict(
                OnConflict::columns([flow_runs::Column::TenantId, flow_runs::Column::StartKey])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)
    }

    async fn find(&self, tenant_id: TenantId, id: FlowRunId) -> DomainResult<Option<FlowRun>> {
        let query = flow_runs::Entity::find()
            .filter(flow_runs::Column::TenantId.eq(tenant_id.0))
            .filter(flow_runs::Column::Id.eq(id.0));
        run::one(&self.db, tenant_id, query)
            .await?
            .map(mapping::run)
            .transpose()
    }

    async fn list(
        &self,
        tenant_id: TenantId,
        filter: &RunFilter,
        page: PageRequest,
    ) -> DomainResult<Page<FlowRun>> {
        let mut query =
            flow_runs::Entity::find().filter(flow_runs::Column::TenantId.eq(tenant_id.0));
        if let Some(flow_id) = filter.flow_id {
            query = query.filter(flow_runs::Column::FlowId.eq(flow_id.0));
        }
        if let Some(subscriber_id) = filter.subscriber_id {
            query = query.filter(flow_runs::Column::SubscriberId.eq(subscriber_id.0));
        }
        if let Some(status) = filter.status {
            query = query.filter(flow_runs::Column::Status.eq(status.as_str()));
        }
        let rows =
            run::page_newest_first(&self.db, tenant_id, query, flow_runs::Column::Id, page).await?;
        try_map_page(rows, mapping::run)
    }

    async fn claim_due(
        &self,
        limit: usize,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> DomainResult<Vec<FlowRun>> {
        claim::<flow_runs::Entity, _>(self, &CLAIM, limit, lease, now, mapping::run).await
    }

    async fn save(&self, run: &FlowRun, queued: Option<&OutboundMessage>) -> DomainResult<bool> {
        let txn = scope::for_tenant_writing(&self.db, run.tenant_id)
            .await
            .map_err(internal)?;
        // A cancelled run stays cancelled, whatever its worker was doing meanwhile.
        let saved = save_unless_ended(&txn, run, &UNFINISHED).await?;
        if saved && let Some(message) = queued {
            queue(&txn, message).await?;
        }
        txn.commit().await.map_err(internal)?;
        Ok(saved)
    }
}

/// The stored spelling of a run waiting for its message.
pub(super) const SENDING: &str = "sending";

#[cfg(test)]
mod tests {
    use super::*;
    use refhub_domain::flows::RunStatus;

    #[test]
    fn unfinished_statuses_are_the_domains() {
        for status in UNFINISHED {
            assert!(!RunStatus::parse(status).unwrap().is_finished());
        }
        assert_eq!(RunStatus::Sending.as_str(), SENDING);
    }
}
