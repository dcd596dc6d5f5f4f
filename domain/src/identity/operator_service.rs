//! What platform operators do: list tenants, suspend and reactivate them, and how operators
//! are made (from the command line, never through the API).

use std::sync::Arc;

use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};
use crate::identity::email::Email;
use crate::identity::password::Password;
use crate::identity::ports::{PasswordHasher, TenantRepository, UserRepository};
use crate::identity::principal::Principal;
use crate::identity::tenant::{Tenant, TenantStatus};
use crate::identity::user::User;
use crate::ids::{TenantId, UserId};
use crate::pagination::{Page, PageRequest};
use crate::webhooks::InboxRepository;

/// The operator use cases.
pub struct OperatorService {
    tenants: Arc<dyn TenantRepository>,
    users: Arc<dyn UserRepository>,
    hasher: Arc<dyn PasswordHasher>,
    inbox: Arc<dyn InboxRepository>,
    clock: Arc<dyn Clock>,
}

impl OperatorService {
    /// Builds the service.
    pub fn new(
        tenants: Arc<dyn TenantRepository>,
        users: Arc<dyn UserRepository>,
        hasher: Arc<dyn PasswordHasher>,
        inbox: Arc<dyn InboxRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            tenants,
            users,
            hasher,
            inbox,
            clock,
        }
    }

    /// Every tenant on the platform.
    pub async fn list_tenants(
        &self,
        principal: &Principal,
        status: Option<TenantStatus>,
        page: PageRequest,
    ) -> DomainResult<Page<Tenant>> {
        principal.require_operator()?;
        self.tenants.list(status, page).await
    }

    /// Sets a tenant's status: its members' and keys' requests are refused while suspended,
    /// and its webhook events are stored but held, unprocessed, until it is reactivated.
    pub async fn set_tenant_status(
        &self,
        principal: &Principal,
        tenant_id: TenantId,
        status: TenantStatus,
    ) -> DomainResult<Tenant> {
        principal.require_operator()?;
        let tenant = self
            .tenants
            .set_status(tenant_id, status)
            .await?
            .ok_or(DomainError::not_found_in("tenant", "tenantId"))?;
        tracing::warn!(%tenant_id, status = status.as_str(), "tenant status changed by an operator");
        if status == TenantStatus::Active {
            let released = self.inbox.release_held(tenant_id, self.clock.now()).await?;
            tracing::info!(%tenant_id, released, "held webhook events put back in line");
        }
        Ok(tenant)
    }

    /// Makes an operator account (or promotes an existing account, setting its password).
    pub async fn create_operator(&self, email: &str, password: String) -> DomainResult<User> {
        let email = Email::parse(email)?;
        let password = Password::new_checked(password, &[email.as_str()])?;
        let candidate = User {
            id: UserId::generate(),
            email,
            password_hash: self.hasher.hash(&password).await?,
            is_operator: true,
            created_at: self.clock.now(),
        };
        self.users.upsert_operator(&candidate).await
    }
}
