//! Topic notifications: one message per active opt-in of a topic, addressed by its token, at
//! most one per token in each period of its cadence.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Months, Utc};
use serde_json::{Value, json};

use crate::audience::{OptInStatus, SubscriberRepository};
use crate::catalogue::{Cadence, TopicRepository};
use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};
use crate::flows::outbox::{MessageKind, OutboundMessage};
use crate::flows::ports::OutboxRepository;
use crate::flows::step::{
    Button, MAX_BUTTON_TEXT_CHARS, MAX_BUTTONS, MAX_TEXT_CHARS, button_template, checked_button,
    message_text,
};
use crate::identity::{Principal, Role};
use crate::ids::TopicId;

/// Why an opt-in got no notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SkipReason {
    /// The person stopped the notifications.
    Stopped,
    /// The token expired.
    Expired,
    /// A notification was already queued for the token in this period of its cadence.
    CadenceLimit,
}

/// What `sendTopicNotification` did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NotificationReport {
    /// Messages queued.
    pub queued: u32,
    /// Opt-ins skipped, by reason.
    pub skipped: BTreeMap<SkipReason, u32>,
}

impl NotificationReport {
    /// Opt-ins skipped in all.
    pub fn skipped_total(&self) -> u32 {
        self.skipped.values().sum()
    }
}

/// The earliest time a previous notification still counts against a token's cadence.
pub fn cadence_start(cadence: Cadence, now: DateTime<Utc>) -> DateTime<Utc> {
    match cadence {
        Cadence::Daily => now - Duration::hours(24),
        Cadence::Weekly => now - Duration::days(7),
        Cadence::Monthly => now
            .checked_sub_months(Months::new(1))
            .unwrap_or(now - Duration::days(31)),
    }
}

/// Sends notifications about topics.
pub struct NotificationService {
    topics: Arc<dyn TopicRepository>,
    subscribers: Arc<dyn SubscriberRepository>,
    outbox: Arc<dyn OutboxRepository>,
    clock: Arc<dyn Clock>,
}

impl NotificationService {
    /// Builds the service.
    pub fn new(
        topics: Arc<dyn TopicRepository>,
        subscribers: Arc<dyn SubscriberRepository>,
        outbox: Arc<dyn OutboxRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            topics,
            subscribers,
            outbox,
            clock,
        }
    }

    /// Queues `text` (with `buttons`, if any) for every opt-in of the topic that may receive
    /// it now, and says how many were queued and why the others were not.
    pub async fn send(
        &self,
        principal: &Principal,
        topic_id: TopicId,
        text: &str,
        buttons: Vec<Button>,
    ) -> DomainResult<NotificationReport> {
        let access = principal.require_role(Role::Editor)?;
        let tenant_id = access.tenant_id;
        let message = notification_message(text, buttons)?;
        let topic = self
            .topics
            .find(tenant_id, topic_id)
            .await?
            .ok_or_else(|| DomainError::not_found_in("notification topic", "topicId"))?;
        let now = self.clock.now();
        let mut report = NotificationReport::default();
        for opt_in in self
            .subscribers
            .opt_ins_for_topic(tenant_id, topic_id)
            .await?
        {
            let skip = match opt_in.effective_status(now) {
                OptInStatus::Stopped => Some(SkipReason::Stopped),
                OptInStatus::Expired => Some(SkipReason::Expired),
                OptInStatus::Active => {
                    let cadence = opt_in.frequency.unwrap_or(topic.default_cadence);
                    let mut queued = OutboundMessage::queued(
                        tenant_id,
                        topic.page_id,
                        opt_in.subscriber_id,
                        MessageKind::TopicNotification,
                        String::new(),
                        None,
                        message.clone(),
                        now,
                    );
                    queued.idempotency_key = format!("notification:{}", queued.id);
                    queued.topic_id = Some(topic_id);
                    queued.opt_in_id = Some(opt_in.id);
                    let since = cadence_start(cadence, now);
                    if self.outbox.queue_notification(&queued, since).await? {
                        None
                    } else {
                        Some(SkipReason::CadenceLimit)
                    }
                }
            };
            match skip {
                Some(reason) => *report.skipped.entry(reason).or_default() += 1,
                None => report.queued += 1,
            }
        }
        Ok(report)
    }
}

/// The `message` of a notification: a text, or a button template when it has buttons.
fn notification_message(text: &str, buttons: Vec<Button>) -> DomainResult<Value> {
    if buttons.is_empty() {
        let text = message_text(text, "message.text", MAX_TEXT_CHARS)?;
        return Ok(json!({ "text": text }));
    }
    let text = message_text(text, "message.text", MAX_BUTTON_TEXT_CHARS)?;
    if buttons.len() > MAX_BUTTONS {
        return Err(DomainError::validation(
            "message.buttons",
            format!("at most {MAX_BUTTONS} buttons (Meta's limit)"),
        ));
    }
    let buttons = buttons
        .into_iter()
        .enumerate()
        .map(|(i, b)| checked_button(b, &format!("message.buttons[{i}]")))
        .collect::<DomainResult<Vec<_>>>()?;
    Ok(button_template(&text, &buttons))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn cadences_count_back_a_day_a_week_or_a_calendar_month() {
        let now = Utc.with_ymd_and_hms(2026, 3, 31, 12, 0, 0).unwrap();
        assert_eq!(
            cadence_start(Cadence::Daily, now),
            now - Duration::hours(24)
        );
        assert_eq!(cadence_start(Cadence::Weekly, now), now - Duration::days(7));
        assert_eq!(
            cadence_start(Cadence::Monthly, now),
            Utc.with_ymd_and_hms(2026, 2, 28, 12, 0, 0).unwrap()
        );
    }
}
