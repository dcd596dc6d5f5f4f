use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use refhub_domain::DomainResult;
use refhub_domain::ids::{TenantId, WebhookEventId};
use refhub_domain::pagination::{Page, PageRequest};
use refhub_domain::webhooks::{InboxEvent, InboxRepository, InboxStatus, NewInboxEvent};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::sqlx::{self, PgPool};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter,
    TransactionTrait,
};
use serde_json::Value;

use super::mapping;
use super::processing::{begin_claiming, begin_processing};
use crate::Store;
use crate::claims::{ParkSql, claim_each};
use crate::entities::webhook_events;
use crate::error::{internal, sqlx_failure};
use crate::pagination::try_map_page;
use crate::scope::{self, run};

/// Rows per INSERT statement: well under both engines' bound-parameter limits (16 columns).
const INSERT_CHUNK: usize = 500;

// `next_attempt_at` is when an event is next due (arrival, retry time, or the end of the
// lease a worker holds on it) and NULL once done: due events are the head of its index, and a
// crashed worker's events fall due again when its lease ends. Events are applied so that their
// order does not matter, so due order is fine.
//
// A suspended workspace's due events are held in the same statement: left pending (or failed),
// their attempts unchanged, and no longer due (NULL), so that they are neither processed nor
// met again by every later claim; reactivating the workspace makes them due (`release_held`).
// They come back with the claimed ones, and only those marked `processing` are the worker's.
// The tenant is looked up by key for each claimed row only (a batch's worth).
const CLAIM_POSTGRES: &str = "
    UPDATE webhook_events
    SET status = CASE
            WHEN NOT EXISTS (SELECT 1 FROM tenants t
                             WHERE t.id = webhook_events.tenant_id AND t.status = 'suspended')
            THEN 'processing'
            WHEN status = 'processing' THEN 'pending'
            ELSE status END,
        next_attempt_at = CASE
            WHEN EXISTS (SELECT 1 FROM tenants t
                         WHERE t.id = webhook_events.tenant_id AND t.status = 'suspended')
            THEN NULL ELSE $1 END,
        attempts = CASE
            WHEN EXISTS (SELECT 1 FROM tenants t
                         WHERE t.id = webhook_events.tenant_id AND t.status = 'suspended')
            THEN attempts ELSE attempts + 1 END
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
    SET status = CASE
            WHEN NOT EXISTS (SELECT 1 FROM tenants t
                             WHERE t.id = webhook_events.tenant_id AND t.status = 'suspended')
            THEN 'processing'
            WHEN status = 'processing' THEN 'pending'
            ELSE status END,
        next_attempt_at = CASE
            WHEN EXISTS (SELECT 1 FROM tenants t
                         WHERE t.id = webhook_events.tenant_id AND t.status = 'suspended')
            THEN NULL ELSE ?1 END,
        attempts = CASE
            WHEN EXISTS (SELECT 1 FROM tenants t
                         WHERE t.id = webhook_events.tenant_id AND t.status = 'suspended')
            THEN attempts ELSE attempts + 1 END
    WHERE (tenant_id, id) IN (
        SELECT tenant_id, id FROM webhook_events
        WHERE next_attempt_at <= ?2
        ORDER BY next_attempt_at
        LIMIT ?3)
    RETURNING *";

// An event that cannot be read back is dead, and its item is kept as the text it is stored
// as (a JSON string), so that the tenant's list of events can show it with its error.
const PARK: ParkSql = ParkSql {
    what: "event",
    postgres: "UPDATE webhook_events
               SET status = 'dead', last_error = $3, next_attempt_at = NULL,
                   item = to_jsonb(item::text)
               WHERE tenant_id = $1 AND id = $2",
    sqlite: "UPDATE webhook_events
             SET status = 'dead', last_error = ?3, next_attempt_at = NULL,
                 item = json_quote(CAST(item AS TEXT))
             WHERE tenant_id = ?1 AND id = ?2",
};

// One statement whatever the number of events: the columns go as arrays. Multi-row VALUES
// would be a new statement text for every group size, each parsed, planned and prepared anew.
const APPEND_POSTGRES: &str = "
    INSERT INTO webhook_events (tenant_id, id, dedup_key, page_facebook_id, sender_key, kind,
                                occurred_at, received_at, item, status, attempts, next_attempt_at,
                                last_error, processed_at)
    SELECT $1, e.id, e.dedup_key, e.page_facebook_id, e.sender_key, e.kind,
           e.occurred_at, e.received_at, e.item,
           CASE WHEN e.rejection IS NULL THEN 'pending' ELSE 'rejected' END, 0,
           CASE WHEN e.rejection IS NULL THEN e.received_at END,
           e.rejection,
           CASE WHEN e.rejection IS NOT NULL THEN e.received_at END
    FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[],
                $7::timestamptz[], $8::timestamptz[], $9::jsonb[], $10::text[])
         AS e(id, dedup_key, page_facebook_id, sender_key, kind, occurred_at, received_at, item,
              rejection)
    ON CONFLICT (tenant_id, dedup_key) DO NOTHING";

#[async_trait]
impl InboxRepository for Store {
    async fn append(&self, events: Vec<NewInboxEvent>) -> DomainResult<()> {
        // One transaction for the whole batch (group commit).
        let mut by_tenant: BTreeMap<TenantId, Vec<NewInboxEvent>> = BTreeMap::new();
        for event in events {
            by_tenant.entry(event.tenant_id).or_default().push(event);
        }
        if self.db.get_database_backend() == DbBackend::Postgres {
            return append_on_postgres(self.db.get_postgres_connection_pool(), by_tenant)
                .await
                .map_err(sqlx_failure);
        }
        let txn = self.db.begin().await.map_err(internal)?;
        for events in by_tenant.into_values() {
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
        let claim_sql = match txn.get_database_backend() {
            DbBackend::Postgres => CLAIM_POSTGRES,
            _ => CLAIM_SQLITE,
        };
        let mut events = claim_each::<webhook_events::Entity, _>(
            &txn,
            claim_sql,
            &PARK,
            limit,
            lease,
            now,
            mapping::event,
        )
        .await?;
        txn.commit().await.map_err(internal)?;
        events.retain(|event| event.status == InboxStatus::Processing);
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

    async fn release_held(&self, tenant_id: TenantId, now: DateTime<Utc>) -> DomainResult<u64> {
        // Pending or failed and never due is what a claim leaves of a held event alone.
        let update = webhook_events::Entity::update_many()
            .col_expr(
                webhook_events::Column::NextAttemptAt,
                Expr::value(Some(now)),
            )
            .filter(webhook_events::Column::TenantId.eq(tenant_id.0))
            .filter(
                webhook_events::Column::Status
                    .is_in([InboxStatus::Pending.as_str(), InboxStatus::Failed.as_str()]),
            )
            .filter(webhook_events::Column::NextAttemptAt.is_null());
        run::update(&self.db, tenant_id, update).await
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

/// Each tenant's events under that tenant's scope, so that row-level security checks every
/// one of them; all in one transaction.
async fn append_on_postgres(
    pool: &PgPool,
    by_tenant: BTreeMap<TenantId, Vec<NewInboxEvent>>,
) -> Result<(), sqlx::Error> {
    let mut tenants = by_tenant.into_iter();
    let Some((first_tenant, first_events)) = tenants.next() else {
        return Ok(());
    };
    // The first tenant is declared with the BEGIN (one round trip instead of two): a batch
    // usually holds one webhook URL's deliveries.
    let opening = scope::opening_for_tenant(first_tenant, "", &[]);
    let mut txn = pool.begin_with(sqlx::AssertSqlSafe(opening)).await?;
    append_for_tenant(&mut txn, first_tenant, first_events).await?;
    for (tenant_id, events) in tenants {
        scope::act_for_tenant(&mut txn, tenant_id).await?;
        append_for_tenant(&mut txn, tenant_id, events).await?;
    }
    txn.commit().await
}

/// One tenant's events in one statement, in a transaction already scoped to that tenant.
async fn append_for_tenant(
    txn: &mut sqlx::PgConnection,
    tenant_id: TenantId,
    events: Vec<NewInboxEvent>,
) -> Result<(), sqlx::Error> {
    let count = events.len();
    let mut ids = Vec::with_capacity(count);
    let mut dedup_keys = Vec::with_capacity(count);
    let mut pages = Vec::with_capacity(count);
    let mut senders = Vec::with_capacity(count);
    let mut kinds = Vec::with_capacity(count);
    let mut occurred = Vec::with_capacity(count);
    let mut received = Vec::with_capacity(count);
    let mut items = Vec::with_capacity(count);
    let mut rejections = Vec::with_capacity(count);
    for event in events {
        ids.push(event.id.0);
        dedup_keys.push(event.dedup_key);
        pages.push(event.page_facebook_id);
        senders.push(event.sender_key);
        kinds.push(event.kind);
        occurred.push(event.occurred_at);
        received.push(event.received_at);
        items.push(event.item);
        rejections.push(event.rejection);
    }
    sqlx::query(APPEND_POSTGRES)
        .bind(tenant_id.0)
        .bind(ids)
        .bind(dedup_keys)
        .bind(pages)
        .bind(senders)
        .bind(kinds)
        .bind(occurred)
        .bind(received)
        .bind(items)
        .bind(rejections)
        .execute(&mut *txn)
        .await?;
    Ok(())
}
