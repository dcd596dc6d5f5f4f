//! Rate limits per key (an address, a tenant, a page, a webhook key) with governor's GCRA: a
//! steady rate with bursts up to a bound, and memory bounded by the keys seen recently.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use refhub_domain::flows::SendThrottle;
use refhub_domain::identity::InvitationThrottle;
use refhub_domain::ids::{PageId, TenantId};
use refhub_graphql::SignInThrottle;

use crate::http::client_address::rate_limit_key;

/// How often keys not seen lately are dropped from memory.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

fn at_least_one(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN)
}

/// A limiter keyed by `K`.
pub struct KeyedThrottle<K: Hash + Eq + Clone + Send + Sync + 'static> {
    limiter: Arc<DefaultKeyedRateLimiter<K>>,
    clock: DefaultClock,
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static> KeyedThrottle<K> {
    /// `per_second` a second per key, in bursts of up to `burst`.
    pub fn per_second(per_second: u32, burst: u32) -> Self {
        let quota = Quota::per_second(at_least_one(per_second)).allow_burst(at_least_one(burst));
        Self::with_quota(quota)
    }

    /// `per_minute` a minute per key, in bursts of up to that many.
    pub fn per_minute(per_minute: u32) -> Self {
        Self::with_quota(Quota::per_minute(at_least_one(per_minute)))
    }

    /// `per_hour` an hour per key, in bursts of up to that many.
    pub fn per_hour(per_hour: u32) -> Self {
        Self::with_quota(Quota::per_hour(at_least_one(per_hour)))
    }

    fn with_quota(quota: Quota) -> Self {
        let limiter = Arc::new(RateLimiter::keyed(quota));
        let sweeper = Arc::downgrade(&limiter);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SWEEP_EVERY);
            loop {
                tick.tick().await;
                match sweeper.upgrade() {
                    Some(limiter) => limiter.retain_recent(),
                    None => break,
                }
            }
        });
        Self {
            limiter,
            clock: DefaultClock::default(),
        }
    }

    /// Takes one from the key's allowance, or says how long until one is free.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        self.limiter
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

/// Whole seconds to wait, for `Retry-After` (at least one).
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

impl SignInThrottle for KeyedThrottle<IpAddr> {
    fn check(&self, client: IpAddr) -> Result<(), u64> {
        KeyedThrottle::check(self, &rate_limit_key(client)).map_err(retry_after_secs)
    }
}

impl InvitationThrottle for KeyedThrottle<TenantId> {
    fn check(&self, tenant_id: TenantId) -> Result<(), u64> {
        KeyedThrottle::check(self, &tenant_id).map_err(retry_after_secs)
    }
}

impl SendThrottle for KeyedThrottle<PageId> {
    fn check(&self, page_id: PageId) -> Result<(), Duration> {
        KeyedThrottle::check(self, &page_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn each_key_has_its_own_allowance() {
        let throttle = KeyedThrottle::per_second(3, 3);
        let busy = PageId::generate();
        for _ in 0..3 {
            assert!(throttle.check(&busy).is_ok());
        }
        let wait = throttle
            .check(&busy)
            .expect_err("the fourth in a second waits");
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1));
        assert!(throttle.check(&PageId::generate()).is_ok());
        assert_eq!(retry_after_secs(Duration::from_millis(10)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
    }
}
