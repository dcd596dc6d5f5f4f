//! The one error type every use case and port returns, with a stable code for clients.

use std::fmt;

/// A stable, machine-readable error code; clients branch on it, so its spelling never changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// No valid credentials were presented.
    Unauthenticated,
    /// The credentials are valid but do not allow this.
    Forbidden,
    /// The thing does not exist, or belongs to another tenant.
    NotFound,
    /// An input value was rejected; the error names the field.
    Validation,
    /// The change clashes with existing state (duplicate, last owner, ...).
    Conflict,
    /// Too many requests; retry later.
    RateLimited,
    /// A service we depend on (the database, Meta's Graph API) is unreachable for now; nothing
    /// was done; retry shortly.
    Unavailable,
    /// Something failed on our side; details are in the logs only.
    Internal,
}

impl ErrorCode {
    /// The code as clients see it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Validation => "VALIDATION",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::Unavailable => "UNAVAILABLE",
            ErrorCode::Internal => "INTERNAL",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a request was refused as forbidden, when a client can act on the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForbiddenReason {
    /// The principal's role is too low for the operation.
    InsufficientRole,
    /// The tenant was suspended by a platform operator.
    TenantSuspended,
    /// The operation is for platform operators only.
    OperatorOnly,
    /// The operation needs a signed-in user, not an API key.
    UserOnly,
    /// The operation needs a current tenant.
    NoTenant,
    /// A webhook subscription handshake with the wrong mode or verify token.
    WebhookVerification,
    /// An invitation answered by someone signed in with another e-mail than it was sent to.
    InvitationForAnotherEmail,
}

impl ForbiddenReason {
    /// The reason as clients see it.
    pub fn as_str(self) -> &'static str {
        match self {
            ForbiddenReason::InsufficientRole => "INSUFFICIENT_ROLE",
            ForbiddenReason::TenantSuspended => "TENANT_SUSPENDED",
            ForbiddenReason::OperatorOnly => "OPERATOR_ONLY",
            ForbiddenReason::UserOnly => "USER_ONLY",
            ForbiddenReason::NoTenant => "NO_TENANT",
            ForbiddenReason::WebhookVerification => "WEBHOOK_VERIFICATION",
            ForbiddenReason::InvitationForAnotherEmail => "INVITATION_FOR_ANOTHER_EMAIL",
        }
    }

    fn message(self) -> &'static str {
        match self {
            ForbiddenReason::InsufficientRole => "your role does not allow this",
            ForbiddenReason::TenantSuspended => "this workspace is suspended; contact support",
            ForbiddenReason::OperatorOnly => "only platform operators may do this",
            ForbiddenReason::UserOnly => "API keys cannot do this; sign in as a user",
            ForbiddenReason::NoTenant => "select a workspace first (switchTenant)",
            ForbiddenReason::WebhookVerification => {
                "hub.mode must be `subscribe` and hub.verify_token must match the app's verify token"
            }
            ForbiddenReason::InvitationForAnotherEmail => {
                "this invitation was sent to another e-mail address; sign in with that address to answer it"
            }
        }
    }
}

/// Every failure a use case can report. Messages are safe to show to clients; internal causes
/// are kept in [`DomainError::Internal`] and only ever logged.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// Missing, malformed, expired or revoked credentials. The message is deliberately vague.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// Authenticated, but not allowed.
    #[error("{}", .0.message())]
    Forbidden(ForbiddenReason),
    /// Does not exist in the caller's tenant.
    #[error("{entity} not found")]
    NotFound {
        /// What was looked for, e.g. "member".
        entity: &'static str,
        /// The input field that named it, when the id came in an input.
        field: Option<String>,
    },
    /// An input value is invalid.
    #[error("{field}: {message}")]
    Validation {
        /// The input field, as the client named it (e.g. "email").
        field: String,
        /// What is wrong with it, for a person to read.
        message: String,
    },
    /// The operation clashes with what is stored.
    #[error("{message}")]
    Conflict {
        /// The input field at fault, when there is one.
        field: Option<String>,
        /// What clashes, for a person to read.
        message: String,
    },
    /// Too many requests.
    #[error("too many requests; retry in {retry_after_secs} s")]
    RateLimited {
        /// Seconds until a retry may succeed.
        retry_after_secs: u64,
    },
    /// The database (or another service we need) cannot be reached right now; nothing was
    /// done, and trying again shortly may succeed. The source is logged, never shown.
    #[error("temporarily unavailable; retry shortly")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Meta's Graph API could not be reached, or answered "try again later", on a request that
    /// needs its answer now (checking a token while connecting a page): nothing was changed,
    /// and trying again shortly may succeed. Same code as [`DomainError::Unavailable`]; the
    /// message says it was Meta (and what Meta said, never a token).
    #[error("Meta's Graph API is unavailable for now, so nothing was changed; retry shortly ({0})")]
    MetaUnavailable(String),
    /// A failure on our side; the source is logged, never shown.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl DomainError {
    /// The stable code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            DomainError::Unauthenticated(_) => ErrorCode::Unauthenticated,
            DomainError::Forbidden(_) => ErrorCode::Forbidden,
            DomainError::NotFound { .. } => ErrorCode::NotFound,
            DomainError::Validation { .. } => ErrorCode::Validation,
            DomainError::Conflict { .. } => ErrorCode::Conflict,
            DomainError::RateLimited { .. } => ErrorCode::RateLimited,
            DomainError::Unavailable(_) | DomainError::MetaUnavailable(_) => ErrorCode::Unavailable,
            DomainError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// A validation error on `field`.
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A conflict on `field`.
    pub fn conflict(field: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Conflict {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// Not found, naming the kind of thing.
    pub fn not_found(entity: &'static str) -> Self {
        DomainError::NotFound {
            entity,
            field: None,
        }
    }

    /// Not found, naming the kind of thing and the input field that referred to it.
    pub fn not_found_in(entity: &'static str, field: impl Into<String>) -> Self {
        DomainError::NotFound {
            entity,
            field: Some(field.into()),
        }
    }

    /// Wraps an internal failure.
    pub fn internal(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        DomainError::Internal(Box::new(source))
    }

    /// The input field at fault, for validation errors, field conflicts and ids from inputs.
    pub fn field(&self) -> Option<&str> {
        match self {
            DomainError::Validation { field, .. } => Some(field),
            DomainError::Conflict { field, .. } | DomainError::NotFound { field, .. } => {
                field.as_deref()
            }
            _ => None,
        }
    }
}

/// Shorthand for results of use cases and ports.
pub type DomainResult<T> = Result<T, DomainError>;
