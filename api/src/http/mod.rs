//! Inbound HTTP adapters.

pub mod bearer;
pub mod body_errors;
pub mod client_address;
pub mod cors;
pub mod csv_records;
pub mod data_deletion;
pub mod error;
pub mod graphql_endpoint;
pub mod graphql_media;
pub mod graphql_request;
pub mod graphql_ws;
pub mod health;
pub mod messenger_webhook;
pub mod persisted_queries;
pub mod qr_code;
pub mod request_span;
pub mod short_link;
pub mod socket_limits;
pub mod subscriber_csv;
pub mod throttles;
