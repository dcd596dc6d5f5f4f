//! The span every request is logged in. The default one records the full target, query string
//! included, and the path: a webhook handshake's `hub.verify_token` and the webhook key in
//! `/webhooks/messenger/{key}` would end up in the logs. This one records the matched route
//! pattern (`/webhooks/messenger/{key}`, `/r/{code}`) instead, and no query string.

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use tracing::Span;
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
            if let Some(client) = request.connection_info().peer_addr() {
                span.record("http.client_ip", client);
            }
        }
        span
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}
