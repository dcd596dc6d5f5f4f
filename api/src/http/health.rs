//! Liveness and readiness probes.

use actix_web::{HttpResponse, route, web};
use refhub_persistence::Store;
use serde_json::json;

/// Liveness: the process answers. Touches nothing else, so a database outage does not get the
/// process restarted for nothing. Probes may use `GET` or `HEAD` (some load balancers send
/// `HEAD`); actix answers a `HEAD` with the headers alone.
#[route("/healthz", method = "GET", method = "HEAD")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Readiness: the database answers, so traffic may be sent here (`GET` or `HEAD`).
#[route("/readyz", method = "GET", method = "HEAD")]
pub async fn readyz(store: web::Data<Store>) -> HttpResponse {
    match store.ping().await {
        Ok(()) => HttpResponse::Ok().json(json!({ "status": "ready" })),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed: database unreachable");
            HttpResponse::ServiceUnavailable().json(json!({ "status": "database unavailable" }))
        }
    }
}
