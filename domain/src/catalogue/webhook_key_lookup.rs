//! Finding the workspace a presented webhook key belongs to: the one check every public
//! endpoint keyed by it (Meta's deliveries, the handshake, the data-deletion and deauthorize
//! callbacks) makes before anything else.

use crate::catalogue::messenger_app::{MessengerApp, WebhookKey};
use crate::catalogue::ports::MessengerAppRepository;
use crate::error::{DomainError, DomainResult};

/// What an unknown key is reported as (`NOT_FOUND`): never which part was wrong.
const UNKNOWN_KEY: &str = "webhook endpoint";

/// The Messenger app whose webhook key `key` is; `NOT_FOUND` for any other key. The key names
/// its tenant, so this is one lookup by id, and the stored key is compared in constant time.
pub async fn app_for_webhook_key(
    apps: &dyn MessengerAppRepository,
    key: &str,
) -> DomainResult<MessengerApp> {
    let tenant_id = WebhookKey::tenant_of(key).ok_or(DomainError::not_found(UNKNOWN_KEY))?;
    apps.find(tenant_id)
        .await?
        .filter(|app| constant_time_eq(app.webhook_key.as_str().as_bytes(), key.as_bytes()))
        .ok_or(DomainError::not_found(UNKNOWN_KEY))
}

/// Equality whose time does not depend on where the inputs differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn constant_time_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
