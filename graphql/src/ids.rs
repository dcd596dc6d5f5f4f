//! GraphQL `ID`s are UUIDs; a malformed one is a validation error on its field.

use async_graphql::ID;
use refhub_domain::{DomainError, DomainResult};
use uuid::Uuid;

/// Parses an `ID` input into a typed id, naming `field` when it is not a UUID.
pub(crate) fn parse_id<T: From<Uuid>>(id: &ID, field: &str) -> DomainResult<T> {
    Uuid::parse_str(id.as_str())
        .map(T::from)
        .map_err(|_| DomainError::validation(field, "is not a valid ID"))
}

/// Renders a UUID as an `ID`.
pub(crate) fn to_id(uuid: Uuid) -> ID {
    ID(uuid.to_string())
}
