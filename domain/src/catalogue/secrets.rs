//! Secrets at rest (app secrets, page tokens, notification tokens): sealed with an AEAD cipher,
//! bound to the tenant, the row and the purpose, so that a sealed value copied to another row
//! or tenant does not open.

use std::fmt;

use uuid::Uuid;

use crate::error::DomainResult;
use crate::ids::TenantId;

/// What a secret is for; part of what binds it to its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretPurpose {
    /// A Messenger app's secret (verifies webhook signatures).
    AppSecret,
    /// A Messenger app's webhook verify token.
    VerifyToken,
    /// A page access token (sends messages).
    PageAccessToken,
    /// A recurring-notification token.
    NotificationToken,
}

impl SecretPurpose {
    /// A stable label, part of the associated data.
    pub fn label(self) -> &'static str {
        match self {
            SecretPurpose::AppSecret => "app_secret",
            SecretPurpose::VerifyToken => "verify_token",
            SecretPurpose::PageAccessToken => "page_access_token",
            SecretPurpose::NotificationToken => "notification_token",
        }
    }
}

/// A sealed secret: nonce and ciphertext, opaque outside the cipher. `Debug` shows no bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret(pub Vec<u8>);

impl fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealedSecret({} bytes)", self.0.len())
    }
}

/// Seals and opens secrets.
pub trait SecretCipher: Send + Sync {
    /// Seals `plaintext` for one tenant, row and purpose.
    fn seal(
        &self,
        plaintext: &str,
        tenant_id: TenantId,
        row_id: Uuid,
        purpose: SecretPurpose,
    ) -> DomainResult<SealedSecret>;
    /// Opens a sealed secret; fails if it was sealed for another tenant, row or purpose.
    fn open(
        &self,
        sealed: &SealedSecret,
        tenant_id: TenantId,
        row_id: Uuid,
        purpose: SecretPurpose,
    ) -> DomainResult<String>;
}
