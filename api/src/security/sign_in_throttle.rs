//! Per-client-address limits on sign-up, log-in and token refresh (governor's GCRA), so that
//! password guessing and account-creation floods are slowed to a trickle.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use refhub_graphql::SignInThrottle;

/// How often forgotten addresses are dropped from memory.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// The [`SignInThrottle`] adapter: `per_minute` attempts a minute per address, in bursts of at
/// most that many.
pub struct GovernorThrottle {
    limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    clock: DefaultClock,
}

impl GovernorThrottle {
    /// A throttle allowing `per_minute` attempts per address (at least one).
    pub fn new(per_minute: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        let limiter = Arc::new(RateLimiter::keyed(Quota::per_minute(per_minute)));
        let sweeper = Arc::downgrade(&limiter);
        // Keeps memory bounded by the addresses seen in the last minute.
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
}

impl SignInThrottle for GovernorThrottle {
    fn check(&self, client: IpAddr) -> Result<(), u64> {
        self.limiter
            .check_key(&client)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()).as_secs().max(1))
    }
}
