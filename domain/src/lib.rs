//! The core of refhub: entities, value objects, use cases and the ports (traits) they need.
//!
//! Nothing here knows about HTTP, SQL or GraphQL; adapters in other crates implement the ports.

pub mod activity;
pub mod analytics;
pub mod audience;
pub mod catalogue;
pub mod clock;
pub mod error;
pub mod flows;
pub mod identity;
pub mod ids;
pub mod mail;
pub mod pagination;
pub mod privacy;
pub mod text;
pub mod webhooks;

pub use error::{DomainError, DomainResult, ErrorCode, ForbiddenReason};
