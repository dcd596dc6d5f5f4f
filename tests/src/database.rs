//! One fresh database per test: a temporary SQLite file, or a PostgreSQL database cloned from a
//! template that is migrated once per migration set (the approach of crates.io's test-db crate).

use std::time::Duration;

use anyhow::Context as _;
use refhub_migration::{APP_ROLE, Migrator, MigratorTrait as _};
use reqwest::Url;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
};
use sha2::{Digest as _, Sha256};
use tempfile::TempDir;
use tokio::sync::OnceCell;

/// Environment variable naming an admin connection to PostgreSQL; unset means SQLite.
pub const TEST_DATABASE_URL: &str = "TEST_DATABASE_URL";

/// Advisory lock key that serialises template creation across test processes.
const TEMPLATE_LOCK_KEY: i64 = 0x7265_6668_7562;

/// The template name, once this process has made sure the template exists.
static TEMPLATE: OnceCell<String> = OnceCell::const_new();

pub(crate) enum TestDatabase {
    Sqlite { _dir: TempDir, url: String },
    Postgres(PgTestDatabase),
}

impl TestDatabase {
    pub(crate) async fn create() -> TestDatabase {
        match std::env::var(TEST_DATABASE_URL) {
            Ok(admin_url) if !admin_url.trim().is_empty() => TestDatabase::Postgres(
                PgTestDatabase::create(&admin_url)
                    .await
                    .expect("could not create a PostgreSQL test database"),
            ),
            _ => {
                let dir = tempfile::tempdir().expect("could not create a temporary directory");
                let url = format!("sqlite://{}/refhub.db?mode=rwc", dir.path().display());
                TestDatabase::Sqlite { _dir: dir, url }
            }
        }
    }

    /// The URL the application connects with.
    pub(crate) fn app_url(&self) -> &str {
        match self {
            TestDatabase::Sqlite { url, .. } => url,
            TestDatabase::Postgres(pg) => &pg.app_url,
        }
    }

    /// PostgreSQL only: this test's database, as the admin (owner) user.
    pub(crate) fn admin_url(&self) -> Option<&str> {
        match self {
            TestDatabase::Sqlite { .. } => None,
            TestDatabase::Postgres(pg) => Some(&pg.admin_db_url),
        }
    }

    /// SQLite migrates on start; on PostgreSQL the clone is already migrated, and the app role
    /// (which owns nothing) could not migrate anyway.
    pub(crate) fn migrate_on_start(&self) -> bool {
        matches!(self, TestDatabase::Sqlite { .. })
    }
}

pub(crate) struct PgTestDatabase {
    /// Admin connection to the server's maintenance database, used to create and drop.
    server_admin_url: String,
    name: String,
    app_url: String,
    admin_db_url: String,
}

impl PgTestDatabase {
    async fn create(server_admin_url: &str) -> anyhow::Result<PgTestDatabase> {
        let template = TEMPLATE
            .get_or_try_init(|| ensure_template(server_admin_url))
            .await?
            .clone();
        let name = format!("refhub_test_{}", uuid::Uuid::new_v4().simple());
        let admin = connect_single(server_admin_url).await?;
        let clone = format!(r#"CREATE DATABASE "{name}" TEMPLATE "{template}""#);
        if admin.execute_unprepared(&clone).await.is_err() {
            // A run built from other migrations may have dropped our template as stale since
            // this process checked it: make sure it exists again, then retry once.
            ensure_template(server_admin_url).await?;
            admin
                .execute_unprepared(&clone)
                .await
                .with_context(|| format!("CREATE DATABASE {name} TEMPLATE {template}"))?;
        }
        admin.close().await?;
        Ok(PgTestDatabase {
            server_admin_url: server_admin_url.to_owned(),
            app_url: database_url(server_admin_url, &name, Some(APP_ROLE))?,
            admin_db_url: database_url(server_admin_url, &name, None)?,
            name,
        })
    }
}

impl Drop for PgTestDatabase {
    fn drop(&mut self) {
        let url = self.server_admin_url.clone();
        let name = self.name.clone();
        // Drop may run inside the test's runtime, which must not be blocked on itself: use a
        // thread with its own runtime. Failure only leaves a database behind.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(admin) = connect_single(&url).await {
                    let _ = admin
                        .execute_unprepared(&format!(
                            r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#
                        ))
                        .await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

/// A pool of exactly one connection, so that session state (advisory locks) stays put.
async fn connect_single(url: &str) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(1)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(30))
        .sqlx_logging(false);
    Database::connect(options)
        .await
        .with_context(|| format!("could not connect to {}", redact(url)))
}

/// The server URL with another database and, optionally, another user (trust auth: no password).
fn database_url(server_url: &str, database: &str, user: Option<&str>) -> anyhow::Result<String> {
    let mut url = Url::parse(server_url).context("TEST_DATABASE_URL is not a URL")?;
    url.set_path(&format!("/{database}"));
    if let Some(user) = user {
        url.set_username(user)
            .map_err(|()| anyhow::anyhow!("cannot set the user of {}", redact(server_url)))?;
        url.set_password(None)
            .map_err(|()| anyhow::anyhow!("cannot clear the password of {}", redact(server_url)))?;
    }
    Ok(url.to_string())
}

fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Creates the template for the current migrations unless another test (or another process)
/// already did. Built under a temporary name and renamed when complete, so that a crash half-way
/// never leaves a broken template behind.
async fn ensure_template(server_admin_url: &str) -> anyhow::Result<String> {
    let name = template_name();
    let admin = connect_single(server_admin_url).await?;
    admin
        .execute_unprepared(&format!("SELECT pg_advisory_lock({TEMPLATE_LOCK_KEY})"))
        .await?;
    let built = build_template_if_missing(&admin, server_admin_url, &name).await;
    let unlocked = admin
        .execute_unprepared(&format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK_KEY})"))
        .await;
    admin.close().await?;
    built?;
    unlocked?;
    Ok(name)
}

async fn build_template_if_missing(
    admin: &DatabaseConnection,
    server_admin_url: &str,
    name: &str,
) -> anyhow::Result<()> {
    // The migrations create the role NOLOGIN when it is missing; the tests need to log in as it.
    admin
        .execute_unprepared(&format!(
            "DO $$ BEGIN CREATE ROLE {APP_ROLE} LOGIN; \
             EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        ))
        .await?;
    admin
        .execute_unprepared(&format!("ALTER ROLE {APP_ROLE} LOGIN"))
        .await?;

    let exists = admin
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"),
        ))
        .await?
        .is_some();
    if exists {
        return Ok(());
    }

    let building = format!("{name}_building");
    admin
        .execute_unprepared(&format!(
            r#"DROP DATABASE IF EXISTS "{building}" WITH (FORCE)"#
        ))
        .await?;
    admin
        .execute_unprepared(&format!(r#"CREATE DATABASE "{building}""#))
        .await?;
    let template = connect_single(&database_url(server_admin_url, &building, None)?).await?;
    let migrated = Migrator::up(&template, None).await;
    template.close().await?;
    migrated.context("migrating the template database")?;
    admin
        .execute_unprepared(&format!(
            r#"ALTER DATABASE "{building}" RENAME TO "{name}""#
        ))
        .await?;

    // Templates of older migration sets only take disk space. Best effort: one in use by a
    // concurrent run of another checkout refuses to go, and that is fine.
    let stale = admin
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT datname FROM pg_database \
                 WHERE datname LIKE 'refhub\\_tpl\\_%' AND datname <> '{name}' \
                 AND datname NOT LIKE '%\\_building'"
            ),
        ))
        .await?;
    for row in stale {
        if let Ok(old) = row.try_get_by_index::<String>(0) {
            let _ = admin
                .execute_unprepared(&format!(r#"DROP DATABASE IF EXISTS "{old}""#))
                .await;
        }
    }
    Ok(())
}

/// `refhub_tpl_<hash>`: the hash covers the migration names and the migration crate's sources as
/// they were compiled (see build.rs), so that editing a migration in place yields a new template.
fn template_name() -> String {
    let mut hasher = Sha256::new();
    for migration in Migrator::migrations() {
        hasher.update(migration.name().as_bytes());
        hasher.update([0]);
    }
    hasher.update(env!("REFHUB_MIGRATION_SOURCES_HASH").as_bytes());
    let digest = hex::encode(hasher.finalize());
    format!("refhub_tpl_{}", &digest[..16])
}
