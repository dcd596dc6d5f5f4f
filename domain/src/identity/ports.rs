//! The ports the identity use cases need. Adapters: `refhub-persistence` for storage,
//! `refhub-api` for hashing, token signing and randomness.
//!
//! Tenant-scoped methods take the tenant explicitly; implementations must filter by it, so
//! that another tenant's id answers "not found" exactly like an id that does not exist.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::DomainResult;
use crate::identity::api_key::{ApiKey, KeyCredential};
use crate::identity::email::Email;
use crate::identity::invitation::{Invitation, InvitationDetails, InvitationState};
use crate::identity::membership::{Member, Membership, TenantMembership};
use crate::identity::password::{Password, PasswordHash};
use crate::identity::role::Role;
use crate::identity::session::{
    AccessClaims, NewRefreshToken, RefreshTokenRecord, Session, SignedIn,
};
use crate::identity::tenant::{Tenant, TenantStatus};
use crate::identity::user::User;
use crate::ids::{ApiKeyId, InvitationId, SessionId, TenantId, UserId};
use crate::pagination::{Page, PageRequest};

/// Tenants, as the platform sees them (not tenant-scoped: a tenant row is the tenant itself).
#[async_trait]
pub trait TenantRepository: Send + Sync {
    /// A tenant by id.
    async fn find(&self, id: TenantId) -> DomainResult<Option<Tenant>>;
    /// All tenants, oldest first, optionally only those with `status`.
    async fn list(
        &self,
        status: Option<TenantStatus>,
        page: PageRequest,
    ) -> DomainResult<Page<Tenant>>;
    /// Sets a tenant's status; `None` when there is no such tenant.
    async fn set_status(&self, id: TenantId, status: TenantStatus) -> DomainResult<Option<Tenant>>;
    /// Sets the time zone a tenant's reports count days in; `None` when there is no such
    /// tenant.
    async fn set_time_zone(&self, id: TenantId, time_zone: &str) -> DomainResult<Option<Tenant>>;
}

/// User accounts (global: a user may belong to several tenants).
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// A user by id.
    async fn find(&self, id: UserId) -> DomainResult<Option<User>>;
    /// A user by (normalised) e-mail.
    async fn find_by_email(&self, email: &Email) -> DomainResult<Option<User>>;
    /// Creates the user, or makes the existing user with that e-mail an operator with this
    /// password. Returns the stored user.
    async fn upsert_operator(&self, candidate: &User) -> DomainResult<User>;
}

/// Writes that span several aggregates and must happen together.
#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// Creates a tenant, its owner's account and the owner membership in one transaction.
    /// A taken e-mail is a `Conflict` on `email`.
    async fn create_tenant_with_owner(
        &self,
        tenant: &Tenant,
        owner: &User,
        membership: &Membership,
    ) -> DomainResult<()>;
}

/// Memberships of a tenant.
#[async_trait]
pub trait MembershipRepository: Send + Sync {
    /// The membership of `user_id` in `tenant_id`.
    async fn find(&self, tenant_id: TenantId, user_id: UserId) -> DomainResult<Option<Membership>>;
    /// The tenant's members, oldest first.
    async fn list(&self, tenant_id: TenantId, page: PageRequest) -> DomainResult<Page<Member>>;
    /// Every tenant `user_id` belongs to, in the order they joined.
    async fn list_for_user(&self, user_id: UserId) -> DomainResult<Vec<TenantMembership>>;
    /// Whether the account with `email` is a member of `tenant_id` (one statement, whether or
    /// not such an account exists).
    async fn has_member_with_email(&self, tenant_id: TenantId, email: &Email)
    -> DomainResult<bool>;
    /// Changes a member's role, atomically refusing (`Conflict`) to leave the tenant without
    /// an owner. `NotFound` when there is no such member.
    async fn change_role(
        &self,
        tenant_id: TenantId,
        user_id: UserId,
        role: Role,
    ) -> DomainResult<Membership>;
    /// Removes a member, atomically refusing (`Conflict`) to remove the last owner.
    /// `NotFound` when there is no such member.
    async fn remove(&self, tenant_id: TenantId, user_id: UserId) -> DomainResult<()>;
}

/// Invitations to join a tenant. Tenant-scoped, except the invitee's reads (by token, by
/// address), which cross tenants because the invitee acts outside the workspace.
#[async_trait]
pub trait InvitationRepository: Send + Sync {
    /// Stores a pending invitation. When the tenant already has a pending one for the address
    /// (expired or not), that one takes the new token, role, inviter and expiry instead and
    /// keeps its id: re-inviting refreshes, never duplicates. Returns what is stored.
    async fn save_pending(&self, invitation: &Invitation) -> DomainResult<InvitationDetails>;
    /// How many of the tenant's invitations to addresses other than `besides` are pending and
    /// unexpired at `now` (refreshing the invitation to `besides` adds none).
    async fn count_pending(
        &self,
        tenant_id: TenantId,
        besides: &Email,
        now: DateTime<Utc>,
    ) -> DomainResult<u64>;
    /// The tenant's invitations, whatever became of them, oldest first.
    async fn list(
        &self,
        tenant_id: TenantId,
        page: PageRequest,
    ) -> DomainResult<Page<InvitationDetails>>;
    /// Pending, unexpired invitations to `email` from every tenant, oldest first.
    async fn list_pending_for_email(
        &self,
        email: &Email,
        now: DateTime<Utc>,
        page: PageRequest,
    ) -> DomainResult<Page<InvitationDetails>>;
    /// The invitation whose token has this fingerprint, whichever tenant sent it.
    async fn find_by_token(&self, fingerprint: &str) -> DomainResult<Option<InvitationDetails>>;
    /// Marks the invitation accepted and adds `membership`, together, provided it is still
    /// pending; `false`, and nothing done, when it no longer is (answered meanwhile). An
    /// existing membership is a `Conflict` on `token`.
    async fn accept(
        &self,
        invitation: &Invitation,
        membership: &Membership,
        at: DateTime<Utc>,
    ) -> DomainResult<bool>;
    /// Moves the invitation to `state` (declined or revoked) if it is pending, and returns it
    /// as it then is (its state tells whether it moved); `None` when the tenant has no such
    /// invitation.
    async fn close(
        &self,
        tenant_id: TenantId,
        id: InvitationId,
        state: InvitationState,
        at: DateTime<Utc>,
    ) -> DomainResult<Option<InvitationDetails>>;
}

/// Limits how many invitation e-mails one workspace sends.
pub trait InvitationThrottle: Send + Sync {
    /// `Ok` to send, or `Err(seconds)` to wait before the next.
    fn check(&self, tenant_id: TenantId) -> Result<(), u64>;
}

/// A tenant's API keys.
#[async_trait]
pub trait ApiKeyRepository: Send + Sync {
    /// Stores a new key.
    async fn create(&self, key: &ApiKey) -> DomainResult<()>;
    /// The tenant's keys, oldest first.
    async fn list(&self, tenant_id: TenantId, page: PageRequest) -> DomainResult<Page<ApiKey>>;
    /// A key by id.
    async fn find(&self, tenant_id: TenantId, id: ApiKeyId) -> DomainResult<Option<ApiKey>>;
    /// A key by the fingerprint of its text, with what every request made with it checks:
    /// its workspace and its creator's membership, read together.
    async fn find_by_fingerprint(
        &self,
        tenant_id: TenantId,
        fingerprint: &str,
    ) -> DomainResult<Option<KeyCredential>>;
    /// Marks a key revoked (keeping the first revocation time); `None` when there is no such key.
    async fn revoke(
        &self,
        tenant_id: TenantId,
        id: ApiKeyId,
        at: DateTime<Utc>,
    ) -> DomainResult<Option<ApiKey>>;
    /// Records that the key was used.
    async fn touch(&self, tenant_id: TenantId, id: ApiKeyId, at: DateTime<Utc>)
    -> DomainResult<()>;
}

/// Sessions and their refresh tokens.
#[async_trait]
pub trait SessionRepository: Send + Sync {
    /// Stores a new session with its first refresh token.
    async fn create(&self, session: &Session, first_token: &NewRefreshToken) -> DomainResult<()>;
    /// A session by id.
    async fn find(&self, id: SessionId) -> DomainResult<Option<Session>>;
    /// The session `id` of `user_id` with its user and, when `tenant_id` is given, the user's
    /// membership of that tenant and the tenant, in one read (every authenticated request
    /// makes it). `None` when any of them is missing; the caller looks one by one to say which.
    async fn find_signed_in(
        &self,
        id: SessionId,
        user_id: UserId,
        tenant_id: Option<TenantId>,
    ) -> DomainResult<Option<SignedIn>>;
    /// A refresh token by the fingerprint of its text.
    async fn find_token(&self, fingerprint: &str) -> DomainResult<Option<RefreshTokenRecord>>;
    /// Atomically marks `used_token` used and stores `next` in its place. Returns `false`, and
    /// stores nothing, when the token had already been used (a concurrent or replayed refresh).
    async fn rotate(
        &self,
        used_token: Uuid,
        next: &NewRefreshToken,
        tenant_id: Option<TenantId>,
        at: DateTime<Utc>,
    ) -> DomainResult<bool>;
    /// Ends a session; its refresh tokens and access tokens stop working.
    async fn revoke(&self, id: SessionId, at: DateTime<Utc>) -> DomainResult<()>;
    /// Ends every session of a user; returns how many were active.
    async fn revoke_all_for_user(&self, user_id: UserId, at: DateTime<Utc>) -> DomainResult<u64>;
}

/// Password hashing (argon2id). Implementations keep the CPU-heavy work off async threads.
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// Hashes a new password.
    async fn hash(&self, password: &Password) -> DomainResult<PasswordHash>;
    /// Checks a password against a stored hash. With no hash (unknown user) it still spends the
    /// same time, then answers `false`, so that response times do not reveal accounts.
    async fn verify(&self, password: &Password, hash: Option<&PasswordHash>) -> DomainResult<bool>;
}

/// Signs and checks access tokens.
pub trait AccessTokenCodec: Send + Sync {
    /// Signs claims into a token.
    fn issue(&self, claims: &AccessClaims) -> DomainResult<String>;
    /// Checks a token's signature, algorithm, issuer, audience and expiry.
    fn verify(&self, token: &str) -> DomainResult<AccessClaims>;
}

/// Random opaque tokens (refresh tokens, API key secrets) and their stored fingerprints.
pub trait SecretGenerator: Send + Sync {
    /// A new random token of letters and digits, with at least 256 bits of entropy.
    fn random_token(&self) -> String;
    /// The fingerprint stored in place of a high-entropy token (a fast hash is enough there).
    fn fingerprint(&self, token: &str) -> String;
}
