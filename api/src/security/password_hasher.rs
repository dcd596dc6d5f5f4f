//! argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane), hashed on the blocking pool
//! with bounded concurrency so that a burst of log-ins cannot starve the async workers or
//! exhaust memory.

use std::sync::{Arc, OnceLock};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash as PhcHash, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};
use async_trait::async_trait;
use refhub_domain::identity::{Password, PasswordHash, PasswordHasher};
use refhub_domain::{DomainError, DomainResult};
use tokio::sync::Semaphore;

const MEMORY_KIB: u32 = 19 * 1024;
const PASSES: u32 = 2;
const LANES: u32 = 1;

/// The [`PasswordHasher`] adapter.
#[derive(Clone)]
pub struct Argon2Hasher {
    permits: Arc<Semaphore>,
}

impl Argon2Hasher {
    /// At most `concurrency` hashes run at once (each holds 19 MiB and a core).
    pub fn new(concurrency: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    fn argon2() -> Argon2<'static> {
        let params = Params::new(MEMORY_KIB, PASSES, LANES, None).expect("valid argon2 parameters");
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> DomainResult<T> + Send + 'static,
    ) -> DomainResult<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(DomainError::internal)?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(DomainError::internal)?
    }
}

/// A hash of a password nobody knows, verified against when the account does not exist so
/// that the answer takes as long as for a real account.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2Hasher::argon2()
            .hash_password(super::random_alphanumeric(32).as_bytes(), &salt)
            .expect("hashing a random password")
            .to_string()
    })
}

#[derive(Debug, thiserror::Error)]
#[error("argon2: {0}")]
struct HashFailure(String);

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &Password) -> DomainResult<PasswordHash> {
        let password = password.clone();
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            Self::argon2()
                .hash_password(password.expose().as_bytes(), &salt)
                .map(|hash| PasswordHash(hash.to_string()))
                .map_err(|err| DomainError::internal(HashFailure(err.to_string())))
        })
        .await
    }

    async fn verify(&self, password: &Password, hash: Option<&PasswordHash>) -> DomainResult<bool> {
        let password = password.clone();
        let known = hash.is_some();
        let stored = hash.map_or_else(|| decoy_hash().to_owned(), |h| h.0.clone());
        self.run(move || {
            let parsed = PhcHash::new(&stored)
                .map_err(|err| DomainError::internal(HashFailure(err.to_string())))?;
            let matches = Self::argon2()
                .verify_password(password.expose().as_bytes(), &parsed)
                .is_ok();
            Ok(known && matches)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_use_owasp_parameters() {
        let hasher = Argon2Hasher::new(2);
        let password = Password::presented("correct-Horse-battery-9".into());
        let hash = hasher.hash(&password).await.unwrap();
        assert!(
            hash.0.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            hash.0
        );
        assert!(hasher.verify(&password, Some(&hash)).await.unwrap());
        let wrong = Password::presented("wrong-Horse-battery-9".into());
        assert!(!hasher.verify(&wrong, Some(&hash)).await.unwrap());
        assert!(!hasher.verify(&password, None).await.unwrap());
    }
}
