//! Recorded data-deletion requests: recorded in their tenant, read by confirmation code for the
//! public status page, claimed across tenants by the deletion worker.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use refhub_domain::DomainResult;
use refhub_domain::ids::{DeletionRequestId, TenantId};
use refhub_domain::privacy::{
    DeletionKind, DeletionRequest, DeletionRequestRepository, DeletionStatus, DeletionStatusView,
};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, SqlErr};

use crate::Store;
use crate::claims::{self, ClaimSql, ParkSql};
use crate::entities::data_deletion_requests;
use crate::error::{corrupt, internal};
use crate::scope;

const UNDER_WAY: [&str; 2] = ["received", "erasing"];

const CLAIM: ClaimSql = ClaimSql {
    scope: "deletion-worker",
    postgres: "
    UPDATE data_deletion_requests SET status = 'erasing', due_at = $1, attempts = attempts + 1
    WHERE (tenant_id, id) IN (
        SELECT tenant_id, id FROM data_deletion_requests
        WHERE due_at <= $2 AND kind = 'data_deletion' AND status IN ('received', 'erasing')
        ORDER BY due_at
        LIMIT $3
        FOR UPDATE SKIP LOCKED)
    RETURNING *",
    sqlite: "
    UPDATE data_deletion_requests SET status = 'erasing', due_at = ?1, attempts = attempts + 1
    WHERE (tenant_id, id) IN (
        SELECT tenant_id, id FROM data_deletion_requests
        WHERE due_at <= ?2 AND kind = 'data_deletion' AND status IN ('received', 'erasing')
        ORDER BY due_at
        LIMIT ?3)
    RETURNING *",
    // A request that cannot be read is never due again; its error says why, for operators.
    park: ParkSql {
        what: "data-deletion request",
        postgres: "UPDATE data_deletion_requests SET due_at = NULL, last_error = $3
                   WHERE tenant_id = $1 AND id = $2",
        sqlite: "UPDATE data_deletion_requests SET due_at = NULL, last_error = ?3
                 WHERE tenant_id = ?1 AND id = ?2",
    },
};

fn row(
    request: &DeletionRequest,
    due_at: Option<DateTime<Utc>>,
) -> data_deletion_requests::ActiveModel {
    data_deletion_requests::ActiveModel {
        tenant_id: Set(request.tenant_id.0),
        id: Set(request.id.0),
        kind: Set(request.kind.as_str().to_owned()),
        confirmation_code: Set(request.confirmation_code.clone()),
        user_fingerprint: Set(request.user_fingerprint.clone()),
        app_scoped_user_id: Set(request.app_scoped_user_id.clone()),
        status: Set(request.status.as_str().to_owned()),
        subscribers_erased: Set(i64::try_from(request.subscribers_erased).unwrap_or(i64::MAX)),
        events_redacted: Set(i64::try_from(request.events_redacted).unwrap_or(i64::MAX)),
        attempts: Set(i32::try_from(request.attempts).unwrap_or(i32::MAX)),
        due_at: Set(due_at),
        last_error: Set(request.last_error.clone()),
        requested_at: Set(request.requested_at),
        finished_at: Set(request.finished_at),
    }
}

fn request(row: data_deletion_requests::Model) -> DomainResult<DeletionRequest> {
    Ok(DeletionRequest {
        id: DeletionRequestId(row.id),
        tenant_id: TenantId(row.tenant_id),
        kind: DeletionKind::parse(&row.kind)
            .ok_or_else(|| corrupt("data-deletion request kind", &row.kind))?,
        confirmation_code: row.confirmation_code,
        user_fingerprint: row.user_fingerprint,
        app_scoped_user_id: row.app_scoped_user_id,
        status: DeletionStatus::parse(&row.status)
            .ok_or_else(|| corrupt("data-deletion request status", &row.status))?,
        subscribers_erased: u64::try_from(row.subscribers_erased).unwrap_or(0),
        events_redacted: u64::try_from(row.events_redacted).unwrap_or(0),
        attempts: u32::try_from(row.attempts).unwrap_or(0),
        last_error: row.last_error,
        requested_at: row.requested_at,
        finished_at: row.finished_at,
    })
}

impl Store {
    /// The request under way of this kind about this person, if any.
    async fn under_way(
        &self,
        txn: &impl ConnectionTrait,
        wanted: &DeletionRequest,
    ) -> DomainResult<Option<DeletionRequest>> {
        data_deletion_requests::Entity::find()
            .filter(data_deletion_requests::Column::TenantId.eq(wanted.tenant_id.0))
            .filter(data_deletion_requests::Column::Kind.eq(wanted.kind.as_str()))
            .filter(data_deletion_requests::Column::UserFingerprint.eq(&wanted.user_fingerprint))
            .filter(data_deletion_requests::Column::Status.is_in(UNDER_WAY))
            .one(txn)
            .await
            .map_err(internal)?
            .map(request)
            .transpose()
    }
}

#[async_trait]
impl DeletionRequestRepository for Store {
    async fn record(&self, wanted: &DeletionRequest) -> DomainResult<DeletionRequest> {
        let txn = scope::for_tenant_writing(&self.db, wanted.tenant_id)
            .await
            .map_err(internal)?;
        if let Some(existing) = self.under_way(&txn, wanted).await? {
            txn.commit().await.map_err(internal)?;
            return Ok(existing);
        }
        let due_at = (!wanted.status.is_done()).then_some(wanted.requested_at);
        let inserted = data_deletion_requests::Entity::insert(row(wanted, due_at))
            .exec_without_returning(&txn)
            .await;
        match inserted {
            Ok(_) => {
                txn.commit().await.map_err(internal)?;
                Ok(wanted.clone())
            }
            // The same callback twice at once (PostgreSQL): the other insert won; answer with it.
            Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                drop(txn);
                let txn = scope::for_tenant(&self.db, wanted.tenant_id)
                    .await
                    .map_err(internal)?;
                let existing = self.under_way(&txn, wanted).await?;
                txn.commit().await.map_err(internal)?;
                existing.ok_or_else(|| internal(err))
            }
            Err(err) => Err(internal(err)),
        }
    }

    async fn status_by_code(&self, code: &str) -> DomainResult<Option<DeletionStatusView>> {
        let txn = scope::for_deletion_code(&self.db, code)
            .await
            .map_err(internal)?;
        let found = data_deletion_requests::Entity::find()
            .filter(data_deletion_requests::Column::ConfirmationCode.eq(code))
            .filter(data_deletion_requests::Column::Kind.eq(DeletionKind::DataDeletion.as_str()))
            .one(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        found
            .map(|row| {
                let request = request(row)?;
                Ok(DeletionStatusView {
                    status: request.status,
                    subscribers_erased: request.subscribers_erased,
                    requested_at: request.requested_at,
                    finished_at: request.finished_at,
                })
            })
            .transpose()
    }

    async fn claim_due(
        &self,
        limit: usize,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> DomainResult<Vec<DeletionRequest>> {
        claims::claim::<data_deletion_requests::Entity, _>(self, &CLAIM, limit, lease, now, request)
            .await
    }

    async fn save_attempt(
        &self,
        saved: &DeletionRequest,
        retry_at: Option<DateTime<Utc>>,
    ) -> DomainResult<()> {
        let txn = scope::for_tenant_writing(&self.db, saved.tenant_id)
            .await
            .map_err(internal)?;
        let mut saved = saved.clone();
        if retry_at.is_none() {
            saved.app_scoped_user_id = None;
        }
        data_deletion_requests::Entity::update_many()
            .set(row(&saved, retry_at))
            .filter(data_deletion_requests::Column::TenantId.eq(saved.tenant_id.0))
            .filter(data_deletion_requests::Column::Id.eq(saved.id.0))
            .exec(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        Ok(())
    }
}
