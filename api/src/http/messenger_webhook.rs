//! `/webhooks/messenger/{key}`: Meta's subscription handshake (GET) and event deliveries
//! (POST). The body is read raw (capped at 1 MiB by the app's payload limit, which answers
//! 413), its signature checked before anything is parsed, and the answer is 200 only once every
//! event is committed. A storage failure answers 5xx so that Meta retries.

use std::collections::HashMap;

use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, web};
use refhub_domain::DomainError;
use refhub_domain::catalogue::WebhookKey;
use refhub_domain::webhooks::WebhookIngestService;

use super::error::HttpError;
use super::throttles::RequestThrottles;
use crate::security::retry_after_secs;
use crate::workers::Deliveries;

const SIGNATURE_HEADER: &str = "X-Hub-Signature-256";

/// The subscription handshake.
pub async fn verify_subscription(
    key: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
    ingest: web::Data<WebhookIngestService>,
) -> Result<HttpResponse, HttpError> {
    let challenge = ingest
        .handshake(
            &key,
            query.get("hub.mode").map(String::as_str),
            query.get("hub.verify_token").map(String::as_str),
            query.get("hub.challenge").map(String::as_str),
        )
        .await?;
    Ok(HttpResponse::Ok()
        .content_type(ContentType::plaintext())
        .body(challenge))
}

/// An event delivery.
pub async fn receive(
    request: HttpRequest,
    key: web::Path<String>,
    body: web::Bytes,
    ingest: web::Data<WebhookIngestService>,
    deliveries: web::Data<Deliveries>,
    throttles: web::Data<RequestThrottles>,
) -> Result<HttpResponse, HttpError> {
    // An unparseable key is answered 404 by ingest; a tenant's key has its own allowance.
    if let Some(tenant_id) = WebhookKey::tenant_of(&key)
        && let Err(wait) = throttles.webhooks.check(&tenant_id)
    {
        tracing::warn!(%tenant_id, "webhook deliveries over the key's rate limit");
        return Err(DomainError::RateLimited {
            retry_after_secs: retry_after_secs(wait),
        }
        .into());
    }
    let signature = request
        .headers()
        .get(SIGNATURE_HEADER)
        .and_then(|value| value.to_str().ok());
    let receipt = ingest.ingest(&key, signature, &body).await?;
    if receipt.events > 0 {
        deliveries.events_stored();
    }
    Ok(HttpResponse::Ok()
        .content_type(ContentType::plaintext())
        .body("EVENT_RECEIVED"))
}
