//! The database handle every adapter shares.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use refhub_domain::ids::TenantId;

use crate::audience::count_cache::CountCache;
use crate::loopback_tls::without_tls_on_loopback;
use crate::read_session::ReadSession;
use sea_orm::sqlx::PgPool;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};

/// Which database engine is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite (the zero-configuration default).
    Sqlite,
    /// PostgreSQL (production).
    Postgres,
}

/// How long a pooled connection may sit idle before it is pinged again when lent.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// Pool settings.
#[derive(Debug, Clone)]
pub struct ConnectSettings {
    /// Most connections open at once.
    pub max_connections: u32,
    /// How long a request waits for a free connection before failing.
    pub acquire_timeout: Duration,
    /// Connections of the read sessions' own pool (PostgreSQL only; see [`ReadSession`]).
    pub read_session_connections: u32,
}

impl Default for ConnectSettings {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
            read_session_connections: 8,
        }
    }
}

/// The database, implementing every repository port of the domain.
#[derive(Clone)]
pub struct Store {
    pub(crate) db: DatabaseConnection,
    /// The read sessions' pool, on PostgreSQL (used through sqlx: see [`ReadSession`]).
    sessions: Option<PgPool>,
    statements: Arc<AtomicU64>,
    pub(crate) subscriber_counts: Arc<CountCache>,
}

impl Store {
    /// Opens a pool to `url` (`sqlite://…` or `postgres://…`).
    pub async fn connect(url: &str, settings: &ConnectSettings) -> Result<Self, DbErr> {
        // Counting statements costs an atomic add each; it shows whether a query's cost grows
        // with what it returns (the N+1 test reads it).
        let statements = Arc::new(AtomicU64::new(0));
        let db = Self::pool(url, settings.max_connections, settings, &statements).await?;
        let sessions = match db.get_database_backend() {
            DbBackend::Postgres if settings.read_session_connections > 0 => Some(
                Self::pool(
                    url,
                    settings.read_session_connections,
                    settings,
                    &statements,
                )
                .await?
                .get_postgres_connection_pool()
                .clone(),
            ),
            _ => None,
        };
        Ok(Self {
            db,
            sessions,
            statements,
            subscriber_counts: Arc::default(),
        })
    }

    /// A read session for one tenant (see [`ReadSession`]); `None` on SQLite.
    pub fn read_session(&self, tenant_id: TenantId) -> Option<Arc<ReadSession>> {
        self.sessions
            .as_ref()
            .map(|pool| ReadSession::new(pool.clone(), tenant_id, self.statements.clone()))
    }

    async fn pool(
        url: &str,
        max_connections: u32,
        settings: &ConnectSettings,
        statements: &Arc<AtomicU64>,
    ) -> Result<DatabaseConnection, DbErr> {
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(max_connections)
            .acquire_timeout(settings.acquire_timeout)
            // By default sqlx pings a connection before lending it: a round trip of its own
            // ahead of every transaction (one of the eight a dashboard page made). A connection
            // coming back from use is pinged on its return anyway (sqlx flushes a dropped
            // transaction's rollback with it), so only one idle long enough for the server or
            // a proxy to have dropped it is checked again when lent; one that broke since its
            // return fails its statement, and sqlx closes it when it comes back.
            .test_before_acquire_if_idle_for(PING_IF_IDLE_FOR)
            .sqlx_logging(false)
            // WAL lets readers proceed while one writer commits; the busy timeout makes writers
            // queue instead of failing when another holds the lock.
            .map_sqlx_postgres_opts(without_tls_on_loopback)
            .map_sqlx_sqlite_opts(|opts| {
                opts.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
            });
        let mut db = Database::connect(options).await?;
        let counter = statements.clone();
        db.set_metric_callback(move |_| {
            counter.fetch_add(1, Ordering::Relaxed);
        });
        Ok(db)
    }

    /// How many SQL statements this pool has executed so far.
    pub fn statements_executed(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// The underlying connection, for migrations.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Which engine this is.
    pub fn backend(&self) -> Backend {
        match self.db.get_database_backend() {
            DbBackend::Postgres => Backend::Postgres,
            _ => Backend::Sqlite,
        }
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.db.ping().await
    }

    /// On PostgreSQL, whether the connected role escapes row-level security (superuser or
    /// BYPASSRLS), which would leave tenant isolation to the application alone.
    pub async fn role_bypasses_row_security(&self) -> Result<bool, DbErr> {
        if self.backend() != Backend::Postgres {
            return Ok(false);
        }
        let row = self
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                DbBackend::Postgres,
                "SELECT (rolsuper OR rolbypassrls) AS bypass FROM pg_roles WHERE rolname = current_user",
            ))
            .await?;
        Ok(match row {
            Some(row) => row.try_get::<bool>("", "bypass")?,
            None => false,
        })
    }

    /// Closes the pools.
    pub async fn close(self) -> Result<(), DbErr> {
        if let Some(sessions) = self.sessions {
            sessions.close().await;
        }
        self.db.close().await
    }
}
