//! The inbox: every webhook event, stored durably before Meta gets its 200, then processed by
//! workers, retried with backoff when processing fails, and parked as dead after too many tries.

use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use crate::ids::{TenantId, WebhookEventId};

/// Tries before an event is parked as dead.
pub const MAX_ATTEMPTS: i32 = 8;

/// Where an event stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InboxStatus {
    /// Waiting for a worker.
    Pending,
    /// Claimed by a worker (until its lease runs out).
    Processing,
    /// Applied.
    Processed,
    /// Stored but not acted on (a page the tenant has not connected, an unhandled kind).
    Ignored,
    /// Failed; will be retried.
    Failed,
    /// Failed too often; needs a person (see the error, then replay).
    Dead,
    /// Refused when it arrived (see the error): stored to be seen, never processed.
    Rejected,
}

impl InboxStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            InboxStatus::Pending => "pending",
            InboxStatus::Processing => "processing",
            InboxStatus::Processed => "processed",
            InboxStatus::Ignored => "ignored",
            InboxStatus::Failed => "failed",
            InboxStatus::Dead => "dead",
            InboxStatus::Rejected => "rejected",
        }
    }
}

impl FromStr for InboxStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "pending" => InboxStatus::Pending,
            "processing" => InboxStatus::Processing,
            "processed" => InboxStatus::Processed,
            "ignored" => InboxStatus::Ignored,
            "failed" => InboxStatus::Failed,
            "dead" => InboxStatus::Dead,
            "rejected" => InboxStatus::Rejected,
            other => return Err(format!("unknown inbox status {other:?}")),
        })
    }
}

/// An event to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewInboxEvent {
    /// Its id.
    pub id: WebhookEventId,
    /// The tenant whose URL received it.
    pub tenant_id: TenantId,
    /// What recognises a redelivery.
    pub dedup_key: String,
    /// The Facebook page it is for.
    pub page_facebook_id: Option<String>,
    /// Who sent it (`psid:…` or `user_ref:…`).
    pub sender_key: Option<String>,
    /// Its kind.
    pub kind: String,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// The item as Meta sent it.
    pub item: Value,
    /// Why the inbox refuses it, when it does: it is then stored as [`InboxStatus::Rejected`].
    pub rejection: Option<String>,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxEvent {
    /// Its id.
    pub id: WebhookEventId,
    /// The tenant.
    pub tenant_id: TenantId,
    /// What recognises a redelivery.
    pub dedup_key: String,
    /// The Facebook page it is for.
    pub page_facebook_id: Option<String>,
    /// Who sent it.
    pub sender_key: Option<String>,
    /// Its kind.
    pub kind: String,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// The item as Meta sent it.
    pub item: Value,
    /// Where it stands.
    pub status: InboxStatus,
    /// How many times processing was tried.
    pub attempts: i32,
    /// The last failure, for people.
    pub last_error: Option<String>,
    /// What processing did (applied, skipped and why), for people.
    pub outcome: Option<Value>,
    /// When it was last processed.
    pub processed_at: Option<DateTime<Utc>>,
}

/// When to try again after the `attempts`-th failure: 2, 4, 8 … seconds, at most 10 minutes;
/// `None` once the event should be parked as dead.
pub fn retry_at(attempts: i32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if attempts >= MAX_ATTEMPTS {
        return None;
    }
    let seconds = 2_i64.saturating_pow(attempts.clamp(1, 20) as u32).min(600);
    Some(now + Duration::seconds(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_then_gives_up() {
        let now = Utc::now();
        assert_eq!(retry_at(1, now), Some(now + Duration::seconds(2)));
        assert_eq!(retry_at(3, now), Some(now + Duration::seconds(8)));
        assert_eq!(
            retry_at(MAX_ATTEMPTS - 1, now),
            Some(now + Duration::seconds(128))
        );
        assert_eq!(retry_at(MAX_ATTEMPTS, now), None);
    }
}
