//! Transactions that tell PostgreSQL's row-level security whose rows they may touch.
//!
//! `set_config(…, true)` is transaction-local (`SET LOCAL`), so a pooled connection never
//! carries one request's tenant into the next.

use refhub_domain::ids::{TenantId, UserId};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};

/// Begins a transaction acting for one tenant.
pub(crate) async fn for_tenant(
    db: &DatabaseConnection,
    tenant_id: TenantId,
) -> Result<DatabaseTransaction, DbErr> {
    begin_with(db, "app.tenant_id", tenant_id.to_string()).await
}

/// Begins a transaction acting for one tenant that reads and then writes. On SQLite it takes
/// the write lock at `BEGIN`, so that it waits its turn (busy timeout) instead of failing when
/// another writer commits between its read and its write.
pub(crate) async fn for_tenant_writing(
    db: &DatabaseConnection,
    tenant_id: TenantId,
) -> Result<DatabaseTransaction, DbErr> {
    let txn = db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        })
        .await?;
    set(&txn, "app.tenant_id", tenant_id.to_string()).await?;
    Ok(txn)
}

/// Begins a transaction acting for one user across the tenants they belong to (read-only use:
/// only the `own_memberships` policy is keyed on it).
pub(crate) async fn for_user(
    db: &DatabaseConnection,
    user_id: UserId,
) -> Result<DatabaseTransaction, DbErr> {
    begin_with(db, "app.user_id", user_id.to_string()).await
}

/// Begins a transaction that may claim due inbox events across tenants (and nothing else:
/// only the inbox has a policy for this scope).
pub(crate) async fn for_inbox_worker(
    db: &DatabaseConnection,
) -> Result<DatabaseTransaction, DbErr> {
    begin_with(db, "app.scope", "inbox-worker".to_owned()).await
}

async fn begin_with(
    db: &DatabaseConnection,
    setting: &str,
    value: String,
) -> Result<DatabaseTransaction, DbErr> {
    let txn = db.begin().await?;
    set(&txn, setting, value).await?;
    Ok(txn)
}

async fn set(txn: &DatabaseTransaction, setting: &str, value: String) -> Result<(), DbErr> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT set_config($1, $2, true)",
            [setting.into(), value.into()],
        ))
        .await?;
    }
    Ok(())
}
