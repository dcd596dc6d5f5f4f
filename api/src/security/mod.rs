//! Outbound adapters for the identity ports that need cryptography.

mod aead_cipher;
mod hub_signature;
mod jwt_codec;
mod jwt_hs256_provider;
mod keyed_throttle;
mod link_signer;
mod password_hasher;
mod random_secrets;
mod signed_request_mac;

pub use aead_cipher::AeadCipher;
pub use hub_signature::HubSignatures;
pub use jwt_codec::JwtCodec;
pub use keyed_throttle::{KeyedThrottle, retry_after_secs};
pub use link_signer::HmacLinkSigner;
pub use password_hasher::Argon2Hasher;
pub use random_secrets::{RandomSecrets, random_alphanumeric, random_bytes};
pub use signed_request_mac::HmacSha256SignedRequests;
