//! Outbound adapters for the identity ports that need cryptography.

mod aead_cipher;
mod hub_signature;
mod jwt_codec;
mod password_hasher;
mod random_secrets;
mod send_throttle;
mod sign_in_throttle;

pub use aead_cipher::AeadCipher;
pub use hub_signature::HubSignatures;
pub use jwt_codec::JwtCodec;
pub use password_hasher::Argon2Hasher;
pub use random_secrets::{RandomSecrets, random_alphanumeric, random_bytes};
pub use send_throttle::PageSendThrottle;
pub use sign_in_throttle::GovernorThrottle;
