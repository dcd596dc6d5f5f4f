//! Sends one claimed outgoing message through the Send API and records what came of it, with
//! its run's next move, in one transaction.
//!
//! Meta's Send API takes no idempotency key: if a worker dies after Meta accepted a message but
//! before its outcome is stored, the message is sent again when its claim lapses. That window
//! is one HTTP answer and one commit wide; everything else (queuing twice, retrying a message
//! Meta refused for good) is ruled out by the outbox's keys and statuses.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::activity::{ActivityEvent, ActivityPublisher};
use crate::audience::{MESSAGING_WINDOW_HOURS, OptInStatus, SubscriberRepository};
use crate::catalogue::{PageRepository, SecretCipher, SecretPurpose, TokenHealth};
use crate::clock::Clock;
use crate::error::DomainResult;
use crate::flows::outbox::{MessageKind, OutboundMessage, OutboxStatus};
use crate::flows::ports::{
    FlowRunRepository, MessageSender, OutboxRepository, SendRequest, SendThrottle,
};
use crate::flows::run::RunStatus;
use crate::webhooks::Sender;

/// What the sender reads and writes.
pub struct SenderPorts {
    /// The outbox.
    pub outbox: Arc<dyn OutboxRepository>,
    /// Runs (to move them on).
    pub runs: Arc<dyn FlowRunRepository>,
    /// Pages (for their tokens).
    pub pages: Arc<dyn PageRepository>,
    /// Subscribers (for their PSIDs, windows and opt-ins).
    pub subscribers: Arc<dyn SubscriberRepository>,
    /// Opening tokens.
    pub cipher: Arc<dyn SecretCipher>,
    /// The Send API.
    pub api: Arc<dyn MessageSender>,
    /// The per-page allowance.
    pub throttle: Arc<dyn SendThrottle>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// The live activity feed (runs that fail on a message).
    pub activity: Arc<dyn ActivityPublisher>,
    /// Where a dead page token is reported (the page then waits for reconnection).
    pub token_health: Arc<TokenHealth>,
}

/// Sends outgoing messages.
pub struct OutboxSender {
    ports: SenderPorts,
    retry_base: Duration,
}

/// Why a message is not sent now.
enum NotNow {
    /// It cannot be sent at all.
    Never(Unsendable),
    /// Its page needs reconnecting: it waits, pending, in its place in line.
    PageNeedsReconnect,
}

impl From<Unsendable> for NotNow {
    fn from(unsendable: Unsendable) -> Self {
        NotNow::Never(unsendable)
    }
}

/// Why a message cannot be sent at all.
struct Unsendable {
    status: OutboxStatus,
    reason: String,
}

impl Unsendable {
    fn skipped(reason: impl Into<String>) -> Self {
        Self {
            status: OutboxStatus::Skipped,
            reason: reason.into(),
        }
    }
}

impl OutboxSender {
    /// Builds the sender; `retry_base` is the first retry's delay.
    pub fn new(ports: SenderPorts, retry_base: Duration) -> Self {
        Self { ports, retry_base }
    }

    /// Sends a claimed message (or finds it cannot be sent) and records the outcome.
    pub async fn send(&self, mut message: OutboundMessage) -> DomainResult<()> {
        let now = self.ports.clock.now();
        let request = match self.prepare(&message, now).await? {
            Ok(request) => request,
            Err(NotNow::Never(unsendable)) => {
                message.give_up(unsendable.status, unsendable.reason, None);
                return self.finish(&message, now).await;
            }
            Err(NotNow::PageNeedsReconnect) => {
                message.wait_for_reconnection(None, None);
                return self.ports.outbox.save(&message, None).await;
            }
        };
        if let Err(wait) = self.ports.throttle.check(message.page_id) {
            let wait = Duration::from_std(wait).unwrap_or(Duration::seconds(1));
            message.defer(now + wait);
            return self.ports.outbox.save(&message, None).await;
        }
        let result = self.ports.api.send(&request).await;
        let now = self.ports.clock.now();
        match result {
            Ok(sent) => message.sent(now, sent.message_id),
            // A dead token is the page's trouble, not the message's: the page is marked and
            // the message waits for it to be reconnected, its try not counted.
            Err(err)
                if self
                    .ports
                    .token_health
                    .meta_refused(message.tenant_id, message.page_id, &err)
                    .await? =>
            {
                message.wait_for_reconnection(Some(err.message), err.code);
                return self.ports.outbox.save(&message, None).await;
            }
            Err(err) if err.transient => {
                tracing::warn!(message_id = %message.id, attempt = message.attempts, code = ?err.code, "send failed, may be retried: {err}");
                if message.retry_later(now, self.retry_base, err.message, err.code) {
                    return self.ports.outbox.save(&message, None).await;
                }
            }
            Err(err) => {
                tracing::warn!(message_id = %message.id, code = ?err.code, "Meta refused a message: {err}");
                message.give_up(OutboxStatus::Failed, err.message, err.code);
            }
        }
        self.finish(&message, now).await
    }

    /// Saves a message that has ended, moving its run on (sent) or failing it (not sent).
    async fn finish(&self, message: &OutboundMessage, now: DateTime<Utc>) -> DomainResult<()> {
        let run = match message.run_id {
            Some(run_id) => self.ports.runs.find(message.tenant_id, run_id).await?,
            None => None,
        };
        let run = run
            .filter(|run| run.status == RunStatus::Sending)
            .map(|mut run| {
                match message.status {
                    OutboxStatus::Sent => {
                        run.message_sent(now, message.meta_message_id.as_deref().unwrap_or(""))
                    }
                    _ => {
                        let reason = message
                            .last_error
                            .clone()
                            .unwrap_or_else(|| "the message was not sent".to_owned());
                        run.fail(now, run.current_step.checked_sub(1), reason)
                    }
                }
                run
            });
        self.ports.outbox.save(message, run.as_ref()).await?;
        if let Some(run) = run.filter(|run| run.status.is_finished()) {
            self.ports
                .activity
                .publish(ActivityEvent::run_finished(&run, now));
        }
        Ok(())
    }

    /// The Send API call for a message, or why it cannot be sent.
    async fn prepare(
        &self,
        message: &OutboundMessage,
        now: DateTime<Utc>,
    ) -> DomainResult<Result<SendRequest, NotNow>> {
        let tenant_id = message.tenant_id;
        if let Some(run_id) = message.run_id {
            let run = self.ports.runs.find(tenant_id, run_id).await?;
            if run.is_none_or(|run| run.status != RunStatus::Sending) {
                return Ok(Err(Unsendable::skipped("its run was cancelled").into()));
            }
        }
        let Some(page) = self.ports.pages.find(tenant_id, message.page_id).await? else {
            return Ok(Err(
                Unsendable::skipped("the page is no longer connected").into()
            ));
        };
        if page.health.needs_reconnect() {
            return Ok(Err(NotNow::PageNeedsReconnect));
        }
        let Some(subscriber) = self
            .ports
            .subscribers
            .find(tenant_id, message.subscriber_id)
            .await?
        else {
            return Ok(Err(
                Unsendable::skipped("the subscriber no longer exists").into()
            ));
        };
        let mut body = json!({});
        match message.kind {
            MessageKind::Flow => {
                if !subscriber.within_messaging_window(now) {
                    let closed = subscriber
                        .last_interaction_at
                        .map(|at| {
                            format!(
                                " (it closed at {})",
                                (at + Duration::hours(MESSAGING_WINDOW_HOURS)).to_rfc3339()
                            )
                        })
                        .unwrap_or_default();
                    return Ok(Err(Unsendable {
                        status: OutboxStatus::OutsideWindow,
                        reason: format!(
                            "not sent: the person's 24-hour messaging window is closed{closed}, \
                             and Meta refuses standard messages outside it"
                        ),
                    }
                    .into()));
                }
                body["recipient"] = match &subscriber.sender {
                    Sender::Psid(psid) => json!({ "id": psid }),
                    Sender::UserRef(user_ref) => json!({ "user_ref": user_ref }),
                };
            }
            MessageKind::TopicNotification => {
                let opt_ins = self
                    .ports
                    .subscribers
                    .opt_ins(tenant_id, &[subscriber.id])
                    .await?;
                let Some(opt_in) = opt_ins
                    .into_iter()
                    .find(|o| Some(o.id) == message.opt_in_id)
                else {
                    return Ok(Err(
                        Unsendable::skipped("the opt-in no longer exists").into()
                    ));
                };
                match opt_in.effective_status(now) {
                    OptInStatus::Active => {}
                    OptInStatus::Stopped => {
                        return Ok(Err(Unsendable::skipped(
                            "the person stopped these notifications",
                        )
                        .into()));
                    }
                    OptInStatus::Expired => {
                        return Ok(Err(
                            Unsendable::skipped("the notification token expired").into()
                        ));
                    }
                }
                let token = self.ports.cipher.open(
                    &opt_in.token,
                    tenant_id,
                    opt_in.id.0,
                    SecretPurpose::NotificationToken,
                )?;
                body["recipient"] = json!({ "notification_messages_token": token });
            }
        }
        if let Some(messaging_type) = &message.messaging_type {
            body["messaging_type"] = Value::String(messaging_type.clone());
        }
        body["message"] = message.message.clone();
        let page_access_token = self.ports.cipher.open(
            &page.access_token,
            tenant_id,
            page.id.0,
            SecretPurpose::PageAccessToken,
        )?;
        Ok(Ok(SendRequest {
            facebook_page_id: page.facebook_page_id,
            page_access_token,
            body,
        }))
    }
}
