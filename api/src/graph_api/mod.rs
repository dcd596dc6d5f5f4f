//! The outbound adapter to Meta's Graph API (reqwest): one HTTP core (`client`) and one file per
//! Meta API refhub calls. The base URL is configurable so that tests point it at a stand-in.

mod client;
mod page_connection;
mod send_api;

pub use client::GraphApiClient;
