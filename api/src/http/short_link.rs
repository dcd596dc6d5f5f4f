//! `GET /r/{code}` (and `HEAD`): a ref link's short URL. Answers the redirect to the m.me URL at once; the
//! click is counted off the request path (robots and prefetchers apart).

use actix_web::http::Method;
use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::{HttpRequest, HttpResponse, web};
use refhub_domain::DomainError;
use refhub_domain::analytics::{Requester, ShortLinkService};

use super::error::HttpError;

/// The first of the headers browsers and previewers use to say a fetch is not a visit.
fn purpose(request: &HttpRequest) -> Option<&str> {
    ["sec-purpose", "purpose", "x-purpose", "x-moz"]
        .iter()
        .find_map(|name| request.headers().get(*name)?.to_str().ok())
}

/// Redirects, or answers 404 for a code no link has. Answers `HEAD` alike (link checkers ask
/// with it), counting it as automated.
pub async fn follow(
    request: HttpRequest,
    code: web::Path<String>,
    links: web::Data<ShortLinkService>,
) -> Result<HttpResponse, HttpError> {
    let requester = Requester {
        user_agent: request
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok()),
        purpose: purpose(&request),
        headers_only: request.method() == Method::HEAD,
    };
    match links.follow(&code, &requester).await? {
        Some(url) => Ok(HttpResponse::Found()
            .insert_header((header::LOCATION, url))
            // Every click must reach us to be counted.
            .insert_header(CacheControl(vec![CacheDirective::NoStore]))
            .insert_header((header::REFERRER_POLICY, "no-referrer"))
            .finish()),
        None => Err(DomainError::not_found_in("short link", "code").into()),
    }
}
