//! One read transaction shared by every read of a request.
//!
//! A dashboard query reads a dozen things (the page, the list, its count, field values, tags,
//! opt-ins, the fields and tags they name…), and each repository call used to be its own
//! tenant-scoped transaction: `BEGIN`, `set_config`, the statement, `COMMIT`, four round trips
//! for one statement. A [`ReadSession`] opens one transaction for the request instead and runs
//! every tenant-scoped read of that tenant in it, so each read costs one round trip; and since
//! it is `REPEATABLE READ`, everything the request shows comes from one snapshot.
//!
//! The session is ambient (a task-local) rather than a parameter of every port, because it is
//! purely a question of how the adapter talks to the database: the domain and its ports do not
//! change. Who opens one decides where it applies: the GraphQL endpoint opens one for read-only
//! operations (a mutation must see its own writes, which commit on other connections after the
//! snapshot was taken). Tasks spawned on behalf of the request (the batch loaders) enter it
//! with [`ReadSession::scope`].
//!
//! Sessions take their connection from a pool of their own, so that a request holding one can
//! still get a connection from the main pool for anything else (a write, another scope) without
//! ever waiting on a connection that requests holding the main pool's are waiting for.
//! Only PostgreSQL has sessions: SQLite's statements are calls into the process, not round
//! trips.

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use refhub_domain::ids::TenantId;
use sea_orm::DbErr;
use sea_orm::sqlx::PgPool;
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::pg_transaction::PgTransaction;
use crate::scope;

tokio::task_local! {
    static CURRENT: Arc<ReadSession>;
}

/// A request's read-only, tenant-scoped transaction, begun at its first read.
pub struct ReadSession {
    tenant_id: TenantId,
    pool: PgPool,
    txn: Arc<Mutex<Option<PgTransaction>>>,
    statements: Arc<AtomicU64>,
}

impl ReadSession {
    pub(crate) fn new(pool: PgPool, tenant_id: TenantId, statements: Arc<AtomicU64>) -> Arc<Self> {
        Arc::new(Self {
            tenant_id,
            pool,
            txn: Arc::default(),
            statements,
        })
    }

    /// Runs `future` with this session as the ambient one: its reads of this session's tenant
    /// go through the session's transaction.
    pub async fn scope<F: Future>(self: &Arc<Self>, future: F) -> F::Output {
        CURRENT.scope(self.clone(), future).await
    }

    /// Ends the transaction, if one was begun, by dropping it: the driver queues its ROLLBACK
    /// (for a read-only transaction the same as a COMMIT) and sends it with the check it makes
    /// anyway when the connection goes back to the pool, so ending costs no round trip of its
    /// own.
    pub async fn finish(&self) {
        drop(self.txn.lock().await.take());
    }

    /// The ambient session, when there is one for `tenant_id`.
    pub(crate) fn current(tenant_id: TenantId) -> Option<Arc<Self>> {
        CURRENT
            .try_with(Arc::clone)
            .ok()
            .filter(|session| session.tenant_id == tenant_id)
    }

    /// The session's transaction, begun if this is the first read, held until the returned
    /// guard is dropped (reads of one request take turns on its connection).
    pub(crate) async fn transaction(&self) -> Result<SessionTransaction, DbErr> {
        let mut guard = self.txn.clone().lock_owned().await;
        if guard.is_none() {
            *guard = Some(self.begin().await?);
        }
        Ok(SessionTransaction {
            guard,
            finished: false,
        })
    }

    /// Opens the transaction in one round trip (see [`crate::pg_transaction`]): `BEGIN` with
    /// its isolation level, the tenant for row-level security, and `random_page_cost`.
    ///
    /// `random_page_cost`: a session reads a few rows by index (a page, the field values and
    /// tags of its twenty subscribers), from tables the dashboard keeps in memory. At the
    /// default cost of a random read (4, for spinning disks) PostgreSQL judged a small tenant's
    /// whole table cheaper to scan than twenty index lookups, and its generic plans kept that
    /// choice: 0.15 ms for the tags of a page, against 0.05 ms by index (measured on 1,000
    /// subscribers). 1.1 is the usual figure for data in memory or on SSDs; it applies to this
    /// transaction only.
    async fn begin(&self) -> Result<PgTransaction, DbErr> {
        let opening = scope::opening_for_tenant(
            self.tenant_id,
            "ISOLATION LEVEL REPEATABLE READ, READ ONLY",
            &[("random_page_cost", "1.1")],
        );
        PgTransaction::begin(&self.pool, opening, self.statements.clone()).await
    }
}

/// The session's transaction, lent to one read.
pub(crate) struct SessionTransaction {
    guard: OwnedMutexGuard<Option<PgTransaction>>,
    finished: bool,
}

impl SessionTransaction {
    /// The read went through: the transaction stays open for the request's next one.
    pub(crate) fn done(mut self) {
        self.finished = true;
    }
}

impl Deref for SessionTransaction {
    type Target = PgTransaction;

    fn deref(&self) -> &PgTransaction {
        self.guard
            .as_ref()
            .expect("a lent session transaction has been begun")
    }
}

impl Drop for SessionTransaction {
    /// A read that failed may have aborted the transaction (PostgreSQL then refuses every
    /// later statement in it): it is rolled back, and the next read begins a new one.
    fn drop(&mut self) {
        if !self.finished {
            self.guard.take();
        }
    }
}
