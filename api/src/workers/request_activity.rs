//! When the request path last took a webhook delivery. Background processing reads it to tell
//! a machine busy serving deliveries from one busy with nothing but its own work.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The time of the latest webhook delivery, written by the request path, read by the workers.
pub struct RequestActivity {
    started: Instant,
    /// Microseconds from `started` to the latest delivery; 0 before the first.
    latest_micros: AtomicU64,
}

impl Default for RequestActivity {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            latest_micros: AtomicU64::new(0),
        }
    }
}

impl RequestActivity {
    /// Notes a delivery now (one relaxed store: it is on the request path).
    pub fn delivery_arrived(&self) {
        let micros = u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.latest_micros.store(micros.max(1), Ordering::Relaxed);
    }

    /// Whether a delivery arrived within the last `window`.
    pub fn delivered_within(&self, window: Duration) -> bool {
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
        assert!(!RequestActivity::default().delivered_within(Duration::from_secs(3600)));
    }

    #[test]
    fn a_delivery_is_recent_for_a_while_then_not() {
        let activity = RequestActivity::default();
        activity.delivery_arrived();
        assert!(activity.delivered_within(Duration::from_secs(60)));
        std::thread::sleep(Duration::from_millis(20));
        assert!(!activity.delivered_within(Duration::from_millis(5)));
    }
}
