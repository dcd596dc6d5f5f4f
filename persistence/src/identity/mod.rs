//! The identity ports, implemented on [`crate::Store`].

mod api_keys;
mod invitations;
mod mapping;
mod memberships;
mod sessions;
mod store;
mod tenants;
mod users;
