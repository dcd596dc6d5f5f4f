//! Subscriber profiles: names, picture, locale and time zone from Meta's User Profile API
//! (`GET /{psid}?fields=first_name,last_name,profile_pic,locale,timezone` with the page token,
//! <https://developers.facebook.com/docs/messenger-platform/identity/user-profile/>), fetched
//! off the webhook path.
//!
//! Every new subscriber starts with its profile pending: the queue is the subscriber row
//! itself, so it is as durable as the subscriber and is written in the same transaction that
//! creates them. A worker claims due fetches (PSIDs only: a plugin user known by `user_ref` is
//! fetched once Messenger names their PSID), throttled per page, and records what came of each:
//! - the profile: stored, `name` filled with the first and last names;
//! - a passing failure (Meta down, rate limits): tried again with backoff, at most
//!   [`MAX_PROFILE_ATTEMPTS`] times, then recorded;
//! - a dead page token (190): the page is marked (token health) and the fetch waits for the page
//!   to be reconnected, its try not counted;
//! - any other refusal (a permission error, `2018218` "No profile available for this user",
//!   an unknown person): recorded on the subscriber (`profileError`) and never retried by itself.
//!
//! Profile pictures are URLs that expire (Meta says so): `refreshSubscriberProfile` queues a
//! fetch again, for the dashboard to call when a picture no longer loads.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use crate::catalogue::{GatewayError, PageRepository, SecretCipher, SecretPurpose, TokenHealth};
use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};
use crate::flows::{SendThrottle, retry_delay};
use crate::identity::{Principal, Role};
use crate::ids::{PageId, SubscriberId, TenantId};

use super::ports::SubscriberRepository;
use super::subscriber::Subscriber;

/// Tries of a fetch that keeps failing for passing reasons before it is recorded as failed.
pub const MAX_PROFILE_ATTEMPTS: u32 = 8;

/// One claimed profile fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileFetch {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The subscriber.
    pub subscriber_id: SubscriberId,
    /// Their page.
    pub page_id: PageId,
    /// Their PSID.
    pub psid: String,
    /// Tries so far (the claim counts as one).
    pub attempts: u32,
}

/// What the User Profile API answered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FetchedProfile {
    /// `first_name`.
    pub first_name: Option<String>,
    /// `last_name`.
    pub last_name: Option<String>,
    /// `profile_pic`.
    pub profile_pic_url: Option<String>,
    /// `locale`, when the app holds `pages_user_locale`.
    pub locale: Option<String>,
    /// `timezone`, when the app holds `pages_user_timezone`.
    pub time_zone: Option<f64>,
}

impl FetchedProfile {
    /// The full name, as the dashboard shows and searches it.
    pub fn full_name(&self) -> Option<String> {
        let name = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        (!name.is_empty()).then_some(name)
    }
}

/// The queue of profile fetches (on the subscriber rows).
#[async_trait]
pub trait ProfileQueue: Send + Sync {
    /// Claims, across tenants, up to `limit` due fetches of subscribers with a PSID on pages
    /// that do not need reconnecting, for `lease`; each claim counts as a try.
    async fn claim_profile_fetches(
        &self,
        limit: usize,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> DomainResult<Vec<ProfileFetch>>;
    /// Stores a fetched profile (and the name made of it).
    async fn profile_fetched(
        &self,
        fetch: &ProfileFetch,
        profile: &FetchedProfile,
        now: DateTime<Utc>,
    ) -> DomainResult<()>;
    /// Records that Meta gave no profile, for good.
    async fn profile_unavailable(
        &self,
        fetch: &ProfileFetch,
        error: &str,
        now: DateTime<Utc>,
    ) -> DomainResult<()>;
    /// Puts the fetch back in line, due at `at`; `count_try` says whether this try counts
    /// (a passing failure) or not (the page's throttle, a page waiting for reconnection).
    async fn profile_later(
        &self,
        fetch: &ProfileFetch,
        at: DateTime<Utc>,
        count_try: bool,
        error: Option<&str>,
    ) -> DomainResult<()>;
    /// Queues a fetch of a subscriber's profile again, due now; `false` when there is no such
    /// subscriber.
    async fn queue_profile_refresh(
        &self,
        tenant_id: TenantId,
        subscriber_id: SubscriberId,
        now: DateTime<Utc>,
    ) -> DomainResult<bool>;
}

/// Meta's User Profile API.
#[async_trait]
pub trait ProfileGateway: Send + Sync {
    /// The profile of `psid` as the page (token) sees them.
    async fn fetch_profile(
        &self,
        page_access_token: &str,
        psid: &str,
    ) -> Result<FetchedProfile, GatewayError>;
}

/// What the fetcher reads and writes.
pub struct ProfilePorts {
    /// The queue.
    pub queue: Arc<dyn ProfileQueue>,
    /// Pages (their tokens and status).
    pub pages: Arc<dyn PageRepository>,
    /// Subscribers (for `refreshSubscriberProfile`).
    pub subscribers: Arc<dyn SubscriberRepository>,
    /// Opening page tokens.
    pub cipher: Arc<dyn SecretCipher>,
    /// The User Profile API.
    pub api: Arc<dyn ProfileGateway>,
    /// The per-page allowance of User Profile API calls.
    pub throttle: Arc<dyn SendThrottle>,
    /// Where a dead page token is reported.
    pub token_health: Arc<TokenHealth>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

/// Fetches queued profiles, and queues them again on request.
pub struct ProfileService {
    ports: ProfilePorts,
    retry_base: Duration,
}

impl ProfileService {
    /// Builds the service; `retry_base` is the first retry's delay (it doubles, with jitter).
    pub fn new(ports: ProfilePorts, retry_base: Duration) -> Self {
        Self { ports, retry_base }
    }

    /// Claims up to `limit` due fetches, for `lease`.
    pub async fn claim(&self, limit: usize, lease: Duration) -> DomainResult<Vec<ProfileFetch>> {
        self.ports
            .queue
            .claim_profile_fetches(limit, lease, self.ports.clock.now())
            .await
    }

    /// Fetches one claimed profile and records what came of it.
    pub async fn fetch(&self, fetch: ProfileFetch) -> DomainResult<()> {
        let queue = &self.ports.queue;
        let now = self.ports.clock.now();
        let Some(page) = self
            .ports
            .pages
            .find(fetch.tenant_id, fetch.page_id)
            .await?
        else {
            return queue
                .profile_unavailable(&fetch, "the page is no longer connected", now)
                .await;
        };
        if page.health.needs_reconnect() {
            // The claim skips such pages; this one was marked since.
            return queue.profile_later(&fetch, now, false, None).await;
        }
        if let Err(wait) = self.ports.throttle.check(page.id) {
            let wait = Duration::from_std(wait).unwrap_or(Duration::seconds(1));
            return queue.profile_later(&fetch, now + wait, false, None).await;
        }
        let token = self.ports.cipher.open(
            &page.access_token,
            page.tenant_id,
            page.id.0,
            SecretPurpose::PageAccessToken,
        )?;
        let result = self.ports.api.fetch_profile(&token, &fetch.psid).await;
        let now = self.ports.clock.now();
        match result {
            Ok(profile) => queue.profile_fetched(&fetch, &profile, now).await,
            Err(err)
                if self
                    .ports
                    .token_health
                    .meta_refused(fetch.tenant_id, fetch.page_id, &err)
                    .await? =>
            {
                queue
                    .profile_later(&fetch, now, false, Some(&err.message))
                    .await
            }
            Err(err) if err.transient && fetch.attempts < MAX_PROFILE_ATTEMPTS => {
                tracing::info!(tenant_id = %fetch.tenant_id, subscriber_id = %fetch.subscriber_id, attempt = fetch.attempts, "profile fetch failed, retried later: {err}");
                let delay = retry_delay(
                    fetch.subscriber_id.0.as_u128(),
                    fetch.attempts,
                    self.retry_base,
                );
                queue
                    .profile_later(&fetch, now + delay, true, Some(&err.message))
                    .await
            }
            Err(err) if err.transient => {
                let error = format!("gave up after {} attempts: {}", fetch.attempts, err.message);
                queue.profile_unavailable(&fetch, &error, now).await
            }
            Err(err) => {
                tracing::info!(tenant_id = %fetch.tenant_id, subscriber_id = %fetch.subscriber_id, code = ?err.code, "Meta gave no profile: {err}");
                queue.profile_unavailable(&fetch, &err.message, now).await
            }
        }
    }

    /// Queues a fresh fetch of a subscriber's profile (editors): profile pictures are URLs
    /// that expire. Answers the subscriber as it stands (its profile `PENDING`).
    pub async fn refresh(
        &self,
        principal: &Principal,
        subscriber_id: SubscriberId,
    ) -> DomainResult<Subscriber> {
        let access = principal.require_role(Role::Editor)?;
        let tenant_id = access.tenant_id;
        let Some(subscriber) = self
            .ports
            .subscribers
            .find(tenant_id, subscriber_id)
            .await?
        else {
            return Err(DomainError::not_found_in("subscriber", "id"));
        };
        if subscriber.psid().is_none() {
            return Err(DomainError::validation(
                "id",
                "this person is known by a plugin user_ref only: Meta gives a profile once they \
                 reply from Messenger (with a PSID)",
            ));
        }
        let now = self.ports.clock.now();
        self.ports
            .queue
            .queue_profile_refresh(tenant_id, subscriber_id, now)
            .await?;
        self.ports
            .subscribers
            .find(tenant_id, subscriber_id)
            .await?
            .ok_or(DomainError::not_found_in("subscriber", "id"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_is_first_and_last_as_far_as_known() {
        let profile = |first: Option<&str>, last: Option<&str>| FetchedProfile {
            first_name: first.map(str::to_owned),
            last_name: last.map(str::to_owned),
            ..FetchedProfile::default()
        };
        assert_eq!(
            profile(Some("Ada"), Some("Lovelace"))
                .full_name()
                .as_deref(),
            Some("Ada Lovelace")
        );
        assert_eq!(
            profile(Some(" Ada "), None).full_name().as_deref(),
            Some("Ada")
        );
        assert_eq!(profile(None, Some("")).full_name(), None);
    }
}
