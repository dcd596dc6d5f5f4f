//! User accounts: one per e-mail address, shared across the tenants the person belongs to.

use chrono::{DateTime, Utc};

use crate::identity::email::Email;
use crate::identity::password::PasswordHash;
use crate::ids::UserId;

/// A user account as stored.
#[derive(Debug, Clone)]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// The sign-in address.
    pub email: Email,
    /// argon2id hash of the password.
    pub password_hash: PasswordHash,
    /// Whether this user operates the platform (lists and suspends tenants).
    pub is_operator: bool,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
}
