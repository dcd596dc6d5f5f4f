//! Cross-origin access for dashboards served from their own origin (`CORS_ALLOWED_ORIGINS`).
//!
//! A browser lets a page of another origin send `Authorization` and a JSON body only after a
//! preflight (`OPTIONS` with `Access-Control-Request-*`) that this service grants, and lets it
//! read the answer only when it names the page's origin. Both are granted to the listed
//! origins, exactly (no wildcard: any page could then call the API with a token it stole or a
//! visitor's own), on `/graphql` and `/api/…`; the websocket (`/graphql/ws`), which browsers
//! open from any page without asking, checks `Origin` against the same list itself.
//!
//! The service's own origin is never another origin: a page it serves (GraphiQL) calls it
//! whatever the list says. It is recognised as browsers' `Origin` naming the host the request
//! was sent to (`Host`), as gorilla/websocket's default check does: a page elsewhere cannot
//! make a browser send another site's `Host`.

use actix_cors::{Cors, CorsError};
use actix_web::body::MessageBody;
use actix_web::dev::{RequestHead, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{HttpResponse, Result};
use serde_json::json;

/// How long a browser may keep a granted preflight (seconds): Chromium keeps one at most two
/// hours, whatever a server says, and a dashboard then asks once per endpoint and origin.
pub const PREFLIGHT_MAX_AGE_SECS: usize = 7200;

/// The origins allowed to call the API from a browser, besides the service's own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedOrigins {
    /// Serialised origins (`https://dash.example.com`, `http://localhost:3000`): scheme and
    /// host lower case, the scheme's default port left out, as browsers send `Origin`.
    origins: Vec<String>,
}

impl AllowedOrigins {
    /// No other origin.
    pub fn none() -> Self {
        Self::default()
    }

    /// Parses a comma-separated list of exact origins (`scheme://host[:port]`).
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut origins = Vec::new();
        for item in list
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
        {
            let origin = parse_origin(item)?;
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        Ok(Self { origins })
    }

    /// The origin of `url` alone (`PUBLIC_BASE_URL`'s, where GraphiQL is).
    pub fn of_url(url: &str) -> Result<Self, String> {
        let parsed = url::Url::parse(url).map_err(|err| format!("`{url}`: {err}"))?;
        let origin = parsed.origin();
        if !origin.is_tuple() {
            return Err(format!("`{url}` has no origin"));
        }
        Ok(Self {
            origins: vec![origin.ascii_serialization()],
        })
    }

    /// The listed origins.
    pub fn origins(&self) -> &[String] {
        &self.origins
    }

    /// Whether a request from `origin` (its `Origin` header) to the host it names in `Host`
    /// may be served.
    pub fn allows(&self, origin: &[u8], host: Option<&[u8]>) -> bool {
        let Ok(origin) = std::str::from_utf8(origin) else {
            return false;
        };
        self.origins
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(origin))
            || host.is_some_and(|host| same_host(origin, host))
    }

    /// Whether `head` (a request with an `Origin` header) may be served.
    pub fn allows_request(&self, origin: &HeaderValue, head: &RequestHead) -> bool {
        let host = head.headers().get(header::HOST).map(HeaderValue::as_bytes);
        self.allows(origin.as_bytes(), host)
    }

    /// The CORS middleware for the routes dashboards call: the listed origins (and the own)
    /// get `methods` with `Authorization` and `Content-Type`, may read `Retry-After` (429s)
    /// and `Content-Disposition` (CSV exports), and keep a preflight for
    /// [`PREFLIGHT_MAX_AGE_SECS`]. A request from any other origin is refused before it reaches
    /// a handler ([`cors_refusals`] says why).
    pub fn cors(&self, methods: &[Method]) -> Cors {
        let allowed = self.clone();
        Cors::default()
            .allowed_origin_fn(move |origin, head| allowed.allows_request(origin, head))
            .allowed_methods(methods.iter().cloned())
            .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .expose_headers([header::RETRY_AFTER, header::CONTENT_DISPOSITION])
            .max_age(PREFLIGHT_MAX_AGE_SECS)
            .block_on_origin_mismatch(true)
    }
}

/// `origin` (`scheme://host[:port]`) as browsers serialise it, or why it is not one.
fn parse_origin(text: &str) -> Result<String, String> {
    if text.contains('*') || text.eq_ignore_ascii_case("null") {
        return Err(format!(
            "`{text}` is not taken: list each origin allowed exactly (https://dash.example.com)"
        ));
    }
    let url = url::Url::parse(text).map_err(|err| format!("`{text}` is not an origin: {err}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("`{text}`: an origin is http:// or https://"));
    }
    // `Url` adds the root path itself; anything more (a path, a query, a fragment, a user) is
    // not part of an origin and would never match one.
    let bare = url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none();
    if !bare || url.host().is_none() {
        return Err(format!(
            "`{text}` is not an origin: write scheme://host[:port], without a path (as a \
             browser's Origin header says it)"
        ));
    }
    Ok(url.origin().ascii_serialization())
}

/// Whether `origin` names the host (and port) in `host`: the page was served by this host.
fn same_host(origin: &str, host: &[u8]) -> bool {
    let Ok(host) = std::str::from_utf8(host) else {
        return false;
    };
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => return false,
    };
    let host = host.trim();
    let without_default_port = |value: &'_ str| -> String {
        value
            .strip_suffix(default_port)
            .unwrap_or(value)
            .to_ascii_lowercase()
    };
    !host.is_empty() && without_default_port(authority) == without_default_port(host)
}

/// Turns the CORS middleware's plain-text refusals into the JSON every route answers with:
/// 403 `FORBIDDEN` for an origin, method or header not allowed, 400 `VALIDATION` for a
/// malformed preflight. Wrapped outside the CORS middleware.
pub fn cors_refusals<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().handler(StatusCode::BAD_REQUEST, refusal)
}

fn refusal<B>(response: ServiceResponse<B>) -> Result<ErrorHandlerResponse<B>> {
    let Some(error) = response
        .response()
        .error()
        .and_then(|error| error.as_error::<CorsError>())
    else {
        return Ok(ErrorHandlerResponse::Response(
            response.map_into_left_body(),
        ));
    };
    let (status, code, message) = match error {
        CorsError::OriginNotAllowed => (
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "this origin may not call the API from a browser: it is not in CORS_ALLOWED_ORIGINS"
                .to_owned(),
        ),
        CorsError::MethodNotAllowed | CorsError::HeadersNotAllowed => (
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            format!(
                "{error}: cross-origin requests may send Authorization and Content-Type, with \
                 the methods the route answers"
            ),
        ),
        other => (StatusCode::BAD_REQUEST, "VALIDATION", other.to_string()),
    };
    let mut headers = response.headers().clone();
    let (request, _) = response.into_parts();
    let mut answer = HttpResponse::build(status).json(json!({
        "code": code,
        "field": "Origin",
        "message": message,
    }));
    // The middleware's `Vary`, so that caches keep one answer per origin.
    if let Some(vary) = headers.remove(header::VARY).next() {
        answer.headers_mut().insert(header::VARY, vary);
    }
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(request, answer).map_into_right_body(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_read_as_browsers_write_them() {
        let origins = AllowedOrigins::parse(
            " https://Dash.Example.com , http://localhost:3000,https://dash.example.com:443/",
        )
        .unwrap();
        assert_eq!(
            origins.origins(),
            ["https://dash.example.com", "http://localhost:3000"]
        );
        assert!(origins.allows(b"https://dash.example.com", None));
        assert!(origins.allows(b"http://localhost:3000", Some(b"127.0.0.1:8080")));
        assert!(!origins.allows(b"http://localhost:3001", Some(b"127.0.0.1:8080")));
        assert!(!origins.allows(b"https://dash.example.com.evil.test", None));
        assert!(!origins.allows(b"null", None));
        assert_eq!(AllowedOrigins::parse("").unwrap(), AllowedOrigins::none());
    }

    #[test]
    fn anything_but_an_exact_origin_is_refused() {
        for bad in [
            "*",
            "null",
            "dash.example.com",
            "https://dash.example.com/app",
            "https://dash.example.com/?a=1",
            "https://user@dash.example.com",
            "ftp://dash.example.com",
            "https://*.example.com",
        ] {
            assert!(AllowedOrigins::parse(bad).is_err(), "{bad} was taken");
        }
    }

    #[test]
    fn the_own_origin_is_the_host_the_request_was_sent_to() {
        let none = AllowedOrigins::none();
        assert!(none.allows(b"http://127.0.0.1:8080", Some(b"127.0.0.1:8080")));
        assert!(none.allows(b"https://api.example.com", Some(b"api.example.com")));
        assert!(none.allows(b"https://api.example.com", Some(b"API.example.com:443")));
        assert!(!none.allows(b"https://evil.test", Some(b"api.example.com")));
        assert!(!none.allows(b"http://127.0.0.1:8081", Some(b"127.0.0.1:8080")));
        assert!(!none.allows(b"http://127.0.0.1:8080", None));
        assert!(!none.allows(b"null", Some(b"null")));
    }
}
