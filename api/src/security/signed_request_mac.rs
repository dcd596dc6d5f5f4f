//! The HMAC of Meta's `signed_request`: HMAC-SHA256 of the encoded payload keyed with the app
//! secret, compared in constant time (`verify_slice`).
//! <https://developers.facebook.com/docs/development/create-an-app/app-dashboard/data-deletion-callback/>

use hmac::{Hmac, Mac};
use refhub_domain::privacy::SignedRequestMac;
use sha2::Sha256;

/// The [`SignedRequestMac`] adapter.
#[derive(Debug, Default, Clone, Copy)]
pub struct HmacSha256SignedRequests;

impl SignedRequestMac for HmacSha256SignedRequests {
    fn verify(&self, app_secret: &str, encoded_payload: &[u8], signature: &[u8]) -> bool {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()) else {
            return false;
        };
        mac.update(encoded_payload);
        mac.verify_slice(signature).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use refhub_domain::privacy::SignedRequest;

    use super::*;

    fn signed(secret: &str, payload: &str) -> String {
        let encoded = URL_SAFE_NO_PAD.encode(payload);
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(encoded.as_bytes());
        format!(
            "{}.{encoded}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    }

    #[test]
    fn only_the_app_secret_signs() {
        let raw = signed(
            "app-secret",
            r#"{"algorithm":"HMAC-SHA256","issued_at":1700000000,"user_id":"42"}"#,
        );
        let verified = SignedRequest::verify(&raw, "app-secret", &HmacSha256SignedRequests);
        assert_eq!(verified.unwrap().user_id, "42");
        assert!(SignedRequest::verify(&raw, "another", &HmacSha256SignedRequests).is_err());
    }
}
