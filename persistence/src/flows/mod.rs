//! Flows, trigger rules, runs and the outbox.

mod definitions;
mod mapping;
mod outbox;
mod runs;
mod triggers;

pub(crate) use mapping::run_row;
