//! A mail transport that keeps messages in memory, for the end-to-end tests to read the links
//! they carry. Chosen through the configuration only (never from the environment).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use refhub_domain::mail::MailMessage;

use super::MailTransport;

/// The messages delivered so far, oldest first. Clones share them.
#[derive(Debug, Clone, Default)]
pub struct MemoryOutbox {
    messages: Arc<Mutex<Vec<MailMessage>>>,
}

impl MemoryOutbox {
    /// Every message delivered so far.
    pub fn messages(&self) -> Vec<MailMessage> {
        self.messages
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Messages delivered so far to `to`.
    pub fn messages_to(&self, to: &str) -> Vec<MailMessage> {
        self.messages()
            .into_iter()
            .filter(|m| m.to.as_str() == to)
            .collect()
    }

    /// Waits until at least `count` messages to `to` have been delivered (delivery runs in
    /// the background) and returns them; `None` after `patience`.
    pub async fn wait_for(
        &self,
        to: &str,
        count: usize,
        patience: Duration,
    ) -> Option<Vec<MailMessage>> {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            let messages = self.messages_to(to);
            if messages.len() >= count {
                return Some(messages);
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

#[async_trait]
impl MailTransport for MemoryOutbox {
    async fn deliver(&self, message: &MailMessage) -> anyhow::Result<()> {
        self.messages
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(message.clone());
        Ok(())
    }
}
