//! End-to-end tests of flows and outbound messaging (issue #5): flows built over GraphQL,
//! triggered by signed webhook deliveries (the shared Messenger fixtures, re-timed to now) or
//! by hand, run by the workers, and sent to a wiremock Graph API that records what it receives,
//! fails some calls and is slow on others; worker processes SIGKILLed in the middle of a run.
//! One binary with a module per theme, so that the application is linked once.

mod crash;
mod crud;
mod delivery;
mod isolation;
mod profile_postbacks;
mod sends;
mod support;
mod token_health;
mod topics;
mod triggers;
mod waits;

/// The webhook suite's steps (connecting a tenant, signing deliveries, polling), shared as is.
#[allow(dead_code)]
#[path = "../webhooks/support.rs"]
mod hooks;

/// The Messenger fixtures, byte for byte (the webhook suite's embedded copies).
#[allow(dead_code)]
#[path = "../webhooks/fixtures.rs"]
mod fixtures;
