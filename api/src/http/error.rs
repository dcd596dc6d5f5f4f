//! The one mapping from domain errors to HTTP answers for the REST routes: a status, and a
//! JSON body with the same stable `code` (and `field`) GraphQL uses. Internal causes are logged,
//! never sent.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use refhub_domain::{DomainError, ErrorCode};
use serde_json::json;

/// A domain error on its way out through HTTP.
#[derive(Debug)]
pub struct HttpError(pub DomainError);

impl From<DomainError> for HttpError {
    fn from(err: DomainError) -> Self {
        Self(err)
    }
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl ResponseError for HttpError {
    fn status_code(&self) -> StatusCode {
        match self.0.code() {
            ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Validation => StatusCode::BAD_REQUEST,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let DomainError::Internal(source) = &self.0 {
            tracing::error!(error = %source, debug = ?source, "internal error");
        }
        let mut response = HttpResponse::build(self.status_code());
        if let DomainError::Unavailable(source) = &self.0 {
            tracing::warn!(error = %source, "the database is out of reach");
            response.insert_header(("Retry-After", "5"));
        }
        if let DomainError::RateLimited { retry_after_secs } = &self.0 {
            response.insert_header(("Retry-After", retry_after_secs.to_string()));
        }
        response.json(json!({
            "code": self.0.code().as_str(),
            "message": self.0.to_string(),
            "field": self.0.field(),
        }))
    }
}
