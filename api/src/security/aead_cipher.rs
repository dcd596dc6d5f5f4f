//! Secrets at rest with XChaCha20-Poly1305: a random 192-bit nonce per value (safe to draw at
//! random), and the tenant, row and purpose as associated data, so a sealed value moved to
//! another row or tenant fails to open instead of being used there.

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use refhub_domain::catalogue::{SealedSecret, SecretCipher, SecretPurpose};
use refhub_domain::ids::TenantId;
use refhub_domain::{DomainError, DomainResult};
use uuid::Uuid;

const NONCE_BYTES: usize = 24;

/// The [`SecretCipher`] adapter.
pub struct AeadCipher {
    cipher: XChaCha20Poly1305,
}

impl AeadCipher {
    /// A cipher with a 256-bit key.
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(key.into()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("sealed secret could not be {0} (wrong key, tenant, row or purpose, or corrupted)")]
struct CipherFailure(&'static str);

fn associated_data(tenant_id: TenantId, row_id: Uuid, purpose: SecretPurpose) -> Vec<u8> {
    let mut aad = Vec::with_capacity(48);
    aad.extend_from_slice(b"refhub:v1:");
    aad.extend_from_slice(tenant_id.0.as_bytes());
    aad.extend_from_slice(row_id.as_bytes());
    aad.extend_from_slice(purpose.label().as_bytes());
    aad
}

impl SecretCipher for AeadCipher {
    fn seal(
        &self,
        plaintext: &str,
        tenant_id: TenantId,
        row_id: Uuid,
        purpose: SecretPurpose,
    ) -> DomainResult<SealedSecret> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let aad = associated_data(tenant_id, row_id, purpose);
        let ciphertext = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| DomainError::internal(CipherFailure("sealed")))?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        Ok(SealedSecret(sealed))
    }

    fn open(
        &self,
        sealed: &SealedSecret,
        tenant_id: TenantId,
        row_id: Uuid,
        purpose: SecretPurpose,
    ) -> DomainResult<String> {
        if sealed.0.len() <= NONCE_BYTES {
            return Err(DomainError::internal(CipherFailure("opened")));
        }
        let (nonce, ciphertext) = sealed.0.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce
            .try_into()
            .map_err(|_| DomainError::internal(CipherFailure("opened")))?;
        let aad = associated_data(tenant_id, row_id, purpose);
        let plaintext = self
            .cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| DomainError::internal(CipherFailure("opened")))?;
        String::from_utf8(plaintext).map_err(|_| DomainError::internal(CipherFailure("opened")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_in_their_place() {
        let cipher = AeadCipher::new(&[9; 32]);
        let tenant = TenantId::generate();
        let row = Uuid::now_v7();
        let sealed = cipher
            .seal(
                "EAAB-page-token",
                tenant,
                row,
                SecretPurpose::PageAccessToken,
            )
            .unwrap();
        assert!(!sealed.0.windows(5).any(|w| w == b"EAAB-"));
        let opened = cipher
            .open(&sealed, tenant, row, SecretPurpose::PageAccessToken)
            .unwrap();
        assert_eq!(opened, "EAAB-page-token");
        assert!(
            cipher
                .open(
                    &sealed,
                    TenantId::generate(),
                    row,
                    SecretPurpose::PageAccessToken
                )
                .is_err()
        );
        assert!(
            cipher
                .open(
                    &sealed,
                    tenant,
                    Uuid::now_v7(),
                    SecretPurpose::PageAccessToken
                )
                .is_err()
        );
        assert!(
            cipher
                .open(&sealed, tenant, row, SecretPurpose::AppSecret)
                .is_err()
        );
        assert!(
            AeadCipher::new(&[8; 32])
                .open(&sealed, tenant, row, SecretPurpose::PageAccessToken)
                .is_err()
        );
    }
}
