//! Workers that claim stored webhook events and process them: each claimed batch is decided
//! event by event (a tenant's events inside one read session, so that each catalogue lookup is
//! one round trip), then applied in one transaction per tenant. Several may run in one process
//! and in several processes at once (PostgreSQL's SKIP LOCKED keeps them apart); a worker that
//! dies leaves its claimed events to be reclaimed when their lease runs out.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;
use refhub_domain::DomainError;
use refhub_domain::audience::EventEffects;
use refhub_domain::clock::Clock;
use refhub_domain::ids::TenantId;
use refhub_domain::webhooks::{
    CatalogueMemo, Decision, EventProcessor, InboxEvent, InboxRepository, MAX_ATTEMPTS,
    next_attempt,
};
use refhub_persistence::ReadSession;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::Instrument;

use super::deliveries::Deliveries;
use super::host_cpu::HostCpu;
use super::step_aside::{StepAside, StepAsideSettings};

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
    /// The longest pause between batches while deliveries need the CPUs (zero: none).
    pub step_aside: StdDuration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            workers: 2,
            batch_size: 50,
            lease: Duration::seconds(60),
            idle_poll: StdDuration::from_millis(500),
            step_aside: StdDuration::ZERO,
        }
    }
}

/// Opens a read session for a tenant, where the store has them (PostgreSQL).
pub type ReadSessions = Arc<dyn Fn(TenantId) -> Option<Arc<ReadSession>> + Send + Sync>;

/// A running set of workers.
pub struct WorkerPool {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

struct Worker {
    inbox: Arc<dyn InboxRepository>,
    processor: Arc<EventProcessor>,
    sessions: ReadSessions,
    clock: Arc<dyn Clock>,
    deliveries: Arc<Deliveries>,
    settings: WorkerSettings,
    step_aside: Option<StepAside>,
}

impl WorkerPool {
    /// Starts `settings.workers` workers; `deliveries` wakes them when the request path stores
    /// events, and tells them when it last did, to step aside (`settings.step_aside`).
    pub fn start(
        inbox: Arc<dyn InboxRepository>,
        processor: Arc<EventProcessor>,
        sessions: ReadSessions,
        clock: Arc<dyn Clock>,
        deliveries: Arc<Deliveries>,
        settings: WorkerSettings,
    ) -> Self {
        let (stop, stopped) = watch::channel(false);
        let mut tasks = JoinSet::new();
        for number in 0..settings.workers.max(1) {
            let worker = Worker {
                inbox: inbox.clone(),
                processor: processor.clone(),
                sessions: sessions.clone(),
                clock: clock.clone(),
                deliveries: deliveries.clone(),
                settings,
                step_aside: (!settings.step_aside.is_zero()).then(|| {
                    StepAside::new(
                        deliveries.clone(),
                        Box::new(HostCpu::default()),
                        StepAsideSettings::up_to(settings.step_aside),
                    )
                }),
            };
            let stopped = stopped.clone();
            tasks.spawn(
                async move { worker.run(stopped).await }
                    .instrument(tracing::info_span!("webhook_worker", worker = number)),
            );
        }
        Self { stop, tasks }
    }

    /// Lets every worker finish the batch in hand, then returns.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}

impl Worker {
    async fn run(mut self, mut stopped: watch::Receiver<bool>) {
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
                    _ = self.deliveries.notified() => {}
                    _ = tokio::time::sleep(self.settings.idle_poll) => {}
                    _ = stopped.changed() => {}
                }
                continue;
            }
            self.process_batch(claimed).await;
            if let Some(step_aside) = &mut self.step_aside {
                step_aside.pause(&mut stopped).await;
            }
        }
        tracing::debug!("worker stopped");
    }

    /// Decides every claimed event, finishes the ignored ones, and applies the others in one
    /// transaction per tenant. A tenant's batch that fails is applied again one event at a
    /// time, so that one event that cannot be applied holds back no other and its failure is
    /// recorded on it alone.
    async fn process_batch(&self, claimed: Vec<InboxEvent>) {
        let mut memo = CatalogueMemo::default();
        let mut ignored = Vec::new();
        let mut tenants: Vec<TenantBatch> = Vec::new();
        for (tenant_id, events) in by_tenant(claimed) {
            let decided = match (self.sessions)(tenant_id) {
                Some(session) => {
                    let decided = session.scope(self.decide_all(events, &mut memo)).await;
                    session.finish().await;
                    decided
                }
                None => self.decide_all(events, &mut memo).await,
            };
            let mut batch = TenantBatch::new(tenant_id);
            for (event, decision) in decided {
                match decision {
                    Decision::Ignore(outcome) => ignored.push((event, outcome)),
                    Decision::Apply(effects) => batch.push(event, *effects),
                }
            }
            if !batch.events.is_empty() {
                tenants.push(batch);
            }
        }
        for (event, outcome) in ignored {
            let span = event_span(&event);
            async {
                if let Err(err) = self.processor.finish_ignored(&event, outcome).await {
                    self.failed(&event, &err).await;
                }
            }
            .instrument(span)
            .await;
        }
        for batch in tenants {
            let span = tracing::info_span!(
                "apply_batch",
                tenant_id = %batch.tenant_id,
                events = batch.events.len()
            );
            self.apply(batch).instrument(span).await;
        }
    }

    /// The decisions for one tenant's events, leaving out those that failed (their failures
    /// are recorded).
    async fn decide_all(
        &self,
        events: Vec<InboxEvent>,
        memo: &mut CatalogueMemo,
    ) -> Vec<(InboxEvent, Decision)> {
        let mut decided = Vec::with_capacity(events.len());
        for event in events {
            let span = event_span(&event);
            if let Some(decision) = self.decide(&event, memo).instrument(span).await {
                decided.push((event, decision));
            }
        }
        decided
    }

    /// The event's decision, or `None` when it failed (the failure is recorded).
    async fn decide(&self, event: &InboxEvent, memo: &mut CatalogueMemo) -> Option<Decision> {
        // An event that kept killing its worker is parked before it can do so again.
        if event.attempts > MAX_ATTEMPTS {
            self.record_failure(
                event,
                "abandoned after repeated crashes while processing",
                None,
            )
            .await;
            return None;
        }
        match self.processor.decide(event, memo).await {
            Ok(decision) => Some(decision),
            Err(err) => {
                self.failed(event, &err).await;
                None
            }
        }
    }

    async fn apply(&self, batch: TenantBatch) {
        let Err(err) = self.processor.apply_batch(&batch.effects).await else {
            return;
        };
        log_failure("applying a batch; applying its events one by one", &err);
        for (event, effects) in batch.events.iter().zip(&batch.effects) {
            let span = event_span(event);
            async {
                if let Err(err) = self.processor.apply(effects).await {
                    self.failed(event, &err).await;
                }
            }
            .instrument(span)
            .await;
        }
    }

    /// Records that processing `event` failed with `err`: retried later, or parked as dead.
    async fn failed(&self, event: &InboxEvent, err: &DomainError) {
        log_failure("processing an event", err);
        let message = match err {
            DomainError::Internal(_) => {
                format!(
                    "internal error while processing (logged with event id {})",
                    event.id
                )
            }
            other => other.to_string(),
        };
        let retry = next_attempt(event, self.clock.now());
        self.record_failure(event, &message, retry).await;
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

/// The claimed events grouped by tenant, each group in claim order.
fn by_tenant(claimed: Vec<InboxEvent>) -> Vec<(TenantId, Vec<InboxEvent>)> {
    let mut groups: Vec<(TenantId, Vec<InboxEvent>)> = Vec::new();
    for event in claimed {
        match groups
            .iter_mut()
            .find(|(tenant_id, _)| *tenant_id == event.tenant_id)
        {
            Some((_, events)) => events.push(event),
            None => groups.push((event.tenant_id, vec![event])),
        }
    }
    groups
}

/// One tenant's decided events of a batch, in claim order.
struct TenantBatch {
    tenant_id: TenantId,
    events: Vec<InboxEvent>,
    effects: Vec<EventEffects>,
}

impl TenantBatch {
    fn new(tenant_id: TenantId) -> Self {
        Self {
            tenant_id,
            events: Vec::new(),
            effects: Vec::new(),
        }
    }

    fn push(&mut self, event: InboxEvent, effects: EventEffects) {
        self.events.push(event);
        self.effects.push(effects);
    }
}

fn event_span(event: &InboxEvent) -> tracing::Span {
    tracing::info_span!(
        "process_event",
        tenant_id = %event.tenant_id,
        event_id = %event.id,
        kind = %event.kind,
        attempt = event.attempts
    )
}

fn log_failure(what: &str, err: &DomainError) {
    match err {
        DomainError::Internal(source) => tracing::error!(error = %source, "failed {what}"),
        other => tracing::warn!(error = %other, "failed {what}"),
    }
}
