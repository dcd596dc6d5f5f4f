//! The composition root: builds every adapter, hands them to the use cases, and serves HTTP.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use anyhow::{Context, bail};
use refhub_domain::catalogue::{
    CustomFieldService, MessengerAppService, PageService, RefLinkService, SecretCipher, TagService,
    TopicService,
};
use refhub_domain::clock::{Clock, SystemClock};
use refhub_domain::identity::{
    ApiKeyService, AuthPorts, AuthService, MemberService, OperatorService, TokenSettings,
};
use refhub_graphql::{SchemaLimits, Services, build_schema};
use refhub_migration::{Migrator, MigratorTrait};
use refhub_persistence::{ConnectSettings, Store};
use tracing_actix_web::TracingLogger;

use crate::config::{AppEnv, Config, redact_url};
use crate::graph_api::GraphApiClient;
use crate::http::graphql_endpoint::{self, GraphiqlEnabled};
use crate::http::{health, qr_code};
use crate::qr_codes::QrCodes;
use crate::security::{AeadCipher, Argon2Hasher, JwtCodec, RandomSecrets};

/// Largest request body accepted anywhere.
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// How long in-flight requests may take to finish on SIGTERM.
const SHUTDOWN_GRACE_SECS: u64 = 30;

/// A built, listening application. Tests build one on port 0 and run it in the background.
pub struct Application {
    local_addr: SocketAddr,
    server: Server,
}

impl Application {
    /// Migrates (if configured), connects, wires everything and binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        if config.migrate_on_start {
            migrate(&config).await?;
        }
        let store = connect(&config.database_url, config.db_max_connections).await?;
        check_row_security(&store, config.app_env).await?;
        let services = wire_services(&store, &config)?;
        let schema = build_schema(
            services.clone(),
            SchemaLimits {
                introspection: config.introspection,
                ..SchemaLimits::default()
            },
        );

        let listener = TcpListener::bind(&config.bind_addr)
            .with_context(|| format!("binding {}", config.bind_addr))?;
        let local_addr = listener.local_addr()?;
        let store = web::Data::new(store);
        let schema = web::Data::new(schema);
        let services = web::Data::new(services);
        let graphiql = web::Data::new(GraphiqlEnabled(config.graphiql));
        let server = HttpServer::new(move || {
            App::new()
                .wrap(TracingLogger::default())
                .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
                .app_data(store.clone())
                .app_data(schema.clone())
                .app_data(services.clone())
                .app_data(graphiql.clone())
                .service(health::healthz)
                .service(health::readyz)
                .route(
                    "/api/ref-links/{id}/qr.png",
                    web::get().to(qr_code::ref_link_qr_png),
                )
                .service(
                    web::resource("/graphql")
                        .route(web::post().to(graphql_endpoint::execute))
                        .route(web::get().to(graphql_endpoint::graphiql)),
                )
        })
        .shutdown_timeout(SHUTDOWN_GRACE_SECS)
        .listen(listener)?
        .run();
        Ok(Self { local_addr, server })
    }

    /// The port actually bound (useful with port 0).
    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until SIGTERM or SIGINT, then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Applies pending migrations, as the schema owner when `MIGRATION_DATABASE_URL` names one.
pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    let url = config
        .migration_database_url
        .as_deref()
        .unwrap_or(&config.database_url);
    let store = connect(url, 2).await?;
    Migrator::up(store.connection(), None)
        .await
        .context("applying migrations")?;
    store.close().await.ok();
    Ok(())
}

async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Store> {
    let settings = ConnectSettings {
        max_connections,
        ..ConnectSettings::default()
    };
    Store::connect(url, &settings)
        .await
        .with_context(|| format!("connecting to {}", redact_url(url)))
}

/// Row-level security is the database's backstop for tenant isolation; a superuser or
/// BYPASSRLS role silently switches it off.
async fn check_row_security(store: &Store, app_env: AppEnv) -> anyhow::Result<()> {
    if !store.role_bypasses_row_security().await? {
        return Ok(());
    }
    let advice = format!(
        "the database role bypasses row-level security; connect as the `{}` role (see README)",
        refhub_migration::APP_ROLE
    );
    if app_env == AppEnv::Production {
        bail!("refusing to start: {advice}");
    }
    tracing::warn!("{advice}");
    Ok(())
}

fn wire_services(store: &Store, config: &Config) -> anyhow::Result<Services> {
    let store = Arc::new(store.clone());
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let hasher = Arc::new(Argon2Hasher::new(
        std::thread::available_parallelism().map_or(2, |n| n.get()),
    ));
    let secrets = Arc::new(RandomSecrets);
    let cipher: Arc<dyn SecretCipher> = Arc::new(AeadCipher::new(&config.encryption_key));
    let gateway = Arc::new(
        GraphApiClient::new(&config.graph_api_base_url).context("building the Graph API client")?,
    );
    let auth = AuthService::new(
        AuthPorts {
            tenants: store.clone(),
            users: store.clone(),
            store: store.clone(),
            memberships: store.clone(),
            api_keys: store.clone(),
            sessions: store.clone(),
            hasher: hasher.clone(),
            tokens: Arc::new(JwtCodec::new(config.jwt_secret.as_bytes())),
            secrets: secrets.clone(),
            clock: clock.clone(),
        },
        TokenSettings::default(),
    );
    let pages = Arc::new(PageService::new(
        store.clone(),
        cipher.clone(),
        clock.clone(),
    ));
    Ok(Services {
        auth: Arc::new(auth),
        members: Arc::new(MemberService::new(
            store.clone(),
            store.clone(),
            clock.clone(),
        )),
        api_keys: Arc::new(ApiKeyService::new(
            store.clone(),
            secrets.clone(),
            clock.clone(),
        )),
        operators: Arc::new(OperatorService::new(
            store.clone(),
            store.clone(),
            hasher,
            clock.clone(),
        )),
        messenger_apps: Arc::new(MessengerAppService::new(
            store.clone(),
            cipher,
            secrets,
            clock.clone(),
            config.public_base_url.clone(),
        )),
        custom_fields: Arc::new(CustomFieldService::new(store.clone(), clock.clone())),
        tags: Arc::new(TagService::new(store.clone(), clock.clone())),
        ref_links: Arc::new(RefLinkService::new(
            store.clone(),
            store.clone(),
            store.clone(),
            store.clone(),
            clock.clone(),
        )),
        topics: Arc::new(TopicService::new(
            store.clone(),
            store,
            pages.clone(),
            gateway,
            clock,
        )),
        pages,
        qr_codes: Arc::new(QrCodes),
    })
}

/// The operator use cases on their own, for the command line.
pub(crate) async fn operator_service(database_url: &str) -> anyhow::Result<OperatorService> {
    let store = Arc::new(connect(database_url, 2).await?);
    Ok(OperatorService::new(
        store.clone(),
        store,
        Arc::new(Argon2Hasher::new(1)),
        Arc::new(SystemClock),
    ))
}
