//! The ports the audience needs.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::audience::details::{DetailSelection, SubscriberDetails};
use crate::audience::effects::{AppliedEvent, EventEffects};
use crate::audience::subscriber::{FieldValueRecord, InteractionRecord, OptIn, Subscriber};
use crate::audience::transfer::{ImportApplied, ImportRow};
use crate::catalogue::{CustomField, Tag};
use crate::error::DomainResult;
use crate::ids::{CustomFieldId, PageId, RefLinkId, SubscriberId, TagId, TenantId, TopicId};
use crate::pagination::{Page, PageRequest};

/// Applies webhook events to subscribers.
#[async_trait]
pub trait AudienceStore: Send + Sync {
    /// In one transaction: creates or finds the subscriber, applies the effects unless this
    /// event was applied before (then changes nothing), and marks the event processed with its
    /// outcome. Values, statuses and timestamps only move forward in event time, so events
    /// applied out of order end in the state of applying them in order.
    async fn apply(&self, effects: &EventEffects) -> DomainResult<AppliedEvent>;
    /// Applies the effects of many events of one tenant in one transaction, with the same
    /// guarantees as [`AudienceStore::apply`] for each: every event's effects apply at most
    /// once (an event applied before, or twice in `effects`, changes nothing the second time),
    /// values, statuses and timestamps only move forward in event time, and every event is
    /// marked processed with its own outcome in the same transaction, so that the batch
    /// commits or rolls back as one and the state is that of applying the events one by one.
    /// A subscriber created by the batch is new on exactly one event: its earliest by event
    /// time (ties: the earlier in `effects`). Results come in the order of `effects`; an error
    /// means nothing was applied.
    async fn apply_batch(&self, effects: &[EventEffects]) -> DomainResult<Vec<AppliedEvent>>;
}

/// Filters for a page's subscriber list; all given filters must hold.
#[derive(Debug, Clone, Default)]
pub struct SubscriberFilter {
    /// Has this tag.
    pub tag_id: Option<TagId>,
    /// Arrived first through this link.
    pub ref_link_id: Option<RefLinkId>,
    /// Has this value (canonical text) for this field.
    pub field_value: Option<(CustomFieldId, String)>,
    /// Has an active, unexpired opt-in to this topic.
    pub opted_in_topic: Option<TopicId>,
    /// Name or PSID contains this text (case-insensitively).
    pub search: Option<String>,
}

/// Reading subscribers and changing them by hand.
#[async_trait]
pub trait SubscriberRepository: Send + Sync {
    /// A page's subscribers, oldest first; `now` decides which opt-ins have expired.
    async fn list(
        &self,
        tenant_id: TenantId,
        page_id: PageId,
        filter: &SubscriberFilter,
        now: DateTime<Utc>,
        page: PageRequest,
    ) -> DomainResult<Page<Subscriber>>;
    /// One subscriber.
    async fn find(&self, tenant_id: TenantId, id: SubscriberId)
    -> DomainResult<Option<Subscriber>>;
    /// The field values of subscribers, each with its field (read together: a dashboard
    /// shows the field's name beside the value), by field number.
    async fn field_values(
        &self,
        tenant_id: TenantId,
        ids: &[SubscriberId],
    ) -> DomainResult<Vec<(SubscriberId, FieldValueRecord, CustomField)>>;
    /// The tags of subscribers, by name.
    async fn tags(
        &self,
        tenant_id: TenantId,
        ids: &[SubscriberId],
    ) -> DomainResult<Vec<(SubscriberId, Tag)>>;
    /// The opt-ins of subscribers, oldest first.
    async fn opt_ins(&self, tenant_id: TenantId, ids: &[SubscriberId]) -> DomainResult<Vec<OptIn>>;
    /// The lists `selection` asks for, of subscribers (a page of a list shows them all, so an
    /// adapter reads them in as few round trips as it can, and reads nothing when none is asked
    /// for).
    async fn details(
        &self,
        tenant_id: TenantId,
        ids: &[SubscriberId],
        selection: DetailSelection,
    ) -> DomainResult<SubscriberDetails>;
    /// Every opt-in to a topic, whatever its status.
    async fn opt_ins_for_topic(
        &self,
        tenant_id: TenantId,
        topic_id: TopicId,
    ) -> DomainResult<Vec<OptIn>>;
    /// A subscriber's timeline, newest first.
    async fn interactions(
        &self,
        tenant_id: TenantId,
        id: SubscriberId,
        page: PageRequest,
    ) -> DomainResult<Page<InteractionRecord>>;
    /// Sets a field value.
    async fn set_field_value(
        &self,
        tenant_id: TenantId,
        id: SubscriberId,
        value: &FieldValueRecord,
    ) -> DomainResult<()>;
    /// Clears a field value; `false` when there was none.
    async fn clear_field_value(
        &self,
        tenant_id: TenantId,
        id: SubscriberId,
        field_id: CustomFieldId,
    ) -> DomainResult<bool>;
    /// Adds a tag (again is fine).
    async fn add_tag(
        &self,
        tenant_id: TenantId,
        id: SubscriberId,
        tag_id: TagId,
        at: DateTime<Utc>,
    ) -> DomainResult<()>;
    /// Removes a tag; `false` when it was not there.
    async fn remove_tag(
        &self,
        tenant_id: TenantId,
        id: SubscriberId,
        tag_id: TagId,
    ) -> DomainResult<bool>;
    /// Applies checked import rows to a page in one transaction: subscribers created by PSID
    /// when new, values set, tags added.
    async fn import(
        &self,
        tenant_id: TenantId,
        page_id: PageId,
        rows: &[ImportRow],
        now: DateTime<Utc>,
    ) -> DomainResult<ImportApplied>;
    /// Whether any subscriber has a value for the field.
    async fn field_has_values(
        &self,
        tenant_id: TenantId,
        field_id: CustomFieldId,
    ) -> DomainResult<bool>;
}
