//! Flows, the rules that start them, their runs, the outbox and topic notifications.

mod inputs;
mod mutation;
mod query;
pub(crate) mod types;

pub(crate) use mutation::FlowsMutation;
pub(crate) use query::FlowsQuery;
