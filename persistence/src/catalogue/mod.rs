//! The catalogue ports, implemented on [`crate::Store`]. Every query runs in a transaction
//! scoped to its tenant and filters by it.

mod custom_fields;
pub(crate) mod mapping;
mod messenger_apps;
mod page_setups;
mod pages;
mod ref_links;
mod tags;
mod topics;
