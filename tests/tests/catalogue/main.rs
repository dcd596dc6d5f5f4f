//! End-to-end tests of the Messenger catalogue: the Meta app connection, pages, custom fields,
//! tags, ref links with their payloads and QR codes, and notification topics. One binary with a
//! module per theme, so that the application is linked once.

mod afternoon;
mod authorization;
mod custom_fields;
mod isolation;
mod messenger_app;
mod page_setup;
mod pages;
mod payload_urls;
mod qr_codes;
mod ref_links;
mod secrets;
mod signed_links;
mod support;
mod tags;
mod timestamps;
mod topics;
