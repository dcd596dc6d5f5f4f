//! The live activity feed of this process: workers publish what they process, websocket
//! subscriptions read it. A broadcast channel, so a slow reader only loses its own backlog
//! (it is told how much it missed in the logs) and never slows the workers.
//!
//! Workers in separate `refhub worker` processes publish to their own process; their activity
//! reaches the dashboards of that process only (see the README).

use futures::stream::{BoxStream, StreamExt};
use refhub_domain::activity::{ActivityEvent, ActivityPublisher};
use refhub_graphql::ActivityFeed;
use tokio::sync::broadcast;

/// Events kept for readers that fall behind.
const BACKLOG: usize = 4096;

/// The feed.
pub struct ActivityHub {
    sender: broadcast::Sender<ActivityEvent>,
}

impl ActivityHub {
    /// An empty feed.
    pub fn new() -> Self {
        Self {
            sender: broadcast::channel(BACKLOG).0,
        }
    }
}

impl Default for ActivityHub {
    fn default() -> Self {
        Self::new()
    }
}

impl ActivityPublisher for ActivityHub {
    fn publish(&self, event: ActivityEvent) {
        // No reader is not an error: nobody is watching.
        let _ = self.sender.send(event);
    }
}

impl ActivityFeed for ActivityHub {
    fn subscribe(&self) -> BoxStream<'static, ActivityEvent> {
        let receiver = self.sender.subscribe();
        futures::stream::unfold(receiver, |mut receiver| async move {
            loop {
                match receiver.recv().await {
                    Ok(event) => return Some((event, receiver)),
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "a live activity reader fell behind");
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
        .boxed()
    }
}
