//! Connecting and managing Facebook Pages.
//!
//! Every way of connecting a page (a pasted token, Facebook Login, a new token on `updatePage`)
//! ends in [`PageService::connect_verified`]: the one place a page is created or its token
//! replaced. What follows a connection (page set-up, token health) hooks on there.

use std::sync::Arc;

use crate::catalogue::page::{
    Page, PageChanges, PageHealth, validate_access_token, validate_facebook_page_id,
    validate_page_name, validate_username,
};
use crate::catalogue::page_connection::PageConnectionGateway;
use crate::catalogue::page_setup_service::PageSetupService;
use crate::catalogue::ports::{GatewayError, PageRepository};
use crate::catalogue::secrets::{SecretCipher, SecretPurpose};
use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};
use crate::identity::{Principal, Role};
use crate::ids::{PageId, TenantId};
use crate::pagination::{Page as ListPage, PageRequest};

/// The page use cases. Editors connect and change pages; every member reads them. Tokens are
/// sealed at rest and never handed back.
pub struct PageService {
    pages: Arc<dyn PageRepository>,
    cipher: Arc<dyn SecretCipher>,
    meta: Arc<dyn PageConnectionGateway>,
    clock: Arc<dyn Clock>,
    /// Sets pages up with Meta (subscription, Get Started) and undoes it on disconnect.
    setup: Option<Arc<PageSetupService>>,
}

/// A page as Meta vouched for it, with the token that works for it: what a connection stores.
pub struct VerifiedPage {
    /// Facebook's page id.
    pub facebook_page_id: String,
    /// The page's name, as Meta gives it.
    pub name: String,
    /// The page's username, as Meta gives it.
    pub username: Option<String>,
    /// A page token Meta accepted for this page. Never logged.
    pub access_token: String,
}

/// What to do when the workspace already has the page being connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfConnected {
    /// Refuse with `CONFLICT` on `facebookPageId` (`connectPage`: a pasted token connects a new
    /// page; `updatePage` replaces a token).
    Refuse,
    /// Reconnect: replace the token, name and username, keep everything else (Facebook Login,
    /// `updatePage` with a token).
    Reconnect,
}

/// What a connection did.
#[derive(Debug, Clone)]
pub enum PageConnection {
    /// The page is new in the workspace.
    Connected(Page),
    /// The workspace had the page; its token, name and username were replaced.
    Reconnected(Page),
}

impl PageConnection {
    /// The page, either way.
    pub fn page(&self) -> &Page {
        match self {
            PageConnection::Connected(page) | PageConnection::Reconnected(page) => page,
        }
    }

    /// The page, either way.
    pub fn into_page(self) -> Page {
        match self {
            PageConnection::Connected(page) | PageConnection::Reconnected(page) => page,
        }
    }
}

impl PageService {
    /// Builds the service; `meta` checks pasted tokens.
    pub fn new(
        pages: Arc<dyn PageRepository>,
        cipher: Arc<dyn SecretCipher>,
        meta: Arc<dyn PageConnectionGateway>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            pages,
            cipher,
            meta,
            clock,
            setup: None,
        }
    }

    /// Sets every connected page up with Meta through `setup`.
    pub fn with_setup(mut self, setup: Arc<PageSetupService>) -> Self {
        self.setup = Some(setup);
        self
    }

    /// A page was connected or its token replaced: its set-up with Meta is (re)scheduled, to
    /// run in the background. The page stays connected whatever happens to that.
    async fn page_connected(&self, page: &Page) {
        if let Some(setup) = &self.setup
            && let Err(err) = setup.page_connected(page).await
        {
            tracing::error!(tenant_id = %page.tenant_id, page_id = %page.id, error = ?err, "page set-up could not be scheduled; refreshPageSetup schedules it");
        }
    }

    /// Connects a page with a pasted page token (a system user's, say). Meta is asked first
    /// who the token acts as: it must be this page and alive, else `VALIDATION` on
    /// `accessToken` with Meta's message and nothing stored. The name and username are Meta's.
    /// A page the workspace already has is a `CONFLICT` on `facebookPageId` (replace its token
    /// with `update` or Facebook Login).
    pub async fn connect(
        &self,
        principal: &Principal,
        facebook_page_id: &str,
        access_token: &str,
    ) -> DomainResult<Page> {
        let access = principal.require_role(Role::Editor)?;
        let facebook_page_id = validate_facebook_page_id(facebook_page_id)?;
        let access_token = validate_access_token(access_token)?;
        if self
            .pages
            .find_by_facebook_id(access.tenant_id, &facebook_page_id)
            .await?
            .is_some()
        {
            return Err(already_connected());
        }
        let verified = self.verify_token(&facebook_page_id, access_token).await?;
        let connection = self
            .connect_verified(access.tenant_id, verified, IfConnected::Refuse)
            .await?;
        Ok(connection.into_page())
    }

    /// Changes a page's name or username, or replaces its token. A new token is checked with
    /// Meta like a pasted one and reconnects the page (its name and username become Meta's,
    /// unless the same call sets them).
    pub async fn update(
        &self,
        principal: &Principal,
        id: PageId,
        changes: PageChanges,
    ) -> DomainResult<Page> {
        let access = principal.require_role(Role::Editor)?;
        let mut page = self.find_in(access.tenant_id, id).await?;
        let name = changes
            .name
            .map(|name| validate_page_name(&name))
            .transpose()?;
        let username = changes
            .username
            .map(|username| validate_username(username.as_deref()))
            .transpose()?;
        if let Some(token) = changes.access_token {
            let token = validate_access_token(&token)?;
            let verified = self.verify_token(&page.facebook_page_id, token).await?;
            page = self
                .connect_verified(access.tenant_id, verified, IfConnected::Reconnect)
                .await?
                .into_page();
        }
        if name.is_none() && username.is_none() {
            return Ok(page);
        }
        if let Some(name) = name {
            page.name = name;
        }
        if let Some(username) = username {
            page.username = username;
        }
        page.updated_at = self.clock.now();
        self.pages.update(&page).await?;
        Ok(page)
    }

    /// The one place a page is created, or (for a page the workspace has) its token, name and
    /// username replaced. Callers have checked the principal's role and had Meta vouch for
    /// the token. Anything that must follow a connection or a reconnection (subscribing the
    /// app, the Get Started button, marking the token healthy again) hooks on here, in
    /// [`Self::after_connection`].
    pub(crate) async fn connect_verified(
        &self,
        tenant_id: TenantId,
        verified: VerifiedPage,
        if_connected: IfConnected,
    ) -> DomainResult<PageConnection> {
        let facebook_page_id = validate_facebook_page_id(&verified.facebook_page_id)?;
        let name = validate_page_name(&verified.name)?;
        let username = validate_username(verified.username.as_deref())?;
        let access_token = validate_access_token(&verified.access_token)?;
        let now = self.clock.now();
        // Twice at most: a reconnection that finds no page races a concurrent first connection
        // of the same page (two dashboards, a double click) when creating it is a conflict; the
        // second turn finds that page and reconnects it.
        let mut turns_left = 2;
        let connection = loop {
            turns_left -= 1;
            let existing = self
                .pages
                .find_by_facebook_id(tenant_id, &facebook_page_id)
                .await?;
            match existing {
                Some(_) if if_connected == IfConnected::Refuse => return Err(already_connected()),
                Some(mut page) => {
                    page.name = name;
                    page.username = username;
                    self.replace_token(&mut page, &access_token, now)?;
                    page.updated_at = now;
                    self.pages.update(&page).await?;
                    // Also when this read of the page was active: it may have been marked
                    // since. Its waiting messages and profile fetches are claimed again.
                    self.pages.mark_active(page.tenant_id, page.id, now).await?;
                    break PageConnection::Reconnected(page);
                }
                None => {
                    let id = PageId::generate();
                    let page = Page {
                        id,
                        tenant_id,
                        facebook_page_id: facebook_page_id.clone(),
                        name: name.clone(),
                        username: username.clone(),
                        access_token: self.seal_token(&access_token, tenant_id, id)?,
                        health: PageHealth::active(None),
                        created_at: now,
                        updated_at: now,
                    };
                    match self.pages.create(&page).await {
                        Ok(()) => break PageConnection::Connected(page),
                        Err(DomainError::Conflict { .. })
                            if if_connected == IfConnected::Reconnect && turns_left > 0 =>
                        {
                            continue;
                        }
                        Err(err) => return Err(err),
                    }
                }
            }
        };
        self.after_connection(&connection).await;
        Ok(connection)
    }

    /// What follows a page's connection or reconnection.
    // Token health (the page ACTIVE again, its waiting messages resumed) is done in the
    // reconnection's own statements above; page set-up (subscribing the app, Get Started,
    // the profile) is scheduled here.
    async fn after_connection(&self, connection: &PageConnection) {
        let page = match connection {
            PageConnection::Connected(page) => {
                tracing::info!(tenant_id = %page.tenant_id, page_id = %page.id, "page connected");
                page
            }
            PageConnection::Reconnected(page) => {
                tracing::info!(tenant_id = %page.tenant_id, page_id = %page.id, "page reconnected");
                page
            }
        };
        // Set up with Meta (subscription, Get Started, profile) in the background.
        self.page_connected(page).await;
    }

    /// Asks Meta who `token` acts as (`GET /me` with it): it must be page `facebook_page_id`.
    async fn verify_token(
        &self,
        facebook_page_id: &str,
        token: String,
    ) -> DomainResult<VerifiedPage> {
        let owner = self
            .meta
            .token_owner(&token)
            .await
            .map_err(|err| meta_refusal(err, "accessToken"))?;
        if owner.id != facebook_page_id {
            return Err(DomainError::validation(
                "accessToken",
                format!(
                    "this token acts for {} (id {}), not for page {facebook_page_id}: paste that page's token",
                    owner.name, owner.id
                ),
            ));
        }
        Ok(VerifiedPage {
            facebook_page_id: owner.id,
            name: owner.name,
            username: owner.username,
            access_token: token,
        })
    }

    /// Disconnects a page, with its ref links and topics.
    pub async fn disconnect(&self, principal: &Principal, id: PageId) -> DomainResult<PageId> {
        let access = principal.require_role(Role::Editor)?;
        let page = self.find_in(access.tenant_id, id).await?;
        let delete = self.pages.delete(access.tenant_id, id);
        let deleted = match &self.setup {
            // The unsubscribe Meta is owed is queued with what it needs before the page goes.
            Some(setup) => setup.around_disconnect(&page, delete).await?,
            None => delete.await?,
        };
        if !deleted {
            return Err(DomainError::not_found_in("page", "id"));
        }
        tracing::info!(tenant_id = %access.tenant_id, page_id = %id, "page disconnected");
        Ok(id)
    }

    /// The tenant's pages.
    pub async fn list(
        &self,
        principal: &Principal,
        page: PageRequest,
    ) -> DomainResult<ListPage<Page>> {
        let access = principal.require_role(Role::Viewer)?;
        self.pages.list(access.tenant_id, page).await
    }

    /// A page by id.
    pub async fn get(&self, principal: &Principal, id: PageId) -> DomainResult<Page> {
        let access = principal.require_role(Role::Viewer)?;
        self.find_in(access.tenant_id, id).await
    }

    /// The page's access token in the clear, for a call to Meta.
    pub fn access_token(&self, page: &Page) -> DomainResult<String> {
        self.cipher.open(
            &page.access_token,
            page.tenant_id,
            page.id.0,
            SecretPurpose::PageAccessToken,
        )
    }

    /// The one place a connected page's token is replaced (reconnecting it): a new token is
    /// presumed good, so the page is active again and the messages and profile fetches that
    /// waited for it are claimed again, in their original order (token health). Should the
    /// new token be dead too, the next call marks the page again.
    fn replace_token(
        &self,
        page: &mut Page,
        token: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> DomainResult<()> {
        page.access_token = self.seal_token(token, page.tenant_id, page.id)?;
        if page.health.needs_reconnect() {
            tracing::info!(tenant_id = %page.tenant_id, page_id = %page.id, "page reconnected: its waiting messages go out");
            page.health = PageHealth::active(Some(now));
        }
        Ok(())
    }

    async fn find_in(&self, tenant_id: TenantId, id: PageId) -> DomainResult<Page> {
        self.pages
            .find(tenant_id, id)
            .await?
            .ok_or(DomainError::not_found_in("page", "id"))
    }

    pub(crate) async fn find_by_facebook_id(
        &self,
        tenant_id: TenantId,
        facebook_page_id: &str,
    ) -> DomainResult<Option<Page>> {
        self.pages
            .find_by_facebook_id(tenant_id, facebook_page_id)
            .await
    }

    fn seal_token(
        &self,
        token: &str,
        tenant_id: TenantId,
        id: PageId,
    ) -> DomainResult<crate::catalogue::secrets::SealedSecret> {
        self.cipher
            .seal(token, tenant_id, id.0, SecretPurpose::PageAccessToken)
    }
}

fn already_connected() -> DomainError {
    DomainError::conflict(
        "facebookPageId",
        "this page is already connected; give it a new token with updatePage or Facebook Login",
    )
}

/// Meta's answer to a check, as the client sees it: a refusal is `VALIDATION` on `field` with
/// Meta's code and message; Meta out of reach (or asking to slow down) is `UNAVAILABLE`, and
/// nothing was stored.
pub(crate) fn meta_refusal(err: GatewayError, field: &str) -> DomainError {
    if err.transient {
        DomainError::MetaUnavailable(err.message)
    } else {
        DomainError::validation(field, err.message)
    }
}
