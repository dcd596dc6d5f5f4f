//! Tenants and identity: sign-up, sign-in, sessions, members, API keys, platform operators.

mod inputs;
mod mutation;
mod query;
pub(crate) mod types;

pub(crate) use mutation::IdentityMutation;
pub(crate) use query::IdentityQuery;
