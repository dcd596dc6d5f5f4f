//! The worker that sets pages up with Meta and unsubscribes disconnected ones, off the request
//! path. It claims due rows with a lease (SKIP LOCKED on PostgreSQL, so several processes share
//! the work); a worker that dies leaves its rows to be claimed again when the lease ends, and a
//! run repeated that way does nothing twice (see `PageSetupService`).

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;
use refhub_domain::catalogue::{PageSetupRepository, PageSetupService};
use refhub_domain::clock::Clock;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::Instrument;

/// Rows claimed at once: each costs a few Graph API calls, done one after the other.
const BATCH: usize = 8;
/// Longer than a run's Graph API calls may take (each times out after 10 s).
const LEASE: Duration = Duration::seconds(120);
/// How often an idle worker looks for due work.
const IDLE_POLL: StdDuration = StdDuration::from_millis(250);

/// The running page set-up worker.
pub struct PageSetupWorker {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl PageSetupWorker {
    /// Starts the worker.
    pub fn start(
        setups: Arc<dyn PageSetupRepository>,
        service: Arc<PageSetupService>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(
            work(setups, service, clock, stopped)
                .instrument(tracing::info_span!("page_setup_worker")),
        );
        Self { stop, task }
    }

    /// Lets the worker finish the rows in hand, then returns.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn work(
    setups: Arc<dyn PageSetupRepository>,
    service: Arc<PageSetupService>,
    clock: Arc<dyn Clock>,
    mut stopped: watch::Receiver<bool>,
) {
    while !*stopped.borrow() {
        let mut did = 0;
        match setups.claim_due(BATCH, LEASE, clock.now()).await {
            Ok(due) => {
                did += due.len();
                for setup in due {
                    let (tenant_id, page_id) = (setup.tenant_id, setup.page_id);
                    if let Err(err) = service.run(setup).await {
                        tracing::error!(%tenant_id, %page_id, error = ?err, "a page set-up could not run; it is retried when its claim ends");
                    }
                }
            }
            Err(err) => tracing::error!(error = ?err, "claiming due page set-ups failed"),
        }
        match setups.claim_due_teardowns(BATCH, LEASE, clock.now()).await {
            Ok(due) => {
                did += due.len();
                for teardown in due {
                    let (tenant_id, id) = (teardown.tenant_id, teardown.id);
                    if let Err(err) = service.run_teardown(teardown).await {
                        tracing::error!(%tenant_id, %id, error = ?err, "an unsubscribe could not run; it is retried when its claim ends");
                    }
                }
            }
            Err(err) => tracing::error!(error = ?err, "claiming due unsubscribes failed"),
        }
        if did == 0 {
            tokio::select! {
                _ = tokio::time::sleep(IDLE_POLL) => {}
                _ = stopped.changed() => {}
            }
        }
    }
}
