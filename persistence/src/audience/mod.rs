//! The audience ports, implemented on [`crate::Store`].

mod apply;
mod apply_batch;
pub(crate) mod count_cache;
mod details;
mod erasure;
mod identities;
mod import;
mod mapping;
mod plugin_users;
mod profiles;
mod subscribers;
