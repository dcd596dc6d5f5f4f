//! Page set-up with Meta: scheduled when a page is connected (or its token replaced), re-run
//! on request, and run by a worker off the request path; and the unsubscribe owed to a page
//! that is disconnected.
//!
//! A run is idempotent, so a retry (or a worker taking over a dead one's claim) repeats
//! nothing harmful: subscribing again only restates the fields, and the Messenger Profile is
//! read before anything is set, so that only what differs is sent, in one call.
//! <https://developers.facebook.com/docs/graph-api/reference/page/subscribed_apps/>,
//! <https://developers.facebook.com/docs/messenger-platform/reference/messenger-profile-api/>

use std::future::Future;
use std::sync::Arc;

use chrono::Duration;
use serde_json::{Map, Value};

use crate::catalogue::messenger_profile::{
    DEFAULT_GET_STARTED_PAYLOAD, MANAGED_PROPERTIES, MessengerProfileSettings,
};
use crate::catalogue::page::Page;
use crate::catalogue::page_setup::{
    MAX_SETUP_ATTEMPTS, MAX_TEARDOWN_ATTEMPTS, PageSetup, PageTeardown, SUBSCRIBED_FIELDS,
    SetupError, SetupStepState, backoff,
};
use crate::catalogue::page_setup_ports::{PageSetupGateway, PageSetupRepository, SetupRequest};
use crate::catalogue::ports::{GatewayError, PageRepository};
use crate::catalogue::secrets::{SecretCipher, SecretPurpose};
use crate::catalogue::token_health::TokenHealth;
use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};
use crate::identity::{Principal, Role};
use crate::ids::{PageId, TenantId};

/// What page set-up needs.
pub struct PageSetupPorts {
    /// Set-up state and owed unsubscribes.
    pub setups: Arc<dyn PageSetupRepository>,
    /// Pages (a run reads the page's current token).
    pub pages: Arc<dyn PageRepository>,
    /// Opens page tokens.
    pub cipher: Arc<dyn SecretCipher>,
    /// Meta.
    pub gateway: Arc<dyn PageSetupGateway>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

/// The page set-up use cases.
pub struct PageSetupService {
    ports: PageSetupPorts,
    retry_base: Duration,
    token_health: Option<Arc<TokenHealth>>,
}

impl PageSetupService {
    /// Builds the service; transient failures are retried after `retry_base`, doubling.
    pub fn new(ports: PageSetupPorts, retry_base: Duration) -> Self {
        Self {
            ports,
            retry_base,
            token_health: None,
        }
    }

    /// Reports a dead page token (190) met by a set-up step to token health, which marks the
    /// page `NEEDS_RECONNECT`; reconnecting it sets it up again.
    pub fn with_token_health(mut self, token_health: Arc<TokenHealth>) -> Self {
        self.token_health = Some(token_health);
        self
    }

    /// A page was connected, or its token replaced: set it up (again), soon, in the background.
    pub async fn page_connected(&self, page: &Page) -> DomainResult<()> {
        self.schedule(page, false, None).await.map(|_| ())
    }

    /// Deletes a page with `delete`, having first queued the unsubscribe its set-up calls for
    /// (holding the sealed token and Facebook page id, which go with the page). If the page is
    /// not deleted after all, the unsubscribe is dropped again.
    pub async fn around_disconnect<F>(&self, page: &Page, delete: F) -> DomainResult<bool>
    where
        F: Future<Output = DomainResult<bool>> + Send,
    {
        let teardown = PageTeardown {
            tenant_id: page.tenant_id,
            id: uuid::Uuid::now_v7(),
            page_id: page.id,
            facebook_page_id: page.facebook_page_id.clone(),
            access_token: page.access_token.clone(),
            attempts: 0,
            created_at: self.ports.clock.now(),
        };
        self.ports.setups.schedule_teardown(&teardown).await?;
        let deleted = delete.await;
        if !matches!(deleted, Ok(true)) {
            self.ports
                .setups
                .remove_teardown(teardown.tenant_id, teardown.id)
                .await?;
        }
        deleted
    }

    /// A page's set-up (members).
    pub async fn get(
        &self,
        principal: &Principal,
        page_id: PageId,
    ) -> DomainResult<Option<PageSetup>> {
        let access = principal.require_role(Role::Viewer)?;
        self.ports.setups.find(access.tenant_id, page_id).await
    }

    /// Runs the page's set-up again, replacing a Get Started button refhub did not set when
    /// asked (editors).
    pub async fn refresh(
        &self,
        principal: &Principal,
        page_id: PageId,
        replace_get_started: bool,
    ) -> DomainResult<Page> {
        let access = principal.require_role(Role::Editor)?;
        let page = self.page_in(access.tenant_id, page_id, "id").await?;
        self.schedule(&page, replace_get_started, None).await?;
        Ok(page)
    }

    /// Stores the page's Messenger Profile settings, checked against Meta's limits, and
    /// schedules pushing them (editors).
    pub async fn set_profile(
        &self,
        principal: &Principal,
        page_id: PageId,
        settings: MessengerProfileSettings,
        replace_get_started: bool,
    ) -> DomainResult<Page> {
        let access = principal.require_role(Role::Editor)?;
        settings.validate()?;
        let page = self.page_in(access.tenant_id, page_id, "pageId").await?;
        self.schedule(&page, replace_get_started, Some(settings))
            .await?;
        Ok(page)
    }

    async fn page_in(
        &self,
        tenant_id: TenantId,
        page_id: PageId,
        field: &'static str,
    ) -> DomainResult<Page> {
        self.ports
            .pages
            .find(tenant_id, page_id)
            .await?
            .ok_or(DomainError::not_found_in("page", field))
    }

    async fn schedule(
        &self,
        page: &Page,
        replace_get_started: bool,
        settings: Option<MessengerProfileSettings>,
    ) -> DomainResult<PageSetup> {
        self.ports
            .setups
            .schedule(&SetupRequest {
                tenant_id: page.tenant_id,
                page_id: page.id,
                facebook_page_id: page.facebook_page_id.clone(),
                replace_get_started,
                settings,
                now: self.ports.clock.now(),
            })
            .await
    }

    /// Runs one claimed set-up and stores how it went (the worker's job).
    pub async fn run(&self, mut setup: PageSetup) -> DomainResult<()> {
        let Some(page) = self
            .ports
            .pages
            .find(setup.tenant_id, setup.page_id)
            .await?
        else {
            // Disconnected meanwhile: its set-up row went with it.
            return Ok(());
        };
        let now = self.ports.clock.now();
        setup.checked_at = Some(now);
        let token = match self.ports.cipher.open(
            &page.access_token,
            page.tenant_id,
            page.id.0,
            SecretPurpose::PageAccessToken,
        ) {
            Ok(token) => token,
            Err(err) => {
                // Retrying cannot help: only a new token (reconnecting) can.
                tracing::error!(tenant_id = %page.tenant_id, page_id = %page.id, error = ?err, "a page's token cannot be opened for its set-up");
                setup.last_error = Some(SetupError {
                    code: None,
                    subcode: None,
                    message: "the page's access token cannot be read; reconnect the page"
                        .to_owned(),
                });
                setup.next_attempt_at = None;
                fail_pending(&mut setup);
                return self.ports.setups.save_run(&setup).await;
            }
        };
        match self.steps(&page, &token, &mut setup).await {
            Ok(()) => {
                setup.last_error = None;
                setup.next_attempt_at = None;
                setup.attempts = 0;
                setup.replace_get_started = false;
                tracing::info!(tenant_id = %page.tenant_id, page_id = %page.id, "page set up with Meta");
            }
            Err(err) => {
                if let Some(token_health) = &self.token_health {
                    token_health
                        .meta_refused(page.tenant_id, page.id, &err)
                        .await?;
                }
                let retry = err.transient && setup.attempts < MAX_SETUP_ATTEMPTS;
                setup.last_error = Some(SetupError {
                    code: err.code,
                    subcode: err.subcode,
                    message: err.message.clone(),
                });
                if retry {
                    setup.next_attempt_at =
                        Some(now + backoff(self.retry_base, setup.attempts, page.id.0));
                } else {
                    setup.next_attempt_at = None;
                    fail_pending(&mut setup);
                }
                tracing::warn!(
                    tenant_id = %page.tenant_id, page_id = %page.id, attempts = setup.attempts,
                    retry, error = %err.message, "page set-up with Meta failed"
                );
            }
        }
        self.ports.setups.save_run(&setup).await
    }

    async fn steps(
        &self,
        page: &Page,
        token: &str,
        setup: &mut PageSetup,
    ) -> Result<(), GatewayError> {
        let gateway = &self.ports.gateway;
        if setup.subscribed != SetupStepState::Done {
            gateway
                .subscribe(&page.facebook_page_id, token, &SUBSCRIBED_FIELDS)
                .await?;
            setup.subscribed = SetupStepState::Done;
            setup.subscribed_fields = SUBSCRIBED_FIELDS.iter().map(|f| (*f).to_owned()).collect();
        }
        // Read before writing: a Get Started button someone else set is kept unless asked,
        // and only what differs from the page is sent.
        let current = gateway.read_profile(token, &MANAGED_PROPERTIES).await?;
        let wanted = setup.wanted.to_meta();
        let mut changes = Map::new();
        let current_payload = current
            .get("get_started")
            .and_then(|g| g.get("payload"))
            .and_then(Value::as_str);
        let get_started = match current_payload {
            Some(payload) if payload == setup.wanted.get_started() => SetupStepState::Done,
            Some(payload) if !setup.replace_get_started && !refhubs_own(setup, payload) => {
                SetupStepState::Kept
            }
            _ => {
                if let Some(value) = wanted.get("get_started") {
                    changes.insert("get_started".to_owned(), value.clone());
                }
                setup.own_get_started = Some(setup.wanted.get_started().to_owned());
                SetupStepState::Done
            }
        };
        for (key, value) in &wanted {
            if key != "get_started" && current.get(key) != Some(value) {
                changes.insert(key.clone(), value.clone());
            }
        }
        let removed: Vec<&str> = setup
            .wanted
            .removed_properties()
            .into_iter()
            .filter(|key| current.contains_key(*key))
            .collect();
        if !changes.is_empty() {
            gateway.set_profile(token, &changes).await?;
        }
        if !removed.is_empty() {
            gateway.delete_profile(token, &removed).await?;
        }
        let mut now_set = current;
        now_set.extend(changes);
        for key in removed {
            now_set.remove(key);
        }
        setup.meta_profile = Some(now_set);
        setup.get_started = get_started;
        setup.profile = SetupStepState::Done;
        Ok(())
    }

    /// Runs one claimed unsubscribe (the worker's job). A page whose token Meta refuses cannot
    /// be unsubscribed by refhub any more (nor sends it anything): that is logged and dropped,
    /// as is one that keeps failing past [`MAX_TEARDOWN_ATTEMPTS`].
    pub async fn run_teardown(&self, teardown: PageTeardown) -> DomainResult<()> {
        let setups = &self.ports.setups;
        let token = match self.ports.cipher.open(
            &teardown.access_token,
            teardown.tenant_id,
            teardown.page_id.0,
            SecretPurpose::PageAccessToken,
        ) {
            Ok(token) => token,
            Err(err) => {
                tracing::error!(tenant_id = %teardown.tenant_id, page_id = %teardown.page_id, error = %err, "an unsubscribe's token cannot be opened; given up");
                return setups
                    .remove_teardown(teardown.tenant_id, teardown.id)
                    .await;
            }
        };
        match self
            .ports
            .gateway
            .unsubscribe(&teardown.facebook_page_id, &token)
            .await
        {
            Ok(()) => {
                tracing::info!(tenant_id = %teardown.tenant_id, facebook_page_id = %teardown.facebook_page_id, "disconnected page unsubscribed");
                setups
                    .remove_teardown(teardown.tenant_id, teardown.id)
                    .await
            }
            Err(err) if err.transient && teardown.attempts < MAX_TEARDOWN_ATTEMPTS => {
                let next = self.ports.clock.now()
                    + backoff(self.retry_base, teardown.attempts, teardown.page_id.0);
                setups.retry_teardown(&teardown, next, &err.message).await
            }
            Err(err) => {
                tracing::warn!(
                    tenant_id = %teardown.tenant_id, facebook_page_id = %teardown.facebook_page_id,
                    attempts = teardown.attempts, error = %err.message,
                    "gave up unsubscribing a disconnected page"
                );
                setups
                    .remove_teardown(teardown.tenant_id, teardown.id)
                    .await
            }
        }
    }
}

/// Whether a Get Started payload on the page is one refhub set (its default, or the payload it
/// last set there): changing it needs no `replaceGetStarted`.
fn refhubs_own(setup: &PageSetup, payload: &str) -> bool {
    payload == DEFAULT_GET_STARTED_PAYLOAD || setup.own_get_started.as_deref() == Some(payload)
}

/// Marks the steps still pending as failed: refhub stops trying on its own.
fn fail_pending(setup: &mut PageSetup) {
    for step in [
        &mut setup.subscribed,
        &mut setup.get_started,
        &mut setup.profile,
    ] {
        if *step == SetupStepState::Pending {
            *step = SetupStepState::Failed;
        }
    }
}
