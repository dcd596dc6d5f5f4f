//! Turning database errors into domain errors: constraint violations the caller can act on
//! become conflicts; everything else is internal and its text stays in the logs.

use refhub_domain::DomainError;
use sea_orm::{DbErr, SqlErr};

/// Any database failure that is not a constraint the caller can act on.
pub(crate) fn internal(err: DbErr) -> DomainError {
    DomainError::internal(err)
}

/// A unique-constraint violation becomes a conflict on `field`; other failures are internal.
pub(crate) fn unique_as_conflict(err: DbErr, field: &str, message: &str) -> DomainError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => DomainError::conflict(field, message),
        _ => internal(err),
    }
}

/// A stored value that no longer parses: the database holds something the code never wrote.
pub(crate) fn corrupt(what: &str, value: &str) -> DomainError {
    DomainError::internal(CorruptValue(format!("unexpected stored {what}: {value:?}")))
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct CorruptValue(String);
