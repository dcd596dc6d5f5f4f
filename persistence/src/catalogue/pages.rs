use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use refhub_domain::DomainResult;
use refhub_domain::catalogue::{Page, PageHealth, PageRepository, PageStatus};
use refhub_domain::ids::{PageId, TenantId};
use refhub_domain::pagination::{Page as ListPage, PageRequest};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, NotSet, QueryFilter};

use super::mapping;
use crate::Store;
use crate::claims::{ClaimSql, ParkSql, claim};
use crate::entities::pages;
use crate::error::{internal, unique_as_conflict};
use crate::scope::{self, run};

// The periodic token check: `$1` now (the new check time), `$2` the latest check time that is
// due (now minus the interval). A page never checked is first due one interval after it was
// connected, so that checks spread over time as pages were connected.
const TOKEN_CHECK_CLAIM: ClaimSql = ClaimSql {
    scope: "token-check",
    postgres: "
    UPDATE pages SET token_checked_at = $1
    WHERE (tenant_id, id) IN (
        SELECT tenant_id, id FROM pages
        WHERE status = 'active' AND COALESCE(token_checked_at, created_at) <= $2
        ORDER BY COALESCE(token_checked_at, created_at)
        LIMIT $3
        FOR UPDATE SKIP LOCKED)
    RETURNING *",
    sqlite: "
    UPDATE pages SET token_checked_at = ?1
    WHERE (tenant_id, id) IN (
        SELECT tenant_id, id FROM pages
        WHERE status = 'active' AND COALESCE(token_checked_at, created_at) <= ?2
        ORDER BY COALESCE(token_checked_at, created_at)
        LIMIT ?3)
    RETURNING *",
    // A page that cannot be read is left as it is: its check time moved on, so it is not
    // claimed again before the next interval, and nothing else is at stake.
    park: ParkSql {
        what: "page",
        postgres: "SELECT $1::uuid, $2::uuid, $3::text",
        sqlite: "SELECT ?1, ?2, ?3",
    },
};

fn in_tenant(tenant_id: TenantId) -> sea_orm::Select<pages::Entity> {
    pages::Entity::find().filter(pages::Column::TenantId.eq(tenant_id.0))
}

#[async_trait]
impl PageRepository for Store {
    async fn create(&self, page: &Page) -> DomainResult<()> {
        let txn = scope::for_tenant(&self.db, page.tenant_id)
            .await
            .map_err(internal)?;
        mapping::page_row(page).insert(&txn).await.map_err(|err| {
            unique_as_conflict(err, "facebookPageId", "this page is already connected")
        })?;
        txn.commit().await.map_err(internal)
    }

    async fn find(&self, tenant_id: TenantId, id: PageId) -> DomainResult<Option<Page>> {
        let query = in_tenant(tenant_id).filter(pages::Column::Id.eq(id.0));
        Ok(run::one(&self.db, tenant_id, query)
            .await?
            .map(mapping::page))
    }

    async fn find_by_facebook_id(
        &self,
        tenant_id: TenantId,
        facebook_page_id: &str,
    ) -> DomainResult<Option<Page>> {
        let query = in_tenant(tenant_id).filter(pages::Column::FacebookPageId.eq(facebook_page_id));
        Ok(run::one(&self.db, tenant_id, query)
            .await?
            .map(mapping::page))
    }

    async fn list(&self, tenant_id: TenantId, page: PageRequest) -> DomainResult<ListPage<Page>> {
        let rows = run::page(
            &self.db,
            tenant_id,
            in_tenant(tenant_id),
            pages::Column::Id,
            page,
        )
        .await?;
        Ok(rows.map(mapping::page))
    }

    async fn update(&self, page: &Page) -> DomainResult<()> {
        let txn = scope::for_tenant(&self.db, page.tenant_id)
            .await
            .map_err(internal)?;
        let mut row = mapping::page_row(page);
        // The status is written by its own statements only (`mark_*`): a rename racing with a
        // send that found the token dead must not undo the mark.
        row.status = NotSet;
        row.status_code = NotSet;
        row.status_subcode = NotSet;
        row.status_message = NotSet;
        row.status_changed_at = NotSet;
        row.update(&txn).await.map_err(internal)?;
        txn.commit().await.map_err(internal)
    }

    async fn mark_active(
        &self,
        tenant_id: TenantId,
        id: PageId,
        at: DateTime<Utc>,
    ) -> DomainResult<()> {
        let update = pages::Entity::update_many()
            .col_expr(
                pages::Column::Status,
                Expr::value(PageStatus::Active.as_str()),
            )
            .col_expr(pages::Column::StatusCode, Expr::value(Option::<i64>::None))
            .col_expr(
                pages::Column::StatusSubcode,
                Expr::value(Option::<i64>::None),
            )
            .col_expr(
                pages::Column::StatusMessage,
                Expr::value(Option::<String>::None),
            )
            .col_expr(pages::Column::StatusChangedAt, Expr::value(Some(at)))
            .filter(pages::Column::TenantId.eq(tenant_id.0))
            .filter(pages::Column::Id.eq(id.0))
            .filter(pages::Column::Status.eq(PageStatus::NeedsReconnect.as_str()));
        run::update(&self.db, tenant_id, update).await?;
        Ok(())
    }

    async fn delete(&self, tenant_id: TenantId, id: PageId) -> DomainResult<bool> {
        let delete = pages::Entity::delete_many()
            .filter(pages::Column::TenantId.eq(tenant_id.0))
            .filter(pages::Column::Id.eq(id.0));
        Ok(run::delete(&self.db, tenant_id, delete).await? > 0)
    }

    async fn mark_needs_reconnect(
        &self,
        tenant_id: TenantId,
        id: PageId,
        health: &PageHealth,
    ) -> DomainResult<bool> {
        let update = pages::Entity::update_many()
            .col_expr(
                pages::Column::Status,
                Expr::value(PageStatus::NeedsReconnect.as_str()),
            )
            .col_expr(pages::Column::StatusCode, Expr::value(health.code))
            .col_expr(pages::Column::StatusSubcode, Expr::value(health.subcode))
            .col_expr(
                pages::Column::StatusMessage,
                Expr::value(health.message.clone()),
            )
            .col_expr(
                pages::Column::StatusChangedAt,
                Expr::value(health.changed_at),
            )
            .filter(pages::Column::TenantId.eq(tenant_id.0))
            .filter(pages::Column::Id.eq(id.0))
            .filter(pages::Column::Status.eq(PageStatus::Active.as_str()));
        Ok(run::update(&self.db, tenant_id, update).await? > 0)
    }

    async fn claim_token_checks(
        &self,
        limit: usize,
        interval: Duration,
        now: DateTime<Utc>,
    ) -> DomainResult<Vec<Page>> {
        // The claim binds (`now` + lease, `now`): shifted by one interval, that is (now, the
        // latest due check time).
        claim::<pages::Entity, _>(
            self,
            &TOKEN_CHECK_CLAIM,
            limit,
            interval,
            now - interval,
            |row| Ok(mapping::page(row)),
        )
        .await
    }
}
