//! Inbox rows to domain values and back.

use chrono::{DateTime, Utc};
use refhub_domain::DomainResult;
use refhub_domain::ids::{TenantId, WebhookEventId};
use refhub_domain::webhooks::{InboxEvent, InboxStatus, NewInboxEvent};
use sea_orm::Set;
use sea_orm::sea_query::{CaseStatement, Expr};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, UpdateMany};
use serde_json::Value;

use crate::entities::webhook_events;
use crate::error::corrupt;

pub(crate) fn event(row: webhook_events::Model) -> DomainResult<InboxEvent> {
    Ok(InboxEvent {
        id: row.id.into(),
        tenant_id: row.tenant_id.into(),
        status: row
            .status
            .parse()
            .map_err(|_| corrupt("inbox status", &row.status))?,
        dedup_key: row.dedup_key,
        page_facebook_id: row.page_facebook_id,
        sender_key: row.sender_key,
        kind: row.kind,
        occurred_at: row.occurred_at,
        received_at: row.received_at,
        item: row.item,
        attempts: row.attempts,
        last_error: row.last_error,
        outcome: row.outcome,
        processed_at: row.processed_at,
    })
}

pub(crate) fn new_event_row(event: NewInboxEvent) -> webhook_events::ActiveModel {
    // A rejected event is closed when it arrives: never due, its reason as its error.
    let (status, next_attempt_at, processed_at) = match event.rejection {
        None => (InboxStatus::Pending, Some(event.received_at), None),
        Some(_) => (InboxStatus::Rejected, None, Some(event.received_at)),
    };
    webhook_events::ActiveModel {
        tenant_id: Set(event.tenant_id.0),
        id: Set(event.id.0),
        dedup_key: Set(event.dedup_key),
        page_facebook_id: Set(event.page_facebook_id),
        sender_key: Set(event.sender_key),
        kind: Set(event.kind),
        occurred_at: Set(event.occurred_at),
        received_at: Set(event.received_at),
        item: Set(event.item),
        status: Set(status.as_str().to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(next_attempt_at),
        last_error: Set(event.rejection),
        outcome: Set(None),
        processed_at: Set(processed_at),
    }
}

/// The update that closes an event: its final status and outcome, no longer due, no error.
pub(crate) fn finished(
    tenant_id: TenantId,
    id: WebhookEventId,
    status: InboxStatus,
    outcome: Value,
    at: DateTime<Utc>,
) -> UpdateMany<webhook_events::Entity> {
    closing(status, at)
        .col_expr(webhook_events::Column::Outcome, Expr::value(outcome))
        .filter(webhook_events::Column::TenantId.eq(tenant_id.0))
        .filter(webhook_events::Column::Id.eq(id.0))
}

/// What closing an event changes besides its outcome: the status, when, no longer due, no error.
fn closing(status: InboxStatus, at: DateTime<Utc>) -> UpdateMany<webhook_events::Entity> {
    webhook_events::Entity::update_many()
        .col_expr(webhook_events::Column::Status, Expr::value(status.as_str()))
        .col_expr(webhook_events::Column::ProcessedAt, Expr::value(at))
        .col_expr(
            webhook_events::Column::NextAttemptAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            webhook_events::Column::LastError,
            Expr::value(Option::<String>::None),
        )
}

/// One update that closes several events of a tenant, each with its own outcome (the same
/// changes as [`finished`]). The caller keeps the list short enough for one statement (three
/// bound values per event).
pub(crate) fn finished_each(
    tenant_id: TenantId,
    outcomes: &[(WebhookEventId, Value)],
    status: InboxStatus,
    at: DateTime<Utc>,
) -> UpdateMany<webhook_events::Entity> {
    let outcome = outcomes
        .iter()
        .fold(CaseStatement::new(), |case, (id, outcome)| {
            case.case(
                webhook_events::Column::Id.eq(id.0),
                Expr::value(outcome.clone()),
            )
        })
        .finally(Expr::col(webhook_events::Column::Outcome));
    closing(status, at)
        .col_expr(webhook_events::Column::Outcome, outcome.into())
        .filter(webhook_events::Column::TenantId.eq(tenant_id.0))
        .filter(webhook_events::Column::Id.is_in(outcomes.iter().map(|(id, _)| id.0)))
}
