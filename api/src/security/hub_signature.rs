//! Meta's webhook signature: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`,
//! keyed with the app secret and compared in constant time (`verify_slice`).

use hmac::{Hmac, Mac};
use refhub_domain::webhooks::WebhookSignatures;
use sha2::Sha256;

/// The [`WebhookSignatures`] adapter.
#[derive(Debug, Default, Clone, Copy)]
pub struct HubSignatures;

impl WebhookSignatures for HubSignatures {
    fn verify(&self, app_secret: &str, body: &[u8], header: Option<&str>) -> bool {
        let Some(header) = header.map(str::trim) else {
            return false;
        };
        let Some(hex_digest) = header
            .get(..7)
            .filter(|scheme| scheme.eq_ignore_ascii_case("sha256="))
            .map(|_| &header[7..])
        else {
            return false;
        };
        let Ok(expected) = hex::decode(hex_digest) else {
            return false;
        };
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()) else {
            return false;
        };
        mac.update(body);
        mac.verify_slice(&expected).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn only_the_right_signature_passes() {
        let body = br#"{"object":"page"}"#;
        let good = sign("secret", body);
        assert!(HubSignatures.verify("secret", body, Some(&good)));
        assert!(HubSignatures.verify("secret", body, Some(&good.replace("sha256=", "SHA256="))));
        assert!(!HubSignatures.verify("other", body, Some(&good)));
        assert!(!HubSignatures.verify("secret", b"{}", Some(&good)));
        assert!(!HubSignatures.verify("secret", body, None));
        assert!(!HubSignatures.verify("secret", body, Some("sha1=abc")));
        assert!(!HubSignatures.verify("secret", body, Some("sha256=zz")));
        assert!(!HubSignatures.verify("secret", body, Some("é")));
    }
}
