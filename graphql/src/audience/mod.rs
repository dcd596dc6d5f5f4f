//! Subscribers and the webhook inbox.

mod inputs;
mod mutation;
mod preload;
mod query;
pub(crate) mod types;

pub(crate) use mutation::AudienceMutation;
pub(crate) use query::AudienceQuery;
