//! The Graph API calls of page set-up: the app's webhook subscription on a page and the page's
//! Messenger Profile.
//!
//! - `POST|DELETE /{page-id}/subscribed_apps` (`subscribed_fields` comma-separated):
//!   <https://developers.facebook.com/docs/graph-api/reference/page/subscribed_apps/>
//! - `GET /me/messenger_profile?fields=…`, `POST /me/messenger_profile` (JSON body of
//!   properties), `DELETE /me/messenger_profile` (`{"fields": […]}`):
//!   <https://developers.facebook.com/docs/messenger-platform/reference/messenger-profile-api/>

use async_trait::async_trait;
use refhub_domain::catalogue::{GatewayError, PageSetupGateway};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::GraphApiClient;

#[derive(Deserialize)]
struct ProfileAnswer {
    #[serde(default)]
    data: Vec<Map<String, Value>>,
}

#[async_trait]
impl PageSetupGateway for GraphApiClient {
    async fn subscribe(
        &self,
        facebook_page_id: &str,
        page_access_token: &str,
        fields: &[&str],
    ) -> Result<(), GatewayError> {
        let fields = fields.join(",");
        let _: Value = self
            .call(
                Method::POST,
                &format!("{facebook_page_id}/subscribed_apps"),
                &[
                    ("subscribed_fields", fields.as_str()),
                    ("access_token", page_access_token),
                ],
                None,
            )
            .await?;
        Ok(())
    }

    async fn unsubscribe(
        &self,
        facebook_page_id: &str,
        page_access_token: &str,
    ) -> Result<(), GatewayError> {
        let _: Value = self
            .call(
                Method::DELETE,
                &format!("{facebook_page_id}/subscribed_apps"),
                &[("access_token", page_access_token)],
                None,
            )
            .await?;
        Ok(())
    }

    async fn read_profile(
        &self,
        page_access_token: &str,
        fields: &[&str],
    ) -> Result<Map<String, Value>, GatewayError> {
        let fields = fields.join(",");
        let answer: ProfileAnswer = self
            .call(
                Method::GET,
                "me/messenger_profile",
                &[
                    ("fields", fields.as_str()),
                    ("access_token", page_access_token),
                ],
                None,
            )
            .await?;
        // Meta answers one object holding the properties that are set (or none at all).
        let mut properties = Map::new();
        for object in answer.data {
            properties.extend(object);
        }
        Ok(properties)
    }

    async fn set_profile(
        &self,
        page_access_token: &str,
        properties: &Map<String, Value>,
    ) -> Result<(), GatewayError> {
        let _: Value = self
            .call(
                Method::POST,
                "me/messenger_profile",
                &[("access_token", page_access_token)],
                Some(&Value::Object(properties.clone())),
            )
            .await?;
        Ok(())
    }

    async fn delete_profile(
        &self,
        page_access_token: &str,
        fields: &[&str],
    ) -> Result<(), GatewayError> {
        let _: Value = self
            .call(
                Method::DELETE,
                "me/messenger_profile",
                &[("access_token", page_access_token)],
                Some(&json!({ "fields": fields })),
            )
            .await?;
        Ok(())
    }
}
