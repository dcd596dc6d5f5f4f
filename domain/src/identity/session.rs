//! Sign-in sessions: a family of rotating refresh tokens, and the short-lived access tokens
//! issued from it.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::identity::membership::Membership;
use crate::identity::tenant::Tenant;
use crate::identity::user::User;
use crate::ids::{SessionId, TenantId, UserId};

/// One sign-in: every refresh token it rotates through belongs to it, so reuse of an old token
/// can revoke them all at once.
#[derive(Debug, Clone)]
pub struct Session {
    /// Its id (the family id, carried in access tokens as `sid`).
    pub id: SessionId,
    /// Who signed in.
    pub user_id: UserId,
    /// The workspace the session acts in, if any.
    pub tenant_id: Option<TenantId>,
    /// When it began.
    pub created_at: DateTime<Utc>,
    /// When it was ended (log-out or detected token reuse).
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Session {
    /// Whether tokens of this session are still honoured.
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }
}

/// A refresh token to store: only its fingerprint is kept.
#[derive(Debug, Clone)]
pub struct NewRefreshToken {
    /// Its id.
    pub id: Uuid,
    /// The session it belongs to.
    pub session_id: SessionId,
    /// Fingerprint of the token text.
    pub fingerprint: String,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
}

/// A stored refresh token with its session.
#[derive(Debug, Clone)]
pub struct RefreshTokenRecord {
    /// Its id.
    pub id: Uuid,
    /// Its session.
    pub session: Session,
    /// When it was exchanged for a new one; a second use is a theft signal.
    pub used_at: Option<DateTime<Utc>>,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
}

/// What an access token asserts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    /// The user (`sub`).
    pub user_id: UserId,
    /// The workspace (`tid`), if one is selected.
    pub tenant_id: Option<TenantId>,
    /// The session (`sid`).
    pub session_id: SessionId,
    /// When it was issued (`iat`).
    pub issued_at: DateTime<Utc>,
    /// When it expires (`exp`).
    pub expires_at: DateTime<Utc>,
}

/// Everything an access token is checked against, read together: its session, its user and,
/// when it names a workspace, the user's membership of it and the workspace itself.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The token's session.
    pub session: Session,
    /// The session's user.
    pub user: User,
    /// The membership and workspace, when the token names one.
    pub workspace: Option<(Membership, Tenant)>,
}
