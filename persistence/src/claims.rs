//! Claiming due rows of a work queue across tenants: one statement that moves the rows' due
//! time to the end of a lease (so a dead worker's rows fall due again) and returns them.
//!
//! Each claimed row is read on its own: a row that cannot be read back (a stored value the
//! driver refuses, such as a `jsonb` number beyond `f64`, or one the code cannot map) is set
//! aside by its queue's park statement, with a reason people can see, and every other row of
//! the claim is returned. Read as a whole, one such row failed every claim that took it, and
//! with it every tenant's work, for ever.

use chrono::{DateTime, Duration, Utc};
use refhub_domain::DomainResult;
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, FromQueryResult, QueryResult,
    Statement, Value,
};
use uuid::Uuid;

use crate::error::internal;
use crate::scope;

/// A queue's claim statement for each engine: `$1`/`?1` the lease's end, `$2`/`?2` now,
/// `$3`/`?3` how many rows at most.
pub(crate) struct ClaimSql {
    /// The `app.scope` whose policy opens the queue's table across tenants.
    pub scope: &'static str,
    /// With `FOR UPDATE SKIP LOCKED`, so workers in several processes never share a row.
    pub postgres: &'static str,
    /// SQLite has one writer at a time: the UPDATE itself is the lock.
    pub sqlite: &'static str,
    /// How the queue sets aside a row it cannot read.
    pub park: ParkSql,
}

/// The statement that sets aside one claimed row that cannot be read, so that it is never
/// claimed again (until a person replays it): `$1`/`?1` its tenant, `$2`/`?2` its id,
/// `$3`/`?3` the reason, for people.
pub(crate) struct ParkSql {
    /// What a row is, for people and logs (`event`, `flow run`, …).
    pub what: &'static str,
    pub postgres: &'static str,
    pub sqlite: &'static str,
}

/// What people are told about a row that cannot be read; the cause goes to the log.
fn unreadable_reason(what: &str, id: Uuid) -> String {
    format!("this {what}'s stored data cannot be read, so it was set aside (logged with id {id})")
}

/// Claims up to `limit` due rows of `E` for `lease`, each read with `read`.
pub(crate) async fn claim<E, T>(
    store: &crate::Store,
    sql: &ClaimSql,
    limit: usize,
    lease: Duration,
    now: DateTime<Utc>,
    read: impl Fn(E::Model) -> DomainResult<T>,
) -> DomainResult<Vec<T>>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Sized + Send + Sync,
{
    let txn = scope::for_cross_tenant_scope(&store.db, sql.scope)
        .await
        .map_err(internal)?;
    let backend = txn.get_database_backend();
    let statement = match backend {
        DbBackend::Postgres => sql.postgres,
        _ => sql.sqlite,
    };
    let claimed = claim_each::<E, T>(&txn, statement, &sql.park, limit, lease, now, read).await?;
    txn.commit().await.map_err(internal)?;
    Ok(claimed)
}

/// Runs a claim `statement` in `txn` and reads each row it returns on its own; rows that
/// cannot be read are parked (in `txn`) and left out.
pub(crate) async fn claim_each<E, T>(
    txn: &DatabaseTransaction,
    statement: &str,
    park: &ParkSql,
    limit: usize,
    lease: Duration,
    now: DateTime<Utc>,
    read: impl Fn(E::Model) -> DomainResult<T>,
) -> DomainResult<Vec<T>>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Sized + Send + Sync,
{
    let backend = txn.get_database_backend();
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = txn
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            statement,
            [(now + lease).into(), now.into(), limit.into()],
        ))
        .await
        .map_err(internal)?;
    let mut claimed = Vec::with_capacity(rows.len());
    for row in rows {
        let read_row = E::Model::from_query_result(&row, "")
            .map_err(internal)
            .and_then(&read);
        match read_row {
            Ok(value) => claimed.push(value),
            Err(err) => park_row(txn, park, &row, &err.to_string()).await?,
        }
    }
    Ok(claimed)
}

/// Sets aside one claimed row that could not be read, logging why.
async fn park_row(
    txn: &DatabaseTransaction,
    park: &ParkSql,
    row: &QueryResult,
    cause: &str,
) -> DomainResult<()> {
    let (Ok(tenant_id), Ok(id)) = (
        row.try_get::<Uuid>("", "tenant_id"),
        row.try_get::<Uuid>("", "id"),
    ) else {
        // Not even its key can be read: nothing can name it. Its lease will run out and the
        // next claim will meet it again, but it still holds back no other row.
        tracing::error!(what = park.what, error = %cause, "a claimed row without a readable key");
        return Ok(());
    };
    tracing::error!(what = park.what, %tenant_id, %id, error = %cause, "a claimed row cannot be read; set aside");
    let backend = txn.get_database_backend();
    let statement = match backend {
        DbBackend::Postgres => park.postgres,
        _ => park.sqlite,
    };
    let values: [Value; 3] = [
        tenant_id.into(),
        id.into(),
        unreadable_reason(park.what, id).into(),
    ];
    txn.execute_raw(Statement::from_sql_and_values(backend, statement, values))
        .await
        .map_err(internal)?;
    Ok(())
}
