//! Asking Meta whether a page token still works, for the periodic token check.
//!
//! - With the workspace's app: `GET /debug_token?input_token={page token}&access_token={app-id}|{app-secret}`,
//!   whose `data.is_valid` says, and `data.error` says why not
//!   <https://developers.facebook.com/docs/graph-api/reference/debug_token/>.
//! - Without an app, or when Meta refuses the app's own credentials (a wrong secret is the
//!   app's trouble, not the page's): a cheap read with the page token, `GET /me?fields=id`,
//!   which a dead token answers with error 190
//!   <https://developers.facebook.com/docs/graph-api/guides/error-handling/>.

use async_trait::async_trait;
use refhub_domain::catalogue::{
    AppCredentials, GatewayError, INVALID_TOKEN_CODE, TokenInspector, TokenVerdict,
};
use reqwest::Method;
use serde::Deserialize;

use super::GraphApiClient;

#[derive(Deserialize)]
struct DebugTokenAnswer {
    data: DebugTokenData,
}

#[derive(Deserialize)]
struct DebugTokenData {
    #[serde(default)]
    is_valid: bool,
    error: Option<DebugTokenError>,
}

#[derive(Deserialize)]
struct DebugTokenError {
    code: Option<i64>,
    subcode: Option<i64>,
    message: Option<String>,
}

#[derive(Deserialize)]
struct Node {
    #[allow(dead_code)]
    id: Option<String>,
}

impl GraphApiClient {
    async fn debug_token(
        &self,
        page_token: &str,
        app: &AppCredentials,
    ) -> Result<TokenVerdict, GatewayError> {
        let app_token = format!("{}|{}", app.app_id, app.app_secret);
        let answer: DebugTokenAnswer = self
            .call(
                Method::GET,
                "debug_token",
                &[("input_token", page_token), ("access_token", &app_token)],
                None,
            )
            .await?;
        if answer.data.is_valid {
            return Ok(TokenVerdict::Valid);
        }
        let error = answer.data.error;
        let code = error
            .as_ref()
            .and_then(|e| e.code)
            .unwrap_or(INVALID_TOKEN_CODE);
        let subcode = error.as_ref().and_then(|e| e.subcode);
        let detail = error
            .and_then(|e| e.message)
            .unwrap_or_else(|| "the token is not valid".to_owned());
        let subcode_text = subcode
            .map(|s| format!(", subcode {s}"))
            .unwrap_or_default();
        Ok(TokenVerdict::Dead(GatewayError {
            transient: false,
            // Whatever Meta's inner code, an invalid token is a dead one for refhub.
            code: Some(INVALID_TOKEN_CODE),
            subcode,
            message: format!("Meta error {code}{subcode_text}: {detail}"),
        }))
    }

    async fn read_me(&self, page_token: &str) -> Result<TokenVerdict, GatewayError> {
        match self
            .call::<Node>(
                Method::GET,
                "me",
                &[("fields", "id"), ("access_token", page_token)],
                None,
            )
            .await
        {
            Ok(_) => Ok(TokenVerdict::Valid),
            Err(error) if error.token_invalid() => Ok(TokenVerdict::Dead(error)),
            Err(error) => Err(error),
        }
    }
}

#[async_trait]
impl TokenInspector for GraphApiClient {
    async fn inspect(
        &self,
        page_token: &str,
        app: Option<&AppCredentials>,
    ) -> Result<TokenVerdict, GatewayError> {
        if let Some(app) = app {
            match self.debug_token(page_token, app).await {
                Ok(verdict) => return Ok(verdict),
                // Meta down: try again at the next check rather than guess.
                Err(error) if error.transient => return Err(error),
                // The app's credentials were refused: ask with the page token instead.
                Err(error) => {
                    tracing::info!(
                        "debug_token refused the app's credentials ({error}); checking the page token by a read"
                    );
                }
            }
        }
        self.read_me(page_token).await
    }
}
