//! Carries out recorded data-deletion requests off the request path: claims due ones with a
//! lease (SKIP LOCKED on PostgreSQL, so several processes share them), asks Meta for the
//! person's PSIDs and erases them. A request whose matching failed for now is due again after
//! its backoff; one whose worker died falls due when its lease ends.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;
use refhub_domain::clock::Clock;
use refhub_domain::privacy::{DataDeletionService, DeletionRequestRepository};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::Instrument;

/// Requests claimed at once.
const BATCH: usize = 8;
/// How long a claim holds: longer than Meta's calls may take (10 s each, a few per request).
const LEASE_SECS: i64 = 300;
/// How often an idle worker looks for due requests.
const IDLE_POLL: StdDuration = StdDuration::from_millis(250);

/// The running deletion worker.
pub struct DeletionWorker {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl DeletionWorker {
    /// Starts one worker.
    pub fn start(
        requests: Arc<dyn DeletionRequestRepository>,
        service: Arc<DataDeletionService>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(
            async move {
                while !*stopped.borrow() {
                    let claimed = match requests
                        .claim_due(BATCH, Duration::seconds(LEASE_SECS), clock.now())
                        .await
                    {
                        Ok(claimed) => claimed,
                        Err(err) => {
                            tracing::error!(error = ?err, "claiming data-deletion requests failed");
                            Vec::new()
                        }
                    };
                    if claimed.is_empty() {
                        tokio::select! {
                            _ = tokio::time::sleep(IDLE_POLL) => {}
                            _ = stopped.changed() => {}
                        }
                        continue;
                    }
                    for request in claimed {
                        let (tenant_id, request_id) = (request.tenant_id, request.id);
                        if let Err(err) = service.carry_out(request).await {
                            tracing::error!(%tenant_id, %request_id, error = ?err, "a data-deletion request could not be carried out; it is retried when its claim ends");
                        }
                    }
                }
            }
            .instrument(tracing::info_span!("deletion_worker")),
        );
        Self { stop, task }
    }

    /// Lets the worker finish the request in hand, then returns.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}
