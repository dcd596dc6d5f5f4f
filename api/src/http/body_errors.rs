//! The answers actix-web writes itself when a request body cannot be read (too large, a broken
//! `Content-Encoding`, a connection cut mid-body) are plain text, and some print the Rust
//! `Debug` form of an internal error. They are replaced here by the JSON every route answers
//! with: a stable `code`, the `field` at fault (`body`), and a message for people.

use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{HttpResponse, Result};
use serde_json::json;

/// The middleware: 413 and plain-text 400 answers become JSON.
pub fn json_body_errors<B: 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new()
        .handler(StatusCode::PAYLOAD_TOO_LARGE, too_large)
        .handler(StatusCode::BAD_REQUEST, unreadable)
}

fn too_large<B>(response: ServiceResponse<B>) -> Result<ErrorHandlerResponse<B>> {
    Ok(replaced(
        response,
        "the body is larger than this route accepts (1 MiB; imports 32 MiB)",
    ))
}

fn unreadable<B>(response: ServiceResponse<B>) -> Result<ErrorHandlerResponse<B>> {
    // Our own 400s are JSON already (`application/json`, or GraphQL's
    // `application/graphql-response+json`); only the framework's plain text is replaced.
    let plain = response.headers().get(CONTENT_TYPE).is_none_or(|value| {
        let mime = value
            .as_bytes()
            .split(|&b| b == b';')
            .next()
            .unwrap_or_default();
        !(mime.starts_with(b"application/json") || mime.trim_ascii().ends_with(b"+json"))
    });
    if !plain {
        return Ok(ErrorHandlerResponse::Response(
            response.map_into_left_body(),
        ));
    }
    Ok(replaced(
        response,
        "the body could not be read (is its Content-Encoding right?)",
    ))
}

fn replaced<B>(response: ServiceResponse<B>, message: &str) -> ErrorHandlerResponse<B> {
    let status = response.status();
    let (request, _) = response.into_parts();
    let answer = HttpResponse::build(status).json(json!({
        "code": "VALIDATION",
        "field": "body",
        "message": message,
    }));
    ErrorHandlerResponse::Response(ServiceResponse::new(request, answer).map_into_right_body())
}
