//! Output types for subscribers and webhook events.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, Enum, ID, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use refhub_domain::audience::{self as domain, OptInStatus as DomainOptInStatus};
use refhub_domain::ids::SubscriberId;
use refhub_domain::webhooks::{InboxEvent, InboxStatus};

use crate::audience::preload::Preloaded;
use crate::auth_context::{principal, services};
use crate::catalogue::types::{Cadence, CustomField, NotificationTopic, Page, RefLink, Tag};
use crate::connection::{ListConnection, from_page, page_request};
use crate::error::IntoGraphql;
use crate::ids::to_id;
use crate::loaders::loaders;

/// Whether an opt-in's token may be used.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub(crate) enum OptInStatus {
    /// Usable.
    Active,
    /// The person stopped notifications.
    Stopped,
    /// The token expired.
    Expired,
}

impl From<DomainOptInStatus> for OptInStatus {
    fn from(value: DomainOptInStatus) -> Self {
        match value {
            DomainOptInStatus::Active => Self::Active,
            DomainOptInStatus::Stopped => Self::Stopped,
            DomainOptInStatus::Expired => Self::Expired,
        }
    }
}

/// Where fetching a subscriber's profile from Meta stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub(crate) enum SubscriberProfileStatus {
    /// Queued (or waiting for the page to be reconnected, or, for a plugin user, for a PSID).
    Pending,
    /// Fetched.
    Fetched,
    /// Meta gave none (see `profileError`); not tried again unless refreshed.
    Unavailable,
}

/// One person on one page, with what was fetched for it together with its page, if anything.
pub(crate) struct Subscriber(pub domain::Subscriber, pub Preloaded);

impl From<domain::Subscriber> for Subscriber {
    fn from(subscriber: domain::Subscriber) -> Self {
        Self(subscriber, Preloaded::default())
    }
}

/// One person on one page, with what was fetched for it together with its page, if anything.
#[Object]
impl Subscriber {
    /// Its id.
    async fn id(&self) -> ID {
        to_id(self.0.id.0)
    }

    /// The page.
    async fn page(&self, ctx: &Context<'_>) -> Result<Option<Page>> {
        Ok(loaders(ctx)?
            .pages
            .load_one(self.0.page_id)
            .await?
            .map(Page))
    }

    /// The page-scoped user id (none for a plugin user known only by `userRef`).
    async fn psid(&self) -> Option<&str> {
        self.0.psid()
    }

    /// The plugin `user_ref` (checkbox or chat plugin) the person is known by: all there is
    /// before their first reply, and kept beside `psid` once that reply links the two.
    async fn user_ref(&self) -> Option<&str> {
        self.0.user_ref.as_deref()
    }

    /// The person's name, when known: their first and last names from Meta's User Profile
    /// API once fetched (`subscribers(filter: {search})` finds it).
    async fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }

    /// First name (User Profile API `first_name`).
    async fn first_name(&self) -> Option<&str> {
        self.0.profile.first_name.as_deref()
    }

    /// Last name (User Profile API `last_name`).
    async fn last_name(&self) -> Option<&str> {
        self.0.profile.last_name.as_deref()
    }

    /// Profile picture URL (User Profile API `profile_pic`). Meta's picture URLs expire: when
    /// one no longer loads, `refreshSubscriberProfile` fetches a fresh one.
    async fn profile_pic_url(&self) -> Option<&str> {
        self.0.profile.profile_pic_url.as_deref()
    }

    /// Locale on Facebook (`en_US`), when the app holds Meta's `pages_user_locale` permission.
    async fn locale(&self) -> Option<&str> {
        self.0.profile.locale.as_deref()
    }

    /// Hours from UTC (`-7`, `5.5`), when the app holds Meta's `pages_user_timezone`
    /// permission.
    async fn time_zone(&self) -> Option<f64> {
        self.0.profile.time_zone
    }

    /// Where fetching the profile from Meta stands.
    async fn profile_status(&self) -> SubscriberProfileStatus {
        match self.0.profile.status {
            domain::ProfileStatus::Pending => SubscriberProfileStatus::Pending,
            domain::ProfileStatus::Fetched => SubscriberProfileStatus::Fetched,
            domain::ProfileStatus::Unavailable => SubscriberProfileStatus::Unavailable,
        }
    }

    /// When the profile was last fetched.
    async fn profile_fetched_at(&self) -> Option<DateTime<Utc>> {
        self.0.profile.fetched_at
    }

    /// Why Meta gave no profile (its code and message: a permission error, `2018218` "No
    /// profile available for this user", ...), or the passing failure a pending fetch last met.
    async fn profile_error(&self) -> Option<&str> {
        self.0.profile.error.as_deref()
    }

    /// The first `ref` they arrived with, as received (payload included).
    async fn source_ref(&self) -> Option<&str> {
        self.0.source_ref.as_deref()
    }

    /// The ref link `sourceRef` matched (none for an unknown ref or a deleted link).
    async fn source_ref_link(&self, ctx: &Context<'_>) -> Result<Option<RefLink>> {
        let Some(link_id) = self.0.source_ref_link_id else {
            return Ok(None);
        };
        let principal = principal(ctx).gql()?;
        match services(ctx).ref_links.get(principal, link_id).await {
            Ok(link) => Ok(Some(RefLink(link))),
            Err(refhub_domain::DomainError::NotFound { .. }) => Ok(None),
            Err(err) => Err(crate::error::to_graphql(&err)),
        }
    }

    /// How many times they entered through a link or ad.
    async fn entry_count(&self) -> i32 {
        self.0.entry_count
    }

    /// When they were first seen.
    async fn first_seen_at(&self) -> DateTime<Utc> {
        self.0.first_seen_at
    }

    /// When they last acted.
    async fn last_interaction_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_interaction_at
    }

    /// Whether the page may message them now (they acted in the last 24 hours).
    async fn within_messaging_window(&self, ctx: &Context<'_>) -> bool {
        self.0.within_messaging_window(services(ctx).clock.now())
    }

    /// Their custom field values.
    #[graphql(
        complexity = "crate::cost::whole_list_cost(crate::cost::TENANT_LIST_ESTIMATE, child_complexity)"
    )]
    async fn fields(&self, ctx: &Context<'_>) -> Result<Vec<SubscriberFieldValue>> {
        let values =
            preloaded_or_loaded(&self.1.fields, &loaders(ctx)?.field_values, self.0.id).await?;
        Ok(values
            .into_iter()
            .map(|(value, field)| SubscriberFieldValue {
                field: CustomField(field),
                value: value.value,
                set_at: value.set_at,
            })
            .collect())
    }

    /// Their tags.
    #[graphql(
        complexity = "crate::cost::whole_list_cost(crate::cost::TENANT_LIST_ESTIMATE, child_complexity)"
    )]
    async fn tags(&self, ctx: &Context<'_>) -> Result<Vec<Tag>> {
        let tags = preloaded_or_loaded(&self.1.tags, &loaders(ctx)?.tags_of, self.0.id).await?;
        Ok(tags.into_iter().map(Tag::from).collect())
    }

    /// What they did, newest first: referrals, postbacks, messages, quick replies, opt-ins.
    #[graphql(complexity = "crate::connection::list_cost(first, child_complexity)")]
    async fn interactions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> Result<ListConnection<Interaction>> {
        let principal = principal(ctx).gql()?;
        let had_cursor = after.is_some();
        let page = page_request(first, after).gql()?;
        let interactions = services(ctx)
            .subscribers
            .interactions(principal, self.0.id, page)
            .await
            .gql()?;
        Ok(from_page(
            interactions,
            had_cursor,
            |i| i.id,
            |i| Interaction {
                kind: i.kind,
                detail: i.detail,
                occurred_at: i.occurred_at,
                event_id: to_id(i.event_id.0),
            },
        ))
    }

    /// Their notification opt-ins.
    #[graphql(
        complexity = "crate::cost::whole_list_cost(crate::cost::TENANT_LIST_ESTIMATE, child_complexity)",
        deprecation = "Meta retired recurring notifications (closed to new integrations on 2025-09-01, ended on 2026-02-10 outside a few regions); kept for workspaces that hold tokens. Meta offers the Messenger Marketing Messages API instead."
    )]
    async fn opt_ins(&self, ctx: &Context<'_>) -> Result<Vec<SubscriberOptIn>> {
        let opt_ins =
            preloaded_or_loaded(&self.1.opt_ins, &loaders(ctx)?.opt_ins, self.0.id).await?;
        // Topics only when asked for: most lists show the title Meta sent.
        let topics = if ctx.look_ahead().field("topic").exists() {
            loaders(ctx)?
                .topics
                .load_many(opt_ins.iter().filter_map(|o| o.topic_id))
                .await?
        } else {
            HashMap::new()
        };
        let now = services(ctx).clock.now();
        Ok(opt_ins
            .into_iter()
            .map(|opt_in| SubscriberOptIn {
                id: to_id(opt_in.id.0),
                topic: opt_in
                    .topic_id
                    .and_then(|id| topics.get(&id).cloned())
                    .map(NotificationTopic),
                status: opt_in.effective_status(now).into(),
                topic_title: opt_in.topic_title,
                frequency: opt_in.frequency.map(Into::into),
                timezone: opt_in.timezone,
                expires_at: opt_in.expires_at,
                last_sent_at: opt_in.last_sent_at,
            })
            .collect())
    }
}

/// A node's list: fetched with its page when it was, else through the request's batch loader.
async fn preloaded_or_loaded<L, V>(
    preloaded: &Option<Vec<V>>,
    loader: &DataLoader<L>,
    id: SubscriberId,
) -> Result<Vec<V>>
where
    L: Loader<SubscriberId, Value = Vec<V>, Error = async_graphql::Error>,
    V: Clone + Send + Sync + 'static,
{
    match preloaded {
        Some(list) => Ok(list.clone()),
        None => Ok(loader.load_one(id).await?.unwrap_or_default()),
    }
}

/// Something a subscriber did.
#[derive(SimpleObject)]
pub(crate) struct Interaction {
    /// `referral`, `postback`, `message`, `quick_reply`, `optin`, `optout`, `resume`,
    /// `plugin_optin` (a checkbox or Send to Messenger plugin) or `one_time_optin` (a one-time
    /// notification request accepted).
    pub kind: String,
    /// The ref, payload or text.
    pub detail: Option<String>,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// The webhook event it came from.
    pub event_id: ID,
}

/// A subscriber's value for one custom field.
#[derive(SimpleObject)]
pub(crate) struct SubscriberFieldValue {
    /// The field.
    pub field: CustomField,
    /// The value, in the canonical text of the field's type.
    pub value: String,
    /// When it was set (the event's time for values from payloads).
    pub set_at: DateTime<Utc>,
}

/// A subscriber's opt-in to a notification topic. The token itself is never returned.
#[derive(SimpleObject)]
pub(crate) struct SubscriberOptIn {
    /// Its id.
    pub id: ID,
    /// The topic, when the page has one with this title.
    pub topic: Option<NotificationTopic>,
    /// The topic title as Meta sent it.
    pub topic_title: String,
    /// Whether the token may be used.
    pub status: OptInStatus,
    /// The agreed frequency.
    pub frequency: Option<Cadence>,
    /// The person's time zone.
    pub timezone: Option<String>,
    /// When the token expires.
    pub expires_at: Option<DateTime<Utc>>,
    /// When a notification was last sent with it.
    pub last_sent_at: Option<DateTime<Utc>>,
}

/// Where a webhook event stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub(crate) enum WebhookEventStatus {
    /// Waiting for a worker.
    Pending,
    /// Being processed.
    Processing,
    /// Applied.
    Processed,
    /// Stored, not acted on (page not connected, unhandled kind); see `outcome`.
    Ignored,
    /// Failed; will be retried (see `error`).
    Failed,
    /// Failed too often; see `error`, then `replayWebhookEvent`.
    Dead,
    /// Refused when it arrived (an id no page or person has, a value the store could not
    /// give back; see `error`): stored to be seen, never processed nor replayed.
    Rejected,
}

impl From<InboxStatus> for WebhookEventStatus {
    fn from(value: InboxStatus) -> Self {
        match value {
            InboxStatus::Pending => Self::Pending,
            InboxStatus::Processing => Self::Processing,
            InboxStatus::Processed => Self::Processed,
            InboxStatus::Ignored => Self::Ignored,
            InboxStatus::Failed => Self::Failed,
            InboxStatus::Dead => Self::Dead,
            InboxStatus::Rejected => Self::Rejected,
        }
    }
}

impl From<WebhookEventStatus> for InboxStatus {
    fn from(value: WebhookEventStatus) -> Self {
        match value {
            WebhookEventStatus::Pending => Self::Pending,
            WebhookEventStatus::Processing => Self::Processing,
            WebhookEventStatus::Processed => Self::Processed,
            WebhookEventStatus::Ignored => Self::Ignored,
            WebhookEventStatus::Failed => Self::Failed,
            WebhookEventStatus::Dead => Self::Dead,
            WebhookEventStatus::Rejected => Self::Rejected,
        }
    }
}

/// One messaging item Meta delivered, and what became of it.
pub(crate) struct WebhookEvent(pub InboxEvent);

/// One messaging item Meta delivered, and what became of it.
#[Object]
impl WebhookEvent {
    /// Its id.
    async fn id(&self) -> ID {
        to_id(self.0.id.0)
    }

    /// Its kind (`message`, `postback`, `referral`, `optin`, …).
    async fn kind(&self) -> &str {
        &self.0.kind
    }

    /// Where it stands.
    async fn status(&self) -> WebhookEventStatus {
        self.0.status.into()
    }

    /// The Facebook page it is for.
    async fn page_facebook_id(&self) -> Option<&str> {
        self.0.page_facebook_id.as_deref()
    }

    /// Who sent it (`psid:…` or `user_ref:…`).
    async fn sender(&self) -> Option<&str> {
        self.0.sender_key.as_deref()
    }

    /// The item as Meta sent it.
    async fn body(&self) -> Json<serde_json::Value> {
        Json(self.0.item.clone())
    }

    /// What processing applied and skipped, and why.
    async fn outcome(&self) -> Option<Json<serde_json::Value>> {
        self.0.outcome.clone().map(Json)
    }

    /// The last processing error.
    async fn error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }

    /// Processing attempts so far.
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }

    /// When it happened.
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }

    /// When it arrived.
    async fn received_at(&self) -> DateTime<Utc> {
        self.0.received_at
    }

    /// When it was last processed.
    async fn processed_at(&self) -> Option<DateTime<Utc>> {
        self.0.processed_at
    }
}

/// What `eraseSubscriber` erased. The subscriber is gone: its id no longer resolves.
#[derive(SimpleObject)]
pub(crate) struct ErasedSubscriber {
    /// The erased subscriber's id.
    pub id: ID,
    /// Custom field values deleted.
    pub field_values: i64,
    /// Tags taken off.
    pub tags: i64,
    /// Timeline entries deleted.
    pub interactions: i64,
    /// Notification opt-ins deleted (`optIns` would read as the legacy topic opt-in list).
    pub notification_opt_ins: i64,
    /// Flow runs deleted.
    pub flow_runs: i64,
    /// Queued or sent messages deleted.
    pub messages: i64,
    /// Stored webhook events kept but redacted (`{"erased": true, "kind": …}`, no sender).
    pub webhook_events_redacted: i64,
}

impl ErasedSubscriber {
    pub(crate) fn new(id: ID, counts: refhub_domain::audience::ErasureCounts) -> Self {
        let count = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
        Self {
            id,
            field_values: count(counts.field_values),
            tags: count(counts.tags),
            interactions: count(counts.interactions),
            notification_opt_ins: count(counts.opt_ins),
            flow_runs: count(counts.flow_runs),
            messages: count(counts.messages),
            webhook_events_redacted: count(counts.webhook_events_redacted),
        }
    }
}
