//! Turning database errors into domain errors: constraint violations the caller can act on
//! become conflicts; everything else is internal and its text stays in the logs.

use std::sync::Arc;

use refhub_domain::DomainError;
use sea_orm::{DbErr, RuntimeErr, SqlErr};

/// Any database failure that is not a constraint the caller can act on: `Unavailable` when the
/// database cannot be reached (so callers answer 503 and clients retry), else internal.
pub(crate) fn internal(err: DbErr) -> DomainError {
    if unreachable(&err) {
        DomainError::Unavailable(Box::new(err))
    } else {
        DomainError::internal(err)
    }
}

/// A failure of a statement run through sqlx directly, classified as [`internal`] does.
pub(crate) fn sqlx_failure(err: sea_orm::sqlx::Error) -> DomainError {
    internal(DbErr::Exec(RuntimeErr::SqlxError(Arc::new(err))))
}

/// Whether the failure is the database being out of reach rather than the statement.
fn unreachable(err: &DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    let runtime = match err {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(runtime) | DbErr::Exec(runtime) | DbErr::Query(runtime) => runtime,
        _ => return false,
    };
    match runtime {
        sea_orm::RuntimeErr::SqlxError(sqlx) => matches!(
            sqlx.as_ref(),
            Sqlx::Io(_)
                | Sqlx::PoolTimedOut
                | Sqlx::PoolClosed
                | Sqlx::WorkerCrashed
                | Sqlx::Tls(_)
        ),
        _ => false,
    }
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
