//! The privacy ports, implemented on [`crate::Store`].

mod deletion_requests;
