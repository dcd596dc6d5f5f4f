//! The audience ports, implemented on [`crate::Store`].

mod apply;
mod mapping;
mod subscribers;
