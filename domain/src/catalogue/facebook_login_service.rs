//! Connecting pages with Facebook Login: the dashboard runs Meta's Login dialog with the
//! workspace's app, hands refhub the short-lived user token, and refhub (server-side, since
//! the exchange needs the app secret) lists the pages the person manages and connects the
//! chosen ones with their page tokens. The user token is used for these calls only: never
//! stored, never logged.

use std::collections::HashSet;
use std::sync::Arc;

use crate::catalogue::page::validate_facebook_page_id;
use crate::catalogue::page_connection::{
    AppCredentials, ManagedPage, PageConnectionGateway, UserToken,
};
use crate::catalogue::page_service::{
    IfConnected, PageConnection, PageService, VerifiedPage, meta_refusal,
};
use crate::catalogue::ports::{GatewayError, MessengerAppRepository};
use crate::catalogue::secrets::SecretCipher;
use crate::error::{DomainError, DomainResult};
use crate::identity::{Principal, Role};
use crate::ids::TenantId;
use crate::text;

/// The most pages one `connectFacebookPages` call connects.
pub const MAX_PAGES_PER_CONNECTION: usize = 50;

/// The input field holding the user token.
const USER_TOKEN_FIELD: &str = "userAccessToken";

/// A page the person may connect, as the dashboard lists it.
#[derive(Debug, Clone)]
pub struct FacebookPageChoice {
    /// The page as Meta lists it (its token stays in the domain; the API never shows it).
    pub page: ManagedPage,
    /// This workspace's page for it, when the workspace already has it (connecting it again
    /// reconnects it).
    pub connected: Option<crate::catalogue::Page>,
}

/// The Facebook Login use cases; editors run them, as they connect pages.
pub struct FacebookLoginService {
    apps: Arc<dyn MessengerAppRepository>,
    cipher: Arc<dyn SecretCipher>,
    meta: Arc<dyn PageConnectionGateway>,
    pages: Arc<PageService>,
}

impl FacebookLoginService {
    /// Builds the service.
    pub fn new(
        apps: Arc<dyn MessengerAppRepository>,
        cipher: Arc<dyn SecretCipher>,
        meta: Arc<dyn PageConnectionGateway>,
        pages: Arc<PageService>,
    ) -> Self {
        Self {
            apps,
            cipher,
            meta,
            pages,
        }
    }

    /// The pages the person behind `user_access_token` manages, each with whether this
    /// workspace already has it.
    pub async fn pages(
        &self,
        principal: &Principal,
        user_access_token: &str,
    ) -> DomainResult<Vec<FacebookPageChoice>> {
        let access = principal.require_role(Role::Editor)?;
        let managed = self
            .managed_pages(access.tenant_id, user_access_token)
            .await?;
        let mut choices = Vec::with_capacity(managed.len());
        for page in managed {
            let connected = self
                .pages
                .find_by_facebook_id(access.tenant_id, &page.facebook_page_id)
                .await?;
            choices.push(FacebookPageChoice { page, connected });
        }
        Ok(choices)
    }

    /// Connects the chosen pages with the page tokens Meta hands for this login (they do not
    /// expire: the user token is exchanged for a long-lived one first). A page the workspace
    /// already has is reconnected: its token, name and username are replaced. Every chosen
    /// page must be one the person manages with the `MESSAGING` task, else nothing is
    /// connected (`VALIDATION` on `facebookPageIds[i]`).
    pub async fn connect(
        &self,
        principal: &Principal,
        user_access_token: &str,
        facebook_page_ids: &[String],
    ) -> DomainResult<Vec<PageConnection>> {
        let access = principal.require_role(Role::Editor)?;
        let chosen = chosen_ids(facebook_page_ids)?;
        let managed = self
            .managed_pages(access.tenant_id, user_access_token)
            .await?;
        let mut verified = Vec::with_capacity(chosen.len());
        for (index, facebook_page_id) in &chosen {
            let field = format!("facebookPageIds[{index}]");
            let Some(page) = managed
                .iter()
                .find(|p| &p.facebook_page_id == facebook_page_id)
            else {
                return Err(DomainError::validation(
                    field,
                    format!(
                        "Meta does not list page {facebook_page_id} among the pages this person manages (or the Login dialog was not granted it)"
                    ),
                ));
            };
            if !page.can_message() {
                return Err(DomainError::validation(
                    field,
                    format!(
                        "this person lacks the MESSAGING task on page {} ({facebook_page_id}), so its token cannot send messages",
                        page.name
                    ),
                ));
            }
            verified.push(VerifiedPage {
                facebook_page_id: page.facebook_page_id.clone(),
                name: page.name.clone(),
                username: page.username.clone(),
                access_token: page.access_token.clone(),
            });
        }
        let mut connections = Vec::with_capacity(verified.len());
        for page in verified {
            connections.push(
                self.pages
                    .connect_verified(access.tenant_id, page, IfConnected::Reconnect)
                    .await?,
            );
        }
        Ok(connections)
    }

    /// Exchanges the user token with the workspace's app and lists the person's pages.
    async fn managed_pages(
        &self,
        tenant_id: TenantId,
        user_access_token: &str,
    ) -> DomainResult<Vec<ManagedPage>> {
        let short_lived = text::credential(user_access_token, USER_TOKEN_FIELD, 10, 2048)?;
        let app = self.app_credentials(tenant_id).await?;
        let long_lived: UserToken = self
            .meta
            .long_lived_user_token(&app, &short_lived)
            .await
            .map_err(exchange_refusal)?;
        self.meta
            .managed_pages(&long_lived)
            .await
            .map_err(|err| meta_refusal(err, USER_TOKEN_FIELD))
    }

    /// The workspace's app id and secret: Facebook Login runs with the workspace's own app.
    async fn app_credentials(&self, tenant_id: TenantId) -> DomainResult<AppCredentials> {
        let Some(app) = self.apps.find(tenant_id).await? else {
            return Err(DomainError::validation(
                USER_TOKEN_FIELD,
                "this workspace has no Messenger app connected: connect it first (connectMessengerApp); Facebook Login runs with its app id and secret",
            ));
        };
        app.credentials(self.cipher.as_ref())
    }
}

/// The chosen ids with their place in the input: 1 to [`MAX_PAGES_PER_CONNECTION`], each
/// numeric, each once.
fn chosen_ids(raw: &[String]) -> DomainResult<Vec<(usize, String)>> {
    if raw.is_empty() || raw.len() > MAX_PAGES_PER_CONNECTION {
        return Err(DomainError::validation(
            "facebookPageIds",
            format!("choose 1 to {MAX_PAGES_PER_CONNECTION} pages"),
        ));
    }
    let mut seen = HashSet::new();
    let mut ids = Vec::with_capacity(raw.len());
    for (index, id) in raw.iter().enumerate() {
        let id = validate_facebook_page_id(id).map_err(|_| {
            DomainError::validation(
                format!("facebookPageIds[{index}]"),
                "must be a numeric page id",
            )
        })?;
        if seen.insert(id.clone()) {
            ids.push((index, id));
        }
    }
    Ok(ids)
}

/// A refused exchange: a dead or foreign user token, or app credentials Meta does not accept
/// (then the message says so; the fix is the app's secret, not the login).
fn exchange_refusal(mut err: GatewayError) -> DomainError {
    // Meta answers a wrong client secret with code 1 ("Error validating client secret").
    if err.code == Some(1) && !err.transient {
        err.message = format!(
            "{}; check the app secret of the workspace's Messenger app (connectMessengerApp)",
            err.message
        );
    }
    meta_refusal(err, USER_TOKEN_FIELD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chosen_ids_are_numeric_and_counted_once() {
        let ids = chosen_ids(&["1".into(), " 2 ".into(), "1".into()]).unwrap();
        assert_eq!(ids, vec![(0, "1".to_owned()), (1, "2".to_owned())]);
        let err = chosen_ids(&["1".into(), "x".into()]).unwrap_err();
        assert_eq!(err.field(), Some("facebookPageIds[1]"));
        assert_eq!(
            chosen_ids(&[]).unwrap_err().field(),
            Some("facebookPageIds")
        );
    }
}
