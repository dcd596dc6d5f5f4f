//! Development's mail transport: each message goes to the log, links included, so that
//! invitations can be answered without a mail server. Production refuses it (see `config`).

use async_trait::async_trait;
use refhub_domain::mail::MailMessage;

use super::MailTransport;

/// Writes messages to the log.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogTransport;

#[async_trait]
impl MailTransport for LogTransport {
    async fn deliver(&self, message: &MailMessage) -> anyhow::Result<()> {
        tracing::info!(
            to = %message.to,
            subject = %message.subject,
            text = %message.text,
            "development mail (SMTP_URL not set): not sent, logged here"
        );
        Ok(())
    }
}
