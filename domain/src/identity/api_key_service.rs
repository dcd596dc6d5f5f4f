//! Creating, listing and revoking a tenant's API keys.

use std::sync::Arc;

use crate::clock::Clock;
use crate::error::{DomainError, DomainResult, ForbiddenReason};
use crate::identity::api_key::{
    ApiKey, ApiKeySecret, NewApiKey, ParsedApiKey, validate_key_name, visible_prefix,
};
use crate::identity::ports::{ApiKeyRepository, SecretGenerator};
use crate::identity::principal::Principal;
use crate::identity::role::Role;
use crate::ids::{ApiKeyId, TenantId};
use crate::pagination::{Page, PageRequest};

/// The API key use cases; owners and admins only.
pub struct ApiKeyService {
    keys: Arc<dyn ApiKeyRepository>,
    secrets: Arc<dyn SecretGenerator>,
    clock: Arc<dyn Clock>,
}

impl ApiKeyService {
    /// Builds the service.
    pub fn new(
        keys: Arc<dyn ApiKeyRepository>,
        secrets: Arc<dyn SecretGenerator>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            keys,
            secrets,
            clock,
        }
    }

    /// Creates a key with at most the creator's role. The secret is returned here only.
    pub async fn create(
        &self,
        principal: &Principal,
        name: &str,
        role: Role,
    ) -> DomainResult<NewApiKey> {
        let access = principal.require_role(Role::Admin)?;
        if !access.role.at_least(role) {
            return Err(DomainError::Forbidden(ForbiddenReason::InsufficientRole));
        }
        let name = validate_key_name(name)?;
        let secret = self.compose_secret(access.tenant_id);
        let key = ApiKey {
            id: ApiKeyId::generate(),
            tenant_id: access.tenant_id,
            name,
            prefix: visible_prefix(&secret),
            fingerprint: self.secrets.fingerprint(&secret),
            role,
            created_by: principal.user_id(),
            created_at: self.clock.now(),
            last_used_at: None,
            revoked_at: None,
        };
        self.keys.create(&key).await?;
        tracing::info!(tenant_id = %key.tenant_id, key_id = %key.id, role = %key.role, "API key created");
        Ok(NewApiKey {
            key,
            secret: ApiKeySecret(secret),
        })
    }

    /// The tenant's keys, revoked ones included.
    pub async fn list(
        &self,
        principal: &Principal,
        page: PageRequest,
    ) -> DomainResult<Page<ApiKey>> {
        let access = principal.require_role(Role::Admin)?;
        self.keys.list(access.tenant_id, page).await
    }

    /// Revokes a key; revoking it again changes nothing.
    pub async fn revoke(&self, principal: &Principal, id: ApiKeyId) -> DomainResult<ApiKey> {
        let access = principal.require_role(Role::Admin)?;
        let key = self
            .keys
            .revoke(access.tenant_id, id, self.clock.now())
            .await?
            .ok_or(DomainError::not_found_in("API key", "id"))?;
        tracing::info!(tenant_id = %key.tenant_id, key_id = %key.id, "API key revoked");
        Ok(key)
    }

    fn compose_secret(&self, tenant_id: TenantId) -> String {
        ParsedApiKey::compose(&self.secrets.random_token(), tenant_id)
    }
}
