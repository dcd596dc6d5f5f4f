//! A PostgreSQL transaction whose `BEGIN` carries its settings, so that it opens in one round
//! trip.
//!
//! sea-orm 2.0.4 opens every transaction with a bare `BEGIN` and waits for it: sqlx would send
//! a statement of ours instead (`Pool::begin_with`), but sea-orm passes none. A tenant-scoped
//! transaction therefore cost two round trips before its first statement: `BEGIN`, then the
//! isolation level and `set_config` of the tenant. Here the whole opening goes as one simple
//! query (`BEGIN …; SELECT set_config(…)`), and the transaction is then read through sea-orm's
//! own [`ConnectionTrait`], so the repositories' queries do not change.
//!
//! It is only read from, and ends by being dropped: sqlx then queues its `ROLLBACK` (for a
//! read-only transaction the same as a `COMMIT`) and sends it with the check it makes when the
//! connection returns to its pool, at no round trip of its own.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use sea_orm::sqlx::{self, PgPool, Postgres, Transaction};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, ExecResult, QueryResult, RuntimeErr, Statement};
use sea_query_sqlx::SqlxValues;
use tokio::sync::Mutex;

/// An open PostgreSQL transaction, used through [`ConnectionTrait`] like sea-orm's own.
pub(crate) struct PgTransaction {
    // A mutex because `ConnectionTrait` lends `&self` while a statement needs the connection
    // alone; a transaction's statements run one after another, so it is never contended.
    txn: Mutex<Transaction<'static, Postgres>>,
    /// Counts each statement, as the pools' metric callback does for sea-orm's own.
    statements: Arc<AtomicU64>,
}

impl PgTransaction {
    /// Takes a connection from `pool` and runs `opening` on it, which must begin the
    /// transaction (`BEGIN …`) and may go on with further statements separated by `;` (simple
    /// query protocol: no parameters, every value inlined by the caller, safely).
    /// Each statement run in it then adds one to `statements`.
    pub(crate) async fn begin(
        pool: &PgPool,
        opening: String,
        statements: Arc<AtomicU64>,
    ) -> Result<Self, DbErr> {
        let txn = pool
            .begin_with(sqlx::AssertSqlSafe(opening))
            .await
            .map_err(|err| DbErr::Conn(runtime(err)))?;
        Ok(Self {
            txn: Mutex::new(txn),
            statements,
        })
    }

    /// The connection, for one statement (counted).
    async fn connection(&self) -> tokio::sync::MutexGuard<'_, Transaction<'static, Postgres>> {
        self.statements.fetch_add(1, Ordering::Relaxed);
        self.txn.lock().await
    }
}

fn runtime(err: sqlx::Error) -> RuntimeErr {
    RuntimeErr::SqlxError(Arc::new(err))
}

/// `stmt` as an sqlx query with its values bound, as sea-orm's own PostgreSQL driver binds them.
fn query(stmt: &Statement) -> sqlx::query::Query<'_, Postgres, SqlxValues> {
    let values = stmt.values.clone().unwrap_or(sea_orm::Values(Vec::new()));
    sqlx::query_with(sqlx::AssertSqlSafe(stmt.sql.as_str()), SqlxValues(values))
}

#[async_trait]
impl ConnectionTrait for PgTransaction {
    fn get_database_backend(&self) -> DbBackend {
        DbBackend::Postgres
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        let mut txn = self.connection().await;
        query(&stmt)
            .execute(&mut **txn)
            .await
            .map(ExecResult::from)
            .map_err(|err| DbErr::Exec(runtime(err)))
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let mut txn = self.connection().await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&mut **txn)
            .await
            .map(ExecResult::from)
            .map_err(|err| DbErr::Exec(runtime(err)))
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        let mut txn = self.connection().await;
        query(&stmt)
            .fetch_optional(&mut **txn)
            .await
            .map(|row| row.map(QueryResult::from))
            .map_err(|err| DbErr::Query(runtime(err)))
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let mut txn = self.connection().await;
        query(&stmt)
            .fetch_all(&mut **txn)
            .await
            .map(|rows| rows.into_iter().map(QueryResult::from).collect())
            .map_err(|err| DbErr::Query(runtime(err)))
    }
}
