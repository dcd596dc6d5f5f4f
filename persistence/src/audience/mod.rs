//! The audience ports, implemented on [`crate::Store`].

mod apply;
pub(crate) mod count_cache;
mod import;
mod mapping;
mod subscribers;
