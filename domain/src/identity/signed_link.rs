//! Signed links: a URL a browser can open without an `Authorization` header (`<img src>`,
//! `<a download>`), good for one resource, for a few minutes, as the member who asked for it.
//!
//! The link carries the member's session, not a credential: opening it checks, as every request
//! does, that the session is still signed in, the membership still stands and the workspace is
//! open. The signature binds the path, so a link to one ref link's QR code opens nothing else.

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::identity::session::AccessClaims;
use crate::ids::{SessionId, TenantId, UserId};

/// How long a signed link opens its resource.
pub const SIGNED_LINK_TTL: Duration = Duration::minutes(10);

/// The query parameter a signed link travels in.
pub const SIGNED_LINK_PARAMETER: &str = "link";

/// Signs and checks the bytes of a link (a keyed MAC; the key never leaves the adapter).
pub trait LinkSigner: Send + Sync {
    /// The signature of `message`, URL-safe.
    fn sign(&self, message: &[u8]) -> String;
    /// Whether `signature` is `message`'s, compared in constant time.
    fn verify(&self, message: &[u8], signature: &str) -> bool;
}

/// What a link says, before its signature is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkClaims {
    /// The workspace.
    pub tenant_id: TenantId,
    /// The member.
    pub user_id: UserId,
    /// The session the link was made in.
    pub session_id: SessionId,
    /// When it stops opening.
    pub expires_at: DateTime<Utc>,
}

impl LinkClaims {
    /// The token for `resource`: the claims, then their signature.
    pub fn encode(&self, resource: &str, signer: &dyn LinkSigner) -> String {
        let body = self.body();
        let signature = signer.sign(Self::message(resource, &body).as_bytes());
        format!("{body}.{signature}")
    }

    /// Reads a token for `resource`; `None` when it is malformed or its signature is not
    /// `resource`'s. Expiry is the caller's to check.
    pub fn decode(token: &str, resource: &str, signer: &dyn LinkSigner) -> Option<Self> {
        let (body, signature) = token.rsplit_once('.')?;
        if !signer.verify(Self::message(resource, body).as_bytes(), signature) {
            return None;
        }
        let mut parts = body.split('.');
        let tenant_id = parts.next()?.parse().ok()?;
        let user_id = parts.next()?.parse().ok()?;
        let session_id = parts.next()?.parse().ok()?;
        let expires_at = Utc.timestamp_opt(parts.next()?.parse().ok()?, 0).single()?;
        if parts.next().is_some() {
            return None;
        }
        Some(Self {
            tenant_id,
            user_id,
            session_id,
            expires_at,
        })
    }

    /// The claims as the session checks read them.
    pub fn as_access_claims(&self) -> AccessClaims {
        AccessClaims {
            user_id: self.user_id,
            tenant_id: Some(self.tenant_id),
            session_id: self.session_id,
            issued_at: self.expires_at - SIGNED_LINK_TTL,
            expires_at: self.expires_at,
        }
    }

    fn body(&self) -> String {
        format!(
            "{}.{}.{}.{}",
            self.tenant_id.0.simple(),
            self.user_id.0.simple(),
            self.session_id.0.simple(),
            self.expires_at.timestamp()
        )
    }

    /// What is signed: a purpose, so that no other MAC under the key can pass for a link; the
    /// resource; and the claims.
    fn message(resource: &str, body: &str) -> String {
        format!("refhub signed link v1\n{resource}\n{body}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in MAC: good enough to test the format, never used outside tests.
    struct Reversed;

    impl LinkSigner for Reversed {
        fn sign(&self, message: &[u8]) -> String {
            format!("{:016x}", fxhash(message))
        }
        fn verify(&self, message: &[u8], signature: &str) -> bool {
            self.sign(message) == signature
        }
    }

    fn fxhash(bytes: &[u8]) -> u64 {
        bytes.iter().fold(0xcbf29ce484222325, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x100000001b3)
        })
    }

    fn claims() -> LinkClaims {
        LinkClaims {
            tenant_id: TenantId::generate(),
            user_id: UserId::generate(),
            session_id: SessionId::generate(),
            expires_at: Utc.timestamp_opt(1_900_000_000, 0).unwrap(),
        }
    }

    #[test]
    fn a_link_opens_its_resource_only() {
        let claims = claims();
        let token = claims.encode("/api/ref-links/1/qr.png", &Reversed);
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.')
        );
        assert_eq!(
            LinkClaims::decode(&token, "/api/ref-links/1/qr.png", &Reversed),
            Some(claims)
        );
        assert_eq!(
            LinkClaims::decode(&token, "/api/ref-links/2/qr.png", &Reversed),
            None
        );
    }

    #[test]
    fn a_changed_link_is_refused() {
        let token = claims().encode("/r", &Reversed);
        let later = token.replacen("1900000000", "1900000001", 1);
        assert_eq!(LinkClaims::decode(&later, "/r", &Reversed), None);
        assert_eq!(LinkClaims::decode("", "/r", &Reversed), None);
        assert_eq!(LinkClaims::decode("a.b.c", "/r", &Reversed), None);
    }
}
