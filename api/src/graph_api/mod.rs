//! The outbound adapter to Meta's Graph API (reqwest): one HTTP core (`client`) and one file per
//! Meta API refhub calls. The base URL is configurable so that tests point it at a stand-in.

mod client;
mod ids_for_pages;
mod page_connection;
mod page_setup;
mod send_api;
mod token_health;
mod user_profile;

pub use client::GraphApiClient;
