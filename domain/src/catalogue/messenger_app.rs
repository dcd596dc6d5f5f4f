//! A tenant's Messenger app connection: what lets Meta's webhooks reach it and be verified.

use chrono::{DateTime, Utc};

use crate::catalogue::page_connection::AppCredentials;
use crate::catalogue::secrets::{SealedSecret, SecretCipher, SecretPurpose};
use crate::error::DomainResult;
use crate::ids::{MessengerAppId, TenantId};
use crate::text;

/// The tenant's connection to its Meta app (one per tenant).
#[derive(Debug, Clone)]
pub struct MessengerApp {
    /// Its id.
    pub id: MessengerAppId,
    /// The tenant.
    pub tenant_id: TenantId,
    /// Meta's app id.
    pub app_id: String,
    /// The app secret, sealed; it verifies webhook signatures.
    pub app_secret: SealedSecret,
    /// The verify token Meta echoes in the subscription handshake, sealed.
    pub verify_token: SealedSecret,
    /// The unguessable part of the tenant's webhook URL.
    pub webhook_key: WebhookKey,
    /// When it was connected.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl MessengerApp {
    /// The app secret in the clear, for one signature check or one call to Meta.
    pub fn open_secret(&self, cipher: &dyn SecretCipher) -> DomainResult<String> {
        cipher.open(
            &self.app_secret,
            self.tenant_id,
            self.id.0,
            SecretPurpose::AppSecret,
        )
    }

    /// The app id and secret Meta's app-level calls take (token exchange, `debug_token`).
    pub fn credentials(&self, cipher: &dyn SecretCipher) -> DomainResult<AppCredentials> {
        Ok(AppCredentials {
            app_id: self.app_id.clone(),
            app_secret: self.open_secret(cipher)?,
        })
    }
}

/// The key in `/webhooks/messenger/{key}`: the tenant id (so the request can be routed within
/// its tenant) and 256 random bits (so it cannot be guessed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookKey(String);

impl WebhookKey {
    /// A new key for `tenant_id` around a random token.
    pub fn new(tenant_id: TenantId, random: &str) -> Self {
        Self(format!("{}_{random}", tenant_id.0.simple()))
    }

    /// Wraps a stored key.
    pub fn from_stored(key: String) -> Self {
        Self(key)
    }

    /// The tenant a presented key names, if it is shaped like a key at all.
    pub fn tenant_of(presented: &str) -> Option<TenantId> {
        let (tenant, random) = presented.split_once('_')?;
        if random.is_empty() || !random.chars().all(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        tenant.parse().ok()
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks a Meta app id; errors name the field `appId`.
pub fn validate_app_id(raw: &str) -> DomainResult<String> {
    text::numeric_id(raw, "appId", 32)
}

/// Checks an app secret; errors name the field `appSecret`.
pub fn validate_app_secret(raw: &str) -> DomainResult<String> {
    text::credential(raw, "appSecret", 8, 256)
}

/// Checks a verify token; errors name the field `verifyToken`.
pub fn validate_verify_token(raw: &str) -> DomainResult<String> {
    text::credential(raw, "verifyToken", 1, 256)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_their_tenant() {
        let tenant = TenantId::generate();
        let key = WebhookKey::new(tenant, "abcDEF123");
        assert_eq!(WebhookKey::tenant_of(key.as_str()), Some(tenant));
        assert_eq!(WebhookKey::tenant_of("nonsense"), None);
        assert_eq!(
            WebhookKey::tenant_of(&format!("{}_", tenant.0.simple())),
            None
        );
        assert_eq!(
            WebhookKey::tenant_of(&format!("{}_a/b", tenant.0.simple())),
            None
        );
    }
}
