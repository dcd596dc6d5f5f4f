//! The inbox port, implemented on [`crate::Store`].

mod inbox;
pub(crate) mod mapping;
pub(crate) mod processing;
