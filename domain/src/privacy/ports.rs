//! What the data-deletion use cases need from the outside.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use crate::audience::Subscriber;
use crate::catalogue::GatewayError;
use crate::error::DomainResult;
use crate::ids::TenantId;
use crate::privacy::deletion_request::{DeletionRequest, DeletionStatusView};

/// The recorded requests.
#[async_trait]
pub trait DeletionRequestRepository: Send + Sync {
    /// Records `request`, unless a request of the same kind about the same person
    /// (`user_fingerprint`) is still being carried out in its tenant: then that one is
    /// returned and nothing new is recorded (a replayed callback answers the same code).
    async fn record(&self, request: &DeletionRequest) -> DomainResult<DeletionRequest>;
    /// Where the request with this confirmation code stands, whatever its tenant.
    async fn status_by_code(&self, code: &str) -> DomainResult<Option<DeletionStatusView>>;
    /// Claims up to `limit` due data-deletion requests across tenants for `lease`: each is
    /// `erasing`, its attempts counted, and falls due again when the lease ends (a worker that
    /// dies leaves it to the next).
    async fn claim_due(
        &self,
        limit: usize,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> DomainResult<Vec<DeletionRequest>>;
    /// Stores what an attempt left: its status, counts and error; due again at `retry_at`
    /// (none: done, and the app-scoped user id is cleared with it).
    async fn save_attempt(
        &self,
        request: &DeletionRequest,
        retry_at: Option<DateTime<Utc>>,
    ) -> DomainResult<()>;
}

/// One page-scoped id Meta knows the person by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageScopedId {
    /// Facebook's page id.
    pub facebook_page_id: String,
    /// The person's PSID on that page.
    pub psid: String,
}

/// Meta's ID matching: from an app-scoped user id to the person's PSIDs.
#[async_trait]
pub trait PageScopedIds: Send + Sync {
    /// `GET /{app-scoped-user-id}/ids_for_pages` with the app's access token: the person's
    /// PSIDs on the pages of the app's business.
    async fn ids_for_pages(
        &self,
        app_id: &str,
        app_secret: &str,
        app_scoped_user_id: &str,
    ) -> Result<Vec<PageScopedId>, GatewayError>;
}

/// Finding the subscribers a person is, by the ids Messenger gave them.
#[async_trait]
pub trait SubscriberIdentities: Send + Sync {
    /// The tenant's subscribers (any page) whose PSID or plugin `user_ref` is one of `ids`.
    async fn find_by_ids(
        &self,
        tenant_id: TenantId,
        ids: &[String],
    ) -> DomainResult<Vec<Subscriber>>;
}
