use async_trait::async_trait;
use chrono::{DateTime, Utc};
use refhub_domain::DomainResult;
use refhub_domain::identity::{
    NewRefreshToken, RefreshTokenRecord, Session, SessionRepository, SignedIn,
};
use refhub_domain::ids::{SessionId, TenantId, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use uuid::Uuid;

use super::mapping;
use crate::Store;
use crate::entities::{memberships, refresh_tokens, sessions, tenants, users};
use crate::error::internal;
use crate::scope::run;

fn token_row(token: &NewRefreshToken) -> refresh_tokens::ActiveModel {
    refresh_tokens::ActiveModel {
        id: Set(token.id),
        session_id: Set(token.session_id.0),
        fingerprint: Set(token.fingerprint.clone()),
        issued_at: Set(token.issued_at),
        expires_at: Set(token.expires_at),
        used_at: Set(None),
    }
}

#[async_trait]
impl SessionRepository for Store {
    async fn create(&self, session: &Session, first_token: &NewRefreshToken) -> DomainResult<()> {
        let txn = self.db.begin().await.map_err(internal)?;
        sessions::ActiveModel {
            id: Set(session.id.0),
            user_id: Set(session.user_id.0),
            active_tenant_id: Set(session.tenant_id.map(|t| t.0)),
            created_at: Set(session.created_at),
            revoked_at: Set(session.revoked_at),
        }
        .insert(&txn)
        .await
        .map_err(internal)?;
        token_row(first_token)
            .insert(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)
    }

    async fn find(&self, id: SessionId) -> DomainResult<Option<Session>> {
        let row = sessions::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .map_err(internal)?;
        Ok(row.map(mapping::session))
    }

    async fn find_signed_in(
        &self,
        id: SessionId,
        user_id: UserId,
        tenant_id: Option<TenantId>,
    ) -> DomainResult<Option<SignedIn>> {
        let Some(tenant_id) = tenant_id else {
            let row = sessions::Entity::find_by_id(id.0)
                .filter(sessions::Column::UserId.eq(user_id.0))
                .find_also_related(users::Entity)
                .one(&self.db)
                .await
                .map_err(internal)?;
            let Some((session, Some(user))) = row else {
                return Ok(None);
            };
            return Ok(Some(SignedIn {
                session: mapping::session(session),
                user: mapping::user(user),
                workspace: None,
            }));
        };
        // From the membership (the one tenant-scoped table of the four), so that the read runs
        // in the request's tenant scope, the read session of a dashboard query included.
        let query = memberships::Entity::find()
            .filter(memberships::Column::TenantId.eq(tenant_id.0))
            .filter(memberships::Column::UserId.eq(user_id.0))
            .find_also_related(users::Entity)
            .find_also_related(tenants::Entity)
            .find_also(users::Entity, sessions::Entity)
            .filter(sessions::Column::Id.eq(id.0));
        let Some((membership, Some(user), Some(tenant), Some(session))) =
            run::one_with_three(&self.db, tenant_id, query).await?
        else {
            return Ok(None);
        };
        Ok(Some(SignedIn {
            session: mapping::session(session),
            user: mapping::user(user),
            workspace: Some((mapping::membership(membership)?, mapping::tenant(tenant)?)),
        }))
    }

    async fn find_token(&self, fingerprint: &str) -> DomainResult<Option<RefreshTokenRecord>> {
        let row = refresh_tokens::Entity::find()
            .filter(refresh_tokens::Column::Fingerprint.eq(fingerprint))
            .find_also_related(sessions::Entity)
            .one(&self.db)
            .await
            .map_err(internal)?;
        Ok(row.and_then(|(token, session)| {
            session.map(|session| RefreshTokenRecord {
                id: token.id,
                session: mapping::session(session),
                used_at: token.used_at,
                expires_at: token.expires_at,
            })
        }))
    }

    async fn rotate(
        &self,
        used_token: Uuid,
        next: &NewRefreshToken,
        tenant_id: Option<TenantId>,
        at: DateTime<Utc>,
    ) -> DomainResult<bool> {
        let txn = self.db.begin().await.map_err(internal)?;
        // The conditional update is the arbiter between concurrent refreshes: exactly one of
        // them flips `used_at` from NULL.
        let consumed = refresh_tokens::Entity::update_many()
            .col_expr(refresh_tokens::Column::UsedAt, Expr::value(at))
            .filter(refresh_tokens::Column::Id.eq(used_token))
            .filter(refresh_tokens::Column::UsedAt.is_null())
            .exec(&txn)
            .await
            .map_err(internal)?;
        if consumed.rows_affected != 1 {
            txn.rollback().await.map_err(internal)?;
            return Ok(false);
        }
        token_row(next).insert(&txn).await.map_err(internal)?;
        sessions::Entity::update_many()
            .col_expr(
                sessions::Column::ActiveTenantId,
                Expr::value(tenant_id.map(|t| t.0)),
            )
            .filter(sessions::Column::Id.eq(next.session_id.0))
            .exec(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        Ok(true)
    }

    async fn revoke(&self, id: SessionId, at: DateTime<Utc>) -> DomainResult<()> {
        sessions::Entity::update_many()
            .col_expr(sessions::Column::RevokedAt, Expr::value(at))
            .filter(sessions::Column::Id.eq(id.0))
            .filter(sessions::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await
            .map_err(internal)?;
        Ok(())
    }

    async fn revoke_all_for_user(&self, user_id: UserId, at: DateTime<Utc>) -> DomainResult<u64> {
        let result = sessions::Entity::update_many()
            .col_expr(sessions::Column::RevokedAt, Expr::value(at))
            .filter(sessions::Column::UserId.eq(user_id.0))
            .filter(sessions::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await
            .map_err(internal)?;
        Ok(result.rows_affected)
    }
}
