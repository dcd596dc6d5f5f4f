//! Meta allows each page about 300 Send API calls a second: a keyed governor limiter per page
//! keeps the outbox under that, whatever the number of workers in this process.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use refhub_domain::flows::SendThrottle;
use refhub_domain::ids::PageId;

/// How often idle pages are dropped from memory.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// The [`SendThrottle`] adapter: `per_second` sends a second per page, in bursts of at most
/// that many.
pub struct PageSendThrottle {
    limiter: Arc<DefaultKeyedRateLimiter<PageId>>,
    clock: DefaultClock,
}

impl PageSendThrottle {
    /// A throttle allowing `per_second` sends a second per page (at least one).
    pub fn new(per_second: u32) -> Self {
        let per_second = NonZeroU32::new(per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        let limiter = Arc::new(RateLimiter::keyed(Quota::per_second(per_second)));
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
}

impl SendThrottle for PageSendThrottle {
    fn check(&self, page_id: PageId) -> Result<(), Duration> {
        self.limiter
            .check_key(&page_id)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn each_page_has_its_own_allowance() {
        let throttle = PageSendThrottle::new(3);
        let busy = PageId::generate();
        for _ in 0..3 {
            assert!(throttle.check(busy).is_ok());
        }
        let wait = throttle
            .check(busy)
            .expect_err("the fourth send in a second waits");
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1));
        assert!(throttle.check(PageId::generate()).is_ok());
    }
}
