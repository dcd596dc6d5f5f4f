//! Memberships: a user's role in a tenant.

use chrono::{DateTime, Utc};

use crate::identity::email::Email;
use crate::identity::role::Role;
use crate::identity::tenant::Tenant;
use crate::ids::{MembershipId, TenantId, UserId};

/// A user's membership in a tenant, as stored.
#[derive(Debug, Clone)]
pub struct Membership {
    /// Its id.
    pub id: MembershipId,
    /// The tenant.
    pub tenant_id: TenantId,
    /// The member.
    pub user_id: UserId,
    /// What the member may do.
    pub role: Role,
    /// When the member joined.
    pub created_at: DateTime<Utc>,
}

impl Membership {
    /// A new membership.
    pub fn new(tenant_id: TenantId, user_id: UserId, role: Role, now: DateTime<Utc>) -> Self {
        Self {
            id: MembershipId::generate(),
            tenant_id,
            user_id,
            role,
            created_at: now,
        }
    }
}

/// A membership with the member's e-mail, as a tenant's member list shows it.
#[derive(Debug, Clone)]
pub struct Member {
    /// The membership.
    pub membership: Membership,
    /// The member's sign-in address.
    pub email: Email,
}

/// A membership with its tenant, as a user's own list of workspaces shows it.
#[derive(Debug, Clone)]
pub struct TenantMembership {
    /// The tenant.
    pub tenant: Tenant,
    /// The user's role there.
    pub role: Role,
}
