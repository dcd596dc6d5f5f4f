//! `/webhooks/messenger/{key}`: Meta's subscription handshake (GET) and event deliveries
//! (POST). The body is read raw (capped at 1 MiB by the app's payload limit, which answers
//! 413), its signature checked before anything is parsed, and the answer is 200 only once every
//! event is committed. A storage failure answers 5xx so that Meta retries.

use std::collections::HashMap;

use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, web};
use refhub_domain::DomainError;
use refhub_domain::catalogue::WebhookKey;
use refhub_domain::ids::TenantId;
use refhub_domain::webhooks::{DeliveryThrottle, WebhookIngestService};

use super::client_address::{client_ip, rate_limit_key};
use super::error::HttpError;
use super::throttles::RequestThrottles;
use crate::security::retry_after_secs;
use crate::workers::Deliveries;

const SIGNATURE_HEADER: &str = "X-Hub-Signature-256";

/// A tenant's webhook allowance, taken once its real key was presented.
pub(super) struct TenantAllowance<'a>(pub(super) &'a RequestThrottles);

impl DeliveryThrottle for TenantAllowance<'_> {
    fn check(&self, tenant_id: TenantId) -> Result<(), u64> {
        self.0.webhooks.check(&tenant_id).map_err(retry_after_secs)
    }
}

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
    let signature = request
        .headers()
        .get(SIGNATURE_HEADER)
        .and_then(|value| value.to_str().ok());
    let receipt = match ingest
        .ingest(&key, signature, &body, &TenantAllowance(&throttles))
        .await
    {
        Ok(receipt) => receipt,
        // A key that is no tenant's (made up, or a real tenant's id with a forged secret part)
        // counts against the caller's address, not against the tenant it names.
        Err(err @ DomainError::NotFound { .. }) => {
            if let Some(client) = client_ip(&request)
                && let Err(wait) = throttles.webhook_misses.check(&rate_limit_key(client))
            {
                tracing::warn!(%client, "deliveries to unknown webhook keys over the limit");
                return Err(DomainError::RateLimited {
                    retry_after_secs: retry_after_secs(wait),
                }
                .into());
            }
            return Err(err.into());
        }
        Err(err) => {
            if let DomainError::RateLimited { .. } = err
                && let Some(tenant_id) = WebhookKey::tenant_of(&key)
            {
                tracing::warn!(%tenant_id, "webhook deliveries over the key's rate limit");
            }
            return Err(err.into());
        }
    };
    if receipt.events > 0 {
        deliveries.events_stored();
    }
    Ok(HttpResponse::Ok()
        .content_type(ContentType::plaintext())
        .body("EVENT_RECEIVED"))
}
