//! The User Profile API: `GET /{psid}?fields=first_name,last_name,profile_pic,locale,timezone`
//! with the page token <https://developers.facebook.com/docs/messenger-platform/identity/user-profile/>.
//!
//! `first_name`, `last_name` and `profile_pic` come with the app's profile access; `locale` and
//! `timezone` need the `pages_user_locale` and `pages_user_timezone` permissions besides, and
//! asking for a field the app may not read fails the whole call with `(#100) Insufficient
//! permission to access user profile.` (code 100, subcode 2018247). So the extended fields
//! are asked for first and, refused so, the call is made again with the basic ones. A person
//! whose Messenger account was made with a phone number has no profile (2018218).

use async_trait::async_trait;
use refhub_domain::audience::{FetchedProfile, ProfileGateway};
use refhub_domain::catalogue::GatewayError;
use reqwest::Method;
use serde::Deserialize;

use super::GraphApiClient;

const ALL_FIELDS: &str = "first_name,last_name,profile_pic,locale,timezone";
const BASIC_FIELDS: &str = "first_name,last_name,profile_pic";

/// Meta's subcode for a field the app has no permission to read.
const INSUFFICIENT_PERMISSION_SUBCODE: i64 = 2_018_247;

#[derive(Deserialize)]
struct ProfileAnswer {
    first_name: Option<String>,
    last_name: Option<String>,
    profile_pic: Option<String>,
    locale: Option<String>,
    timezone: Option<f64>,
}

impl GraphApiClient {
    async fn user_profile(
        &self,
        page_access_token: &str,
        psid: &str,
        fields: &str,
    ) -> Result<FetchedProfile, GatewayError> {
        // A PSID is digits (checked when the webhook item was admitted): the path stays a path.
        let answer: ProfileAnswer = self
            .call(
                Method::GET,
                psid,
                &[("fields", fields), ("access_token", page_access_token)],
                None,
            )
            .await?;
        Ok(FetchedProfile {
            first_name: answer.first_name,
            last_name: answer.last_name,
            profile_pic_url: answer.profile_pic,
            locale: answer.locale,
            time_zone: answer.timezone,
        })
    }
}

#[async_trait]
impl ProfileGateway for GraphApiClient {
    async fn fetch_profile(
        &self,
        page_access_token: &str,
        psid: &str,
    ) -> Result<FetchedProfile, GatewayError> {
        if psid.is_empty() || !psid.bytes().all(|b| b.is_ascii_digit()) {
            return Err(GatewayError {
                transient: false,
                code: None,
                subcode: None,
                message: "not a PSID".to_owned(),
            });
        }
        match self.user_profile(page_access_token, psid, ALL_FIELDS).await {
            Err(error) if error.subcode == Some(INSUFFICIENT_PERMISSION_SUBCODE) => {
                self.user_profile(page_access_token, psid, BASIC_FIELDS)
                    .await
            }
            other => other,
        }
    }
}
