//! ID matching (`GET /{app-scoped-user-id}/ids_for_pages`): the PSIDs a person has on the pages
//! of the app's business, asked with the app's access token (`{app-id}|{app-secret}`) and its
//! `appsecret_proof`.
//! <https://developers.facebook.com/docs/messenger-platform/psid-to-asid/>
//! <https://developers.facebook.com/docs/graph-api/reference/user/ids_for_pages/>
//! <https://developers.facebook.com/docs/graph-api/securing-requests/> (appsecret_proof)

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use refhub_domain::catalogue::GatewayError;
use refhub_domain::privacy::{PageScopedId, PageScopedIds};
use reqwest::Method;
use serde::Deserialize;
use sha2::Sha256;

use super::GraphApiClient;

/// Pages of answers followed at most: a person has a PSID on each page of the business they
/// talked to, rarely more than a few.
const MAX_PAGES: usize = 20;

#[derive(Deserialize)]
struct IdsPage {
    #[serde(default)]
    data: Vec<IdForPage>,
    paging: Option<Paging>,
}

#[derive(Deserialize)]
struct IdForPage {
    id: String,
    page: Option<PageRef>,
}

#[derive(Deserialize)]
struct PageRef {
    id: String,
}

#[derive(Deserialize)]
struct Paging {
    cursors: Option<Cursors>,
    next: Option<String>,
}

#[derive(Deserialize)]
struct Cursors {
    after: Option<String>,
}

/// `hex(HMAC-SHA256(app_secret, access_token))`.
fn appsecret_proof(app_secret: &str, access_token: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).expect("any key length");
    mac.update(access_token.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[async_trait]
impl PageScopedIds for GraphApiClient {
    async fn ids_for_pages(
        &self,
        app_id: &str,
        app_secret: &str,
        app_scoped_user_id: &str,
    ) -> Result<Vec<PageScopedId>, GatewayError> {
        let token = format!("{app_id}|{app_secret}");
        let proof = appsecret_proof(app_secret, &token);
        let path = format!("{app_scoped_user_id}/ids_for_pages");
        let mut found = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut query = vec![
                ("access_token", token.as_str()),
                ("appsecret_proof", &proof),
            ];
            if let Some(cursor) = after.as_deref() {
                query.push(("after", cursor));
            }
            let answer: IdsPage = self.call(Method::GET, &path, &query, None).await?;
            found.extend(answer.data.into_iter().filter_map(|id| {
                id.page.map(|page| PageScopedId {
                    facebook_page_id: page.id,
                    psid: id.id,
                })
            }));
            // Meta gives `next` only when there is more.
            match answer.paging {
                Some(Paging {
                    next: Some(_),
                    cursors:
                        Some(Cursors {
                            after: Some(cursor),
                        }),
                }) => after = Some(cursor),
                _ => break,
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_proof_is_the_hmac_of_the_token() {
        // RFC 4231 test case 2.
        assert_eq!(
            appsecret_proof("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
