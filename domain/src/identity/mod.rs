//! Tenants, users, memberships, sessions and API keys: who may do what, in which workspace.

mod api_key;
mod api_key_service;
mod auth_service;
mod email;
mod invitation;
mod invitation_service;
mod member_service;
mod membership;
mod operator_service;
mod password;
mod ports;
mod principal;
mod role;
mod session;
mod signed_link;
mod tenant;
mod user;

pub use api_key::{ApiKey, ApiKeySecret, KeyCredential, NewApiKey, ParsedApiKey};
pub use api_key_service::ApiKeyService;
pub use auth_service::{AuthPorts, AuthService, AuthTokens, LogOutScope, TokenSettings};
pub use email::Email;
pub use invitation::{
    INVITATION_PATH, Invitation, InvitationDetails, InvitationState, InvitationStatus,
    invitation_link, invitation_mail,
};
pub use invitation_service::{
    InvitationPorts, InvitationService, InvitationSettings, MAX_PENDING_INVITATIONS,
};
pub use member_service::MemberService;
pub use membership::{Member, Membership, TenantMembership};
pub use operator_service::OperatorService;
pub use password::{Password, PasswordHash};
pub use ports::{
    AccessTokenCodec, ApiKeyRepository, IdentityStore, InvitationRepository, InvitationThrottle,
    MembershipRepository, PasswordHasher, SecretGenerator, SessionRepository, TenantRepository,
    UserRepository,
};
pub use principal::{Actor, Principal, TenantAccess};
pub use role::Role;
pub use session::{AccessClaims, NewRefreshToken, RefreshTokenRecord, Session, SignedIn};
pub use signed_link::{LinkClaims, LinkSigner, SIGNED_LINK_PARAMETER, SIGNED_LINK_TTL};
pub use tenant::{Tenant, TenantName, TenantStatus};
pub use user::User;
