//! The HTTP core every Graph API call goes through: one connection pool, timeouts, and Meta's
//! error envelope read into a [`GatewayError`] once.

use std::time::Duration;

use refhub_domain::catalogue::GatewayError;
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Meta answers within seconds or not at all; a stuck call must not hold a worker.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Talks to the Graph API with one shared connection pool.
#[derive(Clone)]
pub struct GraphApiClient {
    http: reqwest::Client,
    base_url: String,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: GraphError,
}

#[derive(Deserialize)]
struct GraphError {
    message: Option<String>,
    code: Option<i64>,
    error_subcode: Option<i64>,
}

/// Graph API error codes that mean "slow down", not "never".
const RATE_LIMIT_CODES: [i64; 5] = [4, 17, 32, 613, 80006];

impl GraphApiClient {
    /// A client for `base_url` (e.g. `https://graph.facebook.com/v26.0`).
    pub fn new(base_url: &str) -> anyhow::Result<Self> {
        // reqwest is built without a bundled crypto provider; ring is already in the tree.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("refhub/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
        })
    }

    /// Calls `{base}/{path}` with `query` (the access token among it) and an optional JSON
    /// body, and reads a successful answer as `T`. Every failure, Meta's or the network's,
    /// comes back classified; no message ever carries the URL (it holds the token).
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<T, GatewayError> {
        let url = format!("{}/{}", self.base_url, path.trim_start_matches('/'));
        let mut request = self.http.request(method, url).query(query);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|err| {
            GatewayError::unreachable(format!("Graph API unreachable: {}", err.without_url()))
        })?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|err| {
            GatewayError::unreachable(format!("Graph API answer cut short: {}", err.without_url()))
        })?;
        if !status.is_success() {
            return Err(classify_failure(status, &bytes));
        }
        serde_json::from_slice(&bytes).map_err(|_| GatewayError {
            transient: false,
            code: None,
            subcode: None,
            message: "Graph API answered 2xx with an unreadable body".to_owned(),
        })
    }
}

/// Reads Meta's error envelope (<https://developers.facebook.com/docs/graph-api/guides/error-handling/>).
pub(crate) fn classify_failure(status: StatusCode, body: &[u8]) -> GatewayError {
    let graph_error = serde_json::from_slice::<ErrorEnvelope>(body)
        .ok()
        .map(|e| e.error);
    let code = graph_error.as_ref().and_then(|e| e.code);
    let subcode = graph_error.as_ref().and_then(|e| e.error_subcode);
    let rate_limited = status == StatusCode::TOO_MANY_REQUESTS
        || code.is_some_and(|c| RATE_LIMIT_CODES.contains(&c));
    let transient = rate_limited || status.is_server_error() || code == Some(2) || code == Some(1);
    let detail = graph_error
        .as_ref()
        .and_then(|e| e.message.clone())
        .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
    let subcode_text = subcode
        .map(|s| format!(", subcode {s}"))
        .unwrap_or_default();
    GatewayError {
        transient,
        code,
        subcode,
        message: match code {
            Some(code) => format!("Meta error {code}{subcode_text}: {detail}"),
            None => format!("Graph API error: {detail}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_classified() {
        let rate = classify_failure(
            StatusCode::BAD_REQUEST,
            br#"{"error":{"message":"Calls to this api have exceeded the rate limit.","code":613}}"#,
        );
        assert!(rate.transient);
        assert_eq!(rate.code, Some(613));
        let permanent = classify_failure(
            StatusCode::BAD_REQUEST,
            br#"{"error":{"message":"(#100) No matching user found","code":100,"error_subcode":2018001}}"#,
        );
        assert!(!permanent.transient);
        assert_eq!(permanent.subcode, Some(2018001));
        assert!(permanent.message.contains("subcode 2018001"));
        assert!(classify_failure(StatusCode::BAD_GATEWAY, b"<html>").transient);
        let dead = classify_failure(
            StatusCode::BAD_REQUEST,
            br#"{"error":{"message":"Error validating access token","type":"OAuthException","code":190,"error_subcode":460}}"#,
        );
        assert!(dead.token_invalid() && !dead.transient);
    }
}
