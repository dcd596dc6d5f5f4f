//! The live activity subscription: a tenant's events as they are processed, over websocket.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Result, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures::stream::{BoxStream, Stream, StreamExt};
use refhub_domain::activity::{ActivityEvent, ActivityKind as DomainKind};
use refhub_domain::identity::Role;

use crate::auth_context::{principal, services};
use crate::error::IntoGraphql;
use crate::flows::types::FlowRunStatus;
use crate::ids::to_id;

/// Where live activity comes from.
pub trait ActivityFeed: Send + Sync {
    /// Every tenant's events from now on (the subscription keeps its tenant's).
    fn subscribe(&self) -> BoxStream<'static, ActivityEvent>;
}

/// What happened.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub(crate) enum ActivityKind {
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
    /// Meta refused a page's token (`pageId`): reconnect it; its messages wait meanwhile.
    PageNeedsReconnect,
}

/// One thing that happened in the workspace.
#[derive(SimpleObject)]
pub(crate) struct Activity {
    /// What.
    pub kind: ActivityKind,
    /// When it happened (the event's time for webhook activity).
    pub at: DateTime<Utc>,
    /// The subscriber concerned.
    pub subscriber_id: Option<ID>,
    /// Their page.
    pub page_id: Option<ID>,
    /// The link they came through (`REF_LINK_ENTRY`).
    pub ref_link_id: Option<ID>,
    /// The topic (`OPT_IN`, when the page has a topic with the opt-in's title).
    pub topic_id: Option<ID>,
    /// The flow (`FLOW_RUN_FINISHED`).
    pub flow_id: Option<ID>,
    /// The run (`FLOW_RUN_FINISHED`).
    pub flow_run_id: Option<ID>,
    /// How the run ended (`FLOW_RUN_FINISHED`).
    pub run_status: Option<FlowRunStatus>,
}

impl From<ActivityEvent> for Activity {
    fn from(e: ActivityEvent) -> Self {
        Self {
            kind: match e.kind {
                DomainKind::NewSubscriber => ActivityKind::NewSubscriber,
                DomainKind::RefLinkEntry => ActivityKind::RefLinkEntry,
                DomainKind::OptIn => ActivityKind::OptIn,
                DomainKind::OptOut => ActivityKind::OptOut,
                DomainKind::FlowRunFinished => ActivityKind::FlowRunFinished,
                DomainKind::PageNeedsReconnect => ActivityKind::PageNeedsReconnect,
            },
            at: e.at,
            subscriber_id: e.subscriber_id.map(|id| to_id(id.0)),
            page_id: e.page_id.map(|id| to_id(id.0)),
            ref_link_id: e.ref_link_id.map(|id| to_id(id.0)),
            topic_id: e.topic_id.map(|id| to_id(id.0)),
            flow_id: e.flow_id.map(|id| to_id(id.0)),
            flow_run_id: e.flow_run_id.map(|id| to_id(id.0)),
            run_status: e.run_status.map(Into::into),
        }
    }
}

/// Every subscription of the API (over websocket at `/graphql/ws`).
#[derive(Default)]
pub struct SubscriptionRoot;

/// Every subscription of the API (over websocket at `/graphql/ws`).
#[Subscription]
impl SubscriptionRoot {
    /// The workspace's activity as it is processed: new subscribers, entries through ref
    /// links, opt-ins and opt-outs, flow runs that end, pages whose token Meta refused. Only the caller's workspace is seen.
    async fn activity(&self, ctx: &Context<'_>) -> Result<impl Stream<Item = Activity>> {
        let access = principal(ctx).gql()?.require_role(Role::Viewer).gql()?;
        let tenant_id = access.tenant_id;
        let feed: Arc<dyn ActivityFeed> = services(ctx).activity.clone();
        Ok(feed
            .subscribe()
            .filter(move |event| futures::future::ready(event.tenant_id == tenant_id))
            .map(Activity::from))
    }
}
