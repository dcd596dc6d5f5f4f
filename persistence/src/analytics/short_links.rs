use async_trait::async_trait;
use refhub_domain::DomainResult;
use refhub_domain::analytics::{ShortLinkRepository, ShortLinkTarget};
use refhub_domain::catalogue::mme_url;
use refhub_domain::identity::TenantStatus;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::Store;
use crate::catalogue::mapping;
use crate::entities::{pages, ref_links, tenants};
use crate::error::internal;
use crate::scope;

#[async_trait]
impl ShortLinkRepository for Store {
    async fn resolve(&self, code: &str) -> DomainResult<Option<ShortLinkTarget>> {
        // The code names no tenant: this scope may read links and pages of any tenant.
        let txn = scope::for_cross_tenant_scope(&self.db, "short-link")
            .await
            .map_err(internal)?;
        let Some(link) = ref_links::Entity::find()
            .filter(ref_links::Column::ShortCode.eq(code))
            .one(&txn)
            .await
            .map_err(internal)?
        else {
            txn.commit().await.map_err(internal)?;
            return Ok(None);
        };
        let page = pages::Entity::find_by_id((link.tenant_id, link.page_id))
            .one(&txn)
            .await
            .map_err(internal)?;
        // Tenants are not tenant-owned rows: no policy stands between this scope and them.
        let tenant = tenants::Entity::find_by_id(link.tenant_id)
            .one(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        let Some(page) = page.map(mapping::page) else {
            return Ok(None);
        };
        Ok(Some(ShortLinkTarget {
            tenant_id: link.tenant_id.into(),
            ref_link_id: link.id.into(),
            page_id: link.page_id.into(),
            url: mme_url(page.handle().0, &link.ref_name, link.text.as_deref()),
            link_active: link.active,
            workspace_active: tenant.is_some_and(|t| t.status == TenantStatus::Active.as_str()),
        }))
    }
}
