//! Managing who belongs to a tenant, and with which role.

use std::sync::Arc;

use crate::clock::Clock;
use crate::error::{DomainError, DomainResult, ForbiddenReason};
use crate::identity::email::Email;
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
    clock: Arc<dyn Clock>,
}

impl MemberService {
    /// Builds the service.
    pub fn new(
        memberships: Arc<dyn MembershipRepository>,
        users: Arc<dyn UserRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            memberships,
            users,
            clock,
        }
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

    /// Adds an existing account to the tenant. Owners and admins only; only owners grant
    /// ownership.
    pub async fn add(
        &self,
        principal: &Principal,
        email: &str,
        role: Role,
    ) -> DomainResult<Member> {
        let access = principal.require_role(Role::Admin)?;
        require_owner_for(principal, role)?;
        let email = Email::parse(email)?;
        let user = self.users.find_by_email(&email).await?.ok_or_else(|| {
            DomainError::validation(
                "email",
                "no account uses this e-mail; ask them to sign up first",
            )
        })?;
        let membership = Membership::new(access.tenant_id, user.id, role, self.clock.now());
        self.memberships.add(&membership).await?;
        tracing::info!(tenant_id = %access.tenant_id, user_id = %user.id, %role, "member added");
        Ok(Member {
            membership,
            email: user.email,
        })
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

fn require_owner_for(principal: &Principal, role: Role) -> DomainResult<()> {
    if role == Role::Owner && !principal.tenant()?.role.at_least(Role::Owner) {
        return Err(DomainError::Forbidden(ForbiddenReason::InsufficientRole));
    }
    Ok(())
}
