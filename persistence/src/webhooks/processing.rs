//! Transactions of the workers that process stored events.

use refhub_domain::DomainResult;
use refhub_domain::ids::TenantId;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, Statement,
    TransactionTrait,
};

use crate::error::internal;
use crate::scope;

/// Begins a transaction that applies stored events for one tenant.
///
/// On PostgreSQL its commit is asynchronous (`synchronous_commit = off`, for this transaction
/// only): it returns before the WAL reaches the disk, so one worker does not wait for one
/// flush per event. This is safe because what it writes is derived from an inbox row that was
/// committed durably before the webhook was acknowledged: should the server crash before the
/// flush, the effects and the "processed" mark vanish together (one transaction), the event
/// is still PROCESSING with a lease, and it is applied again when the lease runs out. Anything
/// later committed durably (a flow run that sent a message, say) flushes the WAL up to itself,
/// this commit included. Set together with the tenant in one round trip.
pub(crate) async fn begin_processing(
    db: &DatabaseConnection,
    tenant_id: TenantId,
) -> DomainResult<DatabaseTransaction> {
    if db.get_database_backend() != DbBackend::Postgres {
        return scope::for_tenant_writing(db, tenant_id)
            .await
            .map_err(internal);
    }
    let txn = db.begin().await.map_err(internal)?;
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT set_config('app.tenant_id', $1, true), set_config('synchronous_commit', 'off', true)",
        [tenant_id.to_string().into()],
    ))
    .await
    .map_err(internal)?;
    Ok(txn)
}

/// Begins the transaction that claims due events across tenants (the `inbox-worker` scope).
///
/// On PostgreSQL the claim is planned afresh each time (`plan_cache_mode =
/// force_custom_plan`, for this transaction only). The driver prepares it once per connection,
/// and PostgreSQL then settles on a generic plan that is never revised until the table is
/// analyzed again: planned while the inbox was nearly empty it sorted the whole table, so that
/// a claim took about a second once the backlog was 80,000 events (measured: 45 events/s,
/// `BufFileRead` in `pg_stat_activity`). Planning the claim costs well under a millisecond
/// per batch.
pub(crate) async fn begin_claiming(db: &DatabaseConnection) -> DomainResult<DatabaseTransaction> {
    if db.get_database_backend() != DbBackend::Postgres {
        return scope::for_inbox_worker(db).await.map_err(internal);
    }
    let txn = db.begin().await.map_err(internal)?;
    txn.execute_raw(Statement::from_string(
        DbBackend::Postgres,
        "SELECT set_config('app.scope', 'inbox-worker', true), \
         set_config('plan_cache_mode', 'force_custom_plan', true)",
    ))
    .await
    .map_err(internal)?;
    Ok(txn)
}
