//! Configuration from the environment, with defaults that let `cargo run` work with no setup.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

pub use crate::http::client_address::{ForwardingHeader, TrustedProxies};
pub use crate::http::cors::AllowedOrigins;

/// The JWT secret `Config::for_tests` uses; tests sign their own forged tokens with it.
pub const TEST_JWT_SECRET: &str = "refhub-test-jwt-secret-not-for-production-use-0123456789";
/// The encryption key `Config::for_tests` uses.
pub const TEST_ENCRYPTION_KEY: [u8; 32] = [7; 32];
/// Meta's Graph API, at the version the service was built against: v26.0, the newest (introduced
/// 2026-07-29). Meta keeps a version at least two years; its end date is not set yet, and it
/// outlives v25.0, whose end is 2028-07-29 (Graph API changelog, "Available Graph API versions").
pub const DEFAULT_GRAPH_API_BASE_URL: &str = "https://graph.facebook.com/v26.0";
/// Events a webhook worker claims and applies at once, unless `WORKER_BATCH_SIZE` says otherwise.
pub const DEFAULT_WORKER_BATCH_SIZE: usize = 50;
/// The largest `WORKER_BATCH_SIZE` taken: a batch is one transaction holding its subscribers'
/// rows locked, and a claim that a worker must finish within its lease.
const MAX_WORKER_BATCH_SIZE: usize = 1_000;
/// The longest `WORKER_STEP_ASIDE_MS` taken: well within a claim's lease, and processing
/// never slows to a crawl.
const MAX_WORKER_STEP_ASIDE_MS: u64 = 5_000;
/// How long an invitation's link works unless `INVITATION_TTL_DAYS` says otherwise.
const DEFAULT_INVITATION_TTL_DAYS: u32 = 7;
/// Shortest JWT secret accepted (HS256 wants at least 256 bits).
const MIN_JWT_SECRET_BYTES: usize = 32;

/// Development runs with generated secrets; production refuses to start without real ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppEnv {
    /// Local use: generated secrets, GraphiQL and introspection on.
    Development,
    /// Real use: explicit secrets required.
    Production,
}

/// Where e-mail (invitations) goes.
#[derive(Clone)]
pub enum MailSettings {
    /// Development without `SMTP_URL`: each message is logged, links included, not sent.
    Log,
    /// Sent through an SMTP server (`SMTP_URL`, from `MAIL_FROM`).
    Smtp {
        /// `smtps://user:password@host:465` or `smtp://host:587?tls=required`; holds a secret.
        url: String,
        /// The sender, e.g. `refhub <no-reply@example.com>`.
        from: String,
    },
    /// Kept in memory for the caller to read (tests; never chosen from the environment).
    Memory(crate::mail::MemoryOutbox),
    /// Production without `SMTP_URL`: `serve`, which sends invitations, refuses to start
    /// ([`Config::require_mail`]); a `worker` process, which sends no mail, runs without.
    Unconfigured,
}

/// Everything the service needs to start.
#[derive(Clone)]
pub struct Config {
    /// Development or production.
    pub app_env: AppEnv,
    /// Where the data lives: `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// Who applies migrations (the schema owner), when not the same as `database_url`.
    pub migration_database_url: Option<String>,
    /// Whether `serve` applies pending migrations first.
    pub migrate_on_start: bool,
    /// Where to listen.
    pub bind_addr: String,
    /// The address the world reaches this service at (for webhook and short URLs).
    pub public_base_url: String,
    /// Signs access tokens (HS256).
    pub jwt_secret: String,
    /// Encrypts secrets at rest (XChaCha20-Poly1305).
    pub encryption_key: [u8; 32],
    /// Whether `GET /graphql` serves GraphiQL.
    pub graphiql: bool,
    /// Whether the schema may be introspected.
    pub introspection: bool,
    /// Whether GraphQL errors suggest the schema's names ("Did you mean …?").
    pub graphql_suggestions: bool,
    /// Most subscription sockets one workspace may hold open (per process).
    pub ws_connections_per_tenant: usize,
    /// Most subscriptions one socket may run at once.
    pub ws_subscriptions_per_socket: usize,
    /// Most database connections.
    pub db_max_connections: u32,
    /// Most connections held by read sessions (PostgreSQL), on top of `db_max_connections`.
    pub db_read_session_connections: u32,
    /// Meta's Graph API, versioned (tests point it at a mock server).
    pub graph_api_base_url: String,
    /// Webhook worker tasks run inside `serve` (0: none; run `refhub worker` instead).
    pub workers: usize,
    /// Events one webhook worker claims and applies at once (one transaction per tenant).
    pub worker_batch_size: usize,
    /// Sign-up, log-in and refresh attempts allowed per client address per minute.
    pub sign_in_per_minute: u32,
    /// Seconds a worker's claim on an event lasts; a crashed worker's events are taken over
    /// after it.
    pub worker_lease_secs: u32,
    /// The longest pause an in-process webhook worker takes between batches while deliveries
    /// arrive and the host's CPUs are full (zero: it never steps aside).
    pub worker_step_aside: std::time::Duration,
    /// The first retry delay of an outgoing message that failed for a passing reason (it
    /// doubles with each try, with jitter).
    pub outbox_retry_base: std::time::Duration,
    /// The first retry delay of a page's set-up with Meta after a transient failure (it
    /// doubles with each try, with jitter, up to an hour; 8 tries).
    pub page_setup_retry_base: std::time::Duration,
    /// Send API calls allowed per page per second (Meta allows about 300).
    pub sends_per_page_per_second: u32,
    /// How often each active page's token is checked with Meta (token health).
    pub token_check_interval: std::time::Duration,
    /// User Profile API calls allowed per page per second (profile fetches).
    pub profile_fetches_per_page_per_second: u32,
    /// `/graphql` requests allowed per tenant (or, signed out, per address) per second: the
    /// workspace's ceiling, shared by its members and keys.
    pub graphql_per_tenant_per_second: u32,
    /// `/graphql` requests allowed per member (or API key) per second, within the workspace's
    /// ceiling, so that one busy dashboard cannot take everyone's share.
    pub graphql_per_member_per_second: u32,
    /// Webhook deliveries allowed per webhook key per second.
    pub webhook_per_key_per_second: u32,
    /// Deliveries to unknown or forged webhook keys allowed per client address per minute.
    pub webhook_misses_per_minute: u32,
    /// The proxies whose forwarding header names the client (none: the TCP peer is the client).
    pub trusted_proxies: TrustedProxies,
    /// The origins whose pages may call `/graphql`, `/api/…` and `/graphql/ws` from a browser,
    /// besides the service's own.
    pub cors_allowed_origins: AllowedOrigins,
    /// Where invitation e-mails go.
    pub mail: MailSettings,
    /// How long an invitation's link works.
    pub invitation_ttl: chrono::Duration,
    /// Invitation e-mails one workspace may send per hour (per process).
    pub invitations_per_workspace_per_hour: u32,
    /// Warnings found while loading, logged once logging is up.
    warnings: Vec<String>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("app_env", &self.app_env)
            .field("database_url", &redact_url(&self.database_url))
            .field("bind_addr", &self.bind_addr)
            .field("public_base_url", &self.public_base_url)
            .finish_non_exhaustive()
    }
}

/// How often a page token is checked by default: an hour, so that a token that died unseen
/// is flagged within the hour at one cheap call per page per hour.
const DEFAULT_TOKEN_CHECK_INTERVAL_SECS: u64 = 3600;

/// The raw environment, all optional.
#[derive(Deserialize, Default)]
struct Env {
    app_env: Option<AppEnv>,
    database_url: Option<String>,
    migration_database_url: Option<String>,
    migrate_on_start: Option<bool>,
    bind_addr: Option<String>,
    public_base_url: Option<String>,
    jwt_secret: Option<String>,
    encryption_key: Option<String>,
    graphiql: Option<bool>,
    introspection: Option<bool>,
    graphql_suggestions: Option<bool>,
    ws_connections_per_tenant: Option<usize>,
    ws_subscriptions_per_socket: Option<usize>,
    db_max_connections: Option<u32>,
    db_read_session_connections: Option<u32>,
    graph_api_base_url: Option<String>,
    workers: Option<usize>,
    worker_batch_size: Option<usize>,
    worker_lease_secs: Option<u32>,
    worker_step_aside_ms: Option<u64>,
    outbox_retry_base_ms: Option<u64>,
    page_setup_retry_base_ms: Option<u64>,
    sends_per_page_per_second: Option<u32>,
    token_check_interval_secs: Option<u64>,
    profile_fetches_per_page_per_second: Option<u32>,
    graphql_per_tenant_per_second: Option<u32>,
    graphql_per_member_per_second: Option<u32>,
    webhook_per_key_per_second: Option<u32>,
    webhook_misses_per_minute: Option<u32>,
    trusted_proxies: Option<String>,
    forwarded_header: Option<String>,
    cors_allowed_origins: Option<String>,
    sign_in_per_minute: Option<u32>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    invitation_ttl_days: Option<u32>,
    invitations_per_workspace_per_hour: Option<u32>,
    data_dir: Option<PathBuf>,
}

/// Secrets generated for development, kept across restarts so tokens stay valid.
#[derive(Deserialize, serde::Serialize)]
struct DevSecrets {
    jwt_secret: String,
    encryption_key: String,
}

impl Config {
    /// Reads the environment (see the README for every variable and its default).
    pub fn from_env() -> anyhow::Result<Self> {
        let env: Env = envy::from_env().context("reading configuration from the environment")?;
        Self::from_parts(env)
    }

    fn from_parts(env: Env) -> anyhow::Result<Self> {
        let app_env = env.app_env.unwrap_or(AppEnv::Development);
        let data_dir = env.data_dir.unwrap_or_else(|| PathBuf::from("data"));
        let bind_addr = env.bind_addr.unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let mut warnings = Vec::new();

        let (jwt_secret, encryption_key) = match (env.jwt_secret, env.encryption_key) {
            (Some(jwt), Some(key)) => (jwt, key),
            (jwt, key) if app_env == AppEnv::Production => {
                let missing: Vec<&str> = [
                    jwt.is_none().then_some("JWT_SECRET"),
                    key.is_none().then_some("ENCRYPTION_KEY"),
                ]
                .into_iter()
                .flatten()
                .collect();
                bail!(
                    "APP_ENV=production needs {} to be set",
                    missing.join(" and ")
                );
            }
            (jwt, key) => {
                let dev = load_or_create_dev_secrets(&data_dir)?;
                warnings.push(format!(
                    "DEVELOPMENT SECRETS IN USE: JWT_SECRET/ENCRYPTION_KEY not set, using keys generated in {}. Never do this in production.",
                    data_dir.join("dev-secrets.json").display()
                ));
                (
                    jwt.unwrap_or(dev.jwt_secret),
                    key.unwrap_or(dev.encryption_key),
                )
            }
        };
        if jwt_secret.len() < MIN_JWT_SECRET_BYTES {
            bail!("JWT_SECRET must be at least {MIN_JWT_SECRET_BYTES} bytes");
        }
        let encryption_key = parse_encryption_key(&encryption_key)?;
        if app_env == AppEnv::Production {
            refuse_known_secrets(&jwt_secret, &encryption_key, &data_dir)?;
        }

        let database_url = match env.database_url {
            Some(url) => url,
            None => {
                std::fs::create_dir_all(&data_dir)
                    .with_context(|| format!("creating {}", data_dir.display()))?;
                format!("sqlite://{}?mode=rwc", data_dir.join("refhub.db").display())
            }
        };
        let forwarded_header = match env.forwarded_header.as_deref() {
            Some(name) => name
                .parse::<ForwardingHeader>()
                .map_err(|err| anyhow::anyhow!("FORWARDED_HEADER: {err}"))?,
            None => ForwardingHeader::XForwardedFor,
        };
        let trusted_proxies = TrustedProxies::parse(
            env.trusted_proxies.as_deref().unwrap_or(""),
            forwarded_header,
        )
        .map_err(|err| anyhow::anyhow!("TRUSTED_PROXIES: {err}"))?;
        let public_base_url = env
            .public_base_url
            .unwrap_or_else(|| format!("http://{bind_addr}"))
            .trim_end_matches('/')
            .to_owned();
        let cors_allowed_origins = match env.cors_allowed_origins.as_deref() {
            Some(list) => AllowedOrigins::parse(list)
                .map_err(|err| anyhow::anyhow!("CORS_ALLOWED_ORIGINS: {err}"))?,
            // GraphiQL's origin, which is the service's own anyway (so an address that is no
            // URL is no loss): a development run needs nothing more, and no other origin is
            // allowed unless it is named.
            None if app_env == AppEnv::Development => {
                AllowedOrigins::of_url(&public_base_url).unwrap_or_default()
            }
            None => AllowedOrigins::none(),
        };
        let mail = match (env.smtp_url, env.mail_from) {
            (Some(url), Some(from)) => MailSettings::Smtp { url, from },
            (Some(url), None) if app_env == AppEnv::Development => MailSettings::Smtp {
                url,
                from: "refhub <no-reply@localhost>".to_owned(),
            },
            (None, _) if app_env == AppEnv::Development => MailSettings::Log,
            (None, _) => MailSettings::Unconfigured,
            (Some(_), None) => bail!(
                "APP_ENV=production needs MAIL_FROM beside SMTP_URL: the sender of invitation e-mails"
            ),
        };
        let development = app_env == AppEnv::Development;
        Ok(Self {
            app_env,
            public_base_url,
            bind_addr,
            database_url,
            migration_database_url: env.migration_database_url,
            migrate_on_start: env.migrate_on_start.unwrap_or(true),
            jwt_secret,
            encryption_key,
            graphiql: env.graphiql.unwrap_or(development),
            introspection: env.introspection.unwrap_or(development),
            // Suggestions tell the schema's names as introspection does.
            graphql_suggestions: env
                .graphql_suggestions
                .unwrap_or(env.introspection.unwrap_or(development)),
            ws_connections_per_tenant: env.ws_connections_per_tenant.unwrap_or(50).max(1),
            ws_subscriptions_per_socket: env.ws_subscriptions_per_socket.unwrap_or(10).max(1),
            db_max_connections: env.db_max_connections.unwrap_or(16),
            db_read_session_connections: env.db_read_session_connections.unwrap_or(8),
            graph_api_base_url: env
                .graph_api_base_url
                .unwrap_or_else(|| DEFAULT_GRAPH_API_BASE_URL.to_owned()),
            workers: env.workers.unwrap_or(1),
            worker_batch_size: env
                .worker_batch_size
                .unwrap_or(DEFAULT_WORKER_BATCH_SIZE)
                .clamp(1, MAX_WORKER_BATCH_SIZE),
            worker_lease_secs: env.worker_lease_secs.unwrap_or(60).max(1),
            worker_step_aside: std::time::Duration::from_millis(
                env.worker_step_aside_ms
                    .unwrap_or(200)
                    .min(MAX_WORKER_STEP_ASIDE_MS),
            ),
            outbox_retry_base: std::time::Duration::from_millis(
                env.outbox_retry_base_ms.unwrap_or(2000).max(1),
            ),
            page_setup_retry_base: std::time::Duration::from_millis(
                env.page_setup_retry_base_ms.unwrap_or(30_000).max(1),
            ),
            sends_per_page_per_second: env.sends_per_page_per_second.unwrap_or(250).max(1),
            token_check_interval: std::time::Duration::from_secs(
                env.token_check_interval_secs
                    .unwrap_or(DEFAULT_TOKEN_CHECK_INTERVAL_SECS)
                    .clamp(1, 7 * 24 * 3600),
            ),
            profile_fetches_per_page_per_second: env
                .profile_fetches_per_page_per_second
                .unwrap_or(10)
                .max(1),
            graphql_per_tenant_per_second: env.graphql_per_tenant_per_second.unwrap_or(50).max(1),
            graphql_per_member_per_second: env.graphql_per_member_per_second.unwrap_or(20).max(1),
            webhook_per_key_per_second: env.webhook_per_key_per_second.unwrap_or(20_000).max(1),
            webhook_misses_per_minute: env.webhook_misses_per_minute.unwrap_or(60).max(1),
            trusted_proxies,
            cors_allowed_origins,
            sign_in_per_minute: env.sign_in_per_minute.unwrap_or(20),
            mail,
            invitation_ttl: chrono::Duration::days(i64::from(
                env.invitation_ttl_days
                    .unwrap_or(DEFAULT_INVITATION_TTL_DAYS)
                    .clamp(1, 90),
            )),
            invitations_per_workspace_per_hour: env
                .invitations_per_workspace_per_hour
                .unwrap_or(20)
                .max(1),
            warnings,
        })
    }

    /// A configuration for tests: the given database, a free port, fixed test secrets.
    pub fn for_tests(database_url: &str) -> Self {
        Self {
            app_env: AppEnv::Development,
            database_url: database_url.to_owned(),
            migration_database_url: None,
            migrate_on_start: true,
            bind_addr: "127.0.0.1:0".to_owned(),
            public_base_url: "http://refhub.test".to_owned(),
            jwt_secret: TEST_JWT_SECRET.to_owned(),
            encryption_key: TEST_ENCRYPTION_KEY,
            graphiql: true,
            introspection: true,
            graphql_suggestions: true,
            ws_connections_per_tenant: 50,
            ws_subscriptions_per_socket: 10,
            db_max_connections: 5,
            db_read_session_connections: 3,
            graph_api_base_url: "http://127.0.0.1:9/graph-api-not-configured-in-this-test"
                .to_owned(),
            workers: 2,
            worker_batch_size: DEFAULT_WORKER_BATCH_SIZE,
            worker_lease_secs: 60,
            // The suite's tests run side by side and keep the CPUs busy: processing must not
            // wait for them. The policy has its own tests.
            worker_step_aside: std::time::Duration::ZERO,
            // Retries within a test's patience.
            outbox_retry_base: std::time::Duration::from_millis(100),
            page_setup_retry_base: std::time::Duration::from_millis(100),
            sends_per_page_per_second: 250,
            token_check_interval: std::time::Duration::from_secs(DEFAULT_TOKEN_CHECK_INTERVAL_SECS),
            profile_fetches_per_page_per_second: 100,
            // The suite's traffic is not throttled; the limits have their own tests.
            graphql_per_tenant_per_second: 100_000,
            graphql_per_member_per_second: 100_000,
            webhook_per_key_per_second: 100_000,
            webhook_misses_per_minute: 100_000,
            trusted_proxies: TrustedProxies::none(),
            // The app's own origin only; the CORS tests name others.
            cors_allowed_origins: AllowedOrigins::none(),
            // Tests sign many people in from one address; the limit itself has its own test.
            sign_in_per_minute: 100_000,
            // Tests read the mail they cause from here (`TestApp::outbox`).
            mail: MailSettings::Memory(crate::mail::MemoryOutbox::default()),
            invitation_ttl: chrono::Duration::days(i64::from(DEFAULT_INVITATION_TTL_DAYS)),
            invitations_per_workspace_per_hour: 100_000,
            warnings: Vec::new(),
        }
    }

    /// Refuses a configuration that cannot send mail: `serve` sends invitations by e-mail.
    pub fn require_mail(&self) -> anyhow::Result<()> {
        if let MailSettings::Unconfigured = self.mail {
            bail!(
                "APP_ENV=production needs SMTP_URL and MAIL_FROM to be set: invitations to join a workspace are sent by e-mail"
            );
        }
        Ok(())
    }

    /// Logs what was noticed while loading.
    pub fn log_warnings(&self) {
        for warning in &self.warnings {
            tracing::warn!("{warning}");
        }
    }
}

fn parse_encryption_key(text: &str) -> anyhow::Result<[u8; 32]> {
    let text = text.trim();
    let bytes = if text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
        hex::decode(text).context("ENCRYPTION_KEY is not valid hex")?
    } else {
        STANDARD
            .decode(text)
            .context("ENCRYPTION_KEY must be 32 bytes, as base64 or 64 hex digits")?
    };
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("ENCRYPTION_KEY must decode to exactly 32 bytes"))
}

/// Production refuses secrets that are public or were never meant for it: the test suite's,
/// the development ones generated into `DATA_DIR`, and keys without entropy (one byte
/// repeated, all zeros included: what an unset variable templated into a file often becomes).
fn refuse_known_secrets(jwt_secret: &str, key: &[u8; 32], data_dir: &Path) -> anyhow::Result<()> {
    let development = read_dev_secrets(data_dir)?;
    let development_key = development
        .as_ref()
        .and_then(|dev| parse_encryption_key(&dev.encryption_key).ok());
    if jwt_secret == TEST_JWT_SECRET
        || development
            .as_ref()
            .is_some_and(|dev| dev.jwt_secret == jwt_secret)
    {
        bail!("APP_ENV=production refuses this JWT_SECRET: it is a development or test secret");
    }
    if distinct_bytes(jwt_secret.as_bytes()) < MIN_DISTINCT_SECRET_BYTES {
        bail!(
            "APP_ENV=production refuses this JWT_SECRET: fewer than {MIN_DISTINCT_SECRET_BYTES} \
             different characters; generate one (openssl rand -hex 32)"
        );
    }
    if distinct_bytes(key) < MIN_DISTINCT_SECRET_BYTES || development_key.as_ref() == Some(key) {
        bail!(
            "APP_ENV=production refuses this ENCRYPTION_KEY: it is a development key or has no \
             entropy; generate one (openssl rand -base64 32)"
        );
    }
    Ok(())
}

/// Fewest different bytes a production secret may have: 32 random bytes have about 30, and a
/// key made of one byte repeated, or a short word repeated, has a handful.
const MIN_DISTINCT_SECRET_BYTES: usize = 8;

fn distinct_bytes(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .collect::<std::collections::BTreeSet<_>>()
        .len()
}

/// The development secrets in `data_dir`, when a development run left them there.
fn read_dev_secrets(data_dir: &Path) -> anyhow::Result<Option<DevSecrets>> {
    let path = data_dir.join("dev-secrets.json");
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .with_context(|| format!("reading {}", path.display())),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err).with_context(|| format!("reading {}", path.display())),
    }
}

fn load_or_create_dev_secrets(data_dir: &Path) -> anyhow::Result<DevSecrets> {
    if let Some(secrets) = read_dev_secrets(data_dir)? {
        return Ok(secrets);
    }
    let path = data_dir.join("dev-secrets.json");
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let secrets = DevSecrets {
        jwt_secret: crate::security::random_alphanumeric(64),
        encryption_key: STANDARD.encode(crate::security::random_bytes::<32>()),
    };
    write_private(&path, &serde_json::to_string_pretty(&secrets)?)?;
    Ok(secrets)
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    std::fs::write(path, contents).with_context(|| format!("creating {}", path.display()))
}

/// A database URL without its password, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_refuses_to_start_without_secrets() {
        let env = Env {
            app_env: Some(AppEnv::Production),
            jwt_secret: Some("x".repeat(40)),
            ..Env::default()
        };
        let err = Config::from_parts(env).expect_err("must refuse");
        assert!(err.to_string().contains("ENCRYPTION_KEY"), "{err}");
    }

    #[test]
    fn production_refuses_to_start_without_smtp() {
        let secrets = || Env {
            app_env: Some(AppEnv::Production),
            jwt_secret: Some(STRONG_JWT_SECRET.to_owned()),
            encryption_key: Some(STANDARD.encode(strong_key())),
            ..Env::default()
        };
        // A worker process sends no mail and may run without; serving refuses to.
        let without = Config::from_parts(secrets()).expect("a worker may run without SMTP");
        assert!(matches!(without.mail, MailSettings::Unconfigured));
        let err = without.require_mail().expect_err("serving must refuse");
        assert!(err.to_string().contains("SMTP_URL"), "{err}");
        let only_url = Env {
            smtp_url: Some("smtp://mail.example.com:587?tls=required".into()),
            ..secrets()
        };
        let err = Config::from_parts(only_url).expect_err("must refuse");
        assert!(err.to_string().contains("MAIL_FROM"), "{err}");
        let both = Env {
            smtp_url: Some("smtp://mail.example.com:587?tls=required".into()),
            mail_from: Some("refhub <no-reply@example.com>".into()),
            database_url: Some("sqlite::memory:".into()),
            ..secrets()
        };
        assert!(matches!(
            Config::from_parts(both).unwrap().mail,
            MailSettings::Smtp { .. }
        ));
    }

    #[test]
    fn development_logs_mail_without_smtp() {
        let dir = tempfile_dir();
        let config = Config::from_parts(Env {
            data_dir: Some(dir.clone()),
            ..Env::default()
        })
        .unwrap();
        assert!(matches!(config.mail, MailSettings::Log));
        assert_eq!(config.invitation_ttl, chrono::Duration::days(7));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn production_refuses_development_test_and_empty_secrets() {
        let dir = tempfile_dir();
        let development = Config::from_parts(Env {
            data_dir: Some(dir.clone()),
            ..Env::default()
        })
        .unwrap();
        let good_jwt = STRONG_JWT_SECRET;
        let good_key = STANDARD.encode(strong_key());
        let production = |jwt: &str, key: &str| {
            Config::from_parts(Env {
                app_env: Some(AppEnv::Production),
                data_dir: Some(dir.clone()),
                jwt_secret: Some(jwt.to_owned()),
                encryption_key: Some(key.to_owned()),
                ..with_smtp()
            })
        };
        let dev_key = STANDARD.encode(development.encryption_key);
        let refused = [
            (TEST_JWT_SECRET.to_owned(), good_key.clone(), "JWT_SECRET"),
            (
                development.jwt_secret.clone(),
                good_key.clone(),
                "JWT_SECRET",
            ),
            ("a".repeat(64), good_key.clone(), "JWT_SECRET"),
            (
                good_jwt.to_owned(),
                STANDARD.encode([0u8; 32]),
                "ENCRYPTION_KEY",
            ),
            (good_jwt.to_owned(), "00".repeat(32), "ENCRYPTION_KEY"),
            (
                good_jwt.to_owned(),
                STANDARD.encode(TEST_ENCRYPTION_KEY),
                "ENCRYPTION_KEY",
            ),
            (good_jwt.to_owned(), dev_key, "ENCRYPTION_KEY"),
        ];
        for (jwt, key, named) in refused {
            let err = production(&jwt, &key).expect_err("must refuse");
            assert!(err.to_string().contains(named), "{err}");
            assert!(
                !err.to_string().contains(&jwt),
                "the secret is not echoed: {err}"
            );
        }
        assert!(production(good_jwt, &good_key).is_ok());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn development_generates_secrets_once() {
        let dir = tempfile_dir();
        let env = || Env {
            data_dir: Some(dir.clone()),
            ..Env::default()
        };
        let first = Config::from_parts(env()).unwrap();
        let second = Config::from_parts(env()).unwrap();
        assert_eq!(first.jwt_secret, second.jwt_secret);
        assert_eq!(first.encryption_key, second.encryption_key);
        assert!(first.database_url.starts_with("sqlite://"));
        assert_eq!(first.bind_addr, "127.0.0.1:8080");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn suggestions_follow_introspection_unless_set() {
        let config = |app_env, introspection, graphql_suggestions| {
            Config::from_parts(Env {
                app_env: Some(app_env),
                jwt_secret: Some(STRONG_JWT_SECRET.to_owned()),
                encryption_key: Some(STANDARD.encode(strong_key())),
                introspection,
                graphql_suggestions,
                ..with_smtp()
            })
            .unwrap()
            .graphql_suggestions
        };
        assert!(config(AppEnv::Development, None, None));
        assert!(!config(AppEnv::Production, None, None));
        assert!(config(AppEnv::Production, Some(true), None));
        assert!(!config(AppEnv::Development, None, Some(false)));
    }

    #[test]
    fn cross_origin_callers_are_none_in_production_and_graphiqls_in_development() {
        let config = |app_env, cors_allowed_origins: Option<&str>| {
            Config::from_parts(Env {
                app_env: Some(app_env),
                jwt_secret: Some(STRONG_JWT_SECRET.to_owned()),
                encryption_key: Some(STANDARD.encode(strong_key())),
                public_base_url: Some("https://api.example.com/".to_owned()),
                cors_allowed_origins: cors_allowed_origins.map(str::to_owned),
                ..with_smtp()
            })
            .map(|config| config.cors_allowed_origins.origins().to_vec())
        };
        assert!(config(AppEnv::Production, None).unwrap().is_empty());
        assert_eq!(
            config(AppEnv::Development, None).unwrap(),
            ["https://api.example.com"]
        );
        assert_eq!(
            config(
                AppEnv::Production,
                Some("https://dash.example.com, http://localhost:5173")
            )
            .unwrap(),
            ["https://dash.example.com", "http://localhost:5173"]
        );
        let err = config(AppEnv::Production, Some("*")).unwrap_err();
        assert!(err.to_string().contains("CORS_ALLOWED_ORIGINS"), "{err}");
    }

    #[test]
    fn short_jwt_secrets_and_bad_keys_are_refused() {
        let env = Env {
            jwt_secret: Some("short".into()),
            encryption_key: Some(STANDARD.encode([1u8; 32])),
            ..Env::default()
        };
        assert!(Config::from_parts(env).is_err());
        assert!(parse_encryption_key("not base64!").is_err());
        assert!(parse_encryption_key(&STANDARD.encode([1u8; 16])).is_err());
        assert_eq!(parse_encryption_key(&"ab".repeat(32)).unwrap(), [0xab; 32]);
    }

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/refhub"),
            "postgres://app:***@db:5432/refhub"
        );
        assert_eq!(
            redact_url("sqlite://data/refhub.db"),
            "sqlite://data/refhub.db"
        );
    }

    /// Secrets production accepts (as random ones would be).
    const STRONG_JWT_SECRET: &str =
        "f3a9c1d27b4e8f60a5d3c9b1e7f2a4d6c8b0e3f5a7d9c1b3e5f7a9c2d4e6f8a0";

    fn strong_key() -> [u8; 32] {
        std::array::from_fn(|i| i as u8 * 7 + 1)
    }

    /// The mail settings production needs, nothing else.
    fn with_smtp() -> Env {
        Env {
            smtp_url: Some("smtp://mail.example.com:587?tls=required".into()),
            mail_from: Some("refhub <no-reply@example.com>".into()),
            ..Env::default()
        }
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("refhub-config-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
