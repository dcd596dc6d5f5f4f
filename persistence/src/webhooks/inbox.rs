use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use refhub_domain::DomainResult;
use refhub_domain::ids::{TenantId, WebhookEventId};
use refhub_domain::pagination::{Page, PageRequest};
use refhub_domain::webhooks::{InboxEvent, InboxRepository, InboxStatus, NewInboxEvent};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, Statement,
    TransactionTrait,
};
use serde_json::Value;

use super::mapping;
use super::processing::{begin_claiming, begin_processing};
use crate::Store;
use crate::entities::webhook_events;
use crate::error::internal;
use crate::pagination::try_map_page;
use crate::scope::{self, run};

/// Rows per INSERT statement: well under both engines' bound-parameter limits (16 columns).
const INSERT_CHUNK: usize = 500;

// `next_attempt_at` is when an event is next due (arrival, retry time, or the end of the
// lease a worker holds on it) and NULL once done: due events are the head of its index, and a
// crashed worker's events fall due again when its lease ends. Events are applied so that their
// order does not matter, so due order is fine.
const CLAIM_POSTGRES: &str = "
    UPDATE webhook_events
    SET status = 'processing', next_attempt_at = $1, attempts = attempts + 1
    WHERE (tenant_id, id) IN (
        SELECT tenant_id, id FROM webhook_events
        WHERE next_attempt_at <= $2
        ORDER BY next_attempt_at
        LIMIT $3
        FOR UPDATE SKIP LOCKED)
    RETURNING *";

// SQLite has one writer at a time, so the UPDATE itself is the lock.
const CLAIM_SQLITE: &str = "
    UPDATE webhook_events
    SET status = 'processing', next_attempt_at = ?1, attempts = attempts + 1
    WHERE (tenant_id, id) IN (
        SELECT tenant_id, id FROM webhook_events
        WHERE next_attempt_at <= ?2
        ORDER BY next_attempt_at
        LIMIT ?3)
    RETURNING *";

#[async_trait]
impl InboxRepository for Store {
    async fn append(&self, events: Vec<NewInboxEvent>) -> DomainResult<()> {
        // One transaction for the whole batch (group commit); each tenant's rows are written
        // under that tenant's scope so row-level security checks every one of them.
        let mut by_tenant: BTreeMap<TenantId, Vec<NewInboxEvent>> = BTreeMap::new();
        for event in events {
            by_tenant.entry(event.tenant_id).or_default().push(event);
        }
        let txn = self.db.begin().await.map_err(internal)?;
        let postgres = txn.get_database_backend() == DbBackend::Postgres;
        for (tenant_id, events) in by_tenant {
            if postgres {
                txn.execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT set_config('app.tenant_id', $1, true)",
                    [tenant_id.to_string().into()],
                ))
                .await
                .map_err(internal)?;
            }
            let mut rows = events.into_iter().map(mapping::new_event_row).peekable();
            while rows.peek().is_some() {
                let chunk: Vec<_> = rows.by_ref().take(INSERT_CHUNK).collect();
                webhook_events::Entity::insert_many(chunk)
                    .on_conflict(
                        OnConflict::columns([
                            webhook_events::Column::TenantId,
                            webhook_events::Column::DedupKey,
                        ])
                        .do_nothing()
                        .to_owned(),
                    )
                    .exec_without_returning(&txn)
                    .await
                    .map_err(internal)?;
            }
        }
        txn.commit().await.map_err(internal)
    }

    async fn claim(
        &self,
        limit: usize,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> DomainResult<Vec<InboxEvent>> {
        let txn = begin_claiming(&self.db).await?;
        let backend = txn.get_database_backend();
        let sql = match backend {
            DbBackend::Postgres => CLAIM_POSTGRES,
            _ => CLAIM_SQLITE,
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = webhook_events::Entity::find()
            .from_raw_sql(Statement::from_sql_and_values(
                backend,
                sql,
                [(now + lease).into(), now.into(), limit.into()],
            ))
            .all(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        let mut events = rows
            .into_iter()
            .map(mapping::event)
            .collect::<DomainResult<Vec<_>>>()?;
        events.sort_by_key(|event| (event.occurred_at, event.id));
        Ok(events)
    }

    async fn finish(
        &self,
        tenant_id: TenantId,
        id: WebhookEventId,
        status: InboxStatus,
        outcome: Value,
        at: DateTime<Utc>,
    ) -> DomainResult<()> {
        // Like applying an event, recording an ignored one can be redone after a crash.
        let txn = begin_processing(&self.db, tenant_id).await?;
        mapping::finished(tenant_id, id, status, outcome, at)
            .exec(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)
    }

    async fn fail(
        &self,
        tenant_id: TenantId,
        id: WebhookEventId,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> DomainResult<()> {
        let status = match retry_at {
            Some(_) => InboxStatus::Failed,
            None => InboxStatus::Dead,
        };
        let mut update = webhook_events::Entity::update_many()
            .col_expr(webhook_events::Column::Status, Expr::value(status.as_str()))
            .col_expr(webhook_events::Column::LastError, Expr::value(error));
        // A dead event is never due again (until replayed).
        update = update.col_expr(webhook_events::Column::NextAttemptAt, Expr::value(retry_at));
        let update = update
            .filter(webhook_events::Column::TenantId.eq(tenant_id.0))
            .filter(webhook_events::Column::Id.eq(id.0));
        run::update(&self.db, tenant_id, update).await.map(|_| ())
    }

    async fn list(
        &self,
        tenant_id: TenantId,
        status: Option<InboxStatus>,
        page: PageRequest,
    ) -> DomainResult<Page<InboxEvent>> {
        let mut query =
            webhook_events::Entity::find().filter(webhook_events::Column::TenantId.eq(tenant_id.0));
        if let Some(status) = status {
            query = query.filter(webhook_events::Column::Status.eq(status.as_str()));
        }
        let rows =
            run::page_newest_first(&self.db, tenant_id, query, webhook_events::Column::Id, page)
                .await?;
        try_map_page(rows, mapping::event)
    }

    async fn find(
        &self,
        tenant_id: TenantId,
        id: WebhookEventId,
    ) -> DomainResult<Option<InboxEvent>> {
        let query = webhook_events::Entity::find()
            .filter(webhook_events::Column::TenantId.eq(tenant_id.0))
            .filter(webhook_events::Column::Id.eq(id.0));
        run::one(&self.db, tenant_id, query)
            .await?
            .map(mapping::event)
            .transpose()
    }

    async fn requeue(
        &self,
        tenant_id: TenantId,
        id: WebhookEventId,
        now: DateTime<Utc>,
    ) -> DomainResult<Option<InboxEvent>> {
        let txn = scope::for_tenant(&self.db, tenant_id)
            .await
            .map_err(internal)?;
        webhook_events::Entity::update_many()
            .col_expr(
                webhook_events::Column::Status,
                Expr::value(InboxStatus::Pending.as_str()),
            )
            .col_expr(webhook_events::Column::Attempts, Expr::value(0))
            .col_expr(
                webhook_events::Column::NextAttemptAt,
                Expr::value(Some(now)),
            )
            .filter(webhook_events::Column::TenantId.eq(tenant_id.0))
            .filter(webhook_events::Column::Id.eq(id.0))
            .exec(&txn)
            .await
            .map_err(internal)?;
        let row = webhook_events::Entity::find_by_id((tenant_id.0, id.0))
            .one(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        row.map(mapping::event).transpose()
    }

    async fn backlog(&self) -> DomainResult<u64> {
        let txn = scope::for_inbox_worker(&self.db).await.map_err(internal)?;
        let count = webhook_events::Entity::find()
            .filter(
                webhook_events::Column::Status
                    .is_in([InboxStatus::Pending.as_str(), InboxStatus::Failed.as_str()]),
            )
            .count(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        Ok(count)
    }
}
