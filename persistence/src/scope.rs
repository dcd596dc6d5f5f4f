//! Transactions that tell PostgreSQL's row-level security whose rows they may touch.
//!
//! `set_config(…, true)` is transaction-local (`SET LOCAL`), so a pooled connection never
//! carries one request's tenant into the next.

use async_trait::async_trait;
use refhub_domain::ids::{TenantId, UserId};
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    ExecResult, IsolationLevel, QueryResult, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionTrait,
};

use crate::read_session::{ReadSession, SessionTransaction};

/// Begins a transaction acting for one tenant.
pub(crate) async fn for_tenant(
    db: &DatabaseConnection,
    tenant_id: TenantId,
) -> Result<DatabaseTransaction, DbErr> {
    begin_with(db, "app.tenant_id", tenant_id.to_string()).await
}

/// Begins a read-only transaction acting for one tenant whose statements all see one snapshot
/// (PostgreSQL's REPEATABLE READ; SQLite's read transactions always do): a list's count and
/// its page then agree even while rows are being added.
pub(crate) async fn for_tenant_snapshot(
    db: &DatabaseConnection,
    tenant_id: TenantId,
) -> Result<DatabaseTransaction, DbErr> {
    let txn = if db.get_database_backend() == DbBackend::Postgres {
        db.begin_with_config(
            Some(IsolationLevel::RepeatableRead),
            Some(AccessMode::ReadOnly),
        )
        .await?
    } else {
        db.begin().await?
    };
    set(&txn, "app.tenant_id", tenant_id.to_string()).await?;
    Ok(txn)
}

/// A transaction to read in: the request's read session when one is open for this tenant
/// (see [`crate::read_session`]), else one of the read's own.
pub(crate) enum Reading {
    /// Lent by the request's session: one round trip per statement.
    Session(SessionTransaction),
    /// The read's own, committed when the read is done.
    Own(DatabaseTransaction),
}

impl Reading {
    /// The read is done: commits its own transaction, or hands the session's back.
    pub(crate) async fn finish(self) -> Result<(), DbErr> {
        match self {
            Reading::Session(lent) => {
                lent.done();
                Ok(())
            }
            Reading::Own(txn) => txn.commit().await,
        }
    }
}

/// A read goes through whichever transaction it was given.
#[async_trait]
impl ConnectionTrait for Reading {
    fn get_database_backend(&self) -> DbBackend {
        match self {
            Reading::Session(lent) => lent.get_database_backend(),
            Reading::Own(txn) => txn.get_database_backend(),
        }
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match self {
            Reading::Session(lent) => lent.execute_raw(stmt).await,
            Reading::Own(txn) => txn.execute_raw(stmt).await,
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match self {
            Reading::Session(lent) => lent.execute_unprepared(sql).await,
            Reading::Own(txn) => txn.execute_unprepared(sql).await,
        }
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match self {
            Reading::Session(lent) => lent.query_one_raw(stmt).await,
            Reading::Own(txn) => txn.query_one_raw(stmt).await,
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match self {
            Reading::Session(lent) => lent.query_all_raw(stmt).await,
            Reading::Own(txn) => txn.query_all_raw(stmt).await,
        }
    }
}

/// A transaction for one tenant's reads (one statement or several that need not agree).
pub(crate) async fn for_tenant_reading(
    db: &DatabaseConnection,
    tenant_id: TenantId,
) -> Result<Reading, DbErr> {
    match ReadSession::current(tenant_id) {
        Some(session) => Ok(Reading::Session(session.transaction().await?)),
        None => Ok(Reading::Own(for_tenant(db, tenant_id).await?)),
    }
}

/// A transaction for one tenant's reads that must all see one snapshot (a list's count and
/// its page). A session's transaction is one snapshot already.
pub(crate) async fn for_tenant_snapshot_reading(
    db: &DatabaseConnection,
    tenant_id: TenantId,
) -> Result<Reading, DbErr> {
    match ReadSession::current(tenant_id) {
        Some(session) => Ok(Reading::Session(session.transaction().await?)),
        None => Ok(Reading::Own(for_tenant_snapshot(db, tenant_id).await?)),
    }
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

/// Begins a read-only transaction acting as the person invitations were sent to: only the
/// `invitee_by_email` policy is keyed on it, opening the invitations to `email`.
pub(crate) async fn for_invitee(
    db: &DatabaseConnection,
    email: &str,
) -> Result<DatabaseTransaction, DbErr> {
    begin_with(db, "app.invitee_email", email.to_owned()).await
}

/// Begins a read-only transaction acting as the holder of an invitation's token: only the
/// `invitee_by_token` policy is keyed on it, opening the one invitation with that fingerprint.
pub(crate) async fn for_invitation_token(
    db: &DatabaseConnection,
    fingerprint: &str,
) -> Result<DatabaseTransaction, DbErr> {
    begin_with(db, "app.invitation_token", fingerprint.to_owned()).await
}

/// Begins a read-only transaction acting as the holder of a data-deletion confirmation code:
/// only the `deletion_status_by_code` policy is keyed on it, opening the one request with it.
pub(crate) async fn for_deletion_code(
    db: &DatabaseConnection,
    code: &str,
) -> Result<DatabaseTransaction, DbErr> {
    begin_with(db, "app.deletion_code", code.to_owned()).await
}

/// Begins a transaction that may claim due inbox events across tenants (and nothing else:
/// only the inbox has a policy for this scope).
pub(crate) async fn for_inbox_worker(
    db: &DatabaseConnection,
) -> Result<DatabaseTransaction, DbErr> {
    begin_with(db, "app.scope", "inbox-worker".to_owned()).await
}

/// Begins a transaction acting across tenants for one narrow purpose: claiming due work of a
/// queue (`flow-worker`, `outbox-worker`) or resolving a short link (`short-link`). Each scope
/// has policies opening only the tables it needs.
pub(crate) async fn for_cross_tenant_scope(
    db: &DatabaseConnection,
    scope: &'static str,
) -> Result<DatabaseTransaction, DbErr> {
    begin_with(db, "app.scope", scope.to_owned()).await
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

/// A PostgreSQL `BEGIN` (with `options`, such as an isolation level) that declares `tenant_id`
/// to row-level security in the same simple query, for a transaction sqlx begins with a
/// statement of ours: one round trip where `BEGIN` and then `set_config` take two (see
/// [`crate::pg_transaction`]). `settings` are further transaction-local settings. Every value
/// is inlined: the tenant id is a UUID we format, the settings are our own constants.
pub(crate) fn opening_for_tenant(
    tenant_id: TenantId,
    options: &str,
    settings: &[(&str, &str)],
) -> String {
    let mut sql =
        format!("BEGIN {options}; SELECT set_config('app.tenant_id', '{tenant_id}', true)");
    for (name, value) in settings {
        sql.push_str(&format!(", set_config('{name}', '{value}', true)"));
    }
    sql
}

/// Scopes a transaction run through sqlx directly (PostgreSQL's bulk inserts) to `tenant_id`,
/// as [`for_tenant`] does for sea-orm's.
pub(crate) async fn act_for_tenant(
    txn: &mut sea_orm::sqlx::PgConnection,
    tenant_id: TenantId,
) -> Result<(), sea_orm::sqlx::Error> {
    sea_orm::sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(tenant_id.to_string())
        .execute(txn)
        .await
        .map(|_| ())
}

/// One statement in its own tenant-scoped transaction: the shapes every repository repeats.
pub(crate) mod run {
    use refhub_domain::DomainResult;
    use refhub_domain::ids::TenantId;
    use refhub_domain::pagination::{Page, PageRequest};
    use sea_orm::{
        DatabaseConnection, DbErr, DeleteMany, EntityTrait, PaginatorTrait, Select, SelectFour,
        SelectThree, SelectTwo, Selector, SelectorTrait, Topology, UpdateMany,
    };

    use super::Reading;
    use crate::error::internal;
    use crate::pagination::{keyset_page, keyset_page_newest_by_time, keyset_page_newest_first};

    /// Every row `query` selects.
    pub(crate) async fn all<E: EntityTrait>(
        db: &DatabaseConnection,
        tenant_id: TenantId,
        query: Select<E>,
    ) -> DomainResult<Vec<E::Model>> {
        every(db, tenant_id, query.into_model()).await
    }

    /// Every row `query` selects, each with the row it joins (when there is one).
    pub(crate) async fn all_with<E: EntityTrait, F: EntityTrait>(
        db: &DatabaseConnection,
        tenant_id: TenantId,
        query: SelectTwo<E, F>,
    ) -> DomainResult<Vec<(E::Model, Option<F::Model>)>> {
        every(db, tenant_id, query.into_model()).await
    }

    /// The first row `query` selects.
    pub(crate) async fn one<E: EntityTrait>(
        db: &DatabaseConnection,
        tenant_id: TenantId,
        query: Select<E>,
    ) -> DomainResult<Option<E::Model>> {
        first(db, tenant_id, query.into_model()).await
    }

    /// The first row `query` selects, with each of the two rows it joins (when there is one).
    pub(crate) async fn one_with_two<E, F, G, TOP>(
        db: &DatabaseConnection,
        tenant_id: TenantId,
        query: SelectThree<E, F, G, TOP>,
    ) -> DomainResult<Option<(E::Model, Option<F::Model>, Option<G::Model>)>>
    where
        E: EntityTrait,
        F: EntityTrait,
        G: EntityTrait,
        TOP: Topology,
    {
        first(db, tenant_id, query.into_model()).await
    }

    /// The first row `query` selects, with each of the three rows it joins (when there is one).
    pub(crate) async fn one_with_three<E, F, G, H, TOP>(
        db: &DatabaseConnection,
        tenant_id: TenantId,
        query: SelectFour<E, F, G, H, TOP>,
    ) -> DomainResult<Option<JoinedFour<E, F, G, H>>>
    where
        E: EntityTrait,
        F: EntityTrait,
        G: EntityTrait,
        H: EntityTrait,
        TOP: Topology,
    {
        first(db, tenant_id, query.into_model()).await
    }

    /// A row with the three rows it joins, each when there is one.
    pub(crate) type JoinedFour<E, F, G, H> = (
        <E as EntityTrait>::Model,
        Option<<F as EntityTrait>::Model>,
        Option<<G as EntityTrait>::Model>,
        Option<<H as EntityTrait>::Model>,
    );

    async fn every<S: SelectorTrait>(
        db: &DatabaseConnection,
        tenant_id: TenantId,
        selector: Selector<S>,
    ) -> DomainResult<Vec<S::Item>> {
        let txn = super::for_tenant_reading(db, tenant_id)
            .await
            .map_err(internal)?;
        let rows = selector.all(&txn).await.map_err(internal)?;
        txn.finish().await.map_err(internal)?;
        Ok(rows)
    }

    async fn first<S: SelectorTrait>(
        db: &DatabaseConnection,
        tenant_id: TenantId,
        selector: Selector<S>,
    ) -> DomainResult<Option<S::Item>> {
        let txn = super::for_tenant_reading(db, tenant_id)
            .await
            .map_err(internal)?;
        let row = selector.one(&txn).await.map_err(internal)?;
        txn.finish().await.map_err(internal)?;
        Ok(row)
    }

    /// How many rows `query` selects.
    pub(crate) async fn count<E>(
        db: &DatabaseConnection,
        tenant_id: TenantId,
        query: Select<E>,
    ) -> DomainResult<u64>
    where
        E: EntityTrait,
        E::Model: Sync,
    {
        let txn = super::for_tenant_reading(db, tenant_id)
            .await
            .map_err(internal)?;
        let count = query.count(&txn).await.map_err(internal)?;
        txn.finish().await.map_err(internal)?;
        Ok(count)
    }

    /// Runs `read` in a read-only snapshot of the tenant's rows, so that a page and its count
    /// agree.
    async fn in_snapshot<T>(
        db: &DatabaseConnection,
        tenant_id: TenantId,
        read: impl AsyncFnOnce(&Reading) -> Result<T, DbErr>,
    ) -> DomainResult<T> {
        let txn = super::for_tenant_snapshot_reading(db, tenant_id)
            .await
            .map_err(internal)?;
        let value = read(&txn).await.map_err(internal)?;
        txn.finish().await.map_err(internal)?;
        Ok(value)
    }

    /// A keyset page of `query` by `id`, oldest first.
    pub(crate) async fn page<E>(
        db: &DatabaseConnection,
        tenant_id: TenantId,
        query: Select<E>,
        id: E::Column,
        page: PageRequest,
    ) -> DomainResult<Page<E::Model>>
    where
        E: EntityTrait,
        E::Model: Sync,
    {
        in_snapshot(db, tenant_id, async |txn| {
            keyset_page(txn, query, id, page).await
        })
        .await
    }

    /// A keyset page of `query` by `id`, newest first.
    pub(crate) async fn page_newest_first<E>(
        db: &DatabaseConnection,
        tenant_id: TenantId,
        query: Select<E>,
        id: E::Column,
        page: PageRequest,
    ) -> DomainResult<Page<E::Model>>
    where
        E: EntityTrait,
        E::Model: Sync,
    {
        in_snapshot(db, tenant_id, async |txn| {
            keyset_page_newest_first(txn, query, id, page).await
        })
        .await
    }

    /// A keyset page of `query` newest first by `time`, then by `id`.
    pub(crate) async fn page_newest_by_time<E>(
        db: &DatabaseConnection,
        tenant_id: TenantId,
        query: Select<E>,
        time: E::Column,
        id: E::Column,
        page: PageRequest,
    ) -> DomainResult<Page<E::Model>>
    where
        E: EntityTrait,
        E::Model: Sync,
    {
        in_snapshot(db, tenant_id, async |txn| {
            keyset_page_newest_by_time(txn, query, time, id, page).await
        })
        .await
    }

    /// Applies `update`; returns how many rows it changed.
    pub(crate) async fn update<E: EntityTrait>(
        db: &DatabaseConnection,
        tenant_id: TenantId,
        update: UpdateMany<E>,
    ) -> DomainResult<u64> {
        let txn = super::for_tenant(db, tenant_id).await.map_err(internal)?;
        let result = update.exec(&txn).await.map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        Ok(result.rows_affected)
    }

    /// Applies `delete`; returns how many rows it removed.
    pub(crate) async fn delete<E: EntityTrait>(
        db: &DatabaseConnection,
        tenant_id: TenantId,
        delete: DeleteMany<E>,
    ) -> DomainResult<u64> {
        let txn = super::for_tenant(db, tenant_id).await.map_err(internal)?;
        let result = delete.exec(&txn).await.map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        Ok(result.rows_affected)
    }
}
