//! The composition root: builds every adapter, hands them to the use cases, and serves HTTP
//! (and, unless told otherwise, runs the webhook workers in the same process).

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::http::Method;
use actix_web::{App, HttpServer, web};
use anyhow::{Context, bail};
use refhub_domain::analytics::{ReportPorts, ReportService, ShortLinkService};
use refhub_domain::audience::{
    ProfilePorts, ProfileService, SubscriberErasureService, SubscriberService,
    SubscriberTransferService,
};
use refhub_domain::catalogue::{
    CustomFieldService, FacebookLoginService, MessengerAppRepository, MessengerAppService,
    PageService, PageSetupPorts, PageSetupRepository, PageSetupService, RefLinkService,
    SecretCipher, TagService, TokenCheck, TokenHealth, TopicService,
};
use refhub_domain::clock::{Clock, SystemClock};
use refhub_domain::flows::{
    FlowRunRepository, FlowRunner, FlowService, FlowServicePorts, NotificationService,
    OutboxRepository, OutboxSender, RunnerPorts, SenderPorts,
};
use refhub_domain::identity::{
    ApiKeyService, AuthPorts, AuthService, InvitationPorts, InvitationService, InvitationSettings,
    MemberService, OperatorService, TokenSettings,
};
use refhub_domain::mail::Mailer;
use refhub_domain::privacy::{DataDeletionPorts, DataDeletionService, DeletionRequestRepository};
use refhub_domain::webhooks::{
    EventProcessor, InboxRepository, InboxService, ProcessorPorts, WebhookIngestService,
};
use refhub_graphql::{SchemaLimits, Services, build_schema};
use refhub_migration::{Migrator, MigratorTrait};
use refhub_persistence::{ConnectSettings, Store};
use tracing_actix_web::TracingLogger;

use crate::activity_hub::ActivityHub;
use crate::app_cache::CachedMessengerApps;
use crate::config::{AppEnv, Config, MailSettings, redact_url};
use crate::graph_api::GraphApiClient;
use crate::http::body_errors::json_body_errors;
use crate::http::client_address::record_client_ip;
use crate::http::cors::cors_refusals;
use crate::http::graphql_endpoint::{self, GraphiqlEnabled};
use crate::http::messenger_webhook;
use crate::http::persisted_queries::PersistedQueries;
use crate::http::request_span::RedactedRootSpan;
use crate::http::socket_limits::SocketLimits;
use crate::http::throttles::{RequestLimits, RequestThrottles};
use crate::http::{data_deletion, graphql_ws, health, qr_code, short_link, subscriber_csv};
use crate::mail::{LogTransport, MailQueue, MailTransport, SmtpTransport, Unconfigured};
use crate::qr_codes::QrCodes;
use crate::security::{
    AeadCipher, Argon2Hasher, HmacLinkSigner, HmacSha256SignedRequests, HubSignatures, JwtCodec,
    KeyedThrottle, RandomSecrets,
};
use crate::short_link_cache::CachedShortLinks;
use crate::workers::{
    BatchingInbox, ClickBatcher, DeletionWorker, Deliveries, FlowWorkerSettings, FlowWorkers,
    PageSetupWorker, ProfileWorker, TokenCheckWorker, WorkerPool, WorkerSettings,
};

/// Largest request body accepted anywhere (Meta's webhook bodies included).
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// How long in-flight requests may take to finish on SIGTERM.
const SHUTDOWN_GRACE_SECS: u64 = 30;

/// Everything built from the configuration, shared by the server and the workers.
struct Wiring {
    store: Store,
    services: Services,
    ingest: Arc<WebhookIngestService>,
    inbox: Arc<dyn InboxRepository>,
    processor: Arc<EventProcessor>,
    clock: Arc<dyn Clock>,
    /// The request path's word to the webhook workers of this process.
    deliveries: Arc<Deliveries>,
    runs: Arc<dyn FlowRunRepository>,
    runner: Arc<FlowRunner>,
    outbox: Arc<dyn OutboxRepository>,
    sender: Arc<OutboxSender>,
    clicks: Arc<ClickBatcher>,
    short_links: Arc<ShortLinkService>,
    transfer: Arc<SubscriberTransferService>,
    /// Meta's data-deletion callbacks and the work they start.
    deletion: Arc<DataDeletionService>,
    deletion_requests: Arc<dyn DeletionRequestRepository>,
    setups: Arc<dyn PageSetupRepository>,
    page_setup: Arc<PageSetupService>,
    token_check: Arc<TokenCheck>,
    profiles: Arc<ProfileService>,
}

/// The workers that call Meta off the request and webhook paths: token checks and profile
/// fetches.
struct MetaWorkers {
    token_check: TokenCheckWorker,
    profiles: ProfileWorker,
}

impl MetaWorkers {
    async fn shutdown(self) {
        self.token_check.shutdown().await;
        self.profiles.shutdown().await;
    }
}

/// A built, listening application. Tests build one on port 0 and run it in the background.
pub struct Application {
    local_addr: SocketAddr,
    server: Server,
    workers: Option<(WorkerPool, FlowWorkers, PageSetupWorker)>,
    meta_workers: Option<MetaWorkers>,
    deletion_worker: Option<DeletionWorker>,
    clicks: Arc<ClickBatcher>,
    store: Store,
}

impl Application {
    /// Migrates (if configured), connects, wires everything, binds the listener and starts the
    /// in-process workers (unless `workers` is 0).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        config.require_mail()?;
        let wiring = Wiring::build(&config).await?;
        let workers = (config.workers > 0).then(|| {
            (
                wiring.start_workers(&config),
                wiring.start_flow_workers(&config),
                wiring.start_page_setup_worker(),
            )
        });
        let deletion_worker = (config.workers > 0).then(|| wiring.start_deletion_worker());
        let meta_workers = (config.workers > 0).then(|| wiring.start_meta_workers());
        let schema = build_schema(
            wiring.services.clone(),
            SchemaLimits {
                introspection: config.introspection,
                suggestions: config.graphql_suggestions,
                ..SchemaLimits::default()
            },
        );

        let listener = TcpListener::bind(&config.bind_addr)
            .with_context(|| format!("binding {}", config.bind_addr))?;
        let local_addr = listener.local_addr()?;
        let counted_store = wiring.store.clone();
        let store = web::Data::new(wiring.store);
        let schema = web::Data::new(schema);
        let services = web::Data::new(wiring.services);
        let ingest = web::Data::from(wiring.ingest);
        let deliveries = web::Data::from(wiring.deliveries);
        let graphiql = web::Data::new(GraphiqlEnabled(config.graphiql));
        let socket_limits = web::Data::new(SocketLimits::new(
            config.ws_connections_per_tenant,
            config.ws_subscriptions_per_socket,
        ));
        let short_links = web::Data::from(wiring.short_links);
        let transfer = web::Data::from(wiring.transfer);
        let deletion = web::Data::from(wiring.deletion);
        let throttles = web::Data::new(RequestThrottles::new(
            RequestLimits {
                per_workspace_per_second: config.graphql_per_tenant_per_second,
                per_member_per_second: config.graphql_per_member_per_second,
            },
            config.webhook_per_key_per_second,
            config.webhook_misses_per_minute,
        ));
        let trusted_proxies = web::Data::new(config.trusted_proxies.clone());
        let persisted_queries = web::Data::new(PersistedQueries::default());
        let allowed_origins = config.cors_allowed_origins.clone();
        let origins = web::Data::new(allowed_origins.clone());
        let clicks = wiring.clicks;
        let server = HttpServer::new(move || {
            App::new()
                .wrap(json_body_errors())
                .wrap(TracingLogger::<RedactedRootSpan>::new())
                // Outermost, so that the request's span and every handler see the client.
                .wrap(actix_web::middleware::from_fn(record_client_ip))
                .app_data(trusted_proxies.clone())
                .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
                .app_data(store.clone())
                .app_data(schema.clone())
                .app_data(services.clone())
                .app_data(ingest.clone())
                .app_data(deliveries.clone())
                .app_data(graphiql.clone())
                .app_data(socket_limits.clone())
                .app_data(short_links.clone())
                .app_data(transfer.clone())
                .app_data(deletion.clone())
                .app_data(throttles.clone())
                .app_data(persisted_queries.clone())
                .app_data(origins.clone())
                .service(health::healthz)
                .service(health::readyz)
                .service(
                    web::resource("/webhooks/messenger/{key}")
                        .route(web::get().to(messenger_webhook::verify_subscription))
                        .route(web::post().to(messenger_webhook::receive)),
                )
                .route(
                    "/webhooks/messenger/{key}/data-deletion",
                    web::post().to(data_deletion::request_deletion),
                )
                .route(
                    "/webhooks/messenger/{key}/deauthorize",
                    web::post().to(data_deletion::deauthorize),
                )
                .route(
                    "/data-deletion/{code}",
                    web::get().to(data_deletion::status),
                )
                .service(
                    web::resource("/r/{code}")
                        .route(web::get().to(short_link::follow))
                        .route(web::head().to(short_link::follow)),
                )
                .service(
                    web::scope("/api")
                        .route(
                            "/pages/{id}/subscribers.csv",
                            web::get().to(subscriber_csv::export),
                        )
                        .service(
                            // Reads its body as a stream, bounded in the handler.
                            web::resource("/pages/{id}/subscribers/import")
                                .route(web::post().to(subscriber_csv::import)),
                        )
                        .route(
                            "/ref-links/{id}/qr.png",
                            web::get().to(qr_code::ref_link_qr_png),
                        )
                        // Dashboards on their own origin (`CORS_ALLOWED_ORIGINS`).
                        .wrap(allowed_origins.cors(&[Method::GET, Method::POST]))
                        .wrap(cors_refusals()),
                )
                .route("/graphql/ws", web::get().to(graphql_ws::subscriptions))
                .route(
                    "/graphiql/{file}",
                    web::get().to(graphql_endpoint::graphiql_asset),
                )
                .service(
                    web::resource("/graphql")
                        .route(web::post().to(graphql_endpoint::execute))
                        .route(web::get().to(graphql_endpoint::get))
                        .wrap(allowed_origins.cors(&[Method::GET, Method::POST]))
                        .wrap(cors_refusals()),
                )
        })
        .shutdown_timeout(SHUTDOWN_GRACE_SECS)
        .listen(listener)?
        .run();
        Ok(Self {
            local_addr,
            server,
            workers,
            meta_workers,
            deletion_worker,
            clicks,
            store: counted_store,
        })
    }

    /// The port actually bound (useful with port 0).
    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    /// A handle on the database pool, to read how many statements it has executed.
    pub fn store(&self) -> Store {
        self.store.clone()
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until SIGTERM or SIGINT, lets in-flight requests finish, then stops the workers
    /// after the events in their hands.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        if let Some((webhooks, flows, page_setup)) = self.workers {
            webhooks.shutdown().await;
            flows.shutdown().await;
            page_setup.shutdown().await;
        }
        if let Some(meta) = self.meta_workers {
            meta.shutdown().await;
        }
        if let Some(deletion) = self.deletion_worker {
            deletion.shutdown().await;
        }
        self.clicks.flush().await;
        served
    }
}

/// Runs only the webhook workers until SIGTERM or SIGINT (`refhub worker`).
pub async fn run_workers(config: &Config) -> anyhow::Result<()> {
    let wiring = Wiring::build(config).await?;
    let pool = wiring.start_workers(config);
    let flows = wiring.start_flow_workers(config);
    let deletion = wiring.start_deletion_worker();
    let page_setup = wiring.start_page_setup_worker();
    let meta = wiring.start_meta_workers();
    tracing::info!(
        workers = config.workers.max(1),
        "webhook, flow, outbox, page set-up, token check and profile workers running"
    );
    shutdown_signal().await;
    tracing::info!("stopping workers after the work in hand");
    pool.shutdown().await;
    flows.shutdown().await;
    deletion.shutdown().await;
    page_setup.shutdown().await;
    meta.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// Applies pending migrations, as the schema owner when `MIGRATION_DATABASE_URL` names one.
pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    let url = config
        .migration_database_url
        .as_deref()
        .unwrap_or(&config.database_url);
    let store = connect(url, 2, 0).await?;
    Migrator::up(store.connection(), None)
        .await
        .context("applying migrations")?;
    store.close().await.ok();
    Ok(())
}

async fn connect(
    url: &str,
    max_connections: u32,
    read_session_connections: u32,
) -> anyhow::Result<Store> {
    let settings = ConnectSettings {
        max_connections,
        read_session_connections,
        ..ConnectSettings::default()
    };
    Store::connect(url, &settings)
        .await
        .with_context(|| format!("connecting to {}", redact_url(url)))
}

/// The mail queue in front of the configured transport.
fn mailer(settings: &MailSettings) -> anyhow::Result<Arc<dyn Mailer>> {
    let transport: Arc<dyn MailTransport> = match settings {
        MailSettings::Log => Arc::new(LogTransport),
        MailSettings::Smtp { url, from } => Arc::new(SmtpTransport::new(url, from)?),
        MailSettings::Memory(outbox) => Arc::new(outbox.clone()),
        // Only a worker process gets here (`serve` refuses to start without mail), and workers
        // send no mail: anything queued all the same fails loudly, with nothing in the log.
        MailSettings::Unconfigured => Arc::new(Unconfigured),
    };
    Ok(Arc::new(MailQueue::start(transport)))
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

impl Wiring {
    async fn build(config: &Config) -> anyhow::Result<Self> {
        if config.migrate_on_start {
            migrate(config).await?;
        }
        let store = connect(
            &config.database_url,
            config.db_max_connections,
            config.db_read_session_connections,
        )
        .await?;
        check_row_security(&store, config.app_env).await?;

        let db = Arc::new(store.clone());
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let hasher = Arc::new(Argon2Hasher::new(
            std::thread::available_parallelism().map_or(2, |n| n.get()),
        ));
        let secrets = Arc::new(RandomSecrets);
        let cipher: Arc<dyn SecretCipher> = Arc::new(AeadCipher::new(&config.encryption_key));
        let gateway = Arc::new(
            GraphApiClient::new(&config.graph_api_base_url)
                .context("building the Graph API client")?,
        );
        let inbox: Arc<dyn InboxRepository> = Arc::new(BatchingInbox::start(db.clone()));
        let apps: Arc<dyn MessengerAppRepository> = Arc::new(CachedMessengerApps::new(db.clone()));
        let activity = Arc::new(ActivityHub::new());
        let token_health = Arc::new(TokenHealth::new(
            db.clone(),
            activity.clone(),
            clock.clone(),
        ));
        let token_check = Arc::new(TokenCheck::new(
            token_health.clone(),
            db.clone(),
            apps.clone(),
            cipher.clone(),
            gateway.clone(),
            clock.clone(),
            chrono::Duration::from_std(config.token_check_interval)
                .unwrap_or(chrono::Duration::hours(1)),
        ));
        let profiles = Arc::new(ProfileService::new(
            ProfilePorts {
                queue: db.clone(),
                pages: db.clone(),
                subscribers: db.clone(),
                cipher: cipher.clone(),
                api: gateway.clone(),
                throttle: Arc::new(KeyedThrottle::per_second(
                    config.profile_fetches_per_page_per_second,
                    config.profile_fetches_per_page_per_second,
                )),
                token_health: token_health.clone(),
                clock: clock.clone(),
            },
            chrono::Duration::from_std(config.outbox_retry_base)
                .unwrap_or(chrono::Duration::seconds(2)),
        ));

        let auth = AuthService::new(
            AuthPorts {
                tenants: db.clone(),
                users: db.clone(),
                store: db.clone(),
                memberships: db.clone(),
                api_keys: db.clone(),
                sessions: db.clone(),
                hasher: hasher.clone(),
                tokens: Arc::new(JwtCodec::new(config.jwt_secret.as_bytes())),
                secrets: secrets.clone(),
                links: Arc::new(HmacLinkSigner::new(config.jwt_secret.as_bytes())),
                clock: clock.clone(),
            },
            TokenSettings::default(),
        );
        let invitations = InvitationService::new(
            InvitationPorts {
                invitations: db.clone(),
                users: db.clone(),
                memberships: db.clone(),
                secrets: secrets.clone(),
                mailer: mailer(&config.mail)?,
                throttle: Arc::new(KeyedThrottle::per_hour(
                    config.invitations_per_workspace_per_hour,
                )),
                clock: clock.clone(),
            },
            InvitationSettings {
                ttl: config.invitation_ttl,
                public_base_url: config.public_base_url.clone(),
            },
        );
        let page_setup = Arc::new(
            PageSetupService::new(
                PageSetupPorts {
                    setups: db.clone(),
                    pages: db.clone(),
                    cipher: cipher.clone(),
                    gateway: gateway.clone(),
                    clock: clock.clone(),
                },
                chrono::Duration::from_std(config.page_setup_retry_base)
                    .unwrap_or(chrono::Duration::seconds(30)),
            )
            .with_token_health(token_health.clone()),
        );
        let pages = Arc::new(
            PageService::new(db.clone(), cipher.clone(), gateway.clone(), clock.clone())
                .with_setup(page_setup.clone()),
        );
        let facebook_login = Arc::new(FacebookLoginService::new(
            apps.clone(),
            cipher.clone(),
            gateway.clone(),
            pages.clone(),
        ));
        let services = Services {
            auth: Arc::new(auth),
            members: Arc::new(MemberService::new(db.clone(), db.clone())),
            invitations: Arc::new(invitations),
            api_keys: Arc::new(ApiKeyService::new(
                db.clone(),
                secrets.clone(),
                clock.clone(),
            )),
            operators: Arc::new(OperatorService::new(
                db.clone(),
                db.clone(),
                hasher,
                inbox.clone(),
                clock.clone(),
            )),
            messenger_apps: Arc::new(MessengerAppService::new(
                apps.clone(),
                cipher.clone(),
                secrets.clone(),
                clock.clone(),
                config.public_base_url.clone(),
            )),
            custom_fields: Arc::new(CustomFieldService::new(
                db.clone(),
                db.clone(),
                clock.clone(),
            )),
            tags: Arc::new(TagService::new(db.clone(), clock.clone())),
            ref_links: Arc::new(RefLinkService::new(
                db.clone(),
                db.clone(),
                db.clone(),
                db.clone(),
                db.clone(),
                clock.clone(),
            )),
            flows: Arc::new(FlowService::new(FlowServicePorts {
                flows: db.clone(),
                triggers: db.clone(),
                runs: db.clone(),
                outbox: db.clone(),
                fields: db.clone(),
                tags: db.clone(),
                pages: db.clone(),
                topics: db.clone(),
                subscribers: db.clone(),
                clock: clock.clone(),
                activity: activity.clone(),
            })),
            notifications: Arc::new(NotificationService::new(
                db.clone(),
                db.clone(),
                db.clone(),
                clock.clone(),
            )),
            reports: Arc::new(ReportService::new(ReportPorts {
                analytics: db.clone(),
                tenants: db.clone(),
                links: db.clone(),
                pages: db.clone(),
                topics: db.clone(),
                flows: db.clone(),
                clock: clock.clone(),
            })),
            public_base_url: Arc::from(config.public_base_url.as_str()),
            activity: activity.clone(),
            topics: Arc::new(TopicService::new(
                db.clone(),
                db.clone(),
                pages.clone(),
                gateway.clone(),
                token_health.clone(),
                clock.clone(),
            )),
            pages,
            page_setup: page_setup.clone(),
            facebook_login,
            subscribers: Arc::new(SubscriberService::new(
                db.clone(),
                db.clone(),
                db.clone(),
                db.clone(),
                db.clone(),
                db.clone(),
                clock.clone(),
            )),
            erasure: Arc::new(SubscriberErasureService::new(db.clone(), db.clone())),
            profiles: profiles.clone(),
            inbox: Arc::new(InboxService::new(inbox.clone(), clock.clone())),
            qr_codes: Arc::new(QrCodes),
            clock: clock.clone(),
            sign_in_throttle: Arc::new(KeyedThrottle::per_minute(config.sign_in_per_minute)),
        };
        let deletion = Arc::new(DataDeletionService::new(
            DataDeletionPorts {
                apps: apps.clone(),
                cipher: cipher.clone(),
                mac: Arc::new(HmacSha256SignedRequests),
                requests: db.clone(),
                ids: gateway.clone(),
                pages: db.clone(),
                subscribers: db.clone(),
                eraser: db.clone(),
                secrets: secrets.clone(),
                clock: clock.clone(),
            },
            &config.public_base_url,
        ));
        let ingest = Arc::new(WebhookIngestService::new(
            apps,
            cipher.clone(),
            Arc::new(HubSignatures),
            inbox.clone(),
            clock.clone(),
        ));
        let processor = Arc::new(EventProcessor::new(ProcessorPorts {
            pages: db.clone(),
            links: db.clone(),
            fields: db.clone(),
            topics: db.clone(),
            flows: db.clone(),
            triggers: db.clone(),
            audience: db.clone(),
            inbox: inbox.clone(),
            cipher: cipher.clone(),
            secrets,
            clock: clock.clone(),
            activity: activity.clone(),
        }));
        let clicks = Arc::new(ClickBatcher::start(db.clone()));
        let runner = Arc::new(FlowRunner::new(RunnerPorts {
            runs: db.clone(),
            subscribers: db.clone(),
            fields: db.clone(),
            tags: db.clone(),
            clock: clock.clone(),
            activity: activity.clone(),
        }));
        let sender = Arc::new(OutboxSender::new(
            SenderPorts {
                outbox: db.clone(),
                runs: db.clone(),
                pages: db.clone(),
                subscribers: db.clone(),
                cipher,
                api: gateway,
                throttle: Arc::new(KeyedThrottle::per_second(
                    config.sends_per_page_per_second,
                    config.sends_per_page_per_second,
                )),
                clock: clock.clone(),
                activity,
                token_health,
            },
            chrono::Duration::from_std(config.outbox_retry_base)
                .unwrap_or(chrono::Duration::seconds(2)),
        ));
        Ok(Self {
            store,
            services,
            ingest,
            inbox,
            processor,
            short_links: Arc::new(ShortLinkService::new(
                Arc::new(CachedShortLinks::new(db.clone())),
                clicks.clone(),
                clock.clone(),
            )),
            clicks,
            transfer: Arc::new(SubscriberTransferService::new(
                db.clone(),
                db.clone(),
                db.clone(),
                db.clone(),
                clock.clone(),
            )),
            clock,
            deletion,
            deletion_requests: db.clone(),
            setups: db.clone(),
            page_setup,
            deliveries: Arc::new(Deliveries::default()),
            runs: db.clone(),
            runner,
            outbox: db,
            sender,
            token_check,
            profiles,
        })
    }

    fn start_meta_workers(&self) -> MetaWorkers {
        MetaWorkers {
            token_check: TokenCheckWorker::start(self.token_check.clone()),
            profiles: ProfileWorker::start(self.profiles.clone()),
        }
    }

    fn start_deletion_worker(&self) -> DeletionWorker {
        DeletionWorker::start(
            self.deletion_requests.clone(),
            self.deletion.clone(),
            self.clock.clone(),
        )
    }

    fn start_flow_workers(&self, config: &Config) -> FlowWorkers {
        FlowWorkers::start(
            self.runs.clone(),
            self.runner.clone(),
            self.outbox.clone(),
            self.sender.clone(),
            self.clock.clone(),
            FlowWorkerSettings::with_lease(chrono::Duration::seconds(i64::from(
                config.worker_lease_secs,
            ))),
        )
    }

    fn start_page_setup_worker(&self) -> PageSetupWorker {
        PageSetupWorker::start(
            self.setups.clone(),
            self.page_setup.clone(),
            self.clock.clone(),
        )
    }

    fn start_workers(&self, config: &Config) -> WorkerPool {
        let store = self.store.clone();
        WorkerPool::start(
            self.inbox.clone(),
            self.processor.clone(),
            Arc::new(move |tenant_id| store.read_session(tenant_id)),
            self.clock.clone(),
            self.deliveries.clone(),
            WorkerSettings {
                workers: config.workers.max(1),
                batch_size: config.worker_batch_size.max(1),
                lease: chrono::Duration::seconds(i64::from(config.worker_lease_secs)),
                step_aside: config.worker_step_aside,
                ..WorkerSettings::default()
            },
        )
    }
}

/// The operator use cases on their own, for the command line.
pub(crate) async fn operator_service(database_url: &str) -> anyhow::Result<OperatorService> {
    let store = Arc::new(connect(database_url, 2, 0).await?);
    Ok(OperatorService::new(
        store.clone(),
        store.clone(),
        Arc::new(Argon2Hasher::new(1)),
        store,
        Arc::new(SystemClock),
    ))
}
