//! The mail adapters: a queue that lets requests go on at once, and the transports it delivers
//! through (SMTP, the development log, an in-memory outbox for tests).

mod log;
mod memory;
mod queue;
mod smtp;
mod unconfigured;

pub use log::LogTransport;
pub use memory::MemoryOutbox;
pub use queue::{MailQueue, MailTransport};
pub use smtp::SmtpTransport;
pub use unconfigured::Unconfigured;
