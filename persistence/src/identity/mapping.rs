//! Rows to domain values and back, written once.

use refhub_domain::DomainResult;
use refhub_domain::identity::{
    ApiKey, Email, Invitation, InvitationState, Membership, PasswordHash, Role, Session, Tenant,
    TenantStatus, User,
};

use crate::entities::{api_keys, invitations, memberships, sessions, tenants, users};
use crate::error::corrupt;

pub(crate) fn role(stored: &str) -> DomainResult<Role> {
    stored.parse().map_err(|_| corrupt("role", stored))
}

pub(crate) fn tenant(row: tenants::Model) -> DomainResult<Tenant> {
    let status: TenantStatus = row
        .status
        .parse()
        .map_err(|_| corrupt("tenant status", &row.status))?;
    Ok(Tenant {
        id: row.id.into(),
        name: row.name,
        slug: row.slug,
        status,
        time_zone: row.time_zone,
        created_at: row.created_at,
    })
}

pub(crate) fn user(row: users::Model) -> User {
    User {
        id: row.id.into(),
        email: Email::from_trusted(row.email),
        password_hash: PasswordHash(row.password_hash),
        is_operator: row.is_operator,
        created_at: row.created_at,
    }
}

pub(crate) fn membership(row: memberships::Model) -> DomainResult<Membership> {
    Ok(Membership {
        id: row.id.into(),
        tenant_id: row.tenant_id.into(),
        user_id: row.user_id.into(),
        role: role(&row.role)?,
        created_at: row.created_at,
    })
}

pub(crate) fn api_key(row: api_keys::Model) -> DomainResult<ApiKey> {
    Ok(ApiKey {
        id: row.id.into(),
        tenant_id: row.tenant_id.into(),
        name: row.name,
        prefix: row.prefix,
        fingerprint: row.fingerprint,
        role: role(&row.role)?,
        created_by: row.created_by.map(Into::into),
        created_at: row.created_at,
        last_used_at: row.last_used_at,
        revoked_at: row.revoked_at,
    })
}

pub(crate) fn session(row: sessions::Model) -> Session {
    Session {
        id: row.id.into(),
        user_id: row.user_id.into(),
        tenant_id: row.active_tenant_id.map(Into::into),
        created_at: row.created_at,
        revoked_at: row.revoked_at,
    }
}

pub(crate) fn invitation(row: invitations::Model) -> DomainResult<Invitation> {
    let state: InvitationState = row
        .state
        .parse()
        .map_err(|_| corrupt("invitation state", &row.state))?;
    Ok(Invitation {
        id: row.id.into(),
        tenant_id: row.tenant_id.into(),
        email: Email::from_trusted(row.email),
        role: role(&row.role)?,
        token_fingerprint: row.token_fingerprint,
        invited_by: row.invited_by.map(Into::into),
        state,
        created_at: row.created_at,
        expires_at: row.expires_at,
        responded_at: row.responded_at,
    })
}
