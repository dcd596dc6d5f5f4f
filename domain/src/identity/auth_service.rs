//! Sign-up, sign-in, token refresh and rotation, log-out, tenant switching, and resolving a
//! bearer credential into a [`Principal`].

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::clock::Clock;
use crate::error::{DomainError, DomainResult, ForbiddenReason};
use crate::identity::api_key::ParsedApiKey;
use crate::identity::email::Email;
use crate::identity::membership::{Membership, TenantMembership};
use crate::identity::password::Password;
use crate::identity::ports::{
    AccessTokenCodec, ApiKeyRepository, IdentityStore, MembershipRepository, PasswordHasher,
    SecretGenerator, SessionRepository, TenantRepository, UserRepository,
};
use crate::identity::principal::{Actor, Principal, TenantAccess};
use crate::identity::role::Role;
use crate::identity::session::{AccessClaims, NewRefreshToken, Session, SignedIn};
use crate::identity::signed_link::{LinkClaims, LinkSigner, SIGNED_LINK_TTL};
use crate::identity::tenant::{Tenant, TenantName, TenantStatus};
use crate::identity::user::User;
use crate::ids::{SessionId, TenantId, UserId};

const BAD_CREDENTIALS: &str = "wrong e-mail or password";
const BAD_ACCESS_TOKEN: &str = "invalid or expired access token";
const BAD_REFRESH_TOKEN: &str = "invalid or expired refresh token; sign in again";
const BAD_API_KEY: &str = "invalid or revoked API key";
/// An API key's last use is written at most this often, to keep reads read-only.
const KEY_TOUCH_INTERVAL_SECS: i64 = 60;

/// Lifetimes of issued tokens.
#[derive(Debug, Clone, Copy)]
pub struct TokenSettings {
    /// Access tokens (at most 15 minutes).
    pub access_ttl: Duration,
    /// Refresh tokens.
    pub refresh_ttl: Duration,
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            access_ttl: Duration::minutes(15),
            refresh_ttl: Duration::days(30),
        }
    }
}

/// What a successful sign-in, refresh or switch hands back.
#[derive(Debug, Clone)]
pub struct AuthTokens {
    /// The short-lived bearer token.
    pub access_token: String,
    /// The single-use token that buys the next pair.
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in_secs: i64,
    /// Who signed in.
    pub user: User,
    /// The workspace selected, with the user's role in it.
    pub tenant: Option<(Tenant, Role)>,
}

/// Which sessions a log-out ends.
#[derive(Debug, Clone)]
pub enum LogOutScope {
    /// The session of the access token used.
    Current,
    /// The session a given refresh token belongs to (it must be the caller's).
    RefreshToken(String),
    /// Every session of the user.
    Everywhere,
}

/// The identity use cases.
pub struct AuthService {
    tenants: Arc<dyn TenantRepository>,
    users: Arc<dyn UserRepository>,
    store: Arc<dyn IdentityStore>,
    memberships: Arc<dyn MembershipRepository>,
    api_keys: Arc<dyn ApiKeyRepository>,
    sessions: Arc<dyn SessionRepository>,
    hasher: Arc<dyn PasswordHasher>,
    tokens: Arc<dyn AccessTokenCodec>,
    secrets: Arc<dyn SecretGenerator>,
    links: Arc<dyn LinkSigner>,
    clock: Arc<dyn Clock>,
    settings: TokenSettings,
}

/// Everything [`AuthService`] is built from.
pub struct AuthPorts {
    /// Tenants.
    pub tenants: Arc<dyn TenantRepository>,
    /// Users.
    pub users: Arc<dyn UserRepository>,
    /// Multi-aggregate writes.
    pub store: Arc<dyn IdentityStore>,
    /// Memberships.
    pub memberships: Arc<dyn MembershipRepository>,
    /// API keys.
    pub api_keys: Arc<dyn ApiKeyRepository>,
    /// Sessions.
    pub sessions: Arc<dyn SessionRepository>,
    /// Password hashing.
    pub hasher: Arc<dyn PasswordHasher>,
    /// Access token signing.
    pub tokens: Arc<dyn AccessTokenCodec>,
    /// Randomness and fingerprints.
    pub secrets: Arc<dyn SecretGenerator>,
    /// Signs links a browser opens without a header (QR images, CSV exports).
    pub links: Arc<dyn LinkSigner>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

impl AuthService {
    /// Builds the service.
    pub fn new(ports: AuthPorts, settings: TokenSettings) -> Self {
        Self {
            tenants: ports.tenants,
            users: ports.users,
            store: ports.store,
            memberships: ports.memberships,
            api_keys: ports.api_keys,
            sessions: ports.sessions,
            hasher: ports.hasher,
            tokens: ports.tokens,
            secrets: ports.secrets,
            links: ports.links,
            clock: ports.clock,
            settings,
        }
    }

    /// Creates a tenant and its owner, and signs the owner in.
    pub async fn sign_up(
        &self,
        email: &str,
        password: String,
        tenant_name: &str,
    ) -> DomainResult<AuthTokens> {
        let email = Email::parse(email)?;
        let tenant_name = TenantName::parse(tenant_name)?;
        let password = Password::new_checked(password, &[email.as_str()])?;
        if self.users.find_by_email(&email).await?.is_some() {
            return Err(email_taken());
        }
        let now = self.clock.now();
        let user = User {
            id: UserId::generate(),
            email,
            password_hash: self.hasher.hash(&password).await?,
            is_operator: false,
            created_at: now,
        };
        let tenant = Tenant::new(&tenant_name, now);
        let membership = Membership::new(tenant.id, user.id, Role::Owner, now);
        self.store
            .create_tenant_with_owner(&tenant, &user, &membership)
            .await?;
        tracing::info!(tenant_id = %tenant.id, user_id = %user.id, "tenant signed up");
        self.start_session(user, Some((tenant, Role::Owner))).await
    }

    /// Signs a user in, into `tenant_id` or else the first active workspace they belong to.
    pub async fn log_in(
        &self,
        email: &str,
        password: String,
        tenant_id: Option<TenantId>,
    ) -> DomainResult<AuthTokens> {
        // A malformed address cannot belong to anyone: same answer as a wrong password.
        let user = match Email::parse(email) {
            Ok(email) => self.users.find_by_email(&email).await?,
            Err(_) => None,
        };
        let password = Password::presented(password);
        let verified = self
            .hasher
            .verify(&password, user.as_ref().map(|u| &u.password_hash))
            .await?;
        let user = match user {
            Some(user) if verified => user,
            _ => return Err(DomainError::Unauthenticated(BAD_CREDENTIALS)),
        };
        let memberships = self.memberships.list_for_user(user.id).await?;
        let tenant = select_tenant(memberships, tenant_id)?;
        self.start_session(user, tenant).await
    }

    /// Exchanges a refresh token for a new pair. A token presented twice ends its whole session:
    /// one of the two presenters is not who they claim to be.
    pub async fn refresh(&self, refresh_token: &str) -> DomainResult<AuthTokens> {
        let fingerprint = self.secrets.fingerprint(refresh_token);
        let record = self
            .sessions
            .find_token(&fingerprint)
            .await?
            .ok_or(DomainError::Unauthenticated(BAD_REFRESH_TOKEN))?;
        let now = self.clock.now();
        let session = record.session;
        if !session.is_active() || record.expires_at <= now {
            return Err(DomainError::Unauthenticated(BAD_REFRESH_TOKEN));
        }
        if record.used_at.is_some() {
            return Err(self.revoke_on_reuse(&session, now).await);
        }
        let user = self
            .users
            .find(session.user_id)
            .await?
            .ok_or(DomainError::Unauthenticated(BAD_REFRESH_TOKEN))?;
        // The member may have been removed from the session's tenant since: fall back to
        // another workspace rather than failing the refresh.
        let memberships = self.memberships.list_for_user(user.id).await?;
        let tenant = match select_tenant(memberships.clone(), session.tenant_id) {
            Ok(tenant) => tenant,
            Err(_) => select_tenant(memberships, None)?,
        };
        let (next, next_text) = self.new_refresh_token(session.id, now);
        let tenant_id = tenant.as_ref().map(|(t, _)| t.id);
        if !self
            .sessions
            .rotate(record.id, &next, tenant_id, now)
            .await?
        {
            return Err(self.revoke_on_reuse(&session, now).await);
        }
        self.issue(user, tenant, session.id, next_text, now)
    }

    /// Ends sessions of the caller; returns how many were ended.
    pub async fn log_out(&self, principal: &Principal, scope: LogOutScope) -> DomainResult<u64> {
        let (user_id, session_id) = principal.require_user()?;
        let now = self.clock.now();
        match scope {
            LogOutScope::Current => {
                self.sessions.revoke(session_id, now).await?;
                Ok(1)
            }
            LogOutScope::RefreshToken(token) => {
                let fingerprint = self.secrets.fingerprint(&token);
                match self.sessions.find_token(&fingerprint).await? {
                    Some(record) if record.session.user_id == user_id => {
                        let was_active = record.session.is_active();
                        self.sessions.revoke(record.session.id, now).await?;
                        Ok(u64::from(was_active))
                    }
                    _ => Err(DomainError::not_found_in("refresh token", "refreshToken")),
                }
            }
            LogOutScope::Everywhere => self.sessions.revoke_all_for_user(user_id, now).await,
        }
    }

    /// Starts a session in another workspace the caller belongs to.
    pub async fn switch_tenant(
        &self,
        principal: &Principal,
        tenant_id: TenantId,
    ) -> DomainResult<AuthTokens> {
        let (user_id, _) = principal.require_user()?;
        let user = self
            .users
            .find(user_id)
            .await?
            .ok_or(DomainError::Unauthenticated(BAD_ACCESS_TOKEN))?;
        let memberships = self.memberships.list_for_user(user_id).await?;
        let tenant = select_tenant(memberships, Some(tenant_id))?;
        self.start_session(user, tenant).await
    }

    /// Resolves a bearer credential (access token or API key) into the caller, checking on
    /// every request that the session, membership and tenant are still in good standing.
    pub async fn authenticate(&self, bearer: &str) -> DomainResult<Principal> {
        match ParsedApiKey::parse(bearer) {
            Some(parsed) => self.authenticate_api_key(bearer, parsed).await,
            None => self.authenticate_access_token(bearer).await,
        }
    }

    /// The workspace a credential says it acts for, before it is checked (an API key names
    /// its workspace; an access token's signature is checked, not its session). Lets the
    /// caller prepare to read in that workspace; [`AuthService::authenticate`] decides.
    pub fn claimed_tenant(&self, bearer: &str) -> Option<TenantId> {
        match ParsedApiKey::parse(bearer) {
            Some(parsed) => Some(parsed.tenant_id),
            None => self.tokens.verify(bearer).ok()?.tenant_id,
        }
    }

    /// The caller's account and workspaces.
    pub async fn me(&self, principal: &Principal) -> DomainResult<(User, Vec<TenantMembership>)> {
        let (user_id, _) = principal.require_user()?;
        let user = self
            .users
            .find(user_id)
            .await?
            .ok_or(DomainError::Unauthenticated(BAD_ACCESS_TOKEN))?;
        let memberships = self.memberships.list_for_user(user_id).await?;
        Ok((user, memberships))
    }

    /// The caller's current tenant.
    pub async fn current_tenant(&self, principal: &Principal) -> DomainResult<Tenant> {
        let access = principal.tenant()?;
        self.tenants
            .find(access.tenant_id)
            .await?
            .ok_or(DomainError::not_found("tenant"))
    }

    /// Sets the time zone the workspace's reports count days in (owners and admins).
    pub async fn set_time_zone(&self, principal: &Principal, name: &str) -> DomainResult<Tenant> {
        let access = principal.require_role(Role::Admin)?;
        let zone = crate::analytics::time_zone(name, "timeZone")?;
        self.tenants
            .set_time_zone(access.tenant_id, zone.name())
            .await?
            .ok_or(DomainError::not_found("tenant"))
    }

    async fn authenticate_api_key(
        &self,
        bearer: &str,
        parsed: ParsedApiKey,
    ) -> DomainResult<Principal> {
        let fingerprint = self.secrets.fingerprint(bearer);
        let credential = self
            .api_keys
            .find_by_fingerprint(parsed.tenant_id, &fingerprint)
            .await?
            .filter(|credential| credential.key.is_active())
            .ok_or(DomainError::Unauthenticated(BAD_API_KEY))?;
        let role = credential
            .acting_role()
            .ok_or(DomainError::Unauthenticated(
                "this API key's creator is no longer a member of the workspace",
            ))?;
        not_suspended(credential.tenant)?;
        let key = credential.key;
        let now = self.clock.now();
        let stale = key
            .last_used_at
            .is_none_or(|at| now - at > Duration::seconds(KEY_TOUCH_INTERVAL_SECS));
        if stale {
            self.api_keys.touch(key.tenant_id, key.id, now).await?;
        }
        Ok(Principal {
            actor: Actor::ApiKey { key_id: key.id },
            tenant: Some(TenantAccess {
                tenant_id: key.tenant_id,
                role,
            }),
            is_operator: false,
        })
    }

    /// A signed link to `resource` for the caller's session, and when it stops opening.
    /// Only a signed-in member's session can sign one: an API key has a header to send, and a
    /// link must not outlive the session that made it.
    pub fn sign_link(
        &self,
        principal: &Principal,
        resource: &str,
    ) -> DomainResult<Option<(String, DateTime<Utc>)>> {
        let access = principal.require_role(Role::Viewer)?;
        let Actor::User {
            user_id,
            session_id,
        } = principal.actor
        else {
            return Ok(None);
        };
        let claims = LinkClaims {
            tenant_id: access.tenant_id,
            user_id,
            session_id,
            expires_at: self.clock.now() + SIGNED_LINK_TTL,
        };
        Ok(Some((
            claims.encode(resource, self.links.as_ref()),
            claims.expires_at,
        )))
    }

    /// Checks again a caller authenticated earlier on a long-lived connection (a websocket):
    /// a member's session must still be signed in, their membership and workspace still good;
    /// an API key still active. The access token's own expiry is not checked again: it bounds
    /// how long the token may open new connections, while a connection it opened lives as long
    /// as its session, so that a dashboard's live feed does not drop at every token renewal.
    pub async fn recheck(&self, principal: &Principal, bearer: &str) -> DomainResult<Principal> {
        match principal.actor {
            Actor::User {
                user_id,
                session_id,
            } => {
                let now = self.clock.now();
                self.principal_of(AccessClaims {
                    user_id,
                    tenant_id: principal.tenant.map(|t| t.tenant_id),
                    session_id,
                    issued_at: now,
                    expires_at: now,
                })
                .await
            }
            Actor::ApiKey { .. } => self.authenticate(bearer).await,
        }
    }

    /// The caller a signed link to `resource` stands for, checked as an access token is: the
    /// session still signed in, the membership and the workspace still good.
    pub async fn authenticate_link(&self, resource: &str, token: &str) -> DomainResult<Principal> {
        const BAD_LINK: &str = "this link is invalid or has expired; get a new one";
        let claims = LinkClaims::decode(token, resource, self.links.as_ref())
            .filter(|claims| claims.expires_at > self.clock.now())
            .ok_or(DomainError::Unauthenticated(BAD_LINK))?;
        self.principal_of(claims.as_access_claims())
            .await
            .map_err(|err| match err {
                DomainError::Unauthenticated(_) => DomainError::Unauthenticated(BAD_LINK),
                other => other,
            })
    }

    async fn authenticate_access_token(&self, bearer: &str) -> DomainResult<Principal> {
        let claims = self.tokens.verify(bearer)?;
        self.principal_of(claims).await
    }

    /// The caller a verified access token (or signed link) names, if its session, user,
    /// membership and workspace still hold.
    async fn principal_of(&self, claims: AccessClaims) -> DomainResult<Principal> {
        // Every request of a signed-in member comes this way: one read when all is well, and
        // only a refusal looks at the pieces one by one to say what is wrong.
        let Some(signed_in) = self
            .sessions
            .find_signed_in(claims.session_id, claims.user_id, claims.tenant_id)
            .await?
        else {
            return Err(self.why_not_signed_in(&claims).await?);
        };
        let SignedIn {
            session,
            user,
            workspace,
        } = signed_in;
        // The read matched the token's session, user and workspace; what is left to check is
        // whether the session still holds and the workspace is open.
        if !session.is_active() {
            return Err(DomainError::Unauthenticated(BAD_ACCESS_TOKEN));
        }
        let tenant = match (claims.tenant_id, workspace) {
            (None, _) => None,
            (Some(tenant_id), Some((membership, tenant))) => {
                not_suspended(tenant)?;
                Some(TenantAccess {
                    tenant_id,
                    role: membership.role,
                })
            }
            (Some(_), None) => return Err(DomainError::Unauthenticated(BAD_ACCESS_TOKEN)),
        };
        Ok(Principal {
            actor: Actor::User {
                user_id: user.id,
                session_id: session.id,
            },
            tenant,
            is_operator: user.is_operator,
        })
    }

    /// Why an access token's session, user, membership or workspace was not found together:
    /// the first of them missing, ended or suspended, in that order.
    async fn why_not_signed_in(&self, claims: &AccessClaims) -> DomainResult<DomainError> {
        let bad_token = DomainError::Unauthenticated(BAD_ACCESS_TOKEN);
        let session = self.sessions.find(claims.session_id).await?;
        if !session.is_some_and(|s| s.is_active() && s.user_id == claims.user_id) {
            return Ok(bad_token);
        }
        if self.users.find(claims.user_id).await?.is_none() {
            return Ok(bad_token);
        }
        if let Some(tenant_id) = claims.tenant_id {
            if self
                .memberships
                .find(tenant_id, claims.user_id)
                .await?
                .is_none()
            {
                return Ok(DomainError::Unauthenticated(
                    "you are no longer a member of this workspace; sign in again",
                ));
            }
            match self.tenants.find(tenant_id).await? {
                None => return Ok(bad_token),
                Some(tenant) => {
                    if let Err(suspended) = not_suspended(tenant) {
                        return Ok(suspended);
                    }
                }
            }
        }
        // Everything is there now: it was missing a moment ago (a membership added meanwhile),
        // and this request is refused as the token was when it was checked.
        Ok(bad_token)
    }

    async fn start_session(
        &self,
        user: User,
        tenant: Option<(Tenant, Role)>,
    ) -> DomainResult<AuthTokens> {
        let now = self.clock.now();
        let session = Session {
            id: SessionId::generate(),
            user_id: user.id,
            tenant_id: tenant.as_ref().map(|(t, _)| t.id),
            created_at: now,
            revoked_at: None,
        };
        let (token, token_text) = self.new_refresh_token(session.id, now);
        self.sessions.create(&session, &token).await?;
        self.issue(user, tenant, session.id, token_text, now)
    }

    fn issue(
        &self,
        user: User,
        tenant: Option<(Tenant, Role)>,
        session_id: SessionId,
        refresh_token: String,
        now: DateTime<Utc>,
    ) -> DomainResult<AuthTokens> {
        let claims = AccessClaims {
            user_id: user.id,
            tenant_id: tenant.as_ref().map(|(t, _)| t.id),
            session_id,
            issued_at: now,
            expires_at: now + self.settings.access_ttl,
        };
        Ok(AuthTokens {
            access_token: self.tokens.issue(&claims)?,
            refresh_token,
            expires_in_secs: self.settings.access_ttl.num_seconds(),
            user,
            tenant,
        })
    }

    fn new_refresh_token(
        &self,
        session_id: SessionId,
        now: DateTime<Utc>,
    ) -> (NewRefreshToken, String) {
        let text = self.secrets.random_token();
        let token = NewRefreshToken {
            id: Uuid::now_v7(),
            session_id,
            fingerprint: self.secrets.fingerprint(&text),
            issued_at: now,
            expires_at: now + self.settings.refresh_ttl,
        };
        (token, text)
    }

    async fn revoke_on_reuse(&self, session: &Session, now: DateTime<Utc>) -> DomainError {
        tracing::warn!(
            session_id = %session.id,
            user_id = %session.user_id,
            "refresh token reused: revoking its session"
        );
        match self.sessions.revoke(session.id, now).await {
            Ok(()) => DomainError::Unauthenticated(BAD_REFRESH_TOKEN),
            Err(err) => err,
        }
    }
}

fn email_taken() -> DomainError {
    DomainError::conflict(
        "email",
        "an account with this e-mail already exists; log in instead",
    )
}

/// Picks the workspace to sign into: the one asked for (it must be one of the user's, and
/// active), or the first active one.
fn select_tenant(
    memberships: Vec<TenantMembership>,
    wanted: Option<TenantId>,
) -> DomainResult<Option<(Tenant, Role)>> {
    match wanted {
        Some(tenant_id) => {
            let membership = memberships
                .into_iter()
                .find(|m| m.tenant.id == tenant_id)
                .ok_or(DomainError::not_found_in("tenant", "tenantId"))?;
            if membership.tenant.status == TenantStatus::Suspended {
                return Err(DomainError::Forbidden(ForbiddenReason::TenantSuspended));
            }
            Ok(Some((membership.tenant, membership.role)))
        }
        None => Ok(memberships
            .into_iter()
            .find(|m| m.tenant.status == TenantStatus::Active)
            .map(|m| (m.tenant, m.role))),
    }
}

/// The workspace, unless it is suspended (then nothing its members or keys do is allowed).
fn not_suspended(tenant: Tenant) -> DomainResult<Tenant> {
    if tenant.status == TenantStatus::Suspended {
        return Err(DomainError::Forbidden(ForbiddenReason::TenantSuspended));
    }
    Ok(tenant)
}
