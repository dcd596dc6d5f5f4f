//! Inbox rows to domain values and back.

use refhub_domain::DomainResult;
use refhub_domain::webhooks::{InboxEvent, InboxStatus, NewInboxEvent};
use sea_orm::Set;

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
        status: Set(InboxStatus::Pending.as_str().to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(Some(event.received_at)),
        locked_until: Set(None),
        last_error: Set(None),
        outcome: Set(None),
        processed_at: Set(None),
    }
}
