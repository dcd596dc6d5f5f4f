//! The transport of a process configured without mail (a production `worker`): it sends no
//! mail, so anything queued is a mistake, reported as a failure and never logged in full.

use async_trait::async_trait;
use refhub_domain::mail::MailMessage;

use super::MailTransport;

/// Refuses every message.
#[derive(Debug, Default, Clone, Copy)]
pub struct Unconfigured;

#[async_trait]
impl MailTransport for Unconfigured {
    async fn deliver(&self, _message: &MailMessage) -> anyhow::Result<()> {
        anyhow::bail!("this process has no mail configured (SMTP_URL and MAIL_FROM are unset)")
    }
}
