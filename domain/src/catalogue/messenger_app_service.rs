//! Connecting a tenant's Meta app, and its webhook URL.

use std::sync::Arc;

use crate::catalogue::messenger_app::{
    MessengerApp, WebhookKey, validate_app_id, validate_app_secret, validate_verify_token,
};
use crate::catalogue::ports::MessengerAppRepository;
use crate::catalogue::secrets::{SecretCipher, SecretPurpose};
use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};
use crate::identity::{Principal, Role, SecretGenerator};
use crate::ids::MessengerAppId;

/// The app connection use cases. Owners and admins manage it (it holds secrets); every member
/// may read it (it returns no secret).
pub struct MessengerAppService {
    apps: Arc<dyn MessengerAppRepository>,
    cipher: Arc<dyn SecretCipher>,
    secrets: Arc<dyn SecretGenerator>,
    clock: Arc<dyn Clock>,
    public_base_url: String,
}

impl MessengerAppService {
    /// Builds the service; webhook URLs start with `public_base_url`.
    pub fn new(
        apps: Arc<dyn MessengerAppRepository>,
        cipher: Arc<dyn SecretCipher>,
        secrets: Arc<dyn SecretGenerator>,
        clock: Arc<dyn Clock>,
        public_base_url: String,
    ) -> Self {
        Self {
            apps,
            cipher,
            secrets,
            clock,
            public_base_url: public_base_url.trim_end_matches('/').to_owned(),
        }
    }

    /// Connects the tenant's app, or replaces its credentials, keeping the webhook URL.
    pub async fn connect(
        &self,
        principal: &Principal,
        app_id: &str,
        app_secret: &str,
        verify_token: &str,
    ) -> DomainResult<MessengerApp> {
        let access = principal.require_role(Role::Admin)?;
        let app_id = validate_app_id(app_id)?;
        let app_secret = validate_app_secret(app_secret)?;
        let verify_token = validate_verify_token(verify_token)?;
        let now = self.clock.now();
        let existing = self.apps.find(access.tenant_id).await?;
        let (id, webhook_key, created_at) = match existing {
            Some(app) => (app.id, app.webhook_key, app.created_at),
            None => (
                MessengerAppId::generate(),
                self.new_key(access.tenant_id),
                now,
            ),
        };
        let app = MessengerApp {
            id,
            tenant_id: access.tenant_id,
            app_id,
            app_secret: self.cipher.seal(
                &app_secret,
                access.tenant_id,
                id.0,
                SecretPurpose::AppSecret,
            )?,
            verify_token: self.cipher.seal(
                &verify_token,
                access.tenant_id,
                id.0,
                SecretPurpose::VerifyToken,
            )?,
            webhook_key,
            created_at,
            updated_at: now,
        };
        self.apps.save(&app).await?;
        tracing::info!(tenant_id = %access.tenant_id, "Messenger app connected");
        Ok(app)
    }

    /// The tenant's connection, if any.
    pub async fn get(&self, principal: &Principal) -> DomainResult<Option<MessengerApp>> {
        let access = principal.require_role(Role::Viewer)?;
        self.apps.find(access.tenant_id).await
    }

    /// Replaces the webhook key: the old URL stops working at once.
    pub async fn rotate_webhook_key(&self, principal: &Principal) -> DomainResult<MessengerApp> {
        let access = principal.require_role(Role::Admin)?;
        let mut app = self
            .apps
            .find(access.tenant_id)
            .await?
            .ok_or(DomainError::not_found("Messenger app connection"))?;
        app.webhook_key = self.new_key(access.tenant_id);
        app.updated_at = self.clock.now();
        self.apps.save(&app).await?;
        tracing::info!(tenant_id = %access.tenant_id, "webhook key rotated");
        Ok(app)
    }

    /// Removes the connection; webhooks for the tenant stop being accepted.
    pub async fn disconnect(&self, principal: &Principal) -> DomainResult<()> {
        let access = principal.require_role(Role::Admin)?;
        if !self.apps.delete(access.tenant_id).await? {
            return Err(DomainError::not_found("Messenger app connection"));
        }
        Ok(())
    }

    /// The URL to give Meta as the webhook callback.
    pub fn webhook_url(&self, app: &MessengerApp) -> String {
        format!(
            "{}/webhooks/messenger/{}",
            self.public_base_url,
            app.webhook_key.as_str()
        )
    }

    /// The URL to give Meta as the app's Data Deletion Request callback (App Dashboard →
    /// Settings → Basic): beside the webhook URL, with the same key.
    pub fn data_deletion_url(&self, app: &MessengerApp) -> String {
        format!("{}/data-deletion", self.webhook_url(app))
    }

    /// The URL to give Meta as the app's Deauthorize callback (Facebook Login → Settings).
    pub fn deauthorize_url(&self, app: &MessengerApp) -> String {
        format!("{}/deauthorize", self.webhook_url(app))
    }

    fn new_key(&self, tenant_id: crate::ids::TenantId) -> WebhookKey {
        WebhookKey::new(tenant_id, &self.secrets.random_token())
    }
}
