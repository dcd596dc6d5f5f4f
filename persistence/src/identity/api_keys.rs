use async_trait::async_trait;
use chrono::{DateTime, Utc};
use refhub_domain::DomainResult;
use refhub_domain::identity::{ApiKey, ApiKeyRepository, KeyCredential};
use refhub_domain::ids::{ApiKeyId, TenantId};
use refhub_domain::pagination::{Page, PageRequest};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::mapping;
use crate::Store;
use crate::entities::{api_keys, memberships, tenants};
use crate::error::internal;
use crate::pagination::try_map_page;
use crate::scope::{self, run};

fn in_tenant(tenant_id: TenantId) -> sea_orm::Select<api_keys::Entity> {
    api_keys::Entity::find().filter(api_keys::Column::TenantId.eq(tenant_id.0))
}

#[async_trait]
impl ApiKeyRepository for Store {
    async fn create(&self, key: &ApiKey) -> DomainResult<()> {
        let txn = scope::for_tenant(&self.db, key.tenant_id)
            .await
            .map_err(internal)?;
        api_keys::ActiveModel {
            tenant_id: Set(key.tenant_id.0),
            id: Set(key.id.0),
            name: Set(key.name.clone()),
            prefix: Set(key.prefix.clone()),
            fingerprint: Set(key.fingerprint.clone()),
            role: Set(key.role.as_str().to_owned()),
            created_by: Set(key.created_by.map(|u| u.0)),
            created_at: Set(key.created_at),
            last_used_at: Set(key.last_used_at),
            revoked_at: Set(key.revoked_at),
        }
        .insert(&txn)
        .await
        .map_err(internal)?;
        txn.commit().await.map_err(internal)
    }

    async fn list(&self, tenant_id: TenantId, page: PageRequest) -> DomainResult<Page<ApiKey>> {
        let rows = run::page(
            &self.db,
            tenant_id,
            in_tenant(tenant_id),
            api_keys::Column::Id,
            page,
        )
        .await?;
        try_map_page(rows, mapping::api_key)
    }

    async fn find(&self, tenant_id: TenantId, id: ApiKeyId) -> DomainResult<Option<ApiKey>> {
        let query = in_tenant(tenant_id).filter(api_keys::Column::Id.eq(id.0));
        run::one(&self.db, tenant_id, query)
            .await?
            .map(mapping::api_key)
            .transpose()
    }

    async fn find_by_fingerprint(
        &self,
        tenant_id: TenantId,
        fingerprint: &str,
    ) -> DomainResult<Option<KeyCredential>> {
        let query = in_tenant(tenant_id)
            .filter(api_keys::Column::Fingerprint.eq(fingerprint))
            .find_also_related(tenants::Entity)
            .find_also_related(memberships::Entity);
        match run::one_with_two(&self.db, tenant_id, query).await? {
            Some((key, Some(tenant), creator)) => Ok(Some(KeyCredential {
                key: mapping::api_key(key)?,
                tenant: mapping::tenant(tenant)?,
                creator_role: creator.map(|m| mapping::role(&m.role)).transpose()?,
            })),
            _ => Ok(None),
        }
    }

    async fn revoke(
        &self,
        tenant_id: TenantId,
        id: ApiKeyId,
        at: DateTime<Utc>,
    ) -> DomainResult<Option<ApiKey>> {
        let txn = scope::for_tenant(&self.db, tenant_id)
            .await
            .map_err(internal)?;
        api_keys::Entity::update_many()
            .col_expr(api_keys::Column::RevokedAt, Expr::value(at))
            .filter(api_keys::Column::TenantId.eq(tenant_id.0))
            .filter(api_keys::Column::Id.eq(id.0))
            .filter(api_keys::Column::RevokedAt.is_null())
            .exec(&txn)
            .await
            .map_err(internal)?;
        let row = api_keys::Entity::find_by_id((tenant_id.0, id.0))
            .one(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        row.map(mapping::api_key).transpose()
    }

    async fn touch(
        &self,
        tenant_id: TenantId,
        id: ApiKeyId,
        at: DateTime<Utc>,
    ) -> DomainResult<()> {
        let update = api_keys::Entity::update_many()
            .col_expr(api_keys::Column::LastUsedAt, Expr::value(at))
            .filter(api_keys::Column::TenantId.eq(tenant_id.0))
            .filter(api_keys::Column::Id.eq(id.0));
        run::update(&self.db, tenant_id, update).await.map(|_| ())
    }
}
