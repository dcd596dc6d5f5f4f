//! The span every request is logged in. The default one records the full target, query string
//! included, and the path: a webhook handshake's `hub.verify_token` and the webhook key in
//! `/webhooks/messenger/{key}` would end up in the logs. This one records the matched route
//! pattern (`/webhooks/messenger/{key}`, `/r/{code}`) instead, and no query string.
//!
//! It also logs each failed request once, at a level that says whose problem it is: ERROR for
//! a 5xx (ours), WARN for a refused credential or signature (401, 403: worth an operator's
//! eye), INFO for any other 4xx (the client's: a mistyped short link, a bad argument).
//! tracing-actix-web's own event logs every 4xx at WARN, so a crawler trying short codes
//! filled the warnings; its feature is off.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::{Error, ResponseError};
use tracing::Span;

use super::client_address::client_ip;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder};

/// Request spans without secrets in them.
pub struct RedactedRootSpan;

impl RootSpanBuilder for RedactedRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let span = tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = tracing::field::Empty,
            http.client_ip = tracing::field::Empty,
            http.status_code = tracing::field::Empty,
            otel.name = tracing::field::Empty,
            otel.kind = "server",
            otel.status_code = tracing::field::Empty,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        );
        // Matching the route again costs a regex search per request: only for a span that
        // is recorded somewhere.
        if !span.is_disabled() {
            let route = request
                .match_pattern()
                .unwrap_or_else(|| "unmatched".to_owned());
            span.record("http.route", route.as_str());
            span.record(
                "otel.name",
                format!("{} {route}", request.method()).as_str(),
            );
            if let Some(client) = client_ip(request.request()) {
                span.record("http.client_ip", client.to_string().as_str());
            }
        }
        span
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let failure = match outcome {
            Ok(response) => response
                .response()
                .error()
                .map(|error| (response.status(), error.as_response_error())),
            Err(error) => {
                let error = error.as_response_error();
                Some((error.status_code(), error))
            }
        };
        if let Some((status, error)) = failure {
            span.in_scope(|| log_failure(status, error));
        }
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// One event for a request that failed, at the level its status deserves.
fn log_failure(status: StatusCode, error: &dyn ResponseError) {
    let status = status.as_u16();
    if status >= 500 {
        tracing::error!(status, error = ?error, "request failed");
    } else if status == 401 || status == 403 {
        tracing::warn!(status, error = ?error, "request refused");
    } else {
        tracing::info!(status, error = ?error, "request refused");
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use actix_web::error::{ErrorForbidden, ErrorInternalServerError, ErrorNotFound};

    use super::*;

    /// Where the test subscriber writes its lines.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Lines {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// What `log_failure` writes for `error`, through a plain-text subscriber.
    fn logged(error: Error) -> String {
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .without_time()
            .with_max_level(tracing::Level::TRACE)
            .finish();
        let error = error.as_response_error();
        tracing::subscriber::with_default(subscriber, || {
            log_failure(error.status_code(), error);
        });
        String::from_utf8(lines.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn a_client_mistake_is_info_a_refusal_a_warning_and_ours_an_error() {
        let not_found = logged(ErrorNotFound("no such short link"));
        assert!(not_found.starts_with(" INFO "), "{not_found}");
        assert!(not_found.contains("status=404"), "{not_found}");

        let forbidden = logged(ErrorForbidden("bad signature"));
        assert!(forbidden.starts_with(" WARN "), "{forbidden}");

        let ours = logged(ErrorInternalServerError("boom"));
        assert!(ours.starts_with("ERROR "), "{ours}");
        assert!(ours.contains("status=500"), "{ours}");
    }
}
