//! The profile worker: claims due profile fetches (new subscribers, refresh requests) and
//! fetches each from Meta's User Profile API, a few at a time, off the webhook path. Claims
//! hold for a lease, so a worker that dies leaves its fetches to be claimed again.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use refhub_domain::audience::ProfileService;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tracing::Instrument;

/// Fetches claimed at once.
const BATCH: usize = 16;
/// Fetches in flight at once (each page is throttled on its own besides).
const CONCURRENCY: usize = 4;
/// How long a claim holds: longer than a Graph API call may take.
const LEASE_SECS: i64 = 60;
/// How often an idle worker looks for due fetches.
const IDLE_POLL: StdDuration = StdDuration::from_millis(250);

/// The running worker.
pub struct ProfileWorker {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl ProfileWorker {
    /// Starts fetching.
    pub fn start(service: Arc<ProfileService>) -> Self {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(
            async move {
                while !*stopped.borrow() {
                    let fetches = match service
                        .claim(BATCH, chrono::Duration::seconds(LEASE_SECS))
                        .await
                    {
                        Ok(fetches) => fetches,
                        Err(err) => {
                            tracing::error!(error = ?err, "claiming profile fetches failed");
                            Vec::new()
                        }
                    };
                    if fetches.is_empty() {
                        tokio::select! {
                            _ = tokio::time::sleep(IDLE_POLL) => {}
                            _ = stopped.changed() => {}
                        }
                        continue;
                    }
                    let mut in_flight = JoinSet::new();
                    for fetch in fetches {
                        if in_flight.len() >= CONCURRENCY {
                            in_flight.join_next().await;
                        }
                        let service = service.clone();
                        in_flight.spawn(async move {
                            let (tenant_id, subscriber_id) = (fetch.tenant_id, fetch.subscriber_id);
                            if let Err(err) = service.fetch(fetch).await {
                                tracing::error!(%tenant_id, %subscriber_id, error = ?err, "a profile fetch could not be recorded; it is retried when its claim ends");
                            }
                        });
                    }
                    while in_flight.join_next().await.is_some() {}
                }
            }
            .instrument(tracing::info_span!("profile_worker")),
        );
        Self { stop, task }
    }

    /// Stops after the fetches in hand.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}
