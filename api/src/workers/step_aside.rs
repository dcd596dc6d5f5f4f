//! Webhook processing steps aside for the request path. An acknowledgement is what Meta waits
//! for and retries; processing an event can wait a few seconds and costs the same CPU later.
//! So between batches, while deliveries are arriving and the host's CPUs are at least 70% busy,
//! a worker pauses (in short steps, re-reading the CPUs each time) for up to a set time per
//! batch, and processing runs on what the requests leave. When no deliveries arrive (a backlog
//! drained after a flood, or a `refhub worker` process), or the CPUs have room, it does not
//! pause at all. The longest pause bounds how far processing slows: with batches of 50 and
//! 200 ms, it still applies a couple of hundred events a second in the worst flood.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::deliveries::Deliveries;
use super::host_cpu::CpuGauge;

/// The CPUs count as full at this busy share. Measured on a two-core machine: 80–84% busy
/// while a flood of deliveries saturates it with processing paused (the rest is gaps while
/// requests wait for their commit to reach the disk), 86–96% with processing running, and
/// 55–65% while it carries steady traffic and processes it as it comes.
const FULL: f64 = 0.7;
/// Deliveries this recent mean the request path is in use.
const RECENT: Duration = Duration::from_millis(100);

/// How a worker steps aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepAsideSettings {
    /// The longest pause between two batches (zero: never pause).
    pub longest: Duration,
    /// How often a pausing worker looks at the CPUs again.
    pub step: Duration,
}

impl StepAsideSettings {
    /// Pauses of up to `longest`, re-checked every 20 ms.
    pub fn up_to(longest: Duration) -> Self {
        Self {
            longest,
            step: Duration::from_millis(20).min(longest),
        }
    }
}

/// One worker's view of whether the request path needs the CPUs.
pub struct StepAside {
    deliveries: Arc<Deliveries>,
    cpu: Box<dyn CpuGauge>,
    settings: StepAsideSettings,
}

impl StepAside {
    /// A worker's policy, reading the CPUs with `cpu`.
    pub fn new(
        deliveries: Arc<Deliveries>,
        cpu: Box<dyn CpuGauge>,
        settings: StepAsideSettings,
    ) -> Self {
        Self {
            deliveries,
            cpu,
            settings,
        }
    }

    /// Pauses while deliveries arrive and the CPUs are full, for at most the longest pause;
    /// returns at once when the pool is stopping. Returns how long it paused.
    pub async fn pause(&mut self, stopped: &mut watch::Receiver<bool>) -> Duration {
        let mut paused = Duration::ZERO;
        while paused < self.settings.longest && self.requests_need_the_cpus() {
            tokio::select! {
                _ = tokio::time::sleep(self.settings.step) => {}
                _ = stopped.changed() => break,
            }
            paused += self.settings.step;
        }
        paused
    }

    fn requests_need_the_cpus(&mut self) -> bool {
        // Read every time: reading moves the gauge's window along.
        let busy = self.cpu.busy_share();
        self.deliveries.stored_within(RECENT) && busy.is_some_and(|share| share >= FULL)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Always the same reading, counting how often it was asked.
    struct FixedGauge {
        share: Option<f64>,
        reads: Arc<AtomicUsize>,
    }

    impl CpuGauge for FixedGauge {
        fn busy_share(&mut self) -> Option<f64> {
            self.reads.fetch_add(1, Ordering::Relaxed);
            self.share
        }
    }

    fn policy(share: Option<f64>, delivered: bool) -> (StepAside, Arc<AtomicUsize>) {
        let deliveries = Arc::new(Deliveries::default());
        if delivered {
            deliveries.events_stored();
        }
        let reads = Arc::new(AtomicUsize::new(0));
        let gauge = FixedGauge {
            share,
            reads: reads.clone(),
        };
        let settings = StepAsideSettings {
            longest: Duration::from_millis(10),
            step: Duration::from_millis(2),
        };
        (StepAside::new(deliveries, Box::new(gauge), settings), reads)
    }

    #[tokio::test]
    async fn full_cpus_with_deliveries_arriving_pause_for_the_longest_and_no_more() {
        let (mut step_aside, reads) = policy(Some(0.97), true);
        let (_stop, mut stopped) = watch::channel(false);
        let paused = step_aside.pause(&mut stopped).await;
        assert_eq!(paused, Duration::from_millis(10));
        // Five steps of 2 ms, each after a fresh look at the CPUs.
        assert_eq!(reads.load(Ordering::Relaxed), 5);
    }

    #[tokio::test]
    async fn cpus_with_room_do_not_pause() {
        let (mut step_aside, reads) = policy(Some(0.6), true);
        let (_stop, mut stopped) = watch::channel(false);
        assert_eq!(step_aside.pause(&mut stopped).await, Duration::ZERO);
        assert_eq!(reads.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn full_cpus_without_deliveries_do_not_pause() {
        // A backlog being drained after a flood keeps the CPUs busy by itself.
        let (mut step_aside, _) = policy(Some(1.0), false);
        let (_stop, mut stopped) = watch::channel(false);
        assert_eq!(step_aside.pause(&mut stopped).await, Duration::ZERO);
    }

    #[tokio::test]
    async fn no_reading_does_not_pause() {
        let (mut step_aside, _) = policy(None, true);
        let (_stop, mut stopped) = watch::channel(false);
        assert_eq!(step_aside.pause(&mut stopped).await, Duration::ZERO);
    }

    #[tokio::test]
    async fn stopping_ends_a_pause() {
        let (mut step_aside, _) = policy(Some(1.0), true);
        step_aside.settings = StepAsideSettings::up_to(Duration::from_secs(3600));
        let (stop, mut stopped) = watch::channel(false);
        stop.send(true).unwrap();
        let paused = tokio::time::timeout(Duration::from_secs(10), step_aside.pause(&mut stopped))
            .await
            .expect("a stop ends the pause");
        assert!(paused < Duration::from_secs(3600));
    }

    #[test]
    fn the_step_is_never_longer_than_the_pause() {
        assert_eq!(
            StepAsideSettings::up_to(Duration::from_millis(5)).step,
            Duration::from_millis(5)
        );
        assert_eq!(
            StepAsideSettings::up_to(Duration::from_millis(200)).step,
            Duration::from_millis(20)
        );
    }
}
