//! The ports page set-up needs: where set-up state and owed unsubscribes are kept, and the
//! Graph API calls that do the set-up.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value};

use crate::catalogue::messenger_profile::MessengerProfileSettings;
use crate::catalogue::page_setup::{PageSetup, PageTeardown};
use crate::catalogue::ports::GatewayError;
use crate::error::DomainResult;
use crate::ids::{PageId, TenantId};

/// A request to (re)run a page's set-up.
#[derive(Debug, Clone)]
pub struct SetupRequest {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The page.
    pub page_id: PageId,
    /// Facebook's page id: an unsubscribe still owed to this page is dropped, as the page is
    /// connected again.
    pub facebook_page_id: String,
    /// Whether to replace a Get Started button refhub did not set.
    pub replace_get_started: bool,
    /// New settings (`None`: keep the stored ones).
    pub settings: Option<MessengerProfileSettings>,
    /// Now: the run is due at once.
    pub now: DateTime<Utc>,
}

/// Set-up state and owed unsubscribes.
#[async_trait]
pub trait PageSetupRepository: Send + Sync {
    /// Creates or resets the page's set-up (a new generation, due now, every step pending) and
    /// drops any unsubscribe still owed to the same Facebook page in the tenant.
    async fn schedule(&self, request: &SetupRequest) -> DomainResult<PageSetup>;
    /// A page's set-up.
    async fn find(&self, tenant_id: TenantId, page_id: PageId) -> DomainResult<Option<PageSetup>>;
    /// Claims due set-ups across tenants for `lease`.
    async fn claim_due(
        &self,
        limit: usize,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> DomainResult<Vec<PageSetup>>;
    /// Stores a run's result. When the set-up was requested again since `setup.generation`
    /// was claimed, the newer request stands: the row stays due now and keeps its flag.
    async fn save_run(&self, setup: &PageSetup) -> DomainResult<()>;

    /// Queues an unsubscribe for a page about to be deleted.
    async fn schedule_teardown(&self, teardown: &PageTeardown) -> DomainResult<()>;
    /// Drops a queued unsubscribe (its page was not deleted after all, or it is done).
    async fn remove_teardown(&self, tenant_id: TenantId, id: uuid::Uuid) -> DomainResult<()>;
    /// Claims due unsubscribes across tenants for `lease`.
    async fn claim_due_teardowns(
        &self,
        limit: usize,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> DomainResult<Vec<PageTeardown>>;
    /// Puts an unsubscribe back for another try at `next`.
    async fn retry_teardown(
        &self,
        teardown: &PageTeardown,
        next: DateTime<Utc>,
        error: &str,
    ) -> DomainResult<()>;
}

/// The Graph API calls of page set-up.
#[async_trait]
pub trait PageSetupGateway: Send + Sync {
    /// `POST /{page-id}/subscribed_apps` with `subscribed_fields` (harmless to repeat).
    async fn subscribe(
        &self,
        facebook_page_id: &str,
        page_access_token: &str,
        fields: &[&str],
    ) -> Result<(), GatewayError>;
    /// `DELETE /{page-id}/subscribed_apps`.
    async fn unsubscribe(
        &self,
        facebook_page_id: &str,
        page_access_token: &str,
    ) -> Result<(), GatewayError>;
    /// `GET /me/messenger_profile?fields=…`: the properties set among `fields`.
    async fn read_profile(
        &self,
        page_access_token: &str,
        fields: &[&str],
    ) -> Result<Map<String, Value>, GatewayError>;
    /// `POST /me/messenger_profile` with every property in one call (Meta allows 10 calls per
    /// 10 minutes per page).
    async fn set_profile(
        &self,
        page_access_token: &str,
        properties: &Map<String, Value>,
    ) -> Result<(), GatewayError>;
    /// `DELETE /me/messenger_profile` with `{"fields": [...]}`.
    async fn delete_profile(
        &self,
        page_access_token: &str,
        fields: &[&str],
    ) -> Result<(), GatewayError>;
}
