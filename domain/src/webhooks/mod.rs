//! Messenger webhooks: the request path that stores events durably, and the processing that
//! turns them into subscriber records.

mod admission;
mod catalogue_memo;
mod envelope;
mod event;
mod inbox;
mod inbox_service;
mod ingest_service;
mod ports;
mod processor;
mod sealed_tokens;

pub use catalogue_memo::CatalogueMemo;
pub use envelope::{EnvelopeEvent, Sender, split_envelope};
pub use event::{MessengerEvent, NotificationOptIn, PriorMessage, Referral};
pub use inbox::{InboxEvent, InboxStatus, MAX_ATTEMPTS, NewInboxEvent, retry_at};
pub use inbox_service::InboxService;
pub use ingest_service::{IngestReceipt, WebhookIngestService};
pub use ports::{DeliveryThrottle, InboxRepository, WebhookSignatures};
pub use processor::{Decision, EventProcessor, Processed, ProcessorPorts, next_attempt};
pub use sealed_tokens::{SEALED_PREFIX, open_token, seal_tokens};
