//! The authenticated caller of a use case, and the checks that guard every operation.

use crate::error::{DomainError, DomainResult, ForbiddenReason};
use crate::identity::role::Role;
use crate::ids::{ApiKeyId, SessionId, TenantId, UserId};

/// Who is calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in user, through one session.
    User {
        /// The user.
        user_id: UserId,
        /// The session the access token came from.
        session_id: SessionId,
    },
    /// An API key.
    ApiKey {
        /// The key.
        key_id: ApiKeyId,
    },
}

/// The tenant a request acts in, and the role it acts with. Tenant-scoped repositories take
/// their tenant from here, never from client input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantAccess {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The role in it.
    pub role: Role,
}

/// An authenticated caller: resolved fresh on each request, so role changes, removals and
/// suspensions take effect at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    /// Who.
    pub actor: Actor,
    /// In which tenant, with which role.
    pub tenant: Option<TenantAccess>,
    /// Whether the caller operates the platform.
    pub is_operator: bool,
}

impl Principal {
    /// The current tenant, whatever the role.
    pub fn tenant(&self) -> DomainResult<TenantAccess> {
        self.tenant
            .ok_or(DomainError::Forbidden(ForbiddenReason::NoTenant))
    }

    /// The current tenant, if the role is at least `minimum`.
    pub fn require_role(&self, minimum: Role) -> DomainResult<TenantAccess> {
        let access = self.tenant()?;
        if access.role.at_least(minimum) {
            Ok(access)
        } else {
            Err(DomainError::Forbidden(ForbiddenReason::InsufficientRole))
        }
    }

    /// The user and session, refusing API keys.
    pub fn require_user(&self) -> DomainResult<(UserId, SessionId)> {
        match self.actor {
            Actor::User {
                user_id,
                session_id,
            } => Ok((user_id, session_id)),
            Actor::ApiKey { .. } => Err(DomainError::Forbidden(ForbiddenReason::UserOnly)),
        }
    }

    /// Refuses anyone but platform operators.
    pub fn require_operator(&self) -> DomainResult<()> {
        if self.is_operator {
            Ok(())
        } else {
            Err(DomainError::Forbidden(ForbiddenReason::OperatorOnly))
        }
    }

    /// The signed-in user, if the caller is one.
    pub fn user_id(&self) -> Option<UserId> {
        match self.actor {
            Actor::User { user_id, .. } => Some(user_id),
            Actor::ApiKey { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Option<Role>) -> Principal {
        Principal {
            actor: Actor::User {
                user_id: UserId::generate(),
                session_id: SessionId::generate(),
            },
            tenant: role.map(|role| TenantAccess {
                tenant_id: TenantId::generate(),
                role,
            }),
            is_operator: false,
        }
    }

    #[test]
    fn role_requirements_follow_the_ranking() {
        assert!(
            principal(Some(Role::Admin))
                .require_role(Role::Editor)
                .is_ok()
        );
        let err = principal(Some(Role::Viewer))
            .require_role(Role::Editor)
            .unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::Forbidden);
        let err = principal(None).require_role(Role::Viewer).unwrap_err();
        assert!(matches!(
            err,
            DomainError::Forbidden(ForbiddenReason::NoTenant)
        ));
    }

    #[test]
    fn only_operators_pass_the_operator_check() {
        assert!(principal(None).require_operator().is_err());
        let operator = Principal {
            is_operator: true,
            ..principal(None)
        };
        assert!(operator.require_operator().is_ok());
    }
}
