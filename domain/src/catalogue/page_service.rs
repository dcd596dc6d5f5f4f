//! Connecting and managing Facebook Pages.

use std::sync::Arc;

use crate::catalogue::page::{
    Page, PageChanges, PageHealth, validate_access_token, validate_facebook_page_id,
    validate_page_name, validate_username,
};
use crate::catalogue::page_setup_service::PageSetupService;
use crate::catalogue::ports::PageRepository;
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
    clock: Arc<dyn Clock>,
    /// Sets pages up with Meta (subscription, Get Started) and undoes it on disconnect.
    setup: Option<Arc<PageSetupService>>,
}

impl PageService {
    /// Builds the service.
    pub fn new(
        pages: Arc<dyn PageRepository>,
        cipher: Arc<dyn SecretCipher>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            pages,
            cipher,
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

    /// Connects a page.
    pub async fn connect(
        &self,
        principal: &Principal,
        facebook_page_id: &str,
        name: &str,
        username: Option<&str>,
        access_token: &str,
    ) -> DomainResult<Page> {
        let access = principal.require_role(Role::Editor)?;
        let facebook_page_id = validate_facebook_page_id(facebook_page_id)?;
        let name = validate_page_name(name)?;
        let username = validate_username(username)?;
        let access_token = validate_access_token(access_token)?;
        let id = PageId::generate();
        let now = self.clock.now();
        let page = Page {
            id,
            tenant_id: access.tenant_id,
            facebook_page_id,
            name,
            username,
            access_token: self.seal_token(&access_token, access.tenant_id, id)?,
            health: PageHealth::active(None),
            created_at: now,
            updated_at: now,
        };
        self.pages.create(&page).await?;
        tracing::info!(tenant_id = %page.tenant_id, page_id = %page.id, "page connected");
        self.page_connected(&page).await;
        Ok(page)
    }

    /// Changes a page's name, username or token.
    pub async fn update(
        &self,
        principal: &Principal,
        id: PageId,
        changes: PageChanges,
    ) -> DomainResult<Page> {
        let access = principal.require_role(Role::Editor)?;
        let mut page = self.find_in(access.tenant_id, id).await?;
        if let Some(name) = changes.name {
            page.name = validate_page_name(&name)?;
        }
        if let Some(username) = changes.username {
            page.username = validate_username(username.as_deref())?;
        }
        let now = self.clock.now();
        let token_replaced = match changes.access_token {
            Some(token) => {
                let token = validate_access_token(&token)?;
                self.replace_token(&mut page, &token, now)?;
                true
            }
            None => false,
        };
        page.updated_at = now;
        self.pages.update(&page).await?;
        if token_replaced {
            // Also when this read of the page was active: it may have been marked since.
            self.pages.mark_active(page.tenant_id, page.id, now).await?;
            self.page_connected(&page).await;
        }
        Ok(page)
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
