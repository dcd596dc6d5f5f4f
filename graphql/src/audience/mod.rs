//! Subscribers and the webhook inbox.

mod inputs;
mod mutation;
mod query;
mod types;

pub(crate) use mutation::AudienceMutation;
pub(crate) use query::AudienceQuery;
