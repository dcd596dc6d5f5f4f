//! The ports the catalogue use cases need. All repositories are tenant-scoped: they take the
//! tenant and filter by it, so that another tenant's id answers "not found".

use async_trait::async_trait;

use crate::catalogue::custom_field::{CustomField, NewCustomField};
use crate::catalogue::messenger_app::MessengerApp;
use crate::catalogue::page::{Page, PageHealth};
use crate::catalogue::ref_link::RefLink;
use crate::catalogue::tag::Tag;
use crate::catalogue::topic::{Cadence, NotificationTopic};
use crate::error::DomainResult;
use crate::ids::{CustomFieldId, PageId, RefLinkId, TagId, TenantId, TopicId};
use crate::pagination::{Page as ListPage, PageRequest};

/// The tenant's Messenger app connection.
#[async_trait]
pub trait MessengerAppRepository: Send + Sync {
    /// The tenant's connection, if any.
    async fn find(&self, tenant_id: TenantId) -> DomainResult<Option<MessengerApp>>;
    /// Stores the connection, replacing the tenant's previous one.
    async fn save(&self, app: &MessengerApp) -> DomainResult<()>;
    /// Removes the connection; `false` when there was none.
    async fn delete(&self, tenant_id: TenantId) -> DomainResult<bool>;
}

/// Connected pages.
#[async_trait]
pub trait PageRepository: Send + Sync {
    /// Stores a new page; a page id already connected is a `Conflict` on `facebookPageId`.
    async fn create(&self, page: &Page) -> DomainResult<()>;
    /// A page by id.
    async fn find(&self, tenant_id: TenantId, id: PageId) -> DomainResult<Option<Page>>;
    /// A page by Facebook's page id (webhook routing).
    async fn find_by_facebook_id(
        &self,
        tenant_id: TenantId,
        facebook_page_id: &str,
    ) -> DomainResult<Option<Page>>;
    /// The tenant's pages, oldest first.
    async fn list(&self, tenant_id: TenantId, page: PageRequest) -> DomainResult<ListPage<Page>>;
    /// Stores changes to a page's name, username and token (its status has its own writes:
    /// a rename never undoes a `NEEDS_RECONNECT` marked meanwhile).
    async fn update(&self, page: &Page) -> DomainResult<()>;
    /// Disconnects a page with its links and topics; `false` when there was none.
    async fn delete(&self, tenant_id: TenantId, id: PageId) -> DomainResult<bool>;
    /// Marks an active page `NEEDS_RECONNECT` with `health`'s reason; `false` when it was not
    /// active (already marked, or gone), so that only the first to mark it says so.
    async fn mark_needs_reconnect(
        &self,
        tenant_id: TenantId,
        id: PageId,
        health: &PageHealth,
    ) -> DomainResult<bool>;
    /// Marks a page that needs reconnecting `ACTIVE` again (its token was replaced) at `at`;
    /// an active page stays as it is.
    async fn mark_active(
        &self,
        tenant_id: TenantId,
        id: PageId,
        at: chrono::DateTime<chrono::Utc>,
    ) -> DomainResult<()>;
    /// Claims, across tenants, up to `limit` active pages whose token was last checked (or,
    /// never checked, connected) `interval` or more before `now`, recording `now` as their
    /// check time.
    async fn claim_token_checks(
        &self,
        limit: usize,
        interval: chrono::Duration,
        now: chrono::DateTime<chrono::Utc>,
    ) -> DomainResult<Vec<Page>>;
}

/// Custom field definitions.
#[async_trait]
pub trait CustomFieldRepository: Send + Sync {
    /// Stores a new field with the tenant's next free number; a taken name is a `Conflict` on
    /// `name`.
    async fn create(&self, field: &NewCustomField) -> DomainResult<CustomField>;
    /// A field by id.
    async fn find(
        &self,
        tenant_id: TenantId,
        id: CustomFieldId,
    ) -> DomainResult<Option<CustomField>>;
    /// Fields by ids (those that exist in the tenant).
    async fn find_many(
        &self,
        tenant_id: TenantId,
        ids: &[CustomFieldId],
    ) -> DomainResult<Vec<CustomField>>;
    /// A field by its payload number.
    async fn find_by_number(
        &self,
        tenant_id: TenantId,
        number: i32,
    ) -> DomainResult<Option<CustomField>>;
    /// The tenant's fields by number, archived ones only when asked.
    async fn list(
        &self,
        tenant_id: TenantId,
        include_archived: bool,
        page: PageRequest,
    ) -> DomainResult<ListPage<CustomField>>;
    /// Stores changes; a taken name is a `Conflict` on `name`.
    async fn update(&self, field: &CustomField) -> DomainResult<()>;
    /// Deletes a field (and, later, its values); `false` when there was none.
    async fn delete(&self, tenant_id: TenantId, id: CustomFieldId) -> DomainResult<bool>;
}

/// Tags.
#[async_trait]
pub trait TagRepository: Send + Sync {
    /// Stores a new tag; a taken name is a `Conflict` on `name`.
    async fn create(&self, tag: &Tag) -> DomainResult<()>;
    /// A tag by id.
    async fn find(&self, tenant_id: TenantId, id: TagId) -> DomainResult<Option<Tag>>;
    /// Tags by ids (those that exist in the tenant).
    async fn find_many(&self, tenant_id: TenantId, ids: &[TagId]) -> DomainResult<Vec<Tag>>;
    /// The tenant's tags, oldest first.
    async fn list(&self, tenant_id: TenantId, page: PageRequest) -> DomainResult<ListPage<Tag>>;
    /// Renames a tag; a taken name is a `Conflict` on `name`.
    async fn update(&self, tag: &Tag) -> DomainResult<()>;
    /// Deletes a tag (removing it from links); `false` when there was none.
    async fn delete(&self, tenant_id: TenantId, id: TagId) -> DomainResult<bool>;
}

/// Ref links.
#[async_trait]
pub trait RefLinkRepository: Send + Sync {
    /// Stores a new link; a `ref` taken on the page is a `Conflict` on `ref`.
    async fn create(&self, link: &RefLink) -> DomainResult<()>;
    /// A link by id.
    async fn find(&self, tenant_id: TenantId, id: RefLinkId) -> DomainResult<Option<RefLink>>;
    /// A page's link by its `ref`.
    async fn find_by_ref(
        &self,
        tenant_id: TenantId,
        page_id: PageId,
        ref_name: &str,
    ) -> DomainResult<Option<RefLink>>;
    /// A page's links, oldest first.
    async fn list_for_page(
        &self,
        tenant_id: TenantId,
        page_id: PageId,
        page: PageRequest,
    ) -> DomainResult<ListPage<RefLink>>;
    /// Stores changes; a `ref` taken on the page is a `Conflict` on `ref`.
    async fn update(&self, link: &RefLink) -> DomainResult<()>;
    /// Deletes a link; `false` when there was none.
    async fn delete(&self, tenant_id: TenantId, id: RefLinkId) -> DomainResult<bool>;
}

/// Notification topics.
#[async_trait]
pub trait TopicRepository: Send + Sync {
    /// Stores a new topic; a title taken on the page is a `Conflict` on `title`.
    async fn create(&self, topic: &NotificationTopic) -> DomainResult<()>;
    /// A topic by id.
    async fn find(
        &self,
        tenant_id: TenantId,
        id: TopicId,
    ) -> DomainResult<Option<NotificationTopic>>;
    /// Topics by ids (those that exist in the tenant).
    async fn find_many(
        &self,
        tenant_id: TenantId,
        ids: &[TopicId],
    ) -> DomainResult<Vec<NotificationTopic>>;
    /// A page's topic by title (case-insensitively).
    async fn find_by_title(
        &self,
        tenant_id: TenantId,
        page_id: PageId,
        title: &str,
    ) -> DomainResult<Option<NotificationTopic>>;
    /// The tenant's topics, on one page or all, oldest first.
    async fn list(
        &self,
        tenant_id: TenantId,
        page_id: Option<PageId>,
        page: PageRequest,
    ) -> DomainResult<ListPage<NotificationTopic>>;
    /// Stores changes; a title taken on the page is a `Conflict` on `title`.
    async fn update(&self, topic: &NotificationTopic) -> DomainResult<()>;
    /// Deletes a topic; `false` when there was none.
    async fn delete(&self, tenant_id: TenantId, id: TopicId) -> DomainResult<bool>;
}

/// A topic registration message to send.
#[derive(Debug, Clone)]
pub struct TopicRegistrationRequest {
    /// The page's Facebook id.
    pub facebook_page_id: String,
    /// The page access token (plain, for this one call).
    pub page_access_token: String,
    /// Who receives the registration message.
    pub psid: String,
    /// The topic title.
    pub title: String,
    /// The cadence offered.
    pub cadence: Cadence,
}

/// What the Send API answered for an accepted message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    /// The recipient, as Meta names it.
    pub recipient_id: String,
    /// Meta's message id.
    pub message_id: String,
}

/// Why a call to Meta failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct GatewayError {
    /// Whether trying again later may succeed (timeouts, 5xx, rate limits).
    pub transient: bool,
    /// Meta's error code, when Meta answered with one.
    pub code: Option<i64>,
    /// Meta's `error_subcode`, when it gave one.
    pub subcode: Option<i64>,
    /// What went wrong, safe to store and show (never a token).
    pub message: String,
}

/// Meta's code for an access token that is expired, revoked or otherwise invalid
/// (`OAuthException`, <https://developers.facebook.com/docs/graph-api/guides/error-handling/>).
pub const INVALID_TOKEN_CODE: i64 = 190;

impl GatewayError {
    /// A failure to reach Meta at all (no answer, or an answer cut short): worth retrying.
    pub fn unreachable(message: impl Into<String>) -> Self {
        Self {
            transient: true,
            code: None,
            subcode: None,
            message: message.into(),
        }
    }

    /// Whether Meta said the token used is dead: the page must be reconnected before any call
    /// with it can succeed again. Every subcode of 190 (458 app removed, 460 password changed,
    /// 463 expired, 467 invalid, ...) means the same to refhub.
    pub fn token_invalid(&self) -> bool {
        self.code == Some(INVALID_TOKEN_CODE)
    }
}

/// Meta's Graph API, as the catalogue needs it.
#[async_trait]
pub trait MessengerGateway: Send + Sync {
    /// Sends a topic's registration message (a `notification_messages` template).
    async fn register_topic(
        &self,
        request: &TopicRegistrationRequest,
    ) -> Result<SentMessage, GatewayError>;
}

/// Renders QR codes of URLs: any of at most [`QR_CODE_MAX_BYTES`](crate::catalogue::QR_CODE_MAX_BYTES)
/// bytes.
pub trait QrCodeRenderer: Send + Sync {
    /// An SVG document.
    fn svg(&self, data: &str) -> DomainResult<String>;
    /// A PNG image.
    fn png(&self, data: &str) -> DomainResult<Vec<u8>>;
}
