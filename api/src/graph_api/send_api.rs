//! The Send API (`POST /{page-id}/messages`): flow messages and topic registrations.
//! <https://developers.facebook.com/docs/messenger-platform/reference/send-api/>

use async_trait::async_trait;
use refhub_domain::catalogue::{
    GatewayError, MessengerGateway, SentMessage, TopicRegistrationRequest,
};
use refhub_domain::flows::{MessageSender, SendRequest};
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use super::GraphApiClient;

#[derive(Deserialize)]
struct SendResponse {
    recipient_id: Option<String>,
    message_id: Option<String>,
}

impl GraphApiClient {
    async fn send_message(
        &self,
        facebook_page_id: &str,
        access_token: &str,
        body: &serde_json::Value,
    ) -> Result<SentMessage, GatewayError> {
        let sent: SendResponse = self
            .call(
                Method::POST,
                &format!("{facebook_page_id}/messages"),
                &[("access_token", access_token)],
                Some(body),
            )
            .await?;
        Ok(SentMessage {
            recipient_id: sent.recipient_id.unwrap_or_default(),
            message_id: sent.message_id.unwrap_or_default(),
        })
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
        self.send_message(&request.facebook_page_id, &request.page_access_token, &body)
            .await
    }
}

#[async_trait]
impl MessageSender for GraphApiClient {
    async fn send(&self, request: &SendRequest) -> Result<SentMessage, GatewayError> {
        self.send_message(
            &request.facebook_page_id,
            &request.page_access_token,
            &request.body,
        )
        .await
    }
}
