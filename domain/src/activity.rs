//! Live activity: what happens in a tenant as it is processed (someone new, an entry through a
//! link, an opt-in or opt-out, a flow run ending), published for dashboards to watch.

use chrono::{DateTime, Utc};

use crate::flows::RunStatus;
use crate::ids::{FlowId, FlowRunId, PageId, RefLinkId, SubscriberId, TenantId, TopicId};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityKind {
    /// A subscriber appeared for the first time.
    NewSubscriber,
    /// Someone entered through a ref link.
    RefLinkEntry,
    /// Someone opted in to a topic's notifications.
    OptIn,
    /// Someone stopped a topic's notifications.
    OptOut,
    /// A flow run completed, failed or was cancelled.
    FlowRunFinished,
    /// Meta refused a page's token: the page must be reconnected; its messages wait.
    PageNeedsReconnect,
}

/// One thing that happened, with the ids a dashboard needs to show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityEvent {
    /// Whose.
    pub tenant_id: TenantId,
    /// What.
    pub kind: ActivityKind,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// The subscriber concerned.
    pub subscriber_id: Option<SubscriberId>,
    /// Their page.
    pub page_id: Option<PageId>,
    /// The link they came through.
    pub ref_link_id: Option<RefLinkId>,
    /// The topic of an opt-in.
    pub topic_id: Option<TopicId>,
    /// The flow of a run.
    pub flow_id: Option<FlowId>,
    /// The run.
    pub flow_run_id: Option<FlowRunId>,
    /// How the run ended.
    pub run_status: Option<RunStatus>,
}

impl ActivityEvent {
    /// An event about a subscriber.
    pub fn about_subscriber(
        tenant_id: TenantId,
        kind: ActivityKind,
        at: DateTime<Utc>,
        subscriber_id: SubscriberId,
        page_id: PageId,
    ) -> Self {
        Self {
            tenant_id,
            kind,
            at,
            subscriber_id: Some(subscriber_id),
            page_id: Some(page_id),
            ref_link_id: None,
            topic_id: None,
            flow_id: None,
            flow_run_id: None,
            run_status: None,
        }
    }

    /// A flow run that ended.
    pub fn run_finished(run: &crate::flows::FlowRun, at: DateTime<Utc>) -> Self {
        Self {
            flow_id: Some(run.flow_id),
            flow_run_id: Some(run.id),
            run_status: Some(run.status),
            ..Self::about_subscriber(
                run.tenant_id,
                ActivityKind::FlowRunFinished,
                at,
                run.subscriber_id,
                run.page_id,
            )
        }
    }
}

impl ActivityEvent {
    /// A page whose token Meta refused.
    pub fn page_needs_reconnect(tenant_id: TenantId, page_id: PageId, at: DateTime<Utc>) -> Self {
        Self {
            tenant_id,
            kind: ActivityKind::PageNeedsReconnect,
            at,
            subscriber_id: None,
            page_id: Some(page_id),
            ref_link_id: None,
            topic_id: None,
            flow_id: None,
            flow_run_id: None,
            run_status: None,
        }
    }
}

/// Where activity goes. Publishing never waits and never fails the work that caused it: a
/// dashboard that is not watching misses nothing it could not read from the API.
pub trait ActivityPublisher: Send + Sync {
    /// Publishes one event.
    fn publish(&self, event: ActivityEvent);
}
