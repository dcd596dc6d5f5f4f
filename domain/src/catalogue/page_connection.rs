//! What connecting a page asks of Meta: Facebook Login (a person's token exchanged for a
//! long-lived one, and the pages they manage with their page tokens) and the check of a pasted
//! page token. The port is implemented over the Graph API in the api crate.
//!
//! - Long-lived user token: <https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived/>
//! - Pages a person manages: <https://developers.facebook.com/docs/graph-api/reference/user/accounts/>
//! - Page tokens got with a long-lived user token have no expiration date:
//!   <https://developers.facebook.com/docs/pages/access-tokens/>

use std::fmt;

use async_trait::async_trait;

use crate::catalogue::ports::GatewayError;

/// Meta's task that lets a person (and so their page token) send and receive the page's
/// messages (<https://developers.facebook.com/docs/pages/overview/permissions-features>).
pub const MESSAGING_TASK: &str = "MESSAGING";

/// A workspace's Meta app credentials, in the clear for one call (the token exchange and
/// `debug_token` need them). Its `Debug` leaves the secret out.
#[derive(Clone)]
pub struct AppCredentials {
    /// Meta's app id.
    pub app_id: String,
    /// The app secret.
    pub app_secret: String,
}

impl fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppCredentials")
            .field("app_id", &self.app_id)
            .finish_non_exhaustive()
    }
}

/// A person's long-lived user token. Held in memory for one request, never stored or logged.
pub struct UserToken(pub String);

impl fmt::Debug for UserToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UserToken(..)")
    }
}

/// A page a person manages, as `/me/accounts` lists it.
#[derive(Clone)]
pub struct ManagedPage {
    /// Facebook's page id.
    pub facebook_page_id: String,
    /// The page's name.
    pub name: String,
    /// The page's m.me username, if it has one.
    pub username: Option<String>,
    /// The page's profile picture (a CDN URL that expires).
    pub picture_url: Option<String>,
    /// The person's tasks on the page (`MANAGE`, `CREATE_CONTENT`, `MODERATE`, `MESSAGING`, ...).
    pub tasks: Vec<String>,
    /// The page token Meta handed with the listing (does not expire when the user token is
    /// long-lived). Never logged.
    pub access_token: String,
}

impl ManagedPage {
    /// Whether the person may handle the page's messages: without it the page token cannot
    /// message anyone.
    pub fn can_message(&self) -> bool {
        self.tasks.iter().any(|t| t == MESSAGING_TASK)
    }
}

impl fmt::Debug for ManagedPage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManagedPage")
            .field("facebook_page_id", &self.facebook_page_id)
            .field("name", &self.name)
            .field("username", &self.username)
            .field("tasks", &self.tasks)
            .finish_non_exhaustive()
    }
}

/// What a page token says about itself (`GET /me?fields=id,name,username` with it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenOwner {
    /// The id of what the token acts as: the page's id for a page token (a person's for a
    /// user token).
    pub id: String,
    /// Its name.
    pub name: String,
    /// The page's username, if any.
    pub username: Option<String>,
}

/// Meta's Graph API, as connecting a page needs it.
#[async_trait]
pub trait PageConnectionGateway: Send + Sync {
    /// Exchanges a short-lived user token (from the Facebook Login dialog) for a long-lived one
    /// with the workspace's app credentials.
    async fn long_lived_user_token(
        &self,
        app: &AppCredentials,
        short_lived: &str,
    ) -> Result<UserToken, GatewayError>;

    /// The pages the person manages, with their page tokens (every page of results, up to a
    /// bound).
    async fn managed_pages(&self, user: &UserToken) -> Result<Vec<ManagedPage>, GatewayError>;

    /// Who a pasted page token acts as, asked of Meta with that token.
    async fn token_owner(&self, page_token: &str) -> Result<TokenOwner, GatewayError>;
}
