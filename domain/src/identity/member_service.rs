//! Managing who belongs to a tenant, and with which role. People join by invitation (see
//! [`crate::identity::InvitationService`]), never by being added.

use std::sync::Arc;

use crate::error::{DomainError, DomainResult, ForbiddenReason};
use crate::identity::membership::{Member, Membership};
use crate::identity::ports::{MembershipRepository, UserRepository};
use crate::identity::principal::Principal;
use crate::identity::role::Role;
use crate::ids::UserId;
use crate::pagination::{Page, PageRequest};

/// The membership use cases.
pub struct MemberService {
    memberships: Arc<dyn MembershipRepository>,
    users: Arc<dyn UserRepository>,
}

impl MemberService {
    /// Builds the service.
    pub fn new(memberships: Arc<dyn MembershipRepository>, users: Arc<dyn UserRepository>) -> Self {
        Self { memberships, users }
    }

    /// The tenant's members; any member may read the list.
    pub async fn list(
        &self,
        principal: &Principal,
        page: PageRequest,
    ) -> DomainResult<Page<Member>> {
        let access = principal.require_role(Role::Viewer)?;
        self.memberships.list(access.tenant_id, page).await
    }

    /// Changes a member's role. Owners and admins only; ownership is granted and taken by owners
    /// only; the last owner keeps the role.
    pub async fn change_role(
        &self,
        principal: &Principal,
        user_id: UserId,
        role: Role,
    ) -> DomainResult<Member> {
        let access = principal.require_role(Role::Admin)?;
        let current = self
            .memberships
            .find(access.tenant_id, user_id)
            .await?
            .ok_or(DomainError::not_found_in("member", "userId"))?;
        require_owner_for(principal, current.role)?;
        require_owner_for(principal, role)?;
        let membership = self
            .memberships
            .change_role(access.tenant_id, user_id, role)
            .await?;
        self.with_email(membership).await
    }

    /// Removes a member. Owners and admins may remove others (owners only remove owners); anyone
    /// may leave; the last owner may not.
    pub async fn remove(&self, principal: &Principal, user_id: UserId) -> DomainResult<UserId> {
        let access = principal.tenant()?;
        let leaving = principal.user_id() == Some(user_id);
        if !leaving {
            principal.require_role(Role::Admin)?;
        }
        let current = self
            .memberships
            .find(access.tenant_id, user_id)
            .await?
            .ok_or(DomainError::not_found_in("member", "userId"))?;
        if !leaving {
            require_owner_for(principal, current.role)?;
        }
        self.memberships.remove(access.tenant_id, user_id).await?;
        tracing::info!(tenant_id = %access.tenant_id, %user_id, "member removed");
        Ok(user_id)
    }

    async fn with_email(&self, membership: Membership) -> DomainResult<Member> {
        let user = self
            .users
            .find(membership.user_id)
            .await?
            .ok_or(DomainError::not_found("member"))?;
        Ok(Member {
            membership,
            email: user.email,
        })
    }
}

/// Refuses to grant, take or offer `role` unless the caller may: ownership is owners' only.
pub(crate) fn require_owner_for(principal: &Principal, role: Role) -> DomainResult<()> {
    if role == Role::Owner && !principal.tenant()?.role.at_least(Role::Owner) {
        return Err(DomainError::Forbidden(ForbiddenReason::InsufficientRole));
    }
    Ok(())
}
