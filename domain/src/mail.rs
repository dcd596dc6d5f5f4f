//! E-mail as a port: the use cases compose messages, an adapter delivers them (SMTP in
//! production, a log line in development, an in-memory outbox in tests).

use crate::identity::Email;

/// A plain-text e-mail to one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailMessage {
    /// The recipient.
    pub to: Email,
    /// The subject line.
    pub subject: String,
    /// The body, plain text.
    pub text: String,
}

/// Sends e-mail without making the caller wait or fail: a request that sends mail answers as
/// soon as its data is stored, whether the mail server is fast, slow or down.
pub trait Mailer: Send + Sync {
    /// Hands `message` over for delivery and returns at once. Delivery failures are the
    /// adapter's to log; the caller's work stands either way.
    fn send(&self, message: MailMessage);
}
