//! Token health: the one place that hears "Meta said this page's token is dead" (error 190 on
//! any call: a send, a profile fetch, a set-up step, the periodic check) and the periodic check
//! that catches tokens that die while nothing is sent.
//!
//! A dead token marks the page `NEEDS_RECONNECT` (with Meta's code, subcode and message) and
//! tells live dashboards once; while it is so, its outgoing messages and profile fetches wait
//! (their claims skip the page), in order, and nothing fails for it. Reconnecting the page
//! (a new token, [`PageService`](crate::catalogue::PageService)) makes it active again and the
//! waiting work goes out in its original order.
//! <https://developers.facebook.com/docs/graph-api/guides/error-handling/>

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Duration;

use crate::activity::{ActivityEvent, ActivityPublisher};
use crate::catalogue::page::{Page, PageHealth, PageStatus};
use crate::catalogue::ports::{GatewayError, MessengerAppRepository, PageRepository};
use crate::catalogue::secrets::{SecretCipher, SecretPurpose};
use crate::clock::Clock;
use crate::error::DomainResult;
use crate::ids::{PageId, TenantId};

/// What Meta says of a page token when asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenVerdict {
    /// It works.
    Valid,
    /// It is dead; the error says how (code 190 and its subcode).
    Dead(GatewayError),
}

// `debug_token` is called with the workspace's app credentials, as the login exchange is.
pub use crate::catalogue::page_connection::AppCredentials;

/// Asks Meta whether a page token still works.
#[async_trait]
pub trait TokenInspector: Send + Sync {
    /// With app credentials: `debug_token` (`data.is_valid`); without, or when Meta refuses
    /// the app's own credentials: a cheap read with the page token. An error is a failure to
    /// find out (Meta down), never a verdict.
    async fn inspect(
        &self,
        page_token: &str,
        app: Option<&AppCredentials>,
    ) -> Result<TokenVerdict, GatewayError>;
}

/// Marks pages whose token Meta refuses and checks tokens periodically.
pub struct TokenHealth {
    pages: Arc<dyn PageRepository>,
    activity: Arc<dyn ActivityPublisher>,
    clock: Arc<dyn Clock>,
}

impl TokenHealth {
    /// Builds the service.
    pub fn new(
        pages: Arc<dyn PageRepository>,
        activity: Arc<dyn ActivityPublisher>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            pages,
            activity,
            clock,
        }
    }

    /// Meta answered a call made with this page's token with `error`. When it says the token
    /// is dead, the page is marked `NEEDS_RECONNECT` (once: the first to mark it tells the
    /// dashboards) and `true` comes back: the caller's work must wait, not fail.
    pub async fn meta_refused(
        &self,
        tenant_id: TenantId,
        page_id: PageId,
        error: &GatewayError,
    ) -> DomainResult<bool> {
        if !error.token_invalid() {
            return Ok(false);
        }
        let now = self.clock.now();
        let health = PageHealth {
            status: PageStatus::NeedsReconnect,
            code: error.code,
            subcode: error.subcode,
            message: Some(error.message.clone()),
            changed_at: Some(now),
        };
        if self
            .pages
            .mark_needs_reconnect(tenant_id, page_id, &health)
            .await?
        {
            tracing::warn!(%tenant_id, %page_id, code = ?error.code, subcode = ?error.subcode, "Meta refused the page's token: the page needs reconnecting; its messages wait");
            self.activity
                .publish(ActivityEvent::page_needs_reconnect(tenant_id, page_id, now));
        }
        Ok(true)
    }
}

/// The periodic token check: claims pages whose check is due and asks Meta about each.
pub struct TokenCheck {
    health: Arc<TokenHealth>,
    pages: Arc<dyn PageRepository>,
    apps: Arc<dyn MessengerAppRepository>,
    cipher: Arc<dyn SecretCipher>,
    inspector: Arc<dyn TokenInspector>,
    clock: Arc<dyn Clock>,
    /// How often each active page's token is checked.
    pub interval: Duration,
}

impl TokenCheck {
    /// Builds the check.
    pub fn new(
        health: Arc<TokenHealth>,
        pages: Arc<dyn PageRepository>,
        apps: Arc<dyn MessengerAppRepository>,
        cipher: Arc<dyn SecretCipher>,
        inspector: Arc<dyn TokenInspector>,
        clock: Arc<dyn Clock>,
        interval: Duration,
    ) -> Self {
        Self {
            health,
            pages,
            apps,
            cipher,
            inspector,
            clock,
            interval,
        }
    }

    /// Checks up to `limit` pages due for a check; returns how many were claimed.
    pub async fn run_once(&self, limit: usize) -> DomainResult<usize> {
        let now = self.clock.now();
        let due = self
            .pages
            .claim_token_checks(limit, self.interval, now)
            .await?;
        let claimed = due.len();
        for page in due {
            if let Err(err) = self.check(&page).await {
                tracing::error!(tenant_id = %page.tenant_id, page_id = %page.id, error = ?err, "checking a page token failed");
            }
        }
        Ok(claimed)
    }

    async fn check(&self, page: &Page) -> DomainResult<()> {
        let token = self.cipher.open(
            &page.access_token,
            page.tenant_id,
            page.id.0,
            SecretPurpose::PageAccessToken,
        )?;
        let app = match self.apps.find(page.tenant_id).await? {
            Some(app) => Some(app.credentials(self.cipher.as_ref())?),
            None => None,
        };
        match self.inspector.inspect(&token, app.as_ref()).await {
            Ok(TokenVerdict::Valid) => {}
            Ok(TokenVerdict::Dead(error)) => {
                self.health
                    .meta_refused(page.tenant_id, page.id, &error)
                    .await?;
            }
            // Meta could not be asked: the next check asks again.
            Err(error) => {
                tracing::warn!(tenant_id = %page.tenant_id, page_id = %page.id, "could not check a page token: {error}");
            }
        }
        Ok(())
    }
}
