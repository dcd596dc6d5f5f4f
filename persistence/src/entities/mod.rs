//! sea-orm entities, one per table, mirroring what `refhub-migration` creates. Kept apart from
//! the adapters so that the mapping to domain types is written once, in the adapters.

pub mod api_keys;
pub mod memberships;
pub mod refresh_tokens;
pub mod sessions;
pub mod tenants;
pub mod users;
