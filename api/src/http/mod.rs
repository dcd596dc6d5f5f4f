//! Inbound HTTP adapters.

pub mod graphql_endpoint;
pub mod health;
