//! The ports webhook handling needs.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use crate::error::DomainResult;
use crate::ids::{TenantId, WebhookEventId};
use crate::pagination::{Page, PageRequest};
use crate::webhooks::inbox::{InboxEvent, InboxStatus, NewInboxEvent};

/// The durable inbox.
#[async_trait]
pub trait InboxRepository: Send + Sync {
    /// Stores events durably, skipping those whose dedup key the tenant already has. When it
    /// returns `Ok`, the events are committed.
    async fn append(&self, events: Vec<NewInboxEvent>) -> DomainResult<()>;
    /// Claims up to `limit` events that are due (pending, failed and due, or processing with
    /// an expired lease), across tenants, oldest first, leasing them for `lease`. Two workers
    /// never claim the same event while its lease runs. A suspended workspace's due events
    /// are not returned but held: left pending (or failed), no longer due, until
    /// [`release_held`](Self::release_held). An event whose stored row cannot be read is not
    /// returned either: it is parked as dead, its error saying so.
    async fn claim(
        &self,
        limit: usize,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> DomainResult<Vec<InboxEvent>>;
    /// Records an event's outcome without changing anything else (ignored events).
    async fn finish(
        &self,
        tenant_id: TenantId,
        id: WebhookEventId,
        status: InboxStatus,
        outcome: Value,
        at: DateTime<Utc>,
    ) -> DomainResult<()>;
    /// Records a failure: retried at `retry_at`, or parked as dead when `None`.
    async fn fail(
        &self,
        tenant_id: TenantId,
        id: WebhookEventId,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> DomainResult<()>;
    /// A tenant's events, newest first, optionally with one status.
    async fn list(
        &self,
        tenant_id: TenantId,
        status: Option<InboxStatus>,
        page: PageRequest,
    ) -> DomainResult<Page<InboxEvent>>;
    /// One event.
    async fn find(
        &self,
        tenant_id: TenantId,
        id: WebhookEventId,
    ) -> DomainResult<Option<InboxEvent>>;
    /// Puts an event back in line (attempts reset); `None` when there is no such event.
    async fn requeue(
        &self,
        tenant_id: TenantId,
        id: WebhookEventId,
        now: DateTime<Utc>,
    ) -> DomainResult<Option<InboxEvent>>;
    /// Makes the events held while the tenant was suspended due at `now`; returns how many.
    async fn release_held(&self, tenant_id: TenantId, now: DateTime<Utc>) -> DomainResult<u64>;
    /// How many events wait for processing (pending or failed), across tenants.
    async fn backlog(&self) -> DomainResult<u64>;
}

/// A tenant's allowance of webhook deliveries. Taken only once a delivery has presented the
/// tenant's real webhook key, so that requests to made-up keys naming the tenant cannot use it up.
pub trait DeliveryThrottle: Send + Sync {
    /// Takes one delivery from the tenant's allowance, or says in how many seconds to retry.
    fn check(&self, tenant_id: TenantId) -> Result<(), u64>;
}

/// Checks `X-Hub-Signature-256` over the raw body.
pub trait WebhookSignatures: Send + Sync {
    /// Whether `header` (`sha256=<hex>`) is the HMAC-SHA256 of `body` under `app_secret`,
    /// compared in constant time.
    fn verify(&self, app_secret: &str, body: &[u8], header: Option<&str>) -> bool;
}
