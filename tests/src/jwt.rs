//! Hand-made JWTs, to check that the API refuses every kind of forgery. Built from the claims
//! of a real token so that each forged token differs from a valid one in one respect only.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac as _};
use serde_json::{Value, json};
use sha2::Sha256;

/// A token split into its parts.
#[derive(Debug, Clone)]
pub struct Jwt {
    pub header: Value,
    pub claims: Value,
    /// The signature as it appeared in the token (base64url).
    pub signature: String,
}

/// Splits and decodes a compact JWT; panics when it is not one.
pub fn decode(token: &str) -> Jwt {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "not a compact JWT: {token}");
    Jwt {
        header: decode_part(parts[0]),
        claims: decode_part(parts[1]),
        signature: parts[2].to_owned(),
    }
}

fn decode_part(part: &str) -> Value {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .unwrap_or_else(|e| panic!("JWT part is not base64url ({e}): {part}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("JWT part is not JSON ({e})"))
}

fn encode_part(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("JSON"))
}

/// Header and claims, encoded and joined: the signing input.
pub fn signing_input(header: &Value, claims: &Value) -> String {
    format!("{}.{}", encode_part(header), encode_part(claims))
}

/// An HS256 token over `claims` signed with `key`.
pub fn sign_hs256(claims: &Value, key: &[u8]) -> String {
    let input = signing_input(&json!({"alg": "HS256", "typ": "JWT"}), claims);
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{input}.{signature}")
}

/// An unsigned token (`alg: none`, empty signature).
pub fn unsigned(claims: &Value) -> String {
    format!(
        "{}.",
        signing_input(&json!({"alg": "none", "typ": "JWT"}), claims)
    )
}

/// Keeps the original header and signature but replaces the claims.
pub fn with_claims_keeping_signature(token: &str, claims: &Value) -> String {
    let jwt = decode(token);
    format!("{}.{}", signing_input(&jwt.header, claims), jwt.signature)
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}
