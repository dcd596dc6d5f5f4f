//! Meta's `signed_request`: `<base64url signature>.<base64url JSON payload>`, the signature
//! being the HMAC-SHA256 of the encoded payload keyed with the app secret. It is how the
//! data-deletion and deauthorize callbacks say who they are about.
//! <https://developers.facebook.com/docs/development/create-an-app/app-dashboard/data-deletion-callback/>
//! (its `parse_signed_request` example: split at the first `.`, refuse an algorithm other than
//! HMAC-SHA256, compare the HMAC of the encoded payload).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use crate::error::{DomainError, DomainResult};

/// The form field Meta posts.
pub const SIGNED_REQUEST_FIELD: &str = "signed_request";

/// The only algorithm Meta signs with; any other is refused (never "none").
const ALGORITHM: &str = "HMAC-SHA256";

/// Longest `signed_request` accepted: Meta's are a few hundred bytes.
const MAX_LENGTH: usize = 8 * 1024;

/// Computes and checks the HMAC (an adapter: the domain holds no MAC implementation).
pub trait SignedRequestMac: Send + Sync {
    /// Whether `signature` is the HMAC-SHA256 of `encoded_payload` (the base64url text, as
    /// received) under `app_secret`, compared in constant time.
    fn verify(&self, app_secret: &str, encoded_payload: &[u8], signature: &[u8]) -> bool;
}

/// What a verified `signed_request` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// The app-scoped id of the person the callback is about.
    pub user_id: String,
    /// When Meta issued it (Unix seconds), when given.
    pub issued_at: Option<i64>,
}

#[derive(Deserialize)]
struct Payload {
    algorithm: Option<String>,
    user_id: Option<serde_json::Value>,
    issued_at: Option<i64>,
}

fn malformed(message: &str) -> DomainError {
    DomainError::validation(SIGNED_REQUEST_FIELD, message)
}

fn decode(part: &str, what: &str) -> DomainResult<Vec<u8>> {
    // Meta's encoding drops the padding; tolerate it being there.
    URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| malformed(&format!("the {what} is not base64url")))
}

impl SignedRequest {
    /// Checks `raw` against `app_secret`: its shape, the algorithm it declares, then the
    /// signature; only then is anything in it believed. A malformed one or another algorithm is
    /// a `VALIDATION` error on `signed_request`; a wrong signature is `UNAUTHENTICATED`.
    pub fn verify(raw: &str, app_secret: &str, mac: &dyn SignedRequestMac) -> DomainResult<Self> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(malformed("is required"));
        }
        if raw.len() > MAX_LENGTH {
            return Err(malformed("is too long"));
        }
        let (encoded_signature, encoded_payload) = raw
            .split_once('.')
            .ok_or_else(|| malformed("must be <signature>.<payload>"))?;
        let signature = decode(encoded_signature, "signature")?;
        let payload_bytes = decode(encoded_payload, "payload")?;
        let payload: Payload = serde_json::from_slice(&payload_bytes)
            .map_err(|_| malformed("the payload is not a JSON object"))?;
        match payload.algorithm.as_deref() {
            Some(algorithm) if algorithm.eq_ignore_ascii_case(ALGORITHM) => {}
            _ => return Err(malformed("the algorithm must be HMAC-SHA256")),
        }
        if !mac.verify(app_secret, encoded_payload.as_bytes(), &signature) {
            return Err(DomainError::Unauthenticated(
                "signed_request: the signature does not match the app secret",
            ));
        }
        let user_id = match payload.user_id {
            Some(serde_json::Value::String(id)) => id,
            Some(serde_json::Value::Number(id)) => id.to_string(),
            _ => return Err(malformed("the payload names no user_id")),
        };
        if user_id.is_empty()
            || user_id.len() > 64
            || !user_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(malformed("the payload's user_id is not an id"));
        }
        Ok(Self {
            user_id,
            issued_at: payload.issued_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in MAC: the "signature" is the secret followed by the payload.
    struct Concat;

    impl SignedRequestMac for Concat {
        fn verify(&self, secret: &str, payload: &[u8], signature: &[u8]) -> bool {
            [secret.as_bytes(), payload].concat() == signature
        }
    }

    fn signed(secret: &str, payload: &str) -> String {
        let encoded = URL_SAFE_NO_PAD.encode(payload);
        let signature = URL_SAFE_NO_PAD.encode([secret.as_bytes(), encoded.as_bytes()].concat());
        format!("{signature}.{encoded}")
    }

    #[test]
    fn a_good_request_names_its_user() {
        let raw = signed(
            "s3cret",
            r#"{"algorithm":"HMAC-SHA256","issued_at":1700000000,"user_id":"218471"}"#,
        );
        let request = SignedRequest::verify(&raw, "s3cret", &Concat).unwrap();
        assert_eq!(request.user_id, "218471");
        assert_eq!(request.issued_at, Some(1_700_000_000));
    }

    #[test]
    fn bad_ones_are_refused() {
        let good = r#"{"algorithm":"HMAC-SHA256","user_id":"1"}"#;
        let wrong_secret = SignedRequest::verify(&signed("other", good), "s3cret", &Concat);
        assert!(matches!(wrong_secret, Err(DomainError::Unauthenticated(_))));
        let none = signed("s3cret", r#"{"algorithm":"none","user_id":"1"}"#);
        assert!(matches!(
            SignedRequest::verify(&none, "s3cret", &Concat),
            Err(DomainError::Validation { .. })
        ));
        for raw in ["", "abc", "!!.!!", "a.b", &signed("s3cret", "[1]")] {
            assert!(
                matches!(
                    SignedRequest::verify(raw, "s3cret", &Concat),
                    Err(DomainError::Validation { .. })
                ),
                "{raw}"
            );
        }
        let no_user = signed("s3cret", r#"{"algorithm":"HMAC-SHA256"}"#);
        assert!(SignedRequest::verify(&no_user, "s3cret", &Concat).is_err());
    }
}
