//! Output types of flows, trigger rules, runs, the outbox and notifications.

use async_graphql::{Context, Enum, ID, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use refhub_domain::flows::{
    self as domain, ButtonAction, MessageKind, OutboxStatus, RunStatus, TriggerKind, TriggerRule,
};
use serde_json::Value;

use super::inputs::KeywordMatch;
use crate::audience::types::Subscriber;
use crate::catalogue::types::{CustomField, NotificationTopic, Page, Tag};
use crate::ids::to_id;
use crate::loaders::loaders;

fn int(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// A named list of steps, run for one subscriber at a time.
pub(crate) struct Flow(pub domain::Flow);

/// A named list of steps, run for one subscriber at a time.
#[Object]
impl Flow {
    /// Its id.
    async fn id(&self) -> ID {
        to_id(self.0.id.0)
    }

    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Its steps, in order.
    #[graphql(complexity = "crate::cost::whole_list_cost(crate::cost::STEPS, child_complexity)")]
    async fn steps(&self) -> Vec<FlowStep> {
        self.0.steps.iter().cloned().map(FlowStep).collect()
    }

    /// The rules that start it, oldest first (ref links name their flow themselves).
    #[graphql(complexity = "crate::cost::whole_list_cost(crate::cost::TRIGGERS, child_complexity)")]
    async fn triggers(&self, ctx: &Context<'_>) -> Result<Vec<FlowTrigger>> {
        Ok(loaders(ctx)?
            .triggers_of
            .load_one(self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(FlowTrigger)
            .collect())
    }

    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// One step: exactly one field is set, as in `FlowStepInput`.
pub(crate) struct FlowStep(pub domain::FlowStep);

/// Sends a text.
#[derive(SimpleObject)]
pub(crate) struct SendTextStep {
    /// The text.
    pub text: String,
}

/// Sends a text with quick replies.
#[derive(SimpleObject)]
pub(crate) struct SendQuickRepliesStep {
    /// The text.
    pub text: String,
    /// The replies offered.
    #[graphql(
        complexity = "crate::cost::whole_list_cost(crate::cost::QUICK_REPLIES, child_complexity)"
    )]
    pub replies: Vec<QuickReply>,
}

/// A quick reply.
#[derive(SimpleObject)]
pub(crate) struct QuickReply {
    /// What it says.
    pub title: String,
    /// What comes back when it is tapped.
    pub payload: String,
}

/// Sends a text with buttons.
#[derive(SimpleObject)]
pub(crate) struct SendButtonsStep {
    /// The text.
    pub text: String,
    /// The buttons.
    #[graphql(complexity = "crate::cost::whole_list_cost(crate::cost::BUTTONS, child_complexity)")]
    pub buttons: Vec<Button>,
}

/// A button: a postback (`payload`) or a link (`url`).
#[derive(SimpleObject)]
pub(crate) struct Button {
    /// What it says.
    pub title: String,
    /// Sent back as a postback.
    pub payload: Option<String>,
    /// Opened when tapped.
    pub url: Option<String>,
}

/// Sets a custom field.
pub(crate) struct SetFieldStep {
    field_id: refhub_domain::ids::CustomFieldId,
    value: String,
}

/// Sets a custom field.
#[Object]
impl SetFieldStep {
    /// The field's id.
    async fn field_id(&self) -> ID {
        to_id(self.field_id.0)
    }

    /// The field (none once deleted).
    async fn field(&self, ctx: &Context<'_>) -> Result<Option<CustomField>> {
        Ok(loaders(ctx)?
            .custom_fields
            .load_one(self.field_id)
            .await?
            .map(CustomField))
    }

    /// The value, in the field type's canonical text.
    async fn value(&self) -> &str {
        &self.value
    }
}

/// Adds or removes a tag.
pub(crate) struct TagStep {
    tag_id: refhub_domain::ids::TagId,
}

/// Adds or removes a tag.
#[Object]
impl TagStep {
    /// The tag's id.
    async fn tag_id(&self) -> ID {
        to_id(self.tag_id.0)
    }

    /// The tag (none once deleted).
    async fn tag(&self, ctx: &Context<'_>) -> Result<Option<Tag>> {
        Ok(loaders(ctx)?
            .tags
            .load_one(self.tag_id)
            .await?
            .map(Tag::from))
    }
}

/// Waits before the next step.
#[derive(SimpleObject)]
pub(crate) struct WaitStep {
    /// How long, in seconds.
    pub seconds: i32,
}

/// One step: exactly one field is set, as in `FlowStepInput`.
#[Object]
impl FlowStep {
    /// Sends a text.
    async fn send_text(&self) -> Option<SendTextStep> {
        match &self.0 {
            domain::FlowStep::SendText { text } => Some(SendTextStep { text: text.clone() }),
            _ => None,
        }
    }

    /// Sends a text with quick replies.
    async fn send_quick_replies(&self) -> Option<SendQuickRepliesStep> {
        match &self.0 {
            domain::FlowStep::SendQuickReplies { text, replies } => Some(SendQuickRepliesStep {
                text: text.clone(),
                replies: replies
                    .iter()
                    .map(|r| QuickReply {
                        title: r.title.clone(),
                        payload: r.payload.clone(),
                    })
                    .collect(),
            }),
            _ => None,
        }
    }

    /// Sends a text with buttons.
    async fn send_buttons(&self) -> Option<SendButtonsStep> {
        match &self.0 {
            domain::FlowStep::SendButtons { text, buttons } => Some(SendButtonsStep {
                text: text.clone(),
                buttons: buttons
                    .iter()
                    .map(|b| {
                        let (payload, url) = match &b.action {
                            ButtonAction::Postback(payload) => (Some(payload.clone()), None),
                            ButtonAction::Url(url) => (None, Some(url.clone())),
                        };
                        Button {
                            title: b.title.clone(),
                            payload,
                            url,
                        }
                    })
                    .collect(),
            }),
            _ => None,
        }
    }

    /// Sets a custom field.
    async fn set_field(&self) -> Option<SetFieldStep> {
        match &self.0 {
            domain::FlowStep::SetField { field_id, value } => Some(SetFieldStep {
                field_id: *field_id,
                value: value.clone(),
            }),
            _ => None,
        }
    }

    /// Adds a tag.
    async fn add_tag(&self) -> Option<TagStep> {
        match &self.0 {
            domain::FlowStep::AddTag { tag_id } => Some(TagStep { tag_id: *tag_id }),
            _ => None,
        }
    }

    /// Removes a tag.
    async fn remove_tag(&self) -> Option<TagStep> {
        match &self.0 {
            domain::FlowStep::RemoveTag { tag_id } => Some(TagStep { tag_id: *tag_id }),
            _ => None,
        }
    }

    /// Waits.
    async fn wait(&self) -> Option<WaitStep> {
        match &self.0 {
            domain::FlowStep::Wait { seconds } => Some(WaitStep {
                seconds: int(*seconds),
            }),
            _ => None,
        }
    }
}

/// A rule that starts a flow.
pub(crate) struct FlowTrigger(pub domain::FlowTrigger);

/// What a rule reacts to: exactly one field is set.
#[derive(SimpleObject)]
pub(crate) struct FlowTriggerRule {
    /// A postback or quick reply payload.
    pub postback: Option<PostbackRule>,
    /// A message keyword.
    pub keyword: Option<KeywordRule>,
    /// An opt-in to a topic.
    #[graphql(
        deprecation = "Meta retired recurring notifications (closed to new integrations on 2025-09-01, ended on 2026-02-10 outside a few regions); kept for workspaces that hold tokens. Meta offers the Messenger Marketing Messages API instead."
    )]
    pub topic_opt_in: Option<TopicOptInRule>,
}

/// A postback rule.
#[derive(SimpleObject)]
pub(crate) struct PostbackRule {
    /// The payload (compared exactly).
    pub payload: String,
}

/// A keyword rule.
#[derive(SimpleObject)]
pub(crate) struct KeywordRule {
    /// The keyword.
    pub keyword: String,
    /// How it is compared (always ignoring case).
    #[graphql(name = "match")]
    pub matching: KeywordMatch,
}

/// A topic opt-in rule.
pub(crate) struct TopicOptInRule {
    topic_id: refhub_domain::ids::TopicId,
}

/// A topic opt-in rule.
#[Object]
impl TopicOptInRule {
    /// The topic's id.
    async fn topic_id(&self) -> ID {
        to_id(self.topic_id.0)
    }

    /// The topic.
    async fn topic(&self, ctx: &Context<'_>) -> Result<Option<NotificationTopic>> {
        Ok(loaders(ctx)?
            .topics
            .load_one(self.topic_id)
            .await?
            .map(NotificationTopic))
    }
}

/// A rule that starts a flow.
#[Object]
impl FlowTrigger {
    /// Its id.
    async fn id(&self) -> ID {
        to_id(self.0.id.0)
    }

    /// The flow's id.
    async fn flow_id(&self) -> ID {
        to_id(self.0.flow_id.0)
    }

    /// The flow it starts.
    async fn flow(&self, ctx: &Context<'_>) -> Result<Option<Flow>> {
        Ok(loaders(ctx)?
            .flows
            .load_one(self.0.flow_id)
            .await?
            .map(Flow))
    }

    /// Only events of this page (none: every page).
    async fn page(&self, ctx: &Context<'_>) -> Result<Option<Page>> {
        let Some(page_id) = self.0.page_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)?.pages.load_one(page_id).await?.map(Page))
    }

    /// What starts it.
    async fn rule(&self) -> FlowTriggerRule {
        let mut rule = FlowTriggerRule {
            postback: None,
            keyword: None,
            topic_opt_in: None,
        };
        match &self.0.rule {
            TriggerRule::Postback { payload } => {
                rule.postback = Some(PostbackRule {
                    payload: payload.clone(),
                });
            }
            TriggerRule::Keyword { keyword, matching } => {
                rule.keyword = Some(KeywordRule {
                    keyword: keyword.clone(),
                    matching: (*matching).into(),
                });
            }
            TriggerRule::TopicOptIn { topic_id } => {
                rule.topic_opt_in = Some(TopicOptInRule {
                    topic_id: *topic_id,
                });
            }
        }
        rule
    }

    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// What started a run.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub(crate) enum FlowTriggerKind {
    /// An entry through a ref link.
    RefLink,
    /// A postback or quick reply rule.
    Postback,
    /// A keyword rule.
    Keyword,
    /// A topic opt-in rule.
    TopicOptIn,
    /// Started by hand.
    Manual,
}

impl From<TriggerKind> for FlowTriggerKind {
    fn from(value: TriggerKind) -> Self {
        match value {
            TriggerKind::RefLink => Self::RefLink,
            TriggerKind::Postback => Self::Postback,
            TriggerKind::Keyword => Self::Keyword,
            TriggerKind::TopicOptIn => Self::TopicOptIn,
            TriggerKind::Manual => Self::Manual,
        }
    }
}

/// Where a run is.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub(crate) enum FlowRunStatus {
    /// Due to execute its next step.
    Running,
    /// In a wait step until `nextStepAt`.
    Waiting,
    /// Waiting for its outgoing message to be sent.
    Sending,
    /// Every step done.
    Completed,
    /// Stopped by a step that could not proceed (see `error`).
    Failed,
    /// Stopped by hand, or because its flow was deleted.
    Cancelled,
}

impl From<RunStatus> for FlowRunStatus {
    fn from(value: RunStatus) -> Self {
        match value {
            RunStatus::Running => Self::Running,
            RunStatus::Waiting => Self::Waiting,
            RunStatus::Sending => Self::Sending,
            RunStatus::Completed => Self::Completed,
            RunStatus::Failed => Self::Failed,
            RunStatus::Cancelled => Self::Cancelled,
        }
    }
}

impl From<FlowRunStatus> for RunStatus {
    fn from(value: FlowRunStatus) -> Self {
        match value {
            FlowRunStatus::Running => Self::Running,
            FlowRunStatus::Waiting => Self::Waiting,
            FlowRunStatus::Sending => Self::Sending,
            FlowRunStatus::Completed => Self::Completed,
            FlowRunStatus::Failed => Self::Failed,
            FlowRunStatus::Cancelled => Self::Cancelled,
        }
    }
}

/// What started a run, with what matched.
#[derive(SimpleObject)]
pub(crate) struct FlowRunTrigger {
    /// The kind.
    pub kind: FlowTriggerKind,
    /// The ref, payload, text or topic that matched.
    pub detail: Option<String>,
}

/// One line of a run's history.
#[derive(SimpleObject)]
pub(crate) struct FlowRunHistoryEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// The step concerned (its index), if any.
    pub step: Option<i32>,
    /// What happened: `started`, `sendText`, `sendQuickReplies`, `sendButtons` (queued),
    /// `sent`, `setField`, `addTag`, `removeTag`, `wait`, `resumed`, `completed`, `failed`,
    /// `cancelled`.
    pub action: String,
    /// Details.
    pub detail: Option<String>,
    /// What went wrong.
    pub error: Option<String>,
}

/// One subscriber's run through a flow.
pub(crate) struct FlowRun(pub domain::FlowRun);

/// One subscriber's run through a flow.
#[Object]
impl FlowRun {
    /// Its id.
    async fn id(&self) -> ID {
        to_id(self.0.id.0)
    }

    /// The flow's id.
    async fn flow_id(&self) -> ID {
        to_id(self.0.flow_id.0)
    }

    /// The flow (none once deleted).
    async fn flow(&self, ctx: &Context<'_>) -> Result<Option<Flow>> {
        Ok(loaders(ctx)?
            .flows
            .load_one(self.0.flow_id)
            .await?
            .map(Flow))
    }

    /// The subscriber.
    async fn subscriber(&self, ctx: &Context<'_>) -> Result<Option<Subscriber>> {
        Ok(loaders(ctx)?
            .subscribers
            .load_one(self.0.subscriber_id)
            .await?
            .map(Subscriber::from))
    }

    /// What started it.
    async fn trigger(&self) -> FlowRunTrigger {
        FlowRunTrigger {
            kind: self.0.trigger.kind.into(),
            detail: self.0.trigger.detail.clone(),
        }
    }

    /// Where it is.
    async fn status(&self) -> FlowRunStatus {
        self.0.status.into()
    }

    /// The index of the next step to execute (the number of steps once done).
    async fn current_step(&self) -> i32 {
        int(self.0.current_step)
    }

    /// The steps it runs: the flow's steps when it started.
    #[graphql(complexity = "crate::cost::whole_list_cost(crate::cost::STEPS, child_complexity)")]
    async fn steps(&self) -> Vec<FlowStep> {
        self.0.steps.iter().cloned().map(FlowStep).collect()
    }

    /// When it is next due (running and waiting runs).
    async fn next_step_at(&self) -> Option<DateTime<Utc>> {
        self.0.next_step_at
    }

    /// Why it failed.
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }

    /// What it did, oldest first.
    #[graphql(complexity = "crate::cost::whole_list_cost(crate::cost::HISTORY, child_complexity)")]
    async fn history(&self) -> Vec<FlowRunHistoryEntry> {
        self.0
            .history
            .iter()
            .map(|h| FlowRunHistoryEntry {
                at: h.at,
                step: h.step.map(int),
                action: h.action.clone(),
                detail: h.detail.clone(),
                error: h.error.clone(),
            })
            .collect()
    }

    /// When it started.
    async fn started_at(&self) -> DateTime<Utc> {
        self.0.started_at
    }

    /// When it ended.
    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.0.finished_at
    }
}

/// Why a message is sent.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub(crate) enum OutboundMessageKind {
    /// A flow's step, to the person's PSID or user_ref.
    Flow,
    /// A topic notification, addressed by the opt-in's token.
    TopicNotification,
}

/// Where an outgoing message is.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub(crate) enum OutboundMessageStatus {
    /// Waiting to be sent or retried.
    Pending,
    /// Meta accepted it.
    Sent,
    /// Meta refused it for good, or it kept failing (see `lastError`, `errorCode`).
    Failed,
    /// Not sent: the person's 24-hour window had closed.
    OutsideWindow,
    /// Not sent: its run was cancelled, or the token, page or subscriber is gone.
    Skipped,
}

impl From<OutboxStatus> for OutboundMessageStatus {
    fn from(value: OutboxStatus) -> Self {
        match value {
            OutboxStatus::Pending => Self::Pending,
            OutboxStatus::Sent => Self::Sent,
            OutboxStatus::Failed => Self::Failed,
            OutboxStatus::OutsideWindow => Self::OutsideWindow,
            OutboxStatus::Skipped => Self::Skipped,
        }
    }
}

impl From<OutboundMessageStatus> for OutboxStatus {
    fn from(value: OutboundMessageStatus) -> Self {
        match value {
            OutboundMessageStatus::Pending => Self::Pending,
            OutboundMessageStatus::Sent => Self::Sent,
            OutboundMessageStatus::Failed => Self::Failed,
            OutboundMessageStatus::OutsideWindow => Self::OutsideWindow,
            OutboundMessageStatus::Skipped => Self::Skipped,
        }
    }
}

/// An outgoing message of the outbox.
pub(crate) struct OutboundMessage(pub domain::OutboundMessage);

/// An outgoing message of the outbox.
#[Object]
impl OutboundMessage {
    /// Its id.
    async fn id(&self) -> ID {
        to_id(self.0.id.0)
    }

    /// Why it is sent.
    async fn kind(&self) -> OutboundMessageKind {
        match self.0.kind {
            MessageKind::Flow => OutboundMessageKind::Flow,
            MessageKind::TopicNotification => OutboundMessageKind::TopicNotification,
        }
    }

    /// The page it is sent from.
    async fn page(&self, ctx: &Context<'_>) -> Result<Option<Page>> {
        Ok(loaders(ctx)?
            .pages
            .load_one(self.0.page_id)
            .await?
            .map(Page))
    }

    /// The person it is for.
    async fn subscriber(&self, ctx: &Context<'_>) -> Result<Option<Subscriber>> {
        Ok(loaders(ctx)?
            .subscribers
            .load_one(self.0.subscriber_id)
            .await?
            .map(Subscriber::from))
    }

    /// The run that sends it.
    async fn run_id(&self) -> Option<ID> {
        self.0.run_id.map(|id| to_id(id.0))
    }

    /// The topic it notifies about.
    async fn topic_id(&self) -> Option<ID> {
        self.0.topic_id.map(|id| to_id(id.0))
    }

    /// The Send API `messaging_type` (none for notifications, which go by token).
    async fn messaging_type(&self) -> Option<&str> {
        self.0.messaging_type.as_deref()
    }

    /// The Send API `message`, as sent.
    async fn message(&self) -> Json<Value> {
        Json(self.0.message.clone())
    }

    /// Where it is.
    async fn status(&self) -> OutboundMessageStatus {
        self.0.status.into()
    }

    /// Tries so far.
    async fn attempts(&self) -> i32 {
        int(self.0.attempts)
    }

    /// When it is next tried (pending messages).
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        self.0.next_attempt_at
    }

    /// The last failure.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }

    /// Meta's error code of the last failure.
    async fn error_code(&self) -> Option<i32> {
        self.0.error_code.and_then(|code| i32::try_from(code).ok())
    }

    /// Meta's id of the sent message.
    async fn meta_message_id(&self) -> Option<&str> {
        self.0.meta_message_id.as_deref()
    }

    /// When it was queued.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When Meta accepted it.
    async fn sent_at(&self) -> Option<DateTime<Utc>> {
        self.0.sent_at
    }
}

/// Why an opt-in got no notification.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub(crate) enum NotificationSkipReason {
    /// The person stopped the notifications.
    Stopped,
    /// The token expired.
    Expired,
    /// A notification was already queued for the token in this period of its cadence.
    CadenceLimit,
}

impl From<domain::SkipReason> for NotificationSkipReason {
    fn from(value: domain::SkipReason) -> Self {
        match value {
            domain::SkipReason::Stopped => Self::Stopped,
            domain::SkipReason::Expired => Self::Expired,
            domain::SkipReason::CadenceLimit => Self::CadenceLimit,
        }
    }
}

/// How many opt-ins were skipped for one reason.
#[derive(SimpleObject)]
pub(crate) struct NotificationSkipCount {
    /// The reason.
    pub reason: NotificationSkipReason,
    /// How many.
    pub count: i32,
}

/// What `sendTopicNotification` did.
#[derive(SimpleObject)]
pub(crate) struct TopicNotificationReport {
    /// Messages queued (one per opt-in that may receive it now).
    pub queued: i32,
    /// Opt-ins skipped.
    pub skipped: i32,
    /// Opt-ins skipped, by reason (reasons with none left out).
    #[graphql(
        complexity = "crate::cost::whole_list_cost(<NotificationSkipReason as async_graphql::resolver_utils::EnumType>::items().len(), child_complexity)"
    )]
    pub skipped_reasons: Vec<NotificationSkipCount>,
}

impl From<domain::NotificationReport> for TopicNotificationReport {
    fn from(report: domain::NotificationReport) -> Self {
        Self {
            queued: int(report.queued),
            skipped: int(report.skipped_total()),
            skipped_reasons: report
                .skipped
                .into_iter()
                .map(|(reason, count)| NotificationSkipCount {
                    reason: reason.into(),
                    count: int(count),
                })
                .collect(),
        }
    }
}

/// What `startFlow` did.
#[derive(SimpleObject)]
pub(crate) struct StartFlowPayload {
    /// The runs started, one per subscriber.
    #[graphql(
        complexity = "crate::cost::whole_list_cost(crate::cost::MANUAL_STARTS, child_complexity)"
    )]
    pub runs: Vec<FlowRun>,
}
