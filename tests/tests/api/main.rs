//! End-to-end tests of the HTTP and GraphQL API. One binary with a module per theme, so that
//! the application is linked once rather than once per file.

mod api_keys;
mod concurrency;
mod error_messages;
mod field_order;
mod health;
mod invitations;
mod log_in;
mod operators;
mod pagination;
mod rate_limits;
mod roles;
mod root_fields;
mod sessions;
mod sign_up;
mod switch_tenant;
mod tenant_isolation;
mod tokens;
