//! Group commit for the webhook request path. Concurrent requests hand their events to one
//! writer task; whatever queued while the previous commit was in flight goes into the next
//! transaction. Each request is answered only after the commit that holds its events, so every
//! 200 still means "stored", but the database does one fsync per group instead of one per
//! request. No timer: a lone request is committed at once.
//!
//! A few writers take turns at the queue, so that one group is being gathered and written while
//! another waits for its commit to reach the disk: with a single writer, requests arriving
//! during a commit waited for it to finish before their own could even begin. PostgreSQL
//! flushes concurrent commits together, so overlapping them costs no extra fsyncs.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use refhub_domain::ids::{TenantId, WebhookEventId};
use refhub_domain::pagination::{Page, PageRequest};
use refhub_domain::webhooks::{InboxEvent, InboxRepository, InboxStatus, NewInboxEvent};
use refhub_domain::{DomainError, DomainResult};
use serde_json::Value;
use tokio::sync::{Mutex, mpsc, oneshot};

/// Most events in one commit.
const MAX_GROUP_EVENTS: usize = 2_000;
/// Requests that may wait for the writer before senders are slowed down.
const QUEUE_DEPTH: usize = 4_096;
/// Groups being committed at once.
const WRITERS: usize = 3;

struct Pending {
    events: Vec<NewInboxEvent>,
    done: oneshot::Sender<Result<(), Failure>>,
}

/// Why a request's events were not stored.
struct Failure {
    /// The database could not be reached (the request answers 503, and Meta retries).
    unavailable: bool,
    message: String,
}

/// An [`InboxRepository`] whose `append` commits in groups; everything else goes straight to
/// the inner repository.
pub struct BatchingInbox {
    inner: Arc<dyn InboxRepository>,
    queue: mpsc::Sender<Pending>,
}

#[derive(Debug, thiserror::Error)]
#[error("inbox commit failed: {0}")]
struct CommitFailed(String);

impl BatchingInbox {
    /// Starts the writer task on the current runtime.
    pub fn start(inner: Arc<dyn InboxRepository>) -> Self {
        let (queue, receiver) = mpsc::channel(QUEUE_DEPTH);
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..WRITERS {
            tokio::spawn(write_groups(inner.clone(), receiver.clone()));
        }
        Self { inner, queue }
    }
}

async fn write_groups(
    inner: Arc<dyn InboxRepository>,
    receiver: Arc<Mutex<mpsc::Receiver<Pending>>>,
) {
    while let Some(mut group) = next_group(&receiver).await {
        if group.len() == 1 {
            let pending = group.remove(0);
            let result = inner
                .append(pending.events)
                .await
                .map_err(|err| logged(&err, 1));
            let _ = pending.done.send(result);
            continue;
        }
        let events: Vec<NewInboxEvent> = group
            .iter()
            .flat_map(|pending| pending.events.iter().cloned())
            .collect();
        match inner.append(events).await {
            Ok(()) => {
                for pending in group {
                    let _ = pending.done.send(Ok(()));
                }
            }
            Err(err @ DomainError::Unavailable(_)) => {
                // Trying each on its own would only wait for the database again, once each.
                logged(&err, group.len());
                for pending in group {
                    let _ = pending.done.send(Err(logged(&err, 0)));
                }
            }
            Err(err) => {
                // One delivery the store refuses must not fail the others that shared its
                // commit (other tenants' included): commit each on its own, and answer each.
                logged(&err, group.len());
                for pending in group {
                    let result = inner
                        .append(pending.events)
                        .await
                        .map_err(|err| logged(&err, 1));
                    let _ = pending.done.send(result);
                }
            }
        }
    }
}

/// Waits for a request, then takes whatever else is queued (up to the group limit). The lock is
/// held only while gathering: another writer gathers the next group while this one commits.
async fn next_group(receiver: &Mutex<mpsc::Receiver<Pending>>) -> Option<Vec<Pending>> {
    let mut receiver = receiver.lock().await;
    let first = receiver.recv().await?;
    let mut size = first.events.len();
    let mut group = vec![first];
    while size < MAX_GROUP_EVENTS {
        match receiver.try_recv() {
            Ok(next) => {
                size += next.events.len();
                group.push(next);
            }
            Err(_) => break,
        }
    }
    Some(group)
}

fn logged(err: &DomainError, requests: usize) -> Failure {
    match err {
        DomainError::Internal(source) => {
            tracing::error!(error = %source, requests, "inbox commit failed");
        }
        DomainError::Unavailable(source) if requests > 0 => {
            tracing::warn!(error = %source, requests, "inbox commit failed: database out of reach");
        }
        _ => {}
    }
    Failure {
        unavailable: matches!(err, DomainError::Unavailable(_)),
        message: err.to_string(),
    }
}

#[async_trait]
impl InboxRepository for BatchingInbox {
    async fn append(&self, events: Vec<NewInboxEvent>) -> DomainResult<()> {
        let (done, answer) = oneshot::channel();
        self.queue
            .send(Pending { events, done })
            .await
            .map_err(|_| DomainError::internal(CommitFailed("the inbox writer stopped".into())))?;
        match answer.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(Failure {
                unavailable: true,
                message,
            })) => Err(DomainError::Unavailable(Box::new(CommitFailed(message)))),
            Ok(Err(Failure { message, .. })) => Err(DomainError::internal(CommitFailed(message))),
            Err(_) => Err(DomainError::internal(CommitFailed(
                "the inbox writer stopped".into(),
            ))),
        }
    }

    async fn claim(
        &self,
        limit: usize,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> DomainResult<Vec<InboxEvent>> {
        self.inner.claim(limit, lease, now).await
    }

    async fn finish(
        &self,
        tenant_id: TenantId,
        id: WebhookEventId,
        status: InboxStatus,
        outcome: Value,
        at: DateTime<Utc>,
    ) -> DomainResult<()> {
        self.inner.finish(tenant_id, id, status, outcome, at).await
    }

    async fn fail(
        &self,
        tenant_id: TenantId,
        id: WebhookEventId,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> DomainResult<()> {
        self.inner.fail(tenant_id, id, error, retry_at).await
    }

    async fn list(
        &self,
        tenant_id: TenantId,
        status: Option<InboxStatus>,
        page: PageRequest,
    ) -> DomainResult<Page<InboxEvent>> {
        self.inner.list(tenant_id, status, page).await
    }

    async fn find(
        &self,
        tenant_id: TenantId,
        id: WebhookEventId,
    ) -> DomainResult<Option<InboxEvent>> {
        self.inner.find(tenant_id, id).await
    }

    async fn requeue(
        &self,
        tenant_id: TenantId,
        id: WebhookEventId,
        now: DateTime<Utc>,
    ) -> DomainResult<Option<InboxEvent>> {
        self.inner.requeue(tenant_id, id, now).await
    }

    async fn release_held(&self, tenant_id: TenantId, now: DateTime<Utc>) -> DomainResult<u64> {
        self.inner.release_held(tenant_id, now).await
    }

    async fn backlog(&self) -> DomainResult<u64> {
        self.inner.backlog().await
    }
}
