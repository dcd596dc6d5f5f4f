//! Reading subscribers, and the changes people make to them by hand.

use std::sync::Arc;

use crate::audience::details::{DetailSelection, SubscriberDetails};
use crate::audience::ports::{SubscriberFilter, SubscriberRepository};
use crate::audience::subscriber::{FieldValueRecord, InteractionRecord, OptIn, Subscriber};
use crate::catalogue::{
    CustomField, CustomFieldRepository, PageRepository, RefLinkRepository, Tag, TagRepository,
    TopicRepository,
};
use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};
use crate::identity::{Principal, Role};
use crate::ids::{CustomFieldId, PageId, SubscriberId, TagId, TenantId};
use crate::pagination::{Page, PageRequest};
use crate::text::without_nul;

/// The subscriber use cases: every member reads, editors change.
pub struct SubscriberService {
    subscribers: Arc<dyn SubscriberRepository>,
    pages: Arc<dyn PageRepository>,
    fields: Arc<dyn CustomFieldRepository>,
    tags: Arc<dyn TagRepository>,
    links: Arc<dyn RefLinkRepository>,
    topics: Arc<dyn TopicRepository>,
    clock: Arc<dyn Clock>,
}

impl SubscriberService {
    /// Builds the service.
    pub fn new(
        subscribers: Arc<dyn SubscriberRepository>,
        pages: Arc<dyn PageRepository>,
        fields: Arc<dyn CustomFieldRepository>,
        tags: Arc<dyn TagRepository>,
        links: Arc<dyn RefLinkRepository>,
        topics: Arc<dyn TopicRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            subscribers,
            pages,
            fields,
            tags,
            links,
            topics,
            clock,
        }
    }

    /// A page's subscribers, filtered.
    pub async fn list(
        &self,
        principal: &Principal,
        page_id: PageId,
        filter: &SubscriberFilter,
        page: PageRequest,
    ) -> DomainResult<Page<Subscriber>> {
        let access = principal.require_role(Role::Viewer)?;
        let tenant_id = access.tenant_id;
        // No stored text holds U+0000: a search for one is a mistake, not an empty list.
        if let Some(search) = &filter.search {
            without_nul(search, "filter.search")?;
        }
        if let Some((_, value)) = &filter.field_value {
            without_nul(value, "filter.field.value")?;
        }
        // Filtering by something that is not there is a mistake, not an empty list.
        if let Some(tag_id) = filter.tag_id {
            self.tags
                .find(tenant_id, tag_id)
                .await?
                .ok_or_else(|| DomainError::not_found_in("tag", "filter.tagId"))?;
        }
        if let Some(link_id) = filter.ref_link_id {
            self.links
                .find(tenant_id, link_id)
                .await?
                .ok_or_else(|| DomainError::not_found_in("ref link", "filter.refLinkId"))?;
        }
        if let Some(topic_id) = filter.opted_in_topic {
            self.topics
                .find(tenant_id, topic_id)
                .await?
                .ok_or_else(|| {
                    DomainError::not_found_in("notification topic", "filter.optedInTopicId")
                })?;
        }
        let mut filter = filter.clone();
        if let Some((field_id, value)) = filter.field_value.take() {
            // Values are stored in canonical form: compare like with like.
            let field = self
                .fields
                .find(tenant_id, field_id)
                .await?
                .ok_or_else(|| DomainError::not_found_in("custom field", "filter.field.fieldId"))?;
            let value = field
                .field_type
                .parse_value(&value)
                .map_err(|err| err.into_domain("filter.field.value"))?;
            filter.field_value = Some((field_id, value.canonical()));
        }
        let listed = self
            .subscribers
            .list(tenant_id, page_id, &filter, self.clock.now(), page)
            .await?;
        // A subscriber listed is on the page, within the tenant: the page exists. Only an
        // empty list must tell an empty page from one that is not there (or not the tenant's),
        // so the busy case is one statement shorter.
        if listed.items.is_empty() {
            self.pages
                .find(tenant_id, page_id)
                .await?
                .ok_or_else(|| DomainError::not_found_in("page", "pageId"))?;
        }
        Ok(listed)
    }

    /// One subscriber.
    pub async fn get(&self, principal: &Principal, id: SubscriberId) -> DomainResult<Subscriber> {
        let access = principal.require_role(Role::Viewer)?;
        self.subscriber_in(access.tenant_id, id, "id").await
    }

    /// The lists `selection` asks for, of subscribers (a page of a list).
    pub async fn details(
        &self,
        principal: &Principal,
        ids: &[SubscriberId],
        selection: DetailSelection,
    ) -> DomainResult<SubscriberDetails> {
        let access = principal.require_role(Role::Viewer)?;
        self.subscribers
            .details(access.tenant_id, ids, selection)
            .await
    }

    /// Field values of subscribers (for lists: one query for many subscribers).
    pub async fn field_values(
        &self,
        principal: &Principal,
        ids: &[SubscriberId],
    ) -> DomainResult<Vec<(SubscriberId, FieldValueRecord, CustomField)>> {
        let access = principal.require_role(Role::Viewer)?;
        self.subscribers.field_values(access.tenant_id, ids).await
    }

    /// Tags of subscribers.
    pub async fn tags(
        &self,
        principal: &Principal,
        ids: &[SubscriberId],
    ) -> DomainResult<Vec<(SubscriberId, Tag)>> {
        let access = principal.require_role(Role::Viewer)?;
        self.subscribers.tags(access.tenant_id, ids).await
    }

    /// Opt-ins of subscribers.
    pub async fn opt_ins(
        &self,
        principal: &Principal,
        ids: &[SubscriberId],
    ) -> DomainResult<Vec<OptIn>> {
        let access = principal.require_role(Role::Viewer)?;
        self.subscribers.opt_ins(access.tenant_id, ids).await
    }

    /// A subscriber's timeline, newest first.
    pub async fn interactions(
        &self,
        principal: &Principal,
        id: SubscriberId,
        page: PageRequest,
    ) -> DomainResult<Page<InteractionRecord>> {
        let access = principal.require_role(Role::Viewer)?;
        self.subscribers
            .interactions(access.tenant_id, id, page)
            .await
    }

    /// Sets a field value by hand, checked against the field's type.
    pub async fn set_field_value(
        &self,
        principal: &Principal,
        id: SubscriberId,
        field_id: CustomFieldId,
        value: &str,
    ) -> DomainResult<FieldValueRecord> {
        let access = principal.require_role(Role::Editor)?;
        self.subscriber_in(access.tenant_id, id, "subscriberId")
            .await?;
        let field = self.field_in(access.tenant_id, field_id).await?;
        let value = field
            .field_type
            .parse_value(value)
            .map_err(|err| err.into_domain("value"))?;
        let record = FieldValueRecord {
            field_id,
            value: value.canonical(),
            set_at: self.clock.now(),
        };
        self.subscribers
            .set_field_value(access.tenant_id, id, &record)
            .await?;
        Ok(record)
    }

    /// Clears a field value by hand.
    pub async fn clear_field_value(
        &self,
        principal: &Principal,
        id: SubscriberId,
        field_id: CustomFieldId,
    ) -> DomainResult<()> {
        let access = principal.require_role(Role::Editor)?;
        self.subscriber_in(access.tenant_id, id, "subscriberId")
            .await?;
        self.field_in(access.tenant_id, field_id).await?;
        self.subscribers
            .clear_field_value(access.tenant_id, id, field_id)
            .await?;
        Ok(())
    }

    /// Adds a tag by hand.
    pub async fn add_tag(
        &self,
        principal: &Principal,
        id: SubscriberId,
        tag_id: TagId,
    ) -> DomainResult<()> {
        let access = principal.require_role(Role::Editor)?;
        self.subscriber_in(access.tenant_id, id, "subscriberId")
            .await?;
        self.tag_in(access.tenant_id, tag_id).await?;
        self.subscribers
            .add_tag(access.tenant_id, id, tag_id, self.clock.now())
            .await
    }

    /// Removes a tag by hand.
    pub async fn remove_tag(
        &self,
        principal: &Principal,
        id: SubscriberId,
        tag_id: TagId,
    ) -> DomainResult<()> {
        let access = principal.require_role(Role::Editor)?;
        self.subscriber_in(access.tenant_id, id, "subscriberId")
            .await?;
        self.tag_in(access.tenant_id, tag_id).await?;
        self.subscribers
            .remove_tag(access.tenant_id, id, tag_id)
            .await?;
        Ok(())
    }

    async fn field_in(&self, tenant_id: TenantId, id: CustomFieldId) -> DomainResult<CustomField> {
        self.fields
            .find(tenant_id, id)
            .await?
            .ok_or_else(|| DomainError::not_found_in("custom field", "fieldId"))
    }

    async fn tag_in(&self, tenant_id: TenantId, id: TagId) -> DomainResult<()> {
        self.tags
            .find(tenant_id, id)
            .await?
            .map(|_| ())
            .ok_or_else(|| DomainError::not_found_in("tag", "tagId"))
    }

    /// The subscriber `id` of the tenant; not found names `field`, the argument that gave `id`.
    async fn subscriber_in(
        &self,
        tenant_id: TenantId,
        id: SubscriberId,
        field: &'static str,
    ) -> DomainResult<Subscriber> {
        self.subscribers
            .find(tenant_id, id)
            .await?
            .ok_or_else(|| DomainError::not_found_in("subscriber", field))
    }
}
