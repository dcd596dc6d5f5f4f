//! End-to-end tests of the Messenger webhook pipeline: signed deliveries stored exactly once,
//! processed by the workers (in the server, or in separate worker processes that crash and
//! restart), and their effects on subscribers read back through GraphQL. One binary with a
//! module per theme, so that the application is linked once.

mod authorization;
mod batches;
mod concurrency;
mod data_deletion;
mod duplicates;
mod erasure;
mod filters;
mod fixture_deliveries;
mod fixtures;
mod hostile_deliveries;
mod opt_ins;
mod payloads;
mod plugin_users;
mod poison_events;
mod profiles;
mod signatures;
mod subscriber_edits;
mod support;
mod tolerant_parsing;
mod unicode;
mod varied_shapes;
mod worker_processes;
