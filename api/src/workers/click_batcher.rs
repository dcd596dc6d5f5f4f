//! Counts clicks off the request path: the redirect hands its click to a channel and returns;
//! a task stores what has gathered every half second (or every few thousand clicks) in one
//! transaction. A failed write is retried with the clicks kept in memory, up to a bound.
//!
//! The channel is bounded: a flood of redirects faster than the database stores clicks makes
//! the redirects wait for room (backpressure) instead of piling clicks up in memory (a million
//! queued clicks had the server at 164 MiB) or dropping them.

use std::sync::Arc;
use std::time::Duration;

use refhub_domain::analytics::{Click, ClickRecorder, ClickRepository};
use tokio::sync::{mpsc, oneshot};

/// How often gathered clicks are stored.
const FLUSH_EVERY: Duration = Duration::from_millis(500);
/// Clicks stored at once at most.
const BATCH: usize = 10_000;
/// Clicks kept while the database is unreachable; past it the oldest are dropped (and said so).
const MAX_PENDING: usize = 1_000_000;
/// Clicks queued for the writer at most; past it, redirects wait for room.
const QUEUE: usize = 100_000;

enum Message {
    Click(Click),
    Flush(oneshot::Sender<()>),
}

/// The [`ClickRecorder`] adapter.
pub struct ClickBatcher {
    sender: mpsc::Sender<Message>,
}

impl ClickBatcher {
    /// Starts the task that stores clicks through `store`.
    pub fn start(store: Arc<dyn ClickRepository>) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(run(store, receiver));
        Self { sender }
    }

    /// Stores every click recorded so far (shutdown, and tests that read counts at once).
    pub async fn flush(&self) {
        let (done, flushed) = oneshot::channel();
        if self.sender.send(Message::Flush(done)).await.is_ok() {
            let _ = flushed.await;
        }
    }
}

#[async_trait::async_trait]
impl ClickRecorder for ClickBatcher {
    async fn record(&self, click: Click) {
        if self.sender.send(Message::Click(click)).await.is_err() {
            tracing::error!("the click writer has stopped; a click was not counted");
        }
    }
}

async fn run(store: Arc<dyn ClickRepository>, mut receiver: mpsc::Receiver<Message>) {
    let mut pending: Vec<Click> = Vec::new();
    let mut waiting: Vec<oneshot::Sender<()>> = Vec::new();
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    loop {
        let closed = tokio::select! {
            message = receiver.recv() => match message {
                Some(Message::Click(click)) => {
                    pending.push(click);
                    if pending.len() < BATCH {
                        continue;
                    }
                    false
                }
                Some(Message::Flush(done)) => {
                    // Take whatever else is queued already, then store it all.
                    while let Ok(message) = receiver.try_recv() {
                        match message {
                            Message::Click(click) => pending.push(click),
                            Message::Flush(other) => waiting.push(other),
                        }
                    }
                    waiting.push(done);
                    false
                }
                None => true,
            },
            _ = tick.tick() => false,
        };
        while !pending.is_empty() {
            let take = pending.len().min(BATCH);
            match store.store(&pending[..take]).await {
                Ok(()) => {
                    pending.drain(..take);
                }
                Err(err) => {
                    tracing::error!(error = ?err, clicks = pending.len(), "storing clicks failed; retrying");
                    if pending.len() > MAX_PENDING {
                        let dropped = pending.len() - MAX_PENDING;
                        pending.drain(..dropped);
                        tracing::error!(
                            dropped,
                            "too many clicks waiting to be stored; the oldest were dropped"
                        );
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    if !closed {
                        break;
                    }
                }
            }
        }
        if pending.is_empty() {
            for done in waiting.drain(..) {
                let _ = done.send(());
            }
        }
        if closed {
            return;
        }
    }
}
