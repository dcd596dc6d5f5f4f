//! What the request path tells the webhook workers about deliveries: that events were stored,
//! which wakes an idle worker, and when that last happened, which lets a busy worker tell a
//! machine busy serving deliveries from one busy with nothing but its own work.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio::sync::futures::Notified;

/// Written by the request path, read by the workers of the same process. A `refhub worker`
/// process receives no deliveries: its workers wake on their poll and never step aside.
pub struct Deliveries {
    wake: Notify,
    started: Instant,
    /// Microseconds from `started` to the latest delivery that stored events; 0 before it.
    latest_micros: AtomicU64,
}

impl Default for Deliveries {
    fn default() -> Self {
        Self {
            wake: Notify::new(),
            started: Instant::now(),
            latest_micros: AtomicU64::new(0),
        }
    }
}

impl Deliveries {
    /// A delivery's events are stored: notes the time (one relaxed store, on the request path)
    /// and wakes a worker.
    pub fn events_stored(&self) {
        let micros = u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.latest_micros.store(micros.max(1), Ordering::Relaxed);
        self.wake.notify_one();
    }

    /// Resolves when events are stored (or were, since an idle worker last looked).
    pub(super) fn notified(&self) -> Notified<'_> {
        self.wake.notified()
    }

    /// Whether a delivery stored events within the last `window`.
    pub(super) fn stored_within(&self, window: Duration) -> bool {
        match self.latest_micros.load(Ordering::Relaxed) {
            0 => false,
            latest => {
                self.started
                    .elapsed()
                    .saturating_sub(Duration::from_micros(latest))
                    <= window
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_delivery_is_no_activity() {
        assert!(!Deliveries::default().stored_within(Duration::from_secs(3600)));
    }

    #[test]
    fn a_delivery_is_recent_for_a_while_then_not() {
        let deliveries = Deliveries::default();
        deliveries.events_stored();
        assert!(deliveries.stored_within(Duration::from_secs(60)));
        std::thread::sleep(Duration::from_millis(20));
        assert!(!deliveries.stored_within(Duration::from_millis(5)));
    }
}
