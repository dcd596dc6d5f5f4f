//! Workers that move flow runs forward and send the outbox. Each claims due rows with a lease
//! (SKIP LOCKED on PostgreSQL, so several processes share the work); a worker that dies leaves
//! its rows to be claimed again when the lease ends.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use refhub_domain::DomainResult;
use refhub_domain::clock::Clock;
use refhub_domain::flows::{
    FlowRun, FlowRunRepository, FlowRunner, OutboundMessage, OutboxRepository, OutboxSender,
};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::Instrument;

/// How the flow and outbox workers run.
#[derive(Debug, Clone, Copy)]
pub struct FlowWorkerSettings {
    /// Rows claimed at once.
    pub batch_size: usize,
    /// How long a claim on a run holds.
    pub run_lease: Duration,
    /// How long a claim on a message holds: longer than a Send API call may take, so that a
    /// slow answer is not mistaken for a dead worker (and the message sent twice).
    pub message_lease: Duration,
    /// Messages sent at once by one process.
    pub concurrent_sends: usize,
    /// How often an idle worker looks for due work.
    pub idle_poll: StdDuration,
}

impl FlowWorkerSettings {
    /// Settings with claims of `lease` (at least 30 seconds for messages).
    pub fn with_lease(lease: Duration) -> Self {
        Self {
            batch_size: 32,
            run_lease: lease,
            message_lease: lease.max(Duration::seconds(30)),
            concurrent_sends: 8,
            idle_poll: StdDuration::from_millis(200),
        }
    }
}

/// A queue of due work a worker drains.
#[async_trait]
trait Queue: Send + Sync + 'static {
    type Item: Send + 'static;
    /// Claims due items.
    async fn claim(&self, now: DateTime<Utc>) -> DomainResult<Vec<Self::Item>>;
    /// Does one item (failures are logged; the item's lease brings it back).
    async fn handle(self: Arc<Self>, item: Self::Item);
}

struct RunQueue {
    runs: Arc<dyn FlowRunRepository>,
    runner: Arc<FlowRunner>,
    settings: FlowWorkerSettings,
}

#[async_trait]
impl Queue for RunQueue {
    type Item = FlowRun;

    async fn claim(&self, now: DateTime<Utc>) -> DomainResult<Vec<FlowRun>> {
        self.runs
            .claim_due(self.settings.batch_size, self.settings.run_lease, now)
            .await
    }

    async fn handle(self: Arc<Self>, run: FlowRun) {
        let run_id = run.id;
        let tenant_id = run.tenant_id;
        if let Err(err) = self.runner.advance(run).await {
            tracing::error!(%tenant_id, %run_id, error = ?err, "a flow run could not move on; it is retried when its claim ends");
        }
    }
}

struct OutboxQueue {
    outbox: Arc<dyn OutboxRepository>,
    sender: Arc<OutboxSender>,
    settings: FlowWorkerSettings,
}

#[async_trait]
impl Queue for OutboxQueue {
    type Item = OutboundMessage;

    async fn claim(&self, now: DateTime<Utc>) -> DomainResult<Vec<OutboundMessage>> {
        self.outbox
            .claim_due(self.settings.batch_size, self.settings.message_lease, now)
            .await
    }

    async fn handle(self: Arc<Self>, message: OutboundMessage) {
        let message_id = message.id;
        let tenant_id = message.tenant_id;
        if let Err(err) = self.sender.send(message).await {
            tracing::error!(%tenant_id, %message_id, error = ?err, "an outgoing message could not be handled; it is retried when its claim ends");
        }
    }
}

/// The running flow and outbox workers.
pub struct FlowWorkers {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl FlowWorkers {
    /// Starts one run worker and one outbox worker.
    pub fn start(
        runs: Arc<dyn FlowRunRepository>,
        runner: Arc<FlowRunner>,
        outbox: Arc<dyn OutboxRepository>,
        sender: Arc<OutboxSender>,
        clock: Arc<dyn Clock>,
        settings: FlowWorkerSettings,
    ) -> Self {
        let (stop, stopped) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let run_queue = Arc::new(RunQueue {
            runs,
            runner,
            settings,
        });
        tasks.spawn(
            drain(
                run_queue,
                clock.clone(),
                stopped.clone(),
                1,
                settings.idle_poll,
            )
            .instrument(tracing::info_span!("flow_run_worker")),
        );
        let outbox_queue = Arc::new(OutboxQueue {
            outbox,
            sender,
            settings,
        });
        tasks.spawn(
            drain(
                outbox_queue,
                clock,
                stopped,
                settings.concurrent_sends,
                settings.idle_poll,
            )
            .instrument(tracing::info_span!("outbox_worker")),
        );
        Self { stop, tasks }
    }

    /// Lets the workers finish what they hold, then returns.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Claims and handles items until told to stop, `concurrency` at a time; sleeps when idle.
async fn drain<Q: Queue>(
    queue: Arc<Q>,
    clock: Arc<dyn Clock>,
    mut stopped: watch::Receiver<bool>,
    concurrency: usize,
    idle_poll: StdDuration,
) {
    while !*stopped.borrow() {
        let items = match queue.claim(clock.now()).await {
            Ok(items) => items,
            Err(err) => {
                tracing::error!(error = ?err, "claiming due work failed");
                Vec::new()
            }
        };
        if items.is_empty() {
            tokio::select! {
                _ = tokio::time::sleep(idle_poll) => {}
                _ = stopped.changed() => {}
            }
            continue;
        }
        let mut in_flight = JoinSet::new();
        for item in items {
            if in_flight.len() >= concurrency.max(1) {
                in_flight.join_next().await;
            }
            in_flight.spawn(queue.clone().handle(item));
        }
        while in_flight.join_next().await.is_some() {}
    }
}
