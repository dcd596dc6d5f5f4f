//! The refhub binary's library: configuration, the composition root, the HTTP server and the
//! command-line tasks. Everything is wired in [`startup`], and nowhere else.

mod activity_hub;
mod app_cache;
pub mod cli;
pub mod config;
mod graph_api;
mod http;
mod mail;
mod qr_codes;
mod security;
mod short_link_cache;
pub mod startup;
pub mod telemetry;
mod workers;

pub use config::{Config, MailSettings};
pub use mail::MemoryOutbox;
pub use startup::Application;
