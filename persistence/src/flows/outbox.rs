use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use refhub_domain::DomainResult;
use refhub_domain::flows::{FlowRun, MessageFilter, OutboundMessage, OutboxRepository};
use refhub_domain::ids::{OutboundMessageId, TenantId};
use refhub_domain::pagination::{Page, PageRequest};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};

use super::mapping;
use super::runs::{SENDING, queue, save_unless_ended};
use crate::Store;
use crate::claims::{ClaimSql, ParkSql, claim};
use crate::entities::{notification_opt_ins, outbound_messages};
use crate::error::internal;
use crate::pagination::try_map_page;
use crate::scope::{self, run};

// `next_attempt_at` is when a message is next due (queued, retry time, end of a worker's
// claim) and NULL once it has ended. A page waiting to be reconnected (token health) holds its
// messages back: they stay pending and due, and go in their order once it is active again.
const CLAIM: ClaimSql = ClaimSql {
    scope: "outbox-worker",
    postgres: "
    UPDATE outbound_messages SET next_attempt_at = $1, attempts = attempts + 1
    WHERE (tenant_id, id) IN (
        SELECT tenant_id, id FROM outbound_messages
        WHERE next_attempt_at <= $2 AND status = 'pending'
          AND NOT EXISTS (SELECT 1 FROM pages p
                          WHERE p.tenant_id = outbound_messages.tenant_id
                            AND p.id = outbound_messages.page_id
                            AND p.status = 'needs_reconnect')
        ORDER BY next_attempt_at
        LIMIT $3
        FOR UPDATE SKIP LOCKED)
    RETURNING *",
    sqlite: "
    UPDATE outbound_messages SET next_attempt_at = ?1, attempts = attempts + 1
    WHERE (tenant_id, id) IN (
        SELECT tenant_id, id FROM outbound_messages
        WHERE next_attempt_at <= ?2 AND status = 'pending'
          AND NOT EXISTS (SELECT 1 FROM pages p
                          WHERE p.tenant_id = outbound_messages.tenant_id
                            AND p.id = outbound_messages.page_id
                            AND p.status = 'needs_reconnect')
        ORDER BY next_attempt_at
        LIMIT ?3)
    RETURNING *",
    // A message that cannot be read is failed, never sent, its error saying so.
    park: ParkSql {
        what: "message",
        postgres: "UPDATE outbound_messages
                   SET status = 'failed', last_error = $3, next_attempt_at = NULL
                   WHERE tenant_id = $1 AND id = $2",
        sqlite: "UPDATE outbound_messages
                 SET status = 'failed', last_error = ?3, next_attempt_at = NULL
                 WHERE tenant_id = ?1 AND id = ?2",
    },
};

#[async_trait]
impl OutboxRepository for Store {
    async fn find(
        &self,
        tenant_id: TenantId,
        id: OutboundMessageId,
    ) -> DomainResult<Option<OutboundMessage>> {
        let query = outbound_messages::Entity::find()
            .filter(outbound_messages::Column::TenantId.eq(tenant_id.0))
            .filter(outbound_messages::Column::Id.eq(id.0));
        run::one(&self.db, tenant_id, query)
            .await?
            .map(mapping::message)
            .transpose()
    }

    async fn list(
        &self,
        tenant_id: TenantId,
        filter: &MessageFilter,
        page: PageRequest,
    ) -> DomainResult<Page<OutboundMessage>> {
        let mut query = outbound_messages::Entity::find()
            .filter(outbound_messages::Column::TenantId.eq(tenant_id.0));
        if let Some(status) = filter.status {
            query = query.filter(outbound_messages::Column::Status.eq(status.as_str()));
        }
        if let Some(subscriber_id) = filter.subscriber_id {
            query = query.filter(outbound_messages::Column::SubscriberId.eq(subscriber_id.0));
        }
        if let Some(run_id) = filter.run_id {
            query = query.filter(outbound_messages::Column::RunId.eq(run_id.0));
        }
        let rows = run::page_newest_first(
            &self.db,
            tenant_id,
            query,
            outbound_messages::Column::Id,
            page,
        )
        .await?;
        try_map_page(rows, mapping::message)
    }

    async fn claim_due(
        &self,
        limit: usize,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> DomainResult<Vec<OutboundMessage>> {
        let mut messages = claim::<outbound_messages::Entity, _>(
            self,
            &CLAIM,
            limit,
            lease,
            now,
            mapping::message,
        )
        .await?;
        messages.sort_by_key(|message| message.id);
        Ok(messages)
    }

    async fn save(&self, message: &OutboundMessage, run: Option<&FlowRun>) -> DomainResult<()> {
        let txn = scope::for_tenant_writing(&self.db, message.tenant_id)
            .await
            .map_err(internal)?;
        mapping::message_row(message)
            .update(&txn)
            .await
            .map_err(internal)?;
        if let Some(run) = run {
            // Only a run still waiting for this message moves on (it may have been cancelled).
            save_unless_ended(&txn, run, &[SENDING]).await?;
        }
        if message.sent_at.is_some()
            && let Some(opt_in_id) = message.opt_in_id
        {
            notification_opt_ins::Entity::update_many()
                .col_expr(
                    notification_opt_ins::Column::LastSentAt,
                    Expr::value(message.sent_at),
                )
                .filter(notification_opt_ins::Column::TenantId.eq(message.tenant_id.0))
                .filter(notification_opt_ins::Column::Id.eq(opt_in_id.0))
                .exec(&txn)
                .await
                .map_err(internal)?;
        }
        txn.commit().await.map_err(internal)
    }

    async fn queue_notification(
        &self,
        message: &OutboundMessage,
        since: DateTime<Utc>,
    ) -> DomainResult<bool> {
        let Some(opt_in_id) = message.opt_in_id else {
            return Ok(false);
        };
        let txn = scope::for_tenant_writing(&self.db, message.tenant_id)
            .await
            .map_err(internal)?;
        // Taking the cadence's slot and queuing are one step: two sends racing for one token
        // cannot both pass (the second re-reads the row the first updated).
        let taken = notification_opt_ins::Entity::update_many()
            .col_expr(
                notification_opt_ins::Column::LastNotifiedAt,
                Expr::value(Some(message.created_at)),
            )
            .filter(notification_opt_ins::Column::TenantId.eq(message.tenant_id.0))
            .filter(notification_opt_ins::Column::Id.eq(opt_in_id.0))
            .filter(
                Condition::any()
                    .add(notification_opt_ins::Column::LastNotifiedAt.is_null())
                    .add(notification_opt_ins::Column::LastNotifiedAt.lte(since)),
            )
            .exec(&txn)
            .await
            .map_err(internal)?;
        if taken.rows_affected == 0 {
            txn.rollback().await.map_err(internal)?;
            return Ok(false);
        }
        queue(&txn, message).await?;
        txn.commit().await.map_err(internal)?;
        Ok(true)
    }
}
