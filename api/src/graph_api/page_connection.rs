//! Connecting pages: Facebook Login's token exchange, the pages a person manages, and who a
//! pasted token acts as.
//!
//! - `GET /oauth/access_token?grant_type=fb_exchange_token&client_id&client_secret&fb_exchange_token`
//!   <https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived/>
//! - `GET /me/accounts?fields=id,name,username,access_token,tasks,picture&limit&after`
//!   <https://developers.facebook.com/docs/graph-api/reference/user/accounts/>, paged by cursor
//!   <https://developers.facebook.com/docs/graph-api/results> (more only while `paging.next` is
//!   there)
//! - `GET /me?fields=id,name,username` with a page token: `/me` is whoever the token acts for
//!   <https://developers.facebook.com/docs/graph-api/overview/>

use async_trait::async_trait;
use refhub_domain::catalogue::{
    AppCredentials, GatewayError, ManagedPage, PageConnectionGateway, TokenOwner, UserToken,
};
use reqwest::Method;
use serde::Deserialize;

use super::GraphApiClient;

/// Pages asked per `/me/accounts` call.
const ACCOUNTS_PER_CALL: &str = "100";
/// `/me/accounts` calls followed at most (so at most 1,000 pages listed): a bound on a
/// listing Meta could page forever.
const MAX_ACCOUNT_CALLS: usize = 10;
const ACCOUNT_FIELDS: &str = "id,name,username,access_token,tasks,picture{url}";

#[derive(Deserialize)]
struct LongLived {
    access_token: String,
}

#[derive(Deserialize)]
struct Accounts {
    #[serde(default)]
    data: Vec<Account>,
    paging: Option<Paging>,
}

#[derive(Deserialize)]
struct Account {
    id: String,
    #[serde(default)]
    name: String,
    username: Option<String>,
    access_token: Option<String>,
    #[serde(default)]
    tasks: Vec<String>,
    picture: Option<Picture>,
}

#[derive(Deserialize)]
struct Picture {
    data: Option<PictureData>,
}

#[derive(Deserialize)]
struct PictureData {
    url: Option<String>,
}

#[derive(Deserialize)]
struct Paging {
    next: Option<String>,
    cursors: Option<Cursors>,
}

#[derive(Deserialize)]
struct Cursors {
    after: Option<String>,
}

#[derive(Deserialize)]
struct Node {
    id: String,
    #[serde(default)]
    name: String,
    username: Option<String>,
}

#[async_trait]
impl PageConnectionGateway for GraphApiClient {
    async fn long_lived_user_token(
        &self,
        app: &AppCredentials,
        short_lived: &str,
    ) -> Result<UserToken, GatewayError> {
        let answer: LongLived = self
            .call(
                Method::GET,
                "oauth/access_token",
                &[
                    ("grant_type", "fb_exchange_token"),
                    ("client_id", &app.app_id),
                    ("client_secret", &app.app_secret),
                    ("fb_exchange_token", short_lived),
                ],
                None,
            )
            .await
            .map_err(|mut err| {
                // Code 1 is "unknown, retry" elsewhere; here Meta uses it for a client secret
                // it does not accept, which no retry fixes.
                if err.code == Some(1) {
                    err.transient = false;
                }
                err
            })?;
        Ok(UserToken(answer.access_token))
    }

    async fn managed_pages(&self, user: &UserToken) -> Result<Vec<ManagedPage>, GatewayError> {
        let mut pages = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_ACCOUNT_CALLS {
            let mut query = vec![
                ("fields", ACCOUNT_FIELDS),
                ("limit", ACCOUNTS_PER_CALL),
                ("access_token", user.0.as_str()),
            ];
            if let Some(cursor) = after.as_deref() {
                query.push(("after", cursor));
            }
            let answer: Accounts = self.call(Method::GET, "me/accounts", &query, None).await?;
            pages.extend(answer.data.into_iter().filter_map(managed_page));
            // Meta: the absence of `next` is the end of the list, not a short page.
            after = answer
                .paging
                .filter(|p| p.next.is_some())
                .and_then(|p| p.cursors)
                .and_then(|c| c.after);
            if after.is_none() {
                break;
            }
        }
        Ok(pages)
    }

    async fn token_owner(&self, page_token: &str) -> Result<TokenOwner, GatewayError> {
        let node: Node = self
            .call(
                Method::GET,
                "me",
                &[("fields", "id,name,username"), ("access_token", page_token)],
                None,
            )
            .await?;
        Ok(TokenOwner {
            id: node.id,
            name: node.name,
            username: node.username,
        })
    }
}

/// A listed page, without those Meta gave no token for (nothing could be done with them).
fn managed_page(account: Account) -> Option<ManagedPage> {
    Some(ManagedPage {
        access_token: account.access_token?,
        facebook_page_id: account.id,
        name: account.name,
        username: account.username,
        picture_url: account.picture.and_then(|p| p.data).and_then(|d| d.url),
        tasks: account.tasks,
    })
}
