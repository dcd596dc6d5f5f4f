//! Output types of the identity API.

use async_graphql::{Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use refhub_domain::identity::{
    self as domain, ApiKey as DomainApiKey, AuthTokens, InvitationDetails, Member, TenantMembership,
};

use crate::ids::to_id;

/// A member's (or API key's) role in a workspace.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub(crate) enum Role {
    /// Everything, including granting ownership. A workspace always keeps one.
    Owner,
    /// Manages members, API keys and secrets, and everything an editor does.
    Admin,
    /// Creates and changes pages, links, fields, tags, topics and flows.
    Editor,
    /// Reads only.
    Viewer,
}

impl From<domain::Role> for Role {
    fn from(role: domain::Role) -> Self {
        match role {
            domain::Role::Owner => Role::Owner,
            domain::Role::Admin => Role::Admin,
            domain::Role::Editor => Role::Editor,
            domain::Role::Viewer => Role::Viewer,
        }
    }
}

impl From<Role> for domain::Role {
    fn from(role: Role) -> Self {
        match role {
            Role::Owner => domain::Role::Owner,
            Role::Admin => domain::Role::Admin,
            Role::Editor => domain::Role::Editor,
            Role::Viewer => domain::Role::Viewer,
        }
    }
}

/// Whether a workspace may use the service.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub(crate) enum TenantStatus {
    /// In use.
    Active,
    /// Stopped by a platform operator: every request for it is refused.
    Suspended,
}

impl From<domain::TenantStatus> for TenantStatus {
    fn from(status: domain::TenantStatus) -> Self {
        match status {
            domain::TenantStatus::Active => TenantStatus::Active,
            domain::TenantStatus::Suspended => TenantStatus::Suspended,
        }
    }
}

impl From<TenantStatus> for domain::TenantStatus {
    fn from(status: TenantStatus) -> Self {
        match status {
            TenantStatus::Active => domain::TenantStatus::Active,
            TenantStatus::Suspended => domain::TenantStatus::Suspended,
        }
    }
}

/// What kind of credential made the request.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub(crate) enum PrincipalKind {
    /// A signed-in user.
    User,
    /// An API key.
    ApiKey,
}

/// A workspace: the unit of isolation. Everything else belongs to exactly one.
#[derive(SimpleObject, Clone)]
pub(crate) struct Tenant {
    /// Its id.
    pub id: ID,
    /// Its display name.
    pub name: String,
    /// A unique, URL-friendly handle.
    pub slug: String,
    /// Active or suspended.
    pub status: TenantStatus,
    /// The IANA time zone its reports count days in (`UTC` until set).
    pub time_zone: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl From<domain::Tenant> for Tenant {
    fn from(tenant: domain::Tenant) -> Self {
        Self {
            id: to_id(tenant.id.0),
            name: tenant.name,
            slug: tenant.slug,
            status: tenant.status.into(),
            time_zone: tenant.time_zone,
            created_at: tenant.created_at,
        }
    }
}

/// A person's account.
#[derive(SimpleObject, Clone)]
pub(crate) struct User {
    /// Its id.
    pub id: ID,
    /// The sign-in address.
    pub email: String,
}

/// A member of the current workspace.
#[derive(SimpleObject)]
pub(crate) struct Membership {
    /// The membership's id.
    pub id: ID,
    /// The member.
    pub user: User,
    /// What the member may do here.
    pub role: Role,
    /// When the member joined.
    pub created_at: DateTime<Utc>,
}

impl From<Member> for Membership {
    fn from(member: Member) -> Self {
        Self {
            id: to_id(member.membership.id.0),
            user: User {
                id: to_id(member.membership.user_id.0),
                email: member.email.as_str().to_owned(),
            },
            role: member.membership.role.into(),
            created_at: member.membership.created_at,
        }
    }
}

/// What became of an invitation.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub(crate) enum InvitationStatus {
    /// Waiting for the invitee's answer.
    Pending,
    /// The invitee became a member.
    Accepted,
    /// The invitee said no.
    Declined,
    /// An owner or admin took it back.
    Revoked,
    /// Not answered before `expiresAt`.
    Expired,
}

impl From<domain::InvitationStatus> for InvitationStatus {
    fn from(status: domain::InvitationStatus) -> Self {
        match status {
            domain::InvitationStatus::Pending => InvitationStatus::Pending,
            domain::InvitationStatus::Accepted => InvitationStatus::Accepted,
            domain::InvitationStatus::Declined => InvitationStatus::Declined,
            domain::InvitationStatus::Revoked => InvitationStatus::Revoked,
            domain::InvitationStatus::Expired => InvitationStatus::Expired,
        }
    }
}

/// An invitation to join a workspace, sent by e-mail. The same whether or not an account uses
/// the address: the invitee signs in (or up) with it to accept.
#[derive(SimpleObject)]
pub(crate) struct Invitation {
    /// Its id.
    pub id: ID,
    /// The address it was sent to.
    pub email: String,
    /// The role the invitee gets on accepting.
    pub role: Role,
    /// What became of it.
    pub status: InvitationStatus,
    /// The workspace it invites to.
    pub tenant: Tenant,
    /// Who sent it (none when an API key did).
    pub invited_by: Option<User>,
    /// When it was first sent.
    pub created_at: DateTime<Utc>,
    /// When its link stops working (inviting the address again moves it).
    pub expires_at: DateTime<Utc>,
    /// When it was accepted, declined or revoked.
    pub responded_at: Option<DateTime<Utc>>,
}

impl Invitation {
    /// The invitation as it stands at `now` (a pending one past its expiry is `EXPIRED`).
    pub(crate) fn at(details: InvitationDetails, now: DateTime<Utc>) -> Self {
        let invitation = details.invitation;
        Self {
            id: to_id(invitation.id.0),
            status: invitation.status_at(now).into(),
            email: invitation.email.as_str().to_owned(),
            role: invitation.role.into(),
            tenant: details.tenant.into(),
            invited_by: invitation
                .invited_by
                .zip(details.inviter_email)
                .map(|(id, email)| User {
                    id: to_id(id.0),
                    email: email.as_str().to_owned(),
                }),
            created_at: invitation.created_at,
            expires_at: invitation.expires_at,
            responded_at: invitation.responded_at,
        }
    }
}

/// One of the caller's workspaces, with the caller's role there.
#[derive(SimpleObject)]
pub(crate) struct MyMembership {
    /// The workspace.
    pub tenant: Tenant,
    /// The caller's role there.
    pub role: Role,
}

impl From<TenantMembership> for MyMembership {
    fn from(membership: TenantMembership) -> Self {
        Self {
            tenant: membership.tenant.into(),
            role: membership.role.into(),
        }
    }
}

/// An API key. Its secret is shown once, by `createApiKey`, and never again.
#[derive(SimpleObject)]
pub(crate) struct ApiKey {
    /// Its id.
    pub id: ID,
    /// The name its creator gave it.
    pub name: String,
    /// The first characters of the key, to tell keys apart.
    pub prefix: String,
    /// What the key may do.
    pub role: Role,
    /// Whether it still authenticates.
    pub active: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last authenticated a request (to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<DomainApiKey> for ApiKey {
    fn from(key: DomainApiKey) -> Self {
        Self {
            id: to_id(key.id.0),
            active: key.is_active(),
            name: key.name,
            prefix: key.prefix,
            role: key.role.into(),
            created_at: key.created_at,
            last_used_at: key.last_used_at,
            revoked_at: key.revoked_at,
        }
    }
}

/// A new API key and its secret.
#[derive(SimpleObject)]
pub(crate) struct CreateApiKeyPayload {
    /// The key.
    pub api_key: ApiKey,
    /// The whole key, to send as `Authorization: Bearer <secret>`. Shown only this once.
    pub secret: String,
}

/// Tokens for a signed-in session.
#[derive(SimpleObject)]
pub(crate) struct AuthPayload {
    /// Send as `Authorization: Bearer <accessToken>`; expires after `expiresIn` seconds.
    pub access_token: String,
    /// Exchange with `refreshToken` for a new pair; each refresh token works once.
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Who signed in.
    pub user: User,
    /// The workspace the tokens act in (none for a user without workspaces).
    pub tenant: Option<Tenant>,
    /// The user's role in that workspace.
    pub role: Option<Role>,
}

impl From<AuthTokens> for AuthPayload {
    fn from(tokens: AuthTokens) -> Self {
        let (tenant, role) = match tokens.tenant {
            Some((tenant, role)) => (Some(tenant.into()), Some(role.into())),
            None => (None, None),
        };
        Self {
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            expires_in: tokens.expires_in_secs,
            user: User {
                id: to_id(tokens.user.id.0),
                email: tokens.user.email.as_str().to_owned(),
            },
            tenant,
            role,
        }
    }
}

/// What `logOut` ended.
#[derive(SimpleObject)]
pub(crate) struct LogOutPayload {
    /// How many sessions were ended.
    pub revoked_sessions: i64,
}

/// The caller: a signed-in user or an API key, in its current workspace.
pub(crate) struct Me {
    pub id: ID,
    pub kind: PrincipalKind,
    pub email: Option<String>,
    pub is_operator: bool,
    pub tenant: Option<Tenant>,
    pub role: Option<Role>,
    pub memberships: Vec<MyMembership>,
}

/// The caller: a signed-in user or an API key, in its current workspace.
#[Object]
impl Me {
    /// The user's id (or the API key's).
    async fn id(&self) -> &ID {
        &self.id
    }

    /// Whether a user or an API key is calling.
    async fn kind(&self) -> PrincipalKind {
        self.kind
    }

    /// The user's sign-in address (none for an API key).
    async fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }

    /// Whether the user operates the platform.
    async fn is_operator(&self) -> bool {
        self.is_operator
    }

    /// The current workspace.
    async fn tenant(&self) -> Option<&Tenant> {
        self.tenant.as_ref()
    }

    /// The caller's role in the current workspace.
    async fn role(&self) -> Option<Role> {
        self.role
    }

    /// Every workspace the user belongs to, to offer `switchTenant`.
    #[graphql(
        complexity = "crate::cost::whole_list_cost(crate::cost::TENANT_LIST_ESTIMATE, child_complexity)"
    )]
    async fn memberships(&self) -> &[MyMembership] {
        &self.memberships
    }
}
