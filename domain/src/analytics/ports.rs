//! The ports short links and reports need.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::analytics::clicks::Click;
use crate::error::DomainResult;
use crate::ids::{FlowId, PageId, RefLinkId, SubscriberId, TenantId, TopicId};

/// Where a short code leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortLinkTarget {
    /// The link's tenant.
    pub tenant_id: TenantId,
    /// The link.
    pub ref_link_id: RefLinkId,
    /// Its page.
    pub page_id: PageId,
    /// The m.me URL it opens.
    pub url: String,
    /// Whether the link is switched on.
    pub link_active: bool,
    /// Whether its workspace is active (not suspended).
    pub workspace_active: bool,
}

impl ShortLinkTarget {
    /// Whether following the code should lead anywhere: a link switched off, or a suspended
    /// workspace's link, answers as if it did not exist (and counts no click).
    pub fn is_open(&self) -> bool {
        self.link_active && self.workspace_active
    }
}

/// Short codes, across tenants (the code alone names the link).
#[async_trait]
pub trait ShortLinkRepository: Send + Sync {
    /// The link a code names, with its page's handle, if any.
    async fn resolve(&self, code: &str) -> DomainResult<Option<ShortLinkTarget>>;
}

/// Takes clicks off the request path: recording does not wait for the database, only for room
/// in a bounded queue when storing has fallen that far behind.
#[async_trait]
pub trait ClickRecorder: Send + Sync {
    /// Queues a click to be stored with others.
    async fn record(&self, click: Click);
}

/// Stored clicks.
#[async_trait]
pub trait ClickRepository: Send + Sync {
    /// Stores a batch of clicks (of any tenants) in one transaction.
    async fn store(&self, clicks: &[Click]) -> DomainResult<()>;
}

/// What a funnel report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunnelScope {
    /// One ref link.
    RefLink(RefLinkId),
    /// Every link of a page.
    Page(PageId),
}

/// One entry through a ref link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryRecord {
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub subscriber_id: SubscriberId,
    /// Whether this entry brought the subscriber in (else they were known already).
    pub new_subscriber: bool,
}

/// Something that happened to a topic's opt-ins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicActivity {
    /// Someone opted in (or renewed).
    OptIn,
    /// Someone stopped the notifications.
    OptOut,
}

/// Something that happened in a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowActivity {
    /// A run started.
    RunStarted,
    /// A run completed.
    RunCompleted,
    /// A run failed.
    RunFailed,
    /// One of its messages was sent.
    MessageSent,
    /// One of its messages was not sent (refused, gave up, outside the window).
    MessageFailed,
}

/// The raw records reports count, between two instants (`from` included, `to` excluded).
#[async_trait]
pub trait AnalyticsRepository: Send + Sync {
    /// Clicks, with whether each was automated.
    async fn clicks(
        &self,
        tenant_id: TenantId,
        scope: FunnelScope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> DomainResult<Vec<(DateTime<Utc>, bool)>>;
    /// Entries through links.
    async fn entries(
        &self,
        tenant_id: TenantId,
        scope: FunnelScope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> DomainResult<Vec<EntryRecord>>;
    /// Opt-ins and opt-outs of a topic.
    async fn topic_activity(
        &self,
        tenant_id: TenantId,
        topic_id: TopicId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> DomainResult<Vec<(DateTime<Utc>, TopicActivity)>>;
    /// Opt-ins of a topic whose token may be used at `now`.
    async fn active_tokens(
        &self,
        tenant_id: TenantId,
        topic_id: TopicId,
        now: DateTime<Utc>,
    ) -> DomainResult<u64>;
    /// Runs and messages of a flow.
    async fn flow_activity(
        &self,
        tenant_id: TenantId,
        flow_id: FlowId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> DomainResult<Vec<(DateTime<Utc>, FlowActivity)>>;
}
