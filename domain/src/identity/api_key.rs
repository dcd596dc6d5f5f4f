//! API keys: long-lived credentials for a tenant, shown once and stored as a fingerprint.
//!
//! A key reads `rhk_<secret>_<tenant id>`. The tenant id inside lets the key be looked up within
//! its tenant (so row-level security applies to the lookup too); the secret is what proves it.

use chrono::{DateTime, Utc};

use crate::error::DomainResult;
use crate::identity::role::Role;
use crate::identity::tenant::Tenant;
use crate::ids::{ApiKeyId, TenantId, UserId};
use crate::text;

const SCHEME: &str = "rhk_";
/// How many characters of a key are kept and shown, so people can tell keys apart.
pub const VISIBLE_PREFIX_CHARS: usize = 12;
/// Longest key name accepted.
pub const MAX_API_KEY_NAME_CHARS: usize = 100;

/// An API key as stored (never with its secret).
#[derive(Debug, Clone)]
pub struct ApiKey {
    /// Its id.
    pub id: ApiKeyId,
    /// The tenant it acts for.
    pub tenant_id: TenantId,
    /// A name chosen by its creator.
    pub name: String,
    /// The key's first characters, safe to show.
    pub prefix: String,
    /// Fingerprint of the whole key.
    pub fingerprint: String,
    /// What it may do.
    pub role: Role,
    /// Who made it, when a user did.
    pub created_by: Option<UserId>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last authenticated a request (updated at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    /// Whether it still authenticates.
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }
}

/// A key as a request made with it finds it: with its workspace, and with the role its
/// creator holds there now (`None` when they are no longer a member).
#[derive(Debug, Clone)]
pub struct KeyCredential {
    /// The key.
    pub key: ApiKey,
    /// Its workspace.
    pub tenant: Tenant,
    /// Its creator's current role in the workspace, if they are still a member.
    pub creator_role: Option<Role>,
}

impl KeyCredential {
    /// What the key may do now: never more than the member who made it may do now, so that
    /// demoting them lowers it, and nothing once they have left.
    pub fn acting_role(&self) -> Option<Role> {
        match (self.key.created_by, self.creator_role) {
            (None, _) => Some(self.key.role),
            (Some(_), Some(creator)) => Some(self.key.role.lesser(creator)),
            (Some(_), None) => None,
        }
    }
}

/// The full key text, returned once at creation. `Debug` hides it.
pub struct ApiKeySecret(pub String);

impl std::fmt::Debug for ApiKeySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKeySecret(***)")
    }
}

/// A new key and its secret.
#[derive(Debug)]
pub struct NewApiKey {
    /// The stored key.
    pub key: ApiKey,
    /// The secret to hand to the creator.
    pub secret: ApiKeySecret,
}

/// A bearer credential recognised as an API key.
#[derive(Debug, PartialEq, Eq)]
pub struct ParsedApiKey {
    /// The tenant named inside the key.
    pub tenant_id: TenantId,
}

impl ParsedApiKey {
    /// Recognises an API key among bearer credentials; `None` when it is not one.
    pub fn parse(bearer: &str) -> Option<Self> {
        let rest = bearer.strip_prefix(SCHEME)?;
        let (secret, tenant) = rest.rsplit_once('_')?;
        if secret.is_empty() || !secret.chars().all(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        let tenant_id = tenant.parse::<TenantId>().ok()?;
        Some(Self { tenant_id })
    }

    /// Assembles a key's text from a random secret.
    pub fn compose(random: &str, tenant_id: TenantId) -> String {
        format!("{SCHEME}{random}_{}", tenant_id.0.simple())
    }
}

/// Checks a key name; errors name the field `name`.
pub fn validate_key_name(raw: &str) -> DomainResult<String> {
    text::single_line(raw, "name", MAX_API_KEY_NAME_CHARS)
}

/// The visible part of a key.
pub fn visible_prefix(secret: &str) -> String {
    secret.chars().take(VISIBLE_PREFIX_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composed_keys_parse_back_to_their_tenant() {
        let tenant = TenantId::generate();
        let key = ParsedApiKey::compose("abcDEF123", tenant);
        assert!(key.starts_with("rhk_abcDEF123_"));
        assert_eq!(
            ParsedApiKey::parse(&key),
            Some(ParsedApiKey { tenant_id: tenant })
        );
    }

    #[test]
    fn other_bearers_are_not_keys() {
        assert_eq!(ParsedApiKey::parse("eyJhbGciOi.x.y"), None);
        assert_eq!(ParsedApiKey::parse("rhk_abc_notauuid"), None);
        assert_eq!(
            ParsedApiKey::parse("rhk__00000000000000000000000000000000"),
            None
        );
    }
}
