//! Workers that claim stored webhook events and process them. Several may run in one process
//! and in several processes at once (PostgreSQL's SKIP LOCKED keeps them apart); a worker that
//! dies leaves its claimed events to be reclaimed when their lease runs out.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;
use refhub_domain::DomainError;
use refhub_domain::clock::Clock;
use refhub_domain::webhooks::{
    CatalogueMemo, EventProcessor, InboxEvent, InboxRepository, MAX_ATTEMPTS, next_attempt,
};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tracing::Instrument;

/// How the pool runs.
#[derive(Debug, Clone, Copy)]
pub struct WorkerSettings {
    /// Worker tasks in this process.
    pub workers: usize,
    /// Events claimed at once by one worker.
    pub batch_size: usize,
    /// How long a claim holds before another worker may take the event over.
    pub lease: Duration,
    /// How often an idle worker looks for due work (retries, other processes' events).
    pub idle_poll: StdDuration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            workers: 2,
            batch_size: 50,
            lease: Duration::seconds(60),
            idle_poll: StdDuration::from_millis(500),
        }
    }
}

/// A running set of workers.
pub struct WorkerPool {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

struct Worker {
    inbox: Arc<dyn InboxRepository>,
    processor: Arc<EventProcessor>,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
    settings: WorkerSettings,
}

impl WorkerPool {
    /// Starts `settings.workers` workers; `wake` lets the request path signal new events.
    pub fn start(
        inbox: Arc<dyn InboxRepository>,
        processor: Arc<EventProcessor>,
        clock: Arc<dyn Clock>,
        wake: Arc<Notify>,
        settings: WorkerSettings,
    ) -> Self {
        let (stop, stopped) = watch::channel(false);
        let mut tasks = JoinSet::new();
        for number in 0..settings.workers.max(1) {
            let worker = Worker {
                inbox: inbox.clone(),
                processor: processor.clone(),
                clock: clock.clone(),
                wake: wake.clone(),
                settings,
            };
            let stopped = stopped.clone();
            tasks.spawn(
                async move { worker.run(stopped).await }
                    .instrument(tracing::info_span!("webhook_worker", worker = number)),
            );
        }
        Self { stop, tasks }
    }

    /// Lets every worker finish the event in hand, then returns.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}

impl Worker {
    async fn run(self, mut stopped: watch::Receiver<bool>) {
        tracing::debug!("worker started");
        while !*stopped.borrow() {
            let now = self.clock.now();
            let claimed = match self
                .inbox
                .claim(self.settings.batch_size, self.settings.lease, now)
                .await
            {
                Ok(events) => events,
                Err(err) => {
                    log_failure("claiming events", &err);
                    Vec::new()
                }
            };
            if claimed.is_empty() {
                tokio::select! {
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(self.settings.idle_poll) => {}
                    _ = stopped.changed() => {}
                }
                continue;
            }
            let mut memo = CatalogueMemo::default();
            for event in claimed {
                self.process(event, &mut memo).await;
            }
        }
        tracing::debug!("worker stopped");
    }

    async fn process(&self, event: InboxEvent, memo: &mut CatalogueMemo) {
        let span = tracing::info_span!(
            "process_event",
            tenant_id = %event.tenant_id,
            event_id = %event.id,
            kind = %event.kind,
            attempt = event.attempts
        );
        async {
            // An event that kept killing its worker is parked before it can do so again.
            if event.attempts > MAX_ATTEMPTS {
                self.record_failure(
                    &event,
                    "abandoned after repeated crashes while processing",
                    None,
                )
                .await;
                return;
            }
            if let Err(err) = self.processor.process_with(&event, memo).await {
                log_failure("processing an event", &err);
                let message = match &err {
                    DomainError::Internal(_) => {
                        format!(
                            "internal error while processing (logged with event id {})",
                            event.id
                        )
                    }
                    other => other.to_string(),
                };
                let retry = next_attempt(&event, self.clock.now());
                self.record_failure(&event, &message, retry).await;
            }
        }
        .instrument(span)
        .await;
    }

    async fn record_failure(
        &self,
        event: &InboxEvent,
        message: &str,
        retry: Option<chrono::DateTime<chrono::Utc>>,
    ) {
        if retry.is_none() {
            tracing::error!(event_id = %event.id, "event parked as dead: {message}");
        }
        if let Err(err) = self
            .inbox
            .fail(event.tenant_id, event.id, message, retry)
            .await
        {
            // The lease will run out and the event will be claimed again: nothing is lost.
            log_failure("recording a failure", &err);
        }
    }
}

fn log_failure(what: &str, err: &DomainError) {
    match err {
        DomainError::Internal(source) => tracing::error!(error = %source, "failed {what}"),
        other => tracing::warn!(error = %other, "failed {what}"),
    }
}
