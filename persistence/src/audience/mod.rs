//! The audience ports, implemented on [`crate::Store`].

mod apply;
mod import;
mod mapping;
mod subscribers;
