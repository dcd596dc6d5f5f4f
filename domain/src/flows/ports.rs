//! The ports flows and the outbox need.

use std::time::Duration as StdDuration;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use crate::catalogue::{GatewayError, SentMessage};
use crate::error::DomainResult;
use crate::flows::flow::Flow;
use crate::flows::outbox::{OutboundMessage, OutboxStatus};
use crate::flows::run::{FlowRun, RunStatus};
use crate::flows::trigger::FlowTrigger;
use crate::ids::{
    FlowId, FlowRunId, FlowTriggerId, OutboundMessageId, PageId, SubscriberId, TenantId,
};
use crate::pagination::{Page, PageRequest};

/// Stored flows (deleted ones are kept for their runs' history, but never found).
#[async_trait]
pub trait FlowRepository: Send + Sync {
    /// Stores a new flow.
    async fn create(&self, flow: &Flow) -> DomainResult<()>;
    /// A flow.
    async fn find(&self, tenant_id: TenantId, id: FlowId) -> DomainResult<Option<Flow>>;
    /// Flows by ids (missing ones left out).
    async fn find_many(&self, tenant_id: TenantId, ids: &[FlowId]) -> DomainResult<Vec<Flow>>;
    /// Flows, oldest first.
    async fn list(&self, tenant_id: TenantId, page: PageRequest) -> DomainResult<Page<Flow>>;
    /// Saves a changed flow.
    async fn update(&self, flow: &Flow) -> DomainResult<()>;
    /// Deletes a flow in one transaction: its triggers go, ref links stop starting it, and
    /// its unfinished runs are cancelled. `false` when there was no such flow.
    async fn delete(
        &self,
        tenant_id: TenantId,
        id: FlowId,
        at: DateTime<Utc>,
    ) -> DomainResult<bool>;
}

/// Stored trigger rules.
#[async_trait]
pub trait FlowTriggerRepository: Send + Sync {
    /// Stores a rule; CONFLICT when the same rule exists.
    async fn create(&self, trigger: &FlowTrigger) -> DomainResult<()>;
    /// Deletes a rule; `false` when there was none.
    async fn delete(&self, tenant_id: TenantId, id: FlowTriggerId) -> DomainResult<bool>;
    /// A tenant's rules, oldest first.
    async fn list(&self, tenant_id: TenantId) -> DomainResult<Vec<FlowTrigger>>;
    /// The rules of some flows, oldest first.
    async fn list_for_flows(
        &self,
        tenant_id: TenantId,
        flow_ids: &[FlowId],
    ) -> DomainResult<Vec<FlowTrigger>>;
}

/// Filters for listing runs; all given must hold.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    /// Runs of this flow.
    pub flow_id: Option<FlowId>,
    /// Runs for this subscriber.
    pub subscriber_id: Option<SubscriberId>,
    /// Runs in this status.
    pub status: Option<RunStatus>,
}

/// Stored runs.
#[async_trait]
pub trait FlowRunRepository: Send + Sync {
    /// Stores new runs (a run whose start key exists already is left out).
    async fn insert(&self, runs: &[FlowRun]) -> DomainResult<()>;
    /// A run.
    async fn find(&self, tenant_id: TenantId, id: FlowRunId) -> DomainResult<Option<FlowRun>>;
    /// Runs, newest first.
    async fn list(
        &self,
        tenant_id: TenantId,
        filter: &RunFilter,
        page: PageRequest,
    ) -> DomainResult<Page<FlowRun>>;
    /// Claims up to `limit` due runs of any tenant for `lease` (counting an attempt); a run
    /// whose worker dies is due again when the lease ends.
    async fn claim_due(
        &self,
        limit: usize,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> DomainResult<Vec<FlowRun>>;
    /// Saves a run's progress together with the message its step queued, in one transaction,
    /// unless the run ended meanwhile (cancelled): then nothing is saved and `false` returned.
    async fn save(&self, run: &FlowRun, queued: Option<&OutboundMessage>) -> DomainResult<bool>;
}

/// Filters for listing outgoing messages; all given must hold.
#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    /// Messages in this status.
    pub status: Option<OutboxStatus>,
    /// Messages to this subscriber.
    pub subscriber_id: Option<SubscriberId>,
    /// Messages of this run.
    pub run_id: Option<FlowRunId>,
}

/// The stored outbox.
#[async_trait]
pub trait OutboxRepository: Send + Sync {
    /// A message.
    async fn find(
        &self,
        tenant_id: TenantId,
        id: OutboundMessageId,
    ) -> DomainResult<Option<OutboundMessage>>;
    /// Messages, newest first.
    async fn list(
        &self,
        tenant_id: TenantId,
        filter: &MessageFilter,
        page: PageRequest,
    ) -> DomainResult<Page<OutboundMessage>>;
    /// Claims up to `limit` due messages of any tenant for `lease` (counting an attempt).
    async fn claim_due(
        &self,
        limit: usize,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> DomainResult<Vec<OutboundMessage>>;
    /// Saves a message's outcome and, in the same transaction, its run's (only while the run
    /// is still waiting for this message).
    async fn save(&self, message: &OutboundMessage, run: Option<&FlowRun>) -> DomainResult<()>;
    /// Queues a topic notification unless one was queued with the same opt-in after `since`
    /// (the cadence); the opt-in then counts its period from the message's creation. `false`
    /// when the cadence held it back.
    async fn queue_notification(
        &self,
        message: &OutboundMessage,
        since: DateTime<Utc>,
    ) -> DomainResult<bool>;
}

/// One Send API call.
#[derive(Debug, Clone)]
pub struct SendRequest {
    /// The page's Facebook id.
    pub facebook_page_id: String,
    /// The page access token (plain, for this one call).
    pub page_access_token: String,
    /// The request body: `recipient`, `messaging_type`, `message`.
    pub body: Value,
}

/// Meta's Send API.
#[async_trait]
pub trait MessageSender: Send + Sync {
    /// Posts one message.
    async fn send(&self, request: &SendRequest) -> Result<SentMessage, GatewayError>;
}

/// Meta allows each page about 300 Send API calls a second.
pub trait SendThrottle: Send + Sync {
    /// Takes a send from the page's allowance, or says how long until one is free.
    fn check(&self, page_id: PageId) -> Result<(), StdDuration>;
}
