//! The outbox: every outgoing message is a stored row with an idempotency key, sent by a
//! worker, retried with backoff and jitter when Meta may accept it later.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use crate::flows::run::FlowRun;
use crate::ids::FlowRunId;
use crate::ids::{OptInId, OutboundMessageId, PageId, SubscriberId, TenantId, TopicId};

/// Sends tried before a message that keeps failing for passing reasons is given up.
pub const MAX_SEND_ATTEMPTS: u32 = 6;
/// The longest pause between two tries.
pub const MAX_RETRY_DELAY_SECS: i64 = 15 * 60;

/// Why a message is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// A flow's step, to the subscriber's PSID or user_ref (within the 24-hour window).
    Flow,
    /// A topic notification, addressed by the opt-in's notification token.
    TopicNotification,
}

impl MessageKind {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Flow => "flow",
            MessageKind::TopicNotification => "topic_notification",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "flow" => Some(MessageKind::Flow),
            "topic_notification" => Some(MessageKind::TopicNotification),
            _ => None,
        }
    }
}

/// Where a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxStatus {
    /// Waiting to be sent (or retried).
    Pending,
    /// Meta accepted it.
    Sent,
    /// Meta refused it for good, or it kept failing.
    Failed,
    /// Not sent: the person's 24-hour window had closed.
    OutsideWindow,
    /// Not sent: nothing to send it with any more (token stopped or expired, page or
    /// subscriber gone).
    Skipped,
}

impl OutboxStatus {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Failed => "failed",
            OutboxStatus::OutsideWindow => "outside_window",
            OutboxStatus::Skipped => "skipped",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "pending" => OutboxStatus::Pending,
            "sent" => OutboxStatus::Sent,
            "failed" => OutboxStatus::Failed,
            "outside_window" => OutboxStatus::OutsideWindow,
            "skipped" => OutboxStatus::Skipped,
            _ => return None,
        })
    }
}

/// An outgoing message.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboundMessage {
    /// Its id.
    pub id: OutboundMessageId,
    /// The tenant.
    pub tenant_id: TenantId,
    /// The page it is sent from.
    pub page_id: PageId,
    /// The person it is for.
    pub subscriber_id: SubscriberId,
    /// Why it is sent.
    pub kind: MessageKind,
    /// The run that sends it.
    pub run_id: Option<FlowRunId>,
    /// The topic it notifies about.
    pub topic_id: Option<TopicId>,
    /// The opt-in whose token addresses it.
    pub opt_in_id: Option<OptInId>,
    /// Unique per tenant: the same message is never queued twice.
    pub idempotency_key: String,
    /// The Send API `messaging_type` (none for token-addressed notifications).
    pub messaging_type: Option<String>,
    /// The Send API `message`.
    pub message: Value,
    /// Where it is.
    pub status: OutboxStatus,
    /// Tries so far (a claim counts as one).
    pub attempts: u32,
    /// When it is next due: queued, retry time, or the end of a worker's claim.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The last failure, for people.
    pub last_error: Option<String>,
    /// Meta's error code of the last failure.
    pub error_code: Option<i64>,
    /// Meta's id of the sent message.
    pub meta_message_id: Option<String>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When Meta accepted it.
    pub sent_at: Option<DateTime<Utc>>,
}

impl OutboundMessage {
    /// The message of a run's sending step. The key (run and step) keeps a step that is
    /// executed again after a crash from queuing a second message.
    pub fn for_run_step(run: &FlowRun, step: u32, message: Value, now: DateTime<Utc>) -> Self {
        Self::queued(
            run.tenant_id,
            run.page_id,
            run.subscriber_id,
            MessageKind::Flow,
            format!("run:{}:{step}", run.id),
            Some(run.trigger.kind.messaging_type().to_owned()),
            message,
            now,
        )
        .with_run(run.id)
    }

    /// A new pending message, due now.
    #[allow(clippy::too_many_arguments)]
    pub fn queued(
        tenant_id: TenantId,
        page_id: PageId,
        subscriber_id: SubscriberId,
        kind: MessageKind,
        idempotency_key: String,
        messaging_type: Option<String>,
        message: Value,
        now: DateTime<Utc>,
    ) -> Self {
        OutboundMessage {
            id: OutboundMessageId::generate(),
            tenant_id,
            page_id,
            subscriber_id,
            kind,
            run_id: None,
            topic_id: None,
            opt_in_id: None,
            idempotency_key,
            messaging_type,
            message,
            status: OutboxStatus::Pending,
            attempts: 0,
            next_attempt_at: Some(now),
            last_error: None,
            error_code: None,
            meta_message_id: None,
            created_at: now,
            sent_at: None,
        }
    }

    fn with_run(mut self, run_id: FlowRunId) -> Self {
        self.run_id = Some(run_id);
        self
    }

    /// Meta accepted it.
    pub fn sent(&mut self, at: DateTime<Utc>, meta_message_id: String) {
        self.status = OutboxStatus::Sent;
        self.sent_at = Some(at);
        self.meta_message_id = Some(meta_message_id).filter(|id| !id.is_empty());
        self.next_attempt_at = None;
    }

    /// It ends unsent.
    pub fn give_up(
        &mut self,
        status: OutboxStatus,
        error: impl Into<String>,
        error_code: Option<i64>,
    ) {
        self.status = status;
        self.last_error = Some(error.into());
        self.error_code = error_code;
        self.next_attempt_at = None;
    }

    /// A passing failure: tried again after a backoff, unless it has been tried enough.
    /// Returns whether it will be tried again.
    pub fn retry_later(
        &mut self,
        now: DateTime<Utc>,
        base: Duration,
        error: String,
        error_code: Option<i64>,
    ) -> bool {
        if self.attempts >= MAX_SEND_ATTEMPTS {
            self.give_up(
                OutboxStatus::Failed,
                format!("gave up after {} attempts: {error}", self.attempts),
                error_code,
            );
            return false;
        }
        self.last_error = Some(error);
        self.error_code = error_code;
        self.next_attempt_at = Some(now + retry_delay(self.id.0.as_u128(), self.attempts, base));
        true
    }

    /// Not sent now for a reason that is not the message's (the page's throttle): due again
    /// at `at`, and the claim does not count as a try.
    pub fn defer(&mut self, at: DateTime<Utc>) {
        self.attempts = self.attempts.saturating_sub(1);
        self.next_attempt_at = Some(at);
    }
}

impl OutboundMessage {
    /// Not sent because its page needs reconnecting (token health): it stays pending, its try
    /// not counted, due again at the time it was queued, so that once the page is reconnected
    /// the claim (oldest due first) takes the page's waiting messages in their original order.
    /// Until then the claim skips the page.
    pub fn wait_for_reconnection(&mut self, error: Option<String>, error_code: Option<i64>) {
        self.attempts = self.attempts.saturating_sub(1);
        self.next_attempt_at = Some(self.created_at);
        if let Some(error) = error {
            self.last_error = Some(format!("waiting for the page to be reconnected: {error}"));
            self.error_code = error_code;
        }
    }
}

/// Exponential backoff (`base`, 2×, 4×, … up to 15 minutes) with jitter: each message waits
/// between half and all of its step, the share drawn from its id and attempt, so that
/// messages failing together do not come back together.
pub fn retry_delay(seed: u128, attempts: u32, base: Duration) -> Duration {
    let exponent = attempts.saturating_sub(1).min(20);
    let step_ms = base
        .num_milliseconds()
        .max(1)
        .saturating_mul(1_i64 << exponent)
        .min(MAX_RETRY_DELAY_SECS * 1000);
    // SplitMix-style mixing of the id and attempt: cheap, spread, and the same on every run.
    let mut x = (seed as u64)
        ^ ((seed >> 64) as u64)
        ^ u64::from(attempts).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    let share = 500 + (x % 501) as i64; // per mille: 50% to 100%
    Duration::milliseconds(step_ms * share / 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let base = Duration::seconds(2);
        for attempt in 1..=6 {
            let step = 2_000_i64 << (attempt - 1);
            let delays: Vec<i64> = (0..50_u128)
                .map(|seed| retry_delay(seed * 7919, attempt, base).num_milliseconds())
                .collect();
            assert!(delays.iter().all(|d| *d >= step / 2 && *d <= step));
            let distinct: std::collections::BTreeSet<_> = delays.iter().collect();
            assert!(distinct.len() > 10, "jitter spreads the delays");
        }
        let late = retry_delay(1, 30, base);
        assert!(late <= Duration::seconds(MAX_RETRY_DELAY_SECS));
    }

    #[test]
    fn a_message_waiting_for_its_page_keeps_its_place_and_its_tries() {
        let queued = Utc::now();
        let mut message = OutboundMessage::queued(
            TenantId::generate(),
            PageId::generate(),
            SubscriberId::generate(),
            MessageKind::Flow,
            "k".into(),
            None,
            serde_json::json!({"text": "hi"}),
            queued,
        );
        // Claimed (a try counted, due at the end of the lease), then refused with 190.
        message.attempts = 1;
        message.next_attempt_at = Some(queued + Duration::seconds(60));
        message.wait_for_reconnection(Some("Meta error 190".into()), Some(190));
        assert_eq!(message.status, OutboxStatus::Pending);
        assert_eq!(message.attempts, 0);
        assert_eq!(message.next_attempt_at, Some(queued));
        assert_eq!(message.error_code, Some(190));
    }

    #[test]
    fn a_message_is_given_up_after_its_last_attempt() {
        let now = Utc::now();
        let mut message = OutboundMessage::queued(
            TenantId::generate(),
            PageId::generate(),
            SubscriberId::generate(),
            MessageKind::Flow,
            "k".into(),
            None,
            serde_json::json!({"text": "hi"}),
            now,
        );
        message.attempts = 1;
        assert!(message.retry_later(now, Duration::seconds(1), "HTTP 502".into(), None));
        assert_eq!(message.status, OutboxStatus::Pending);
        message.attempts = MAX_SEND_ATTEMPTS;
        assert!(!message.retry_later(now, Duration::seconds(1), "HTTP 502".into(), None));
        assert_eq!(message.status, OutboxStatus::Failed);
        assert!(
            message
                .last_error
                .unwrap()
                .contains("gave up after 6 attempts")
        );
    }
}
