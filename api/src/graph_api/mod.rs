//! The outbound adapter to Meta's Graph API (reqwest). The base URL is configurable so that
//! tests point it at a local mock server.

mod client;

pub use client::GraphApiClient;
