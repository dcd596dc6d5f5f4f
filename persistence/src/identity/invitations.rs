use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use refhub_domain::DomainResult;
use refhub_domain::identity::{
    Email, Invitation, InvitationDetails, InvitationRepository, InvitationState, Membership,
};
use refhub_domain::ids::{InvitationId, TenantId};
use refhub_domain::pagination::{Page, PageRequest};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, Set,
};

use super::mapping;
use super::memberships::{locked_for_membership_change, new_membership_row};
use crate::Store;
use crate::entities::{invitations, tenants, users};
use crate::error::{corrupt, internal, unique_as_conflict};
use crate::pagination::keyset_page;
use crate::scope::{self, run};

fn in_tenant(tenant_id: TenantId) -> sea_orm::Select<invitations::Entity> {
    invitations::Entity::find().filter(invitations::Column::TenantId.eq(tenant_id.0))
}

fn pending() -> sea_orm::sea_query::SimpleExpr {
    invitations::Column::State.eq(InvitationState::Pending.as_str())
}

fn new_row(invitation: &Invitation) -> invitations::ActiveModel {
    invitations::ActiveModel {
        tenant_id: Set(invitation.tenant_id.0),
        id: Set(invitation.id.0),
        email: Set(invitation.email.as_str().to_owned()),
        role: Set(invitation.role.as_str().to_owned()),
        token_fingerprint: Set(invitation.token_fingerprint.clone()),
        invited_by: Set(invitation.invited_by.map(|u| u.0)),
        state: Set(invitation.state.as_str().to_owned()),
        created_at: Set(invitation.created_at),
        expires_at: Set(invitation.expires_at),
        responded_at: Set(invitation.responded_at),
    }
}

/// Rows with their workspaces and inviters' addresses (tenants and users are not tenant-owned
/// rows: any transaction reads them).
async fn with_details<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<invitations::Model>,
) -> DomainResult<Vec<InvitationDetails>> {
    let tenant_ids: Vec<_> = rows.iter().map(|r| r.tenant_id).collect();
    let inviter_ids: Vec<_> = rows.iter().filter_map(|r| r.invited_by).collect();
    let tenants: HashMap<_, _> = tenants::Entity::find()
        .filter(tenants::Column::Id.is_in(tenant_ids))
        .all(conn)
        .await
        .map_err(internal)?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let inviters: HashMap<_, _> = if inviter_ids.is_empty() {
        HashMap::new()
    } else {
        users::Entity::find()
            .filter(users::Column::Id.is_in(inviter_ids))
            .all(conn)
            .await
            .map_err(internal)?
            .into_iter()
            .map(|u| (u.id, u.email))
            .collect()
    };
    rows.into_iter()
        .map(|row| {
            let tenant = tenants
                .get(&row.tenant_id)
                .cloned()
                .ok_or_else(|| corrupt("invitation tenant", &row.tenant_id.to_string()))?;
            let inviter_email = row
                .invited_by
                .and_then(|id| inviters.get(&id).cloned())
                .map(Email::from_trusted);
            Ok(InvitationDetails {
                invitation: mapping::invitation(row)?,
                tenant: mapping::tenant(tenant)?,
                inviter_email,
            })
        })
        .collect()
}

async fn one_with_details<C: ConnectionTrait>(
    conn: &C,
    row: Option<invitations::Model>,
) -> DomainResult<Option<InvitationDetails>> {
    match row {
        Some(row) => Ok(with_details(conn, vec![row]).await?.pop()),
        None => Ok(None),
    }
}

fn details_page(
    page: Page<invitations::Model>,
    items: Vec<InvitationDetails>,
) -> Page<InvitationDetails> {
    Page {
        items,
        has_next_page: page.has_next_page,
        total_count: page.total_count,
    }
}

async fn find_in(
    txn: &DatabaseTransaction,
    tenant_id: TenantId,
    id: InvitationId,
) -> DomainResult<Option<invitations::Model>> {
    invitations::Entity::find_by_id((tenant_id.0, id.0))
        .one(txn)
        .await
        .map_err(internal)
}

#[async_trait]
impl InvitationRepository for Store {
    async fn save_pending(&self, invitation: &Invitation) -> DomainResult<InvitationDetails> {
        // Serialised with the workspace's other membership changes, so that two invitations
        // to one address at once refresh one row rather than racing to insert two.
        let txn = locked_for_membership_change(self, invitation.tenant_id).await?;
        let existing = in_tenant(invitation.tenant_id)
            .filter(invitations::Column::Email.eq(invitation.email.as_str()))
            .filter(pending())
            .one(&txn)
            .await
            .map_err(internal)?;
        let id = match existing {
            Some(row) => {
                let id = row.id;
                let mut active: invitations::ActiveModel = row.into();
                active.role = Set(invitation.role.as_str().to_owned());
                active.token_fingerprint = Set(invitation.token_fingerprint.clone());
                active.invited_by = Set(invitation.invited_by.map(|u| u.0));
                active.expires_at = Set(invitation.expires_at);
                active.update(&txn).await.map_err(internal)?;
                id
            }
            None => {
                new_row(invitation).insert(&txn).await.map_err(internal)?;
                invitation.id.0
            }
        };
        let row = find_in(&txn, invitation.tenant_id, id.into()).await?;
        let details = one_with_details(&txn, row).await?;
        txn.commit().await.map_err(internal)?;
        details.ok_or_else(|| corrupt("invitation", "missing after it was saved"))
    }

    async fn count_pending(
        &self,
        tenant_id: TenantId,
        besides: &Email,
        now: DateTime<Utc>,
    ) -> DomainResult<u64> {
        let txn = scope::for_tenant(&self.db, tenant_id)
            .await
            .map_err(internal)?;
        let count = in_tenant(tenant_id)
            .filter(pending())
            .filter(invitations::Column::ExpiresAt.gt(now))
            .filter(invitations::Column::Email.ne(besides.as_str()))
            .count(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        Ok(count)
    }

    async fn list(
        &self,
        tenant_id: TenantId,
        page: PageRequest,
    ) -> DomainResult<Page<InvitationDetails>> {
        let rows = run::page(
            &self.db,
            tenant_id,
            in_tenant(tenant_id),
            invitations::Column::Id,
            page,
        )
        .await?;
        let items = with_details(&self.db, rows.items.clone()).await?;
        Ok(details_page(rows, items))
    }

    async fn list_pending_for_email(
        &self,
        email: &Email,
        now: DateTime<Utc>,
        page: PageRequest,
    ) -> DomainResult<Page<InvitationDetails>> {
        let txn = scope::for_invitee(&self.db, email.as_str())
            .await
            .map_err(internal)?;
        let query = invitations::Entity::find()
            .filter(invitations::Column::Email.eq(email.as_str()))
            .filter(pending())
            .filter(invitations::Column::ExpiresAt.gt(now));
        let rows = keyset_page(&txn, query, invitations::Column::Id, page)
            .await
            .map_err(internal)?;
        let items = with_details(&txn, rows.items.clone()).await?;
        txn.commit().await.map_err(internal)?;
        Ok(details_page(rows, items))
    }

    async fn find_by_token(&self, fingerprint: &str) -> DomainResult<Option<InvitationDetails>> {
        let txn = scope::for_invitation_token(&self.db, fingerprint)
            .await
            .map_err(internal)?;
        let row = invitations::Entity::find()
            .filter(invitations::Column::TokenFingerprint.eq(fingerprint))
            .one(&txn)
            .await
            .map_err(internal)?;
        let details = one_with_details(&txn, row).await?;
        txn.commit().await.map_err(internal)?;
        Ok(details)
    }

    async fn accept(
        &self,
        invitation: &Invitation,
        membership: &Membership,
        at: DateTime<Utc>,
    ) -> DomainResult<bool> {
        let txn = locked_for_membership_change(self, invitation.tenant_id).await?;
        // The conditional update decides between two answers at once: one of them moves it.
        let answered = invitations::Entity::update_many()
            .col_expr(
                invitations::Column::State,
                Expr::value(InvitationState::Accepted.as_str()),
            )
            .col_expr(invitations::Column::RespondedAt, Expr::value(at))
            .filter(invitations::Column::TenantId.eq(invitation.tenant_id.0))
            .filter(invitations::Column::Id.eq(invitation.id.0))
            .filter(pending())
            .exec(&txn)
            .await
            .map_err(internal)?;
        if answered.rows_affected != 1 {
            txn.rollback().await.map_err(internal)?;
            return Ok(false);
        }
        new_membership_row(membership)
            .insert(&txn)
            .await
            .map_err(|err| {
                unique_as_conflict(err, "token", "you are already a member of this workspace")
            })?;
        txn.commit().await.map_err(internal)?;
        Ok(true)
    }

    async fn close(
        &self,
        tenant_id: TenantId,
        id: InvitationId,
        state: InvitationState,
        at: DateTime<Utc>,
    ) -> DomainResult<Option<InvitationDetails>> {
        let txn = scope::for_tenant(&self.db, tenant_id)
            .await
            .map_err(internal)?;
        invitations::Entity::update_many()
            .col_expr(invitations::Column::State, Expr::value(state.as_str()))
            .col_expr(invitations::Column::RespondedAt, Expr::value(at))
            .filter(invitations::Column::TenantId.eq(tenant_id.0))
            .filter(invitations::Column::Id.eq(id.0))
            .filter(pending())
            .exec(&txn)
            .await
            .map_err(internal)?;
        let row = find_in(&txn, tenant_id, id).await?;
        let details = one_with_details(&txn, row).await?;
        txn.commit().await.map_err(internal)?;
        Ok(details)
    }
}
