//! The queue of profile fetches, kept on the subscriber rows (`profile_status` pending, due at
//! `profile_due_at`, never due while the page needs reconnecting or the person has no PSID).

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use refhub_domain::DomainResult;
use refhub_domain::audience::{FetchedProfile, ProfileFetch, ProfileQueue, ProfileStatus};
use refhub_domain::ids::{SubscriberId, TenantId};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, UpdateMany};

use crate::Store;
use crate::claims::{ClaimSql, ParkSql, claim};
use crate::entities::subscribers;
use crate::error::corrupt;
use crate::scope::run;

// A subscriber never tried is due at once (`profile_due_at` NULL sorts first); the claim moves
// the due time to the end of the lease, so a dead worker's fetch comes back.
const CLAIM: ClaimSql = ClaimSql {
    scope: "profile-worker",
    postgres: "
    UPDATE subscribers SET profile_due_at = $1, profile_attempts = profile_attempts + 1
    WHERE (tenant_id, id) IN (
        SELECT s.tenant_id, s.id FROM subscribers s
        WHERE s.profile_status = 'pending' AND s.psid IS NOT NULL
          AND (s.profile_due_at IS NULL OR s.profile_due_at <= $2)
          AND NOT EXISTS (SELECT 1 FROM pages p
                          WHERE p.tenant_id = s.tenant_id AND p.id = s.page_id
                            AND p.status = 'needs_reconnect')
        ORDER BY s.profile_due_at NULLS FIRST
        LIMIT $3
        FOR UPDATE OF s SKIP LOCKED)
    RETURNING *",
    sqlite: "
    UPDATE subscribers SET profile_due_at = ?1, profile_attempts = profile_attempts + 1
    WHERE (tenant_id, id) IN (
        SELECT s.tenant_id, s.id FROM subscribers s
        WHERE s.profile_status = 'pending' AND s.psid IS NOT NULL
          AND (s.profile_due_at IS NULL OR s.profile_due_at <= ?2)
          AND NOT EXISTS (SELECT 1 FROM pages p
                          WHERE p.tenant_id = s.tenant_id AND p.id = s.page_id
                            AND p.status = 'needs_reconnect')
        ORDER BY s.profile_due_at NULLS FIRST
        LIMIT ?3)
    RETURNING *",
    // A subscriber that cannot be read gets no profile, with the reason.
    park: ParkSql {
        what: "profile fetch",
        postgres: "UPDATE subscribers SET profile_status = 'unavailable', profile_error = $3
                   WHERE tenant_id = $1 AND id = $2",
        sqlite: "UPDATE subscribers SET profile_status = 'unavailable', profile_error = ?3
                 WHERE tenant_id = ?1 AND id = ?2",
    },
};

fn fetch_of(row: subscribers::Model) -> DomainResult<ProfileFetch> {
    Ok(ProfileFetch {
        tenant_id: row.tenant_id.into(),
        subscriber_id: row.id.into(),
        page_id: row.page_id.into(),
        psid: row.psid.ok_or_else(|| corrupt("psid", "none"))?,
        attempts: u32::try_from(row.profile_attempts).unwrap_or(0),
    })
}

/// An update of the one subscriber of `fetch`.
fn of(fetch: &ProfileFetch) -> UpdateMany<subscribers::Entity> {
    subscribers::Entity::update_many()
        .filter(subscribers::Column::TenantId.eq(fetch.tenant_id.0))
        .filter(subscribers::Column::Id.eq(fetch.subscriber_id.0))
}

/// Meta's values are stored as they come, within reason: a name or URL longer than this is
/// not a name or URL.
fn bounded(value: &Option<String>, max: usize) -> Option<String> {
    value
        .as_deref()
        .map(|v| v.replace('\0', "\u{FFFD}"))
        .filter(|v| !v.is_empty() && v.len() <= max)
}

#[async_trait]
impl ProfileQueue for Store {
    async fn claim_profile_fetches(
        &self,
        limit: usize,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> DomainResult<Vec<ProfileFetch>> {
        claim::<subscribers::Entity, _>(self, &CLAIM, limit, lease, now, fetch_of).await
    }

    async fn profile_fetched(
        &self,
        fetch: &ProfileFetch,
        profile: &FetchedProfile,
        now: DateTime<Utc>,
    ) -> DomainResult<()> {
        let first_name = bounded(&profile.first_name, 200);
        let last_name = bounded(&profile.last_name, 200);
        let name = FetchedProfile {
            first_name: first_name.clone(),
            last_name: last_name.clone(),
            ..FetchedProfile::default()
        }
        .full_name();
        let update = of(fetch)
            .col_expr(subscribers::Column::FirstName, Expr::value(first_name))
            .col_expr(subscribers::Column::LastName, Expr::value(last_name))
            .col_expr(subscribers::Column::Name, Expr::value(name))
            .col_expr(
                subscribers::Column::ProfilePicUrl,
                Expr::value(bounded(&profile.profile_pic_url, 4096)),
            )
            .col_expr(
                subscribers::Column::Locale,
                Expr::value(bounded(&profile.locale, 20)),
            )
            .col_expr(
                subscribers::Column::TimeZone,
                Expr::value(
                    profile
                        .time_zone
                        .filter(|z| z.is_finite() && z.abs() <= 24.0),
                ),
            )
            .col_expr(
                subscribers::Column::ProfileStatus,
                Expr::value(ProfileStatus::Fetched.as_str()),
            )
            .col_expr(
                subscribers::Column::ProfileFetchedAt,
                Expr::value(Some(now)),
            )
            .col_expr(
                subscribers::Column::ProfileDueAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(
                subscribers::Column::ProfileError,
                Expr::value(Option::<String>::None),
            );
        run::update(&self.db, fetch.tenant_id, update).await?;
        Ok(())
    }

    async fn profile_unavailable(
        &self,
        fetch: &ProfileFetch,
        error: &str,
        _now: DateTime<Utc>,
    ) -> DomainResult<()> {
        let update = of(fetch)
            .col_expr(
                subscribers::Column::ProfileStatus,
                Expr::value(ProfileStatus::Unavailable.as_str()),
            )
            .col_expr(
                subscribers::Column::ProfileDueAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(
                subscribers::Column::ProfileError,
                Expr::value(Some(error.chars().take(1000).collect::<String>())),
            );
        run::update(&self.db, fetch.tenant_id, update).await?;
        Ok(())
    }

    async fn profile_later(
        &self,
        fetch: &ProfileFetch,
        at: DateTime<Utc>,
        count_try: bool,
        error: Option<&str>,
    ) -> DomainResult<()> {
        let attempts = if count_try {
            fetch.attempts
        } else {
            fetch.attempts.saturating_sub(1)
        };
        let mut update = of(fetch)
            .col_expr(subscribers::Column::ProfileDueAt, Expr::value(Some(at)))
            .col_expr(
                subscribers::Column::ProfileAttempts,
                Expr::value(i32::try_from(attempts).unwrap_or(i32::MAX)),
            );
        if let Some(error) = error {
            update = update.col_expr(
                subscribers::Column::ProfileError,
                Expr::value(Some(error.chars().take(1000).collect::<String>())),
            );
        }
        run::update(&self.db, fetch.tenant_id, update).await?;
        Ok(())
    }

    async fn queue_profile_refresh(
        &self,
        tenant_id: TenantId,
        subscriber_id: SubscriberId,
        now: DateTime<Utc>,
    ) -> DomainResult<bool> {
        let update = subscribers::Entity::update_many()
            .filter(subscribers::Column::TenantId.eq(tenant_id.0))
            .filter(subscribers::Column::Id.eq(subscriber_id.0))
            .col_expr(
                subscribers::Column::ProfileStatus,
                Expr::value(ProfileStatus::Pending.as_str()),
            )
            .col_expr(subscribers::Column::ProfileDueAt, Expr::value(Some(now)))
            .col_expr(subscribers::Column::ProfileAttempts, Expr::value(0))
            .col_expr(
                subscribers::Column::ProfileError,
                Expr::value(Option::<String>::None),
            );
        Ok(run::update(&self.db, tenant_id, update).await? > 0)
    }
}
