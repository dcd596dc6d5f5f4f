//! Meta's data-deletion and deauthorize callbacks on a workspace's own URLs, beside its webhook
//! (`/webhooks/messenger/{key}/data-deletion` and `…/deauthorize`), and the public status page
//! of a deletion request (`/data-deletion/{confirmation_code}`).
//!
//! Meta posts a form with one field, `signed_request`. These URLs are public: they count
//! against the same allowances as the webhook (the workspace's, once its real key is
//! presented; the caller's address for keys that are no workspace's), and the status page
//! against the signed-out allowance of the caller's address.
//! <https://developers.facebook.com/docs/development/create-an-app/app-dashboard/data-deletion-callback/>

use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, web};
use refhub_domain::DomainError;
use refhub_domain::privacy::{DataDeletionService, DeletionStatusView, SIGNED_REQUEST_FIELD};
use serde_json::json;

use super::client_address::{client_ip, rate_limit_key};
use super::error::HttpError;
use super::messenger_webhook::TenantAllowance;
use super::throttles::{Caller, RequestThrottles};
use crate::security::retry_after_secs;

/// The `signed_request` field of a form body (the first one, if several).
fn signed_request(body: &[u8]) -> Option<String> {
    url::form_urlencoded::parse(body)
        .find(|(name, _)| name == SIGNED_REQUEST_FIELD)
        .map(|(_, value)| value.into_owned())
}

/// A key that is no workspace's counts against the caller's address: `404` until the
/// allowance is used up, `429` after.
fn refused(request: &HttpRequest, throttles: &RequestThrottles, err: DomainError) -> HttpError {
    if let DomainError::NotFound { .. } = err
        && let Some(client) = client_ip(request)
        && let Err(wait) = throttles.webhook_misses.check(&rate_limit_key(client))
    {
        tracing::warn!(%client, "data-deletion callbacks to unknown keys over the limit");
        return DomainError::RateLimited {
            retry_after_secs: retry_after_secs(wait),
        }
        .into();
    }
    err.into()
}

/// The data-deletion request callback: answers `{url, confirmation_code}`.
pub async fn request_deletion(
    request: HttpRequest,
    key: web::Path<String>,
    body: web::Bytes,
    deletion: web::Data<DataDeletionService>,
    throttles: web::Data<RequestThrottles>,
) -> Result<HttpResponse, HttpError> {
    let signed = signed_request(&body);
    let receipt = deletion
        .request_deletion(&key, signed.as_deref(), &TenantAllowance(&throttles))
        .await
        .map_err(|err| refused(&request, &throttles, err))?;
    Ok(HttpResponse::Ok().json(json!({
        "url": receipt.url,
        "confirmation_code": receipt.confirmation_code,
    })))
}

/// The deauthorize callback: recorded; Meta wants a 200.
pub async fn deauthorize(
    request: HttpRequest,
    key: web::Path<String>,
    body: web::Bytes,
    deletion: web::Data<DataDeletionService>,
    throttles: web::Data<RequestThrottles>,
) -> Result<HttpResponse, HttpError> {
    let signed = signed_request(&body);
    deletion
        .deauthorize(&key, signed.as_deref(), &TenantAllowance(&throttles))
        .await
        .map_err(|err| refused(&request, &throttles, err))?;
    Ok(HttpResponse::Ok().json(json!({ "status": "recorded" })))
}

/// The status page: human-readable, and nothing in it names the person.
pub async fn status(
    request: HttpRequest,
    code: web::Path<String>,
    deletion: web::Data<DataDeletionService>,
    throttles: web::Data<RequestThrottles>,
) -> Result<HttpResponse, HttpError> {
    if let Some(client) = client_ip(&request)
        && let Err(wait) = throttles.graphql.check(&Caller::address(client))
    {
        return Err(DomainError::RateLimited {
            retry_after_secs: retry_after_secs(wait),
        }
        .into());
    }
    let page = match deletion.status(&code).await? {
        Some(view) => HttpResponse::Ok()
            .content_type(ContentType::html())
            .body(status_page(&code, &view)),
        None => HttpResponse::NotFound()
            .content_type(ContentType::html())
            .body(page(
                "Data deletion request",
                "<p>No data deletion request has this confirmation code.</p>",
            )),
    };
    Ok(page)
}

fn status_page(code: &str, view: &DeletionStatusView) -> String {
    let mut body = format!(
        "<p>Confirmation code: <code>{code}</code></p>\n<p><strong>Status: {}</strong></p>\n<p>{}</p>\n<p>Received: {}</p>\n",
        view.status.as_str().replace('_', " "),
        view.status.explanation(),
        view.requested_at.format("%Y-%m-%d %H:%M UTC"),
    );
    if let Some(finished) = view.finished_at {
        body.push_str(&format!(
            "<p>Finished: {}</p>\n",
            finished.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    page("Data deletion request", &body)
}

/// A whole page around `body`. Everything in it is ours: the code was checked to be letters
/// and digits before it was looked up.
fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <meta name=\"robots\" content=\"noindex\"></head>\n<body>\n<h1>{title}</h1>\n{body}</body></html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_is_read_from_the_form() {
        assert_eq!(
            signed_request(b"signed_request=abc.def%3D&other=1").as_deref(),
            Some("abc.def=")
        );
        assert_eq!(signed_request(b"other=1"), None);
    }
}
