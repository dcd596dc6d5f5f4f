//! Access tokens: HS256 JWTs with issuer, audience and expiry, checked against an algorithm
//! allow-list of one (so `alg: none` and algorithm-confusion tokens are refused).

use chrono::{DateTime, TimeZone, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use refhub_domain::identity::{AccessClaims, AccessTokenCodec};
use refhub_domain::ids::{SessionId, TenantId, UserId};
use refhub_domain::{DomainError, DomainResult};
use serde::{Deserialize, Serialize};

/// Who issues the tokens (`iss`).
pub const ISSUER: &str = "refhub";
/// Who the tokens are for (`aud`).
pub const AUDIENCE: &str = "refhub-api";
/// Clock skew tolerated when checking `exp`.
const LEEWAY_SECS: u64 = 5;

const INVALID: &str = "invalid or expired access token";

#[derive(Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tid: Option<String>,
    sid: String,
    iat: i64,
    exp: i64,
}

/// The [`AccessTokenCodec`] adapter.
pub struct JwtCodec {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtCodec {
    /// A codec signing with `secret`.
    pub fn new(secret: &[u8]) -> Self {
        super::jwt_hs256_provider::install();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }
}

fn timestamp(secs: i64) -> DomainResult<DateTime<Utc>> {
    Utc.timestamp_opt(secs, 0)
        .single()
        .ok_or(DomainError::Unauthenticated(INVALID))
}

fn parse<T: std::str::FromStr>(text: &str) -> DomainResult<T> {
    text.parse()
        .map_err(|_| DomainError::Unauthenticated(INVALID))
}

impl AccessTokenCodec for JwtCodec {
    fn issue(&self, claims: &AccessClaims) -> DomainResult<String> {
        let claims = Claims {
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            sub: claims.user_id.to_string(),
            tid: claims.tenant_id.map(|t| t.to_string()),
            sid: claims.session_id.to_string(),
            iat: claims.issued_at.timestamp(),
            exp: claims.expires_at.timestamp(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(DomainError::internal)
    }

    fn verify(&self, token: &str) -> DomainResult<AccessClaims> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation).map_err(|err| {
            tracing::debug!(reason = %err, "access token refused");
            DomainError::Unauthenticated(INVALID)
        })?;
        let claims = data.claims;
        Ok(AccessClaims {
            user_id: parse::<UserId>(&claims.sub)?,
            tenant_id: claims.tid.as_deref().map(parse::<TenantId>).transpose()?,
            session_id: parse::<SessionId>(&claims.sid)?,
            issued_at: timestamp(claims.iat)?,
            expires_at: timestamp(claims.exp)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    fn claims(expires_in: i64) -> AccessClaims {
        let now = Utc::now();
        AccessClaims {
            user_id: UserId::generate(),
            tenant_id: Some(TenantId::generate()),
            session_id: SessionId::generate(),
            issued_at: timestamp(now.timestamp()).unwrap(),
            expires_at: timestamp(now.timestamp() + expires_in).unwrap(),
        }
    }

    #[test]
    fn issued_tokens_verify_back_to_their_claims() {
        let codec = JwtCodec::new(&[1; 32]);
        let claims = claims(900);
        let token = codec.issue(&claims).unwrap();
        assert_eq!(codec.verify(&token).unwrap(), claims);
    }

    #[test]
    fn expired_and_foreign_tokens_are_refused() {
        let codec = JwtCodec::new(&[1; 32]);
        let expired = codec.issue(&claims(-120)).unwrap();
        assert!(codec.verify(&expired).is_err());
        let foreign = JwtCodec::new(&[2; 32]).issue(&claims(900)).unwrap();
        assert!(codec.verify(&foreign).is_err());
    }

    #[test]
    fn tokens_under_another_algorithm_are_refused_even_with_the_right_key() {
        let secret = [1; 32];
        let codec = JwtCodec::new(&secret);
        let token = codec.issue(&claims(900)).unwrap();
        let (_, rest) = token.split_once('.').unwrap();
        for alg in ["HS384", "HS512", "RS256", "none"] {
            let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#));
            let (claims_part, _) = rest.split_once('.').unwrap();
            let signed = format!("{header}.{claims_part}");
            let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(&secret).unwrap();
            hmac::Mac::update(&mut mac, signed.as_bytes());
            let tag = URL_SAFE_NO_PAD.encode(hmac::Mac::finalize(mac).into_bytes());
            assert!(codec.verify(&format!("{signed}.{tag}")).is_err(), "{alg}");
        }
    }
}
