//! Production's mail transport: SMTP through lettre (tokio, rustls with the platform's roots).

use anyhow::Context;
use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use refhub_domain::mail::MailMessage;

use super::MailTransport;

/// Sends through one SMTP server.
pub struct SmtpTransport {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpTransport {
    /// From `SMTP_URL` (`smtps://user:password@host:465`, `smtp://host:587?tls=required`,
    /// `smtp://host:25` for a local relay without TLS) and `MAIL_FROM`
    /// (`refhub <no-reply@example.com>`). Errors never repeat the URL: it holds a password.
    pub fn new(url: &str, from: &str) -> anyhow::Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|err| anyhow::anyhow!("SMTP_URL is not a valid SMTP URL: {err}"))?
            .build();
        let from = from
            .parse::<Mailbox>()
            .with_context(|| format!("MAIL_FROM {from:?} is not a valid address"))?;
        Ok(Self { transport, from })
    }
}

#[async_trait]
impl MailTransport for SmtpTransport {
    async fn deliver(&self, message: &MailMessage) -> anyhow::Result<()> {
        let to = message
            .to
            .as_str()
            .parse::<Mailbox>()
            .context("the recipient's address")?;
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(message.text.clone())
            .context("composing the message")?;
        self.transport
            .send(email)
            .await
            .context("sending through SMTP")?;
        Ok(())
    }
}
