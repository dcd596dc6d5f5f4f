//! The [`Mailer`] adapter: messages wait in a bounded queue and one task delivers them, so that
//! a slow or unreachable mail server never slows or fails the request that sent the mail.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use refhub_domain::mail::{MailMessage, Mailer};
use tokio::sync::mpsc;

/// Messages waiting for delivery at most; past it new ones are dropped (and logged): mail is
/// never worth the memory of an unbounded backlog.
const QUEUE_CAPACITY: usize = 1_000;
/// The longest one delivery may take before it is given up (and logged).
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);

/// Delivers one message somewhere.
#[async_trait]
pub trait MailTransport: Send + Sync {
    /// Delivers `message`; the error is logged, never shown to a client.
    async fn deliver(&self, message: &MailMessage) -> anyhow::Result<()>;
}

/// A queue in front of a [`MailTransport`].
pub struct MailQueue {
    sender: mpsc::Sender<MailMessage>,
}

impl MailQueue {
    /// Starts the delivering task (on the current tokio runtime).
    pub fn start(transport: Arc<dyn MailTransport>) -> Self {
        let (sender, mut receiver) = mpsc::channel::<MailMessage>(QUEUE_CAPACITY);
        tokio::spawn(async move {
            while let Some(message) = receiver.recv().await {
                let delivered =
                    tokio::time::timeout(DELIVERY_TIMEOUT, transport.deliver(&message)).await;
                let failure = match delivered {
                    Ok(Ok(())) => continue,
                    Ok(Err(err)) => format!("{err:#}"),
                    Err(_) => format!("no answer within {} s", DELIVERY_TIMEOUT.as_secs()),
                };
                tracing::warn!(
                    subject = %message.subject,
                    error = %failure,
                    "an e-mail could not be delivered"
                );
            }
        });
        Self { sender }
    }
}

impl Mailer for MailQueue {
    fn send(&self, message: MailMessage) {
        if let Err(err) = self.sender.try_send(message) {
            tracing::warn!(
                subject = %err.into_inner().subject,
                "the mail queue is full: an e-mail was dropped"
            );
        }
    }
}
