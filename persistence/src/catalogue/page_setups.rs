//! Page set-up state and the unsubscribes owed to disconnected pages: two work queues claimed
//! across tenants (`page-setup-worker` scope), written in the tenant's scope. Statements are
//! written once with `$n` placeholders and read by SQLite as `?n`.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use refhub_domain::DomainResult;
use refhub_domain::catalogue::{
    MessengerProfileSettings, PageSetup, PageSetupRepository, PageTeardown, SealedSecret,
    SetupError, SetupRequest, SetupStepState,
};
use refhub_domain::ids::{PageId, TenantId};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, Set, Statement, Value,
};
use serde_json::{Map, Value as Json};

use crate::Store;
use crate::claims::{ClaimSql, ParkSql, claim};
use crate::entities::{page_setups, page_teardowns};
use crate::error::internal;
use crate::scope::{self, run};

const CLAIM_SETUPS: ClaimSql = ClaimSql {
    scope: "page-setup-worker",
    postgres: "
    UPDATE page_setups SET next_attempt_at = $1, attempts = attempts + 1
    WHERE (tenant_id, page_id) IN (
        SELECT tenant_id, page_id FROM page_setups
        WHERE next_attempt_at <= $2
        ORDER BY next_attempt_at
        LIMIT $3
        FOR UPDATE SKIP LOCKED)
    RETURNING *",
    sqlite: "
    UPDATE page_setups SET next_attempt_at = ?1, attempts = attempts + 1
    WHERE (tenant_id, page_id) IN (
        SELECT tenant_id, page_id FROM page_setups
        WHERE next_attempt_at <= ?2
        ORDER BY next_attempt_at
        LIMIT ?3)
    RETURNING *",
    // Reading a set-up row never fails (unknown states read as pending), so this is a
    // formality: a row that could not be read would stop being due.
    park: ParkSql {
        what: "page set-up",
        postgres: "UPDATE page_setups SET next_attempt_at = NULL, last_error_message = $3
                   WHERE tenant_id = $1 AND page_id = $2",
        sqlite: "UPDATE page_setups SET next_attempt_at = NULL, last_error_message = ?3
                 WHERE tenant_id = ?1 AND page_id = ?2",
    },
};

const CLAIM_TEARDOWNS: ClaimSql = ClaimSql {
    scope: "page-setup-worker",
    postgres: "
    UPDATE page_teardowns SET next_attempt_at = $1, attempts = attempts + 1
    WHERE (tenant_id, id) IN (
        SELECT tenant_id, id FROM page_teardowns
        WHERE next_attempt_at <= $2
        ORDER BY next_attempt_at
        LIMIT $3
        FOR UPDATE SKIP LOCKED)
    RETURNING *",
    sqlite: "
    UPDATE page_teardowns SET next_attempt_at = ?1, attempts = attempts + 1
    WHERE (tenant_id, id) IN (
        SELECT tenant_id, id FROM page_teardowns
        WHERE next_attempt_at <= ?2
        ORDER BY next_attempt_at
        LIMIT ?3)
    RETURNING *",
    park: ParkSql {
        what: "page unsubscribe",
        postgres: "UPDATE page_teardowns SET next_attempt_at = NULL, last_error = $3
                   WHERE tenant_id = $1 AND id = $2",
        sqlite: "UPDATE page_teardowns SET next_attempt_at = NULL, last_error = ?3
                 WHERE tenant_id = ?1 AND id = ?2",
    },
};

// A new generation, every step pending, due now. The stored settings stay unless new ones
// come; the last error stays on view until a run succeeds.
const SCHEDULE: &str = "
    INSERT INTO page_setups (tenant_id, page_id, generation, subscribed_state, subscribed_fields,
        get_started_state, profile_state, replace_get_started, own_get_started, wanted_profile,
        meta_profile,
        last_error_code, last_error_subcode, last_error_message, checked_at, next_attempt_at,
        attempts, created_at, updated_at)
    VALUES ($1, $2, 1, 'pending', '', 'pending', 'pending', $3, NULL, $4, NULL, NULL, NULL, NULL,
        NULL, $5, 0, $5, $5)
    ON CONFLICT (tenant_id, page_id) DO UPDATE SET
        generation = page_setups.generation + 1,
        subscribed_state = 'pending',
        get_started_state = 'pending',
        profile_state = 'pending',
        replace_get_started = excluded.replace_get_started,
        wanted_profile = COALESCE(excluded.wanted_profile, page_setups.wanted_profile),
        next_attempt_at = excluded.next_attempt_at,
        attempts = 0,
        updated_at = excluded.updated_at";

const DROP_TEARDOWNS: &str =
    "DELETE FROM page_teardowns WHERE tenant_id = $1 AND facebook_page_id = $2";

// A run's result. A newer request (another generation) stands: its step states, flag and due
// time are kept, and its run starts afresh.
const SAVE_RUN: &str = "
    UPDATE page_setups SET
        subscribed_state = $3,
        subscribed_fields = $4,
        get_started_state = CASE WHEN generation = $12 THEN $5 ELSE get_started_state END,
        profile_state = CASE WHEN generation = $12 THEN $6 ELSE profile_state END,
        meta_profile = $7,
        last_error_code = $8,
        last_error_subcode = $9,
        last_error_message = $10,
        checked_at = $11,
        updated_at = $11,
        attempts = CASE WHEN generation = $12 THEN $13 ELSE 0 END,
        next_attempt_at = CASE WHEN generation = $12 THEN $14 ELSE $11 END,
        replace_get_started = CASE WHEN generation = $12 THEN $15 ELSE replace_get_started END,
        own_get_started = $16
    WHERE tenant_id = $1 AND page_id = $2";

fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = match backend {
        DbBackend::Postgres => sql.to_owned(),
        _ => sql.replace('$', "?"),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

async fn execute(txn: &DatabaseTransaction, sql: &str, values: Vec<Value>) -> DomainResult<()> {
    let backend = txn.get_database_backend();
    txn.execute_raw(statement(backend, sql, values))
        .await
        .map_err(internal)?;
    Ok(())
}

fn state(raw: &str) -> SetupStepState {
    SetupStepState::parse(raw).unwrap_or(SetupStepState::Pending)
}

fn json_object(raw: Option<&str>) -> Option<Map<String, Json>> {
    raw.and_then(|raw| serde_json::from_str::<Map<String, Json>>(raw).ok())
}

fn setup(row: page_setups::Model) -> DomainResult<PageSetup> {
    let last_error = row.last_error_message.map(|message| SetupError {
        code: row.last_error_code,
        subcode: row.last_error_subcode,
        message,
    });
    Ok(PageSetup {
        tenant_id: row.tenant_id.into(),
        page_id: row.page_id.into(),
        generation: row.generation,
        subscribed: state(&row.subscribed_state),
        subscribed_fields: row
            .subscribed_fields
            .split(',')
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect(),
        get_started: state(&row.get_started_state),
        profile: state(&row.profile_state),
        replace_get_started: row.replace_get_started,
        own_get_started: row.own_get_started,
        wanted: json_object(row.wanted_profile.as_deref())
            .map(|m| MessengerProfileSettings::from_meta(&m))
            .unwrap_or_default(),
        meta_profile: json_object(row.meta_profile.as_deref()),
        last_error,
        checked_at: row.checked_at,
        next_attempt_at: row.next_attempt_at,
        attempts: row.attempts,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn teardown(row: page_teardowns::Model) -> DomainResult<PageTeardown> {
    Ok(PageTeardown {
        tenant_id: row.tenant_id.into(),
        id: row.id,
        page_id: row.page_id.into(),
        facebook_page_id: row.facebook_page_id,
        access_token: SealedSecret(row.access_token),
        attempts: row.attempts,
        created_at: row.created_at,
    })
}

#[async_trait]
impl PageSetupRepository for Store {
    async fn schedule(&self, request: &SetupRequest) -> DomainResult<PageSetup> {
        let txn = scope::for_tenant_writing(&self.db, request.tenant_id)
            .await
            .map_err(internal)?;
        let wanted = request
            .settings
            .as_ref()
            .map(|s| Json::Object(s.to_stored()).to_string());
        execute(
            &txn,
            SCHEDULE,
            vec![
                request.tenant_id.0.into(),
                request.page_id.0.into(),
                request.replace_get_started.into(),
                wanted.into(),
                request.now.into(),
            ],
        )
        .await?;
        execute(
            &txn,
            DROP_TEARDOWNS,
            vec![
                request.tenant_id.0.into(),
                request.facebook_page_id.clone().into(),
            ],
        )
        .await?;
        let row = page_setups::Entity::find()
            .filter(page_setups::Column::TenantId.eq(request.tenant_id.0))
            .filter(page_setups::Column::PageId.eq(request.page_id.0))
            .one(&txn)
            .await
            .map_err(internal)?
            .ok_or_else(|| {
                refhub_domain::DomainError::internal(std::io::Error::other(
                    "a scheduled page set-up cannot be read back",
                ))
            })?;
        txn.commit().await.map_err(internal)?;
        setup(row)
    }

    async fn find(&self, tenant_id: TenantId, page_id: PageId) -> DomainResult<Option<PageSetup>> {
        let query = page_setups::Entity::find()
            .filter(page_setups::Column::TenantId.eq(tenant_id.0))
            .filter(page_setups::Column::PageId.eq(page_id.0));
        run::one(&self.db, tenant_id, query)
            .await?
            .map(setup)
            .transpose()
    }

    async fn claim_due(
        &self,
        limit: usize,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> DomainResult<Vec<PageSetup>> {
        claim::<page_setups::Entity, _>(self, &CLAIM_SETUPS, limit, lease, now, setup).await
    }

    async fn save_run(&self, run: &PageSetup) -> DomainResult<()> {
        let txn = scope::for_tenant(&self.db, run.tenant_id)
            .await
            .map_err(internal)?;
        let error = run.last_error.as_ref();
        let meta = run
            .meta_profile
            .as_ref()
            .map(|m| Json::Object(m.clone()).to_string());
        execute(
            &txn,
            SAVE_RUN,
            vec![
                run.tenant_id.0.into(),
                run.page_id.0.into(),
                run.subscribed.as_str().into(),
                run.subscribed_fields.join(",").into(),
                run.get_started.as_str().into(),
                run.profile.as_str().into(),
                meta.into(),
                error.and_then(|e| e.code).into(),
                error.and_then(|e| e.subcode).into(),
                error.map(|e| e.message.clone()).into(),
                run.checked_at.unwrap_or(run.updated_at).into(),
                run.generation.into(),
                run.attempts.into(),
                run.next_attempt_at.into(),
                run.replace_get_started.into(),
                run.own_get_started.clone().into(),
            ],
        )
        .await?;
        txn.commit().await.map_err(internal)
    }

    async fn schedule_teardown(&self, teardown: &PageTeardown) -> DomainResult<()> {
        let txn = scope::for_tenant(&self.db, teardown.tenant_id)
            .await
            .map_err(internal)?;
        page_teardowns::ActiveModel {
            tenant_id: Set(teardown.tenant_id.0),
            id: Set(teardown.id),
            page_id: Set(teardown.page_id.0),
            facebook_page_id: Set(teardown.facebook_page_id.clone()),
            access_token: Set(teardown.access_token.0.clone()),
            attempts: Set(0),
            last_error: Set(None),
            next_attempt_at: Set(Some(teardown.created_at)),
            created_at: Set(teardown.created_at),
        }
        .insert(&txn)
        .await
        .map_err(internal)?;
        txn.commit().await.map_err(internal)
    }

    async fn remove_teardown(&self, tenant_id: TenantId, id: uuid::Uuid) -> DomainResult<()> {
        let delete = page_teardowns::Entity::delete_many()
            .filter(page_teardowns::Column::TenantId.eq(tenant_id.0))
            .filter(page_teardowns::Column::Id.eq(id));
        run::delete(&self.db, tenant_id, delete).await.map(|_| ())
    }

    async fn claim_due_teardowns(
        &self,
        limit: usize,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> DomainResult<Vec<PageTeardown>> {
        claim::<page_teardowns::Entity, _>(self, &CLAIM_TEARDOWNS, limit, lease, now, teardown)
            .await
    }

    async fn retry_teardown(
        &self,
        teardown: &PageTeardown,
        next: DateTime<Utc>,
        error: &str,
    ) -> DomainResult<()> {
        let txn = scope::for_tenant(&self.db, teardown.tenant_id)
            .await
            .map_err(internal)?;
        execute(
            &txn,
            "UPDATE page_teardowns SET next_attempt_at = $3, last_error = $4
             WHERE tenant_id = $1 AND id = $2",
            vec![
                teardown.tenant_id.0.into(),
                teardown.id.into(),
                next.into(),
                error.to_owned().into(),
            ],
        )
        .await?;
        txn.commit().await.map_err(internal)
    }
}
