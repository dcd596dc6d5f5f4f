//! Random tokens from the operating system's generator, fingerprinted with SHA-256.

use rand::Rng;
use rand::distributions::Alphanumeric;
use rand::rngs::OsRng;
use refhub_domain::identity::SecretGenerator;
use sha2::{Digest, Sha256};

/// 43 letters and digits carry 256 bits (43 × log2 62 ≈ 256.1).
const TOKEN_CHARS: usize = 43;

/// `n` random letters and digits.
pub fn random_alphanumeric(n: usize) -> String {
    OsRng
        .sample_iter(&Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

/// `N` random bytes.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::RngCore::fill_bytes(&mut OsRng, &mut bytes);
    bytes
}

/// The [`SecretGenerator`] adapter. Tokens have full entropy, so a plain SHA-256 fingerprint
/// (no salt, no stretching) is enough to make a stolen table useless, and lets lookups be
/// by equality on an index.
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomSecrets;

impl SecretGenerator for RandomSecrets {
    fn random_token(&self) -> String {
        random_alphanumeric(TOKEN_CHARS)
    }

    fn fingerprint(&self, token: &str) -> String {
        hex::encode(Sha256::digest(token.as_bytes()))
    }
}
