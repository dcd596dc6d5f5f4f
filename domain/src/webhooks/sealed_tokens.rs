//! Notification tokens never rest in the inbox in clear: an opt-in item's token is sealed
//! (with the tenant, the event and the purpose as associated data) before the item is stored,
//! and opened again only to process it. The stored body that admins read shows the sealed form.

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use serde_json::Value;

use crate::catalogue::{SealedSecret, SecretCipher, SecretPurpose};
use crate::error::{DomainError, DomainResult};
use crate::ids::{TenantId, WebhookEventId};

/// What a sealed token starts with in a stored item.
pub const SEALED_PREFIX: &str = "sealed:";

/// The keys of an `optin` item that hold a token letting the page message the person: a
/// recurring notification's, and a one-time notification's (retired by Meta, never used here,
/// but still a credential).
const TOKEN_KEYS: [&str; 2] = ["notification_messages_token", "one_time_notif_token"];

/// Seals the notification tokens of an `optin` item in place (other items are left alone).
pub fn seal_tokens(
    item: &mut Value,
    tenant_id: TenantId,
    event_id: WebhookEventId,
    cipher: &dyn SecretCipher,
) -> DomainResult<()> {
    let Some(optin) = item.get_mut("optin") else {
        return Ok(());
    };
    for key in TOKEN_KEYS {
        let Some(token) = optin.get_mut(key) else {
            continue;
        };
        let Some(plain) = token.as_str().filter(|t| !t.starts_with(SEALED_PREFIX)) else {
            continue;
        };
        let sealed = cipher.seal(
            plain,
            tenant_id,
            event_id.0,
            SecretPurpose::NotificationToken,
        )?;
        *token = Value::String(format!(
            "{SEALED_PREFIX}{}",
            STANDARD_NO_PAD.encode(sealed.0)
        ));
    }
    Ok(())
}

/// A token as stored, opened if it was sealed (items stored before sealing was introduced
/// hold it in clear).
pub fn open_token(
    stored: &str,
    tenant_id: TenantId,
    event_id: WebhookEventId,
    cipher: &dyn SecretCipher,
) -> DomainResult<String> {
    let Some(encoded) = stored.strip_prefix(SEALED_PREFIX) else {
        return Ok(stored.to_owned());
    };
    let bytes = STANDARD_NO_PAD
        .decode(encoded)
        .map_err(DomainError::internal)?;
    cipher.open(
        &SealedSecret(bytes),
        tenant_id,
        event_id.0,
        SecretPurpose::NotificationToken,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use uuid::Uuid;

    /// Reverses the text and tags it with its associated data: enough to see sealing happen.
    struct Mirror;

    impl SecretCipher for Mirror {
        fn seal(
            &self,
            plaintext: &str,
            tenant_id: TenantId,
            row_id: Uuid,
            _: SecretPurpose,
        ) -> DomainResult<SealedSecret> {
            let text: String = plaintext.chars().rev().collect();
            Ok(SealedSecret(
                format!("{tenant_id}|{row_id}|{text}").into_bytes(),
            ))
        }

        fn open(
            &self,
            sealed: &SealedSecret,
            tenant_id: TenantId,
            row_id: Uuid,
            _: SecretPurpose,
        ) -> DomainResult<String> {
            let text = String::from_utf8(sealed.0.clone()).map_err(DomainError::internal)?;
            let prefix = format!("{tenant_id}|{row_id}|");
            let reversed = text
                .strip_prefix(&prefix)
                .ok_or_else(|| DomainError::validation("sealed", "sealed for another row"))?;
            Ok(reversed.chars().rev().collect())
        }
    }

    #[test]
    fn opt_in_tokens_are_sealed_for_their_event_and_opened_again() {
        let tenant = TenantId::generate();
        let event = WebhookEventId::generate();
        let mut item = json!({"optin": {"type": "notification_messages",
            "notification_messages_token": "NMT-secret", "title": "Deals"}});
        seal_tokens(&mut item, tenant, event, &Mirror).unwrap();
        let stored = item["optin"]["notification_messages_token"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(stored.starts_with(SEALED_PREFIX));
        assert!(!item.to_string().contains("NMT-secret"));
        assert_eq!(
            open_token(&stored, tenant, event, &Mirror).unwrap(),
            "NMT-secret"
        );
        assert!(open_token(&stored, tenant, WebhookEventId::generate(), &Mirror).is_err());
        // Sealing twice changes nothing; clear tokens of older rows still open.
        let before = item.clone();
        seal_tokens(&mut item, tenant, event, &Mirror).unwrap();
        assert_eq!(item, before);
        assert_eq!(
            open_token("NMT-old", tenant, event, &Mirror).unwrap(),
            "NMT-old"
        );
        let mut one_time = json!({"optin": {"type": "one_time_notif_req", "payload": "p",
            "one_time_notif_token": "OTN-secret"}});
        seal_tokens(&mut one_time, tenant, event, &Mirror).unwrap();
        assert!(!one_time.to_string().contains("OTN-secret"), "{one_time}");
        let mut message = json!({"message": {"text": "notification_messages_token"}});
        seal_tokens(&mut message, tenant, event, &Mirror).unwrap();
        assert_eq!(message["message"]["text"], "notification_messages_token");
    }
}
