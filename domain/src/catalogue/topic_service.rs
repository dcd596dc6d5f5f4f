//! Notification topics: their `m.me/rn` links, and registering them with Meta.

use std::sync::Arc;

use crate::catalogue::page::Page;
use crate::catalogue::page_service::PageService;
use crate::catalogue::ports::{
    MessengerGateway, PageRepository, TopicRegistrationRequest, TopicRepository,
};
use crate::catalogue::token_health::TokenHealth;
use crate::catalogue::topic::{
    Cadence, NotificationTopic, TopicChanges, TopicRegistration, TopicTitle,
};
use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};
use crate::identity::{Principal, Role};
use crate::ids::{PageId, TenantId, TopicId};
use crate::pagination::{Page as ListPage, PageRequest};
use crate::text;

/// The topic use cases: editors manage and register topics, every member reads them.
pub struct TopicService {
    topics: Arc<dyn TopicRepository>,
    pages: Arc<dyn PageRepository>,
    page_service: Arc<PageService>,
    gateway: Arc<dyn MessengerGateway>,
    token_health: Arc<TokenHealth>,
    clock: Arc<dyn Clock>,
}

impl TopicService {
    /// Builds the service.
    pub fn new(
        topics: Arc<dyn TopicRepository>,
        pages: Arc<dyn PageRepository>,
        page_service: Arc<PageService>,
        gateway: Arc<dyn MessengerGateway>,
        token_health: Arc<TokenHealth>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            topics,
            pages,
            page_service,
            gateway,
            token_health,
            clock,
        }
    }

    /// Creates a topic on a page (not yet registered with Meta).
    pub async fn create(
        &self,
        principal: &Principal,
        page_id: PageId,
        title: &str,
        default_cadence: Option<Cadence>,
    ) -> DomainResult<NotificationTopic> {
        let access = principal.require_role(Role::Editor)?;
        self.page_in(access.tenant_id, page_id, "pageId").await?;
        let now = self.clock.now();
        let topic = NotificationTopic {
            id: TopicId::generate(),
            tenant_id: access.tenant_id,
            page_id,
            title: TopicTitle::parse(title)?.0,
            default_cadence: default_cadence.unwrap_or(Cadence::Daily),
            registration: TopicRegistration::Unregistered,
            created_at: now,
            updated_at: now,
        };
        self.topics.create(&topic).await?;
        Ok(topic)
    }

    /// Changes a topic; a new title must be registered again.
    pub async fn update(
        &self,
        principal: &Principal,
        id: TopicId,
        changes: TopicChanges,
    ) -> DomainResult<NotificationTopic> {
        let access = principal.require_role(Role::Editor)?;
        let mut topic = self.topic_in(access.tenant_id, id, "id").await?;
        if let Some(title) = changes.title {
            let title = TopicTitle::parse(&title)?.0;
            if title != topic.title {
                topic.title = title;
                topic.registration = TopicRegistration::Unregistered;
            }
        }
        if let Some(cadence) = changes.default_cadence {
            topic.default_cadence = cadence;
        }
        topic.updated_at = self.clock.now();
        self.topics.update(&topic).await?;
        Ok(topic)
    }

    /// Deletes a topic.
    pub async fn delete(&self, principal: &Principal, id: TopicId) -> DomainResult<TopicId> {
        let access = principal.require_role(Role::Editor)?;
        if !self.topics.delete(access.tenant_id, id).await? {
            return Err(DomainError::not_found_in("notification topic", "id"));
        }
        Ok(id)
    }

    /// Topics by ids (ids of other tenants are left out).
    pub async fn get_many(
        &self,
        principal: &Principal,
        ids: &[TopicId],
    ) -> DomainResult<Vec<NotificationTopic>> {
        let access = principal.require_role(Role::Viewer)?;
        self.topics.find_many(access.tenant_id, ids).await
    }

    /// A topic by id.
    pub async fn get(&self, principal: &Principal, id: TopicId) -> DomainResult<NotificationTopic> {
        let access = principal.require_role(Role::Viewer)?;
        self.topic_in(access.tenant_id, id, "id").await
    }

    /// The tenant's topics, on one page or all.
    pub async fn list(
        &self,
        principal: &Principal,
        page_id: Option<PageId>,
        page: PageRequest,
    ) -> DomainResult<ListPage<NotificationTopic>> {
        let access = principal.require_role(Role::Viewer)?;
        if let Some(page_id) = page_id {
            self.page_in(access.tenant_id, page_id, "pageId").await?;
        }
        self.topics.list(access.tenant_id, page_id, page).await
    }

    /// The topic's page (for its m.me handle).
    pub async fn page_of(&self, topic: &NotificationTopic) -> DomainResult<Page> {
        self.page_in(topic.tenant_id, topic.page_id, "pageId").await
    }

    /// Sends the topic's registration message to `psid` (someone who has talked to the page)
    /// and records the outcome: Meta's refusal is recorded on the topic, not raised.
    pub async fn register(
        &self,
        principal: &Principal,
        id: TopicId,
        psid: &str,
    ) -> DomainResult<NotificationTopic> {
        let access = principal.require_role(Role::Editor)?;
        let psid = text::numeric_id(psid, "psid", 32)?;
        let mut topic = self.topic_in(access.tenant_id, id, "topicId").await?;
        let page = self.page_of(&topic).await?;
        let request = TopicRegistrationRequest {
            facebook_page_id: page.facebook_page_id.clone(),
            page_access_token: self.page_service.access_token(&page)?,
            psid,
            title: topic.title.clone(),
            cadence: topic.default_cadence,
        };
        let now = self.clock.now();
        topic.registration = match self.gateway.register_topic(&request).await {
            Ok(sent) => TopicRegistration::Registered {
                at: now,
                message_id: sent.message_id,
            },
            Err(err) => {
                tracing::warn!(tenant_id = %topic.tenant_id, topic_id = %topic.id, code = ?err.code, "topic registration refused: {err}");
                // A dead token is the page's trouble: marked for reconnection (token health).
                self.token_health
                    .meta_refused(page.tenant_id, page.id, &err)
                    .await?;
                TopicRegistration::Failed {
                    at: now,
                    error: err.message,
                }
            }
        };
        topic.updated_at = now;
        self.topics.update(&topic).await?;
        Ok(topic)
    }

    async fn topic_in(
        &self,
        tenant_id: TenantId,
        id: TopicId,
        field: &str,
    ) -> DomainResult<NotificationTopic> {
        self.topics
            .find(tenant_id, id)
            .await?
            .ok_or_else(|| DomainError::not_found_in("notification topic", field))
    }

    async fn page_in(&self, tenant_id: TenantId, id: PageId, field: &str) -> DomainResult<Page> {
        self.pages
            .find(tenant_id, id)
            .await?
            .ok_or_else(|| DomainError::not_found_in("page", field))
    }
}
