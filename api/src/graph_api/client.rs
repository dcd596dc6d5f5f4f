use std::time::Duration;

use async_trait::async_trait;
use refhub_domain::catalogue::{
    GatewayError, MessengerGateway, SentMessage, TopicRegistrationRequest,
};
use refhub_domain::flows::{MessageSender, SendRequest};
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::json;

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
struct SendResponse {
    recipient_id: Option<String>,
    message_id: Option<String>,
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

    async fn send_message(
        &self,
        facebook_page_id: &str,
        access_token: &str,
        body: serde_json::Value,
    ) -> Result<SentMessage, GatewayError> {
        let url = format!("{}/{facebook_page_id}/messages", self.base_url);
        let response = self
            .http
            .post(url)
            .query(&[("access_token", access_token)])
            .json(&body)
            .send()
            .await
            .map_err(|err| {
                // The URL carries the token: never let it into the message.
                GatewayError {
                    transient: true,
                    code: None,
                    message: format!("Graph API unreachable: {}", err.without_url()),
                }
            })?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|err| GatewayError {
            transient: true,
            code: None,
            message: format!("Graph API answer cut short: {}", err.without_url()),
        })?;
        if status.is_success() {
            let sent: SendResponse = serde_json::from_slice(&bytes).map_err(|_| GatewayError {
                transient: false,
                code: None,
                message: "Graph API answered 2xx with an unreadable body".to_owned(),
            })?;
            return Ok(SentMessage {
                recipient_id: sent.recipient_id.unwrap_or_default(),
                message_id: sent.message_id.unwrap_or_default(),
            });
        }
        Err(classify_failure(status, &bytes))
    }
}

fn classify_failure(status: StatusCode, body: &[u8]) -> GatewayError {
    let graph_error = serde_json::from_slice::<ErrorEnvelope>(body)
        .ok()
        .map(|e| e.error);
    let code = graph_error.as_ref().and_then(|e| e.code);
    let rate_limited = status == StatusCode::TOO_MANY_REQUESTS
        || code.is_some_and(|c| RATE_LIMIT_CODES.contains(&c));
    let transient = rate_limited || status.is_server_error() || code == Some(2) || code == Some(1);
    let detail = graph_error
        .as_ref()
        .and_then(|e| e.message.clone())
        .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
    let subcode = graph_error
        .and_then(|e| e.error_subcode)
        .map(|s| format!(", subcode {s}"))
        .unwrap_or_default();
    GatewayError {
        transient,
        code,
        message: match code {
            Some(code) => format!("Meta error {code}{subcode}: {detail}"),
            None => format!("Graph API error: {detail}"),
        },
    }
}

#[async_trait]
impl MessengerGateway for GraphApiClient {
    async fn register_topic(
        &self,
        request: &TopicRegistrationRequest,
    ) -> Result<SentMessage, GatewayError> {
        // The notification_messages template, as Meta documents the topic registration.
        let body = json!({
            "recipient": { "id": request.psid },
            "message": {
                "attachment": {
                    "type": "template",
                    "payload": {
                        "template_type": "notification_messages",
                        "title": request.title,
                        "payload": format!("Registering a new topic: {}", request.title),
                        "notification_messages_frequency": request.cadence.as_graph_api(),
                    }
                }
            }
        });
        self.send_message(&request.facebook_page_id, &request.page_access_token, body)
            .await
    }
}

#[async_trait]
impl MessageSender for GraphApiClient {
    async fn send(&self, request: &SendRequest) -> Result<SentMessage, GatewayError> {
        self.send_message(
            &request.facebook_page_id,
            &request.page_access_token,
            request.body.clone(),
        )
        .await
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
        assert!(permanent.message.contains("subcode 2018001"));
        assert!(classify_failure(StatusCode::BAD_GATEWAY, b"<html>").transient);
    }
}
