//! What each request carries into the resolvers: the services, and who is calling.

use std::sync::Arc;

use async_graphql::Context;
use refhub_domain::analytics::ReportService;
use refhub_domain::audience::{ProfileService, SubscriberErasureService, SubscriberService};
use refhub_domain::catalogue::{
    CustomFieldService, FacebookLoginService, MessengerAppService, PageService, PageSetupService,
    QrCodeRenderer, RefLinkService, TagService, TopicService,
};
use refhub_domain::clock::Clock;
use refhub_domain::flows::{FlowService, NotificationService};
use refhub_domain::identity::{
    ApiKeyService, AuthService, InvitationService, MemberService, OperatorService, Principal,
};
use refhub_domain::webhooks::InboxService;
use refhub_domain::{DomainError, DomainResult};

/// The use cases the API exposes.
#[derive(Clone)]
pub struct Services {
    /// Sign-in, tokens, sessions.
    pub auth: Arc<AuthService>,
    /// Tenant membership.
    pub members: Arc<MemberService>,
    /// Invitations into a workspace.
    pub invitations: Arc<InvitationService>,
    /// API keys.
    pub api_keys: Arc<ApiKeyService>,
    /// Platform operation.
    pub operators: Arc<OperatorService>,
    /// The Meta app connection.
    pub messenger_apps: Arc<MessengerAppService>,
    /// Pages.
    pub pages: Arc<PageService>,
    /// Pages' set-up with Meta and their Messenger Profile settings.
    pub page_setup: Arc<PageSetupService>,
    /// Connecting pages with Facebook Login.
    pub facebook_login: Arc<FacebookLoginService>,
    /// Custom fields.
    pub custom_fields: Arc<CustomFieldService>,
    /// Tags.
    pub tags: Arc<TagService>,
    /// Ref links.
    pub ref_links: Arc<RefLinkService>,
    /// Notification topics.
    pub topics: Arc<TopicService>,
    /// QR code rendering.
    pub qr_codes: Arc<dyn QrCodeRenderer>,
    /// Subscribers.
    pub subscribers: Arc<SubscriberService>,
    /// Erasing subscribers.
    pub erasure: Arc<SubscriberErasureService>,
    /// Subscriber profiles from Meta (refreshing them).
    pub profiles: Arc<ProfileService>,
    /// The webhook inbox.
    pub inbox: Arc<InboxService>,
    /// Flows, their rules and runs, and the outbox.
    pub flows: Arc<FlowService>,
    /// Topic notifications.
    pub notifications: Arc<NotificationService>,
    /// Dashboard reports.
    pub reports: Arc<ReportService>,
    /// Live activity.
    pub activity: Arc<dyn crate::activity::ActivityFeed>,
    /// The address the world reaches the service at (short URLs are built on it).
    pub public_base_url: Arc<str>,
    /// Time (the 24-hour window).
    pub clock: Arc<dyn Clock>,
    /// Limits sign-in attempts per client address.
    pub sign_in_throttle: Arc<dyn SignInThrottle>,
}

/// Limits how often one client address may sign up, log in or refresh.
pub trait SignInThrottle: Send + Sync {
    /// `Ok` to go ahead, or `Err(seconds)` to wait before trying again.
    fn check(&self, client: std::net::IpAddr) -> Result<(), u64>;
}

/// The address the request came from (the TCP peer).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub std::net::IpAddr);

/// Refuses the request when its address has used up its sign-in attempts.
pub(crate) fn throttle_sign_in(ctx: &Context<'_>) -> DomainResult<()> {
    let Some(client) = ctx.data_opt::<ClientAddress>() else {
        return Ok(());
    };
    services(ctx)
        .sign_in_throttle
        .check(client.0)
        .map_err(|retry_after_secs| DomainError::RateLimited { retry_after_secs })
}

/// The outcome of reading the request's bearer credential, resolved once per request by the
/// HTTP adapter. Public operations (sign-up, log-in) ignore it; everything else needs a caller.
pub enum Authentication {
    /// No credential was sent.
    Anonymous,
    /// A valid credential.
    Authenticated(Principal),
    /// A credential was sent and refused (bad, expired, revoked, suspended tenant).
    Rejected(DomainError),
}

impl Authentication {
    fn principal(&self) -> DomainResult<&Principal> {
        match self {
            Authentication::Authenticated(principal) => Ok(principal),
            Authentication::Anonymous => Err(DomainError::Unauthenticated(
                "sign in first: send Authorization: Bearer <access token or API key>",
            )),
            Authentication::Rejected(err) => Err(clone_refusal(err)),
        }
    }
}

/// Refusals are re-raised for every field that needs a caller; internal failures were logged
/// when they happened and are repeated without their cause.
fn clone_refusal(err: &DomainError) -> DomainError {
    match err {
        DomainError::Unauthenticated(message) => DomainError::Unauthenticated(message),
        DomainError::Forbidden(reason) => DomainError::Forbidden(*reason),
        DomainError::RateLimited { retry_after_secs } => DomainError::RateLimited {
            retry_after_secs: *retry_after_secs,
        },
        _ => DomainError::internal(AuthenticationUnavailable),
    }
}

#[derive(Debug)]
struct AuthenticationUnavailable;

impl std::fmt::Display for AuthenticationUnavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("authentication could not be checked")
    }
}

impl std::error::Error for AuthenticationUnavailable {}

/// The services of this schema.
pub(crate) fn services<'a>(ctx: &Context<'a>) -> &'a Services {
    ctx.data_unchecked::<Services>()
}

static ANONYMOUS: Authentication = Authentication::Anonymous;

/// The caller, or the reason there is none.
pub(crate) fn principal<'a>(ctx: &Context<'a>) -> DomainResult<&'a Principal> {
    ctx.data_opt::<Authentication>()
        .unwrap_or(&ANONYMOUS)
        .principal()
}

/// What a websocket connection's subscriptions know of their caller (set at
/// `connection_init`).
pub fn subscription_data(
    services: &Services,
    authentication: Authentication,
) -> async_graphql::Data {
    let mut data = async_graphql::Data::default();
    if let Authentication::Authenticated(principal) = &authentication {
        data.insert(Arc::new(crate::loaders::Loaders::new(
            services,
            *principal,
            &crate::loaders::spawn_plainly(),
        )));
    }
    data.insert(authentication);
    data
}

/// Attaches who is calling, and the per-request loaders (whose batches `spawner` starts), to a
/// request.
pub fn prepare_request(
    request: async_graphql::Request,
    services: &Services,
    authentication: Authentication,
    client: Option<ClientAddress>,
    spawner: &crate::loaders::TaskSpawner,
) -> async_graphql::Request {
    let request = match client {
        Some(client) => request.data(client),
        None => request,
    };
    let request = match &authentication {
        Authentication::Authenticated(principal) => request.data(Arc::new(
            crate::loaders::Loaders::new(services, *principal, spawner),
        )),
        _ => request,
    };
    request.data(authentication)
}
