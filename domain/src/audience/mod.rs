//! Subscribers: the people who talk to a tenant's pages, with their field values, tags and
//! notification opt-ins, as webhook events and people in the dashboard shape them.

mod effects;
mod ports;
mod subscriber;
mod subscriber_service;

pub use effects::{AppliedEvent, Entry, EventEffects, Interaction, OptInChange};
pub use ports::{AudienceStore, SubscriberFilter, SubscriberRepository};
pub use subscriber::{
    FieldValueRecord, InteractionRecord, MESSAGING_WINDOW_HOURS, OptIn, OptInStatus, Subscriber,
};
pub use subscriber_service::SubscriberService;
