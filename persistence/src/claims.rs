//! Claiming due rows of a work queue across tenants: one statement that moves the rows' due
//! time to the end of a lease (so a dead worker's rows fall due again) and returns them.

use chrono::{DateTime, Duration, Utc};
use refhub_domain::DomainResult;
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, Statement};

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
}

/// Claims up to `limit` due rows of `E` for `lease`.
pub(crate) async fn claim<E>(
    store: &crate::Store,
    sql: &ClaimSql,
    limit: usize,
    lease: Duration,
    now: DateTime<Utc>,
) -> DomainResult<Vec<E::Model>>
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
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = E::find()
        .from_raw_sql(Statement::from_sql_and_values(
            backend,
            statement,
            [(now + lease).into(), now.into(), limit.into()],
        ))
        .all(&txn)
        .await
        .map_err(internal)?;
    txn.commit().await.map_err(internal)?;
    Ok(rows)
}
