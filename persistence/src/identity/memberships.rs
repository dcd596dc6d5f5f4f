use std::collections::HashMap;

use async_trait::async_trait;
use refhub_domain::identity::{
    Email, Member, Membership, MembershipRepository, Role, TenantMembership,
};
use refhub_domain::ids::{TenantId, UserId};
use refhub_domain::pagination::{Page, PageRequest};
use refhub_domain::{DomainError, DomainResult};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait,
    ModelTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::mapping;
use crate::Store;
use crate::entities::{memberships, tenants, users};
use crate::error::internal;
use crate::scope::{self, run};

pub(crate) fn new_membership_row(membership: &Membership) -> memberships::ActiveModel {
    memberships::ActiveModel {
        tenant_id: Set(membership.tenant_id.0),
        id: Set(membership.id.0),
        user_id: Set(membership.user_id.0),
        role: Set(membership.role.as_str().to_owned()),
        created_at: Set(membership.created_at),
    }
}

fn last_owner() -> DomainError {
    DomainError::conflict(
        "userId",
        "this is the workspace's last owner; make someone else an owner first",
    )
}

/// Opens a tenant transaction that serialises membership changes of that tenant, so that two
/// concurrent demotions cannot both see "another owner remains" (SQLite serialises writers by
/// itself).
pub(crate) async fn locked_for_membership_change(
    store: &Store,
    tenant_id: TenantId,
) -> DomainResult<DatabaseTransaction> {
    let txn = scope::for_tenant_writing(&store.db, tenant_id)
        .await
        .map_err(internal)?;
    if txn.get_database_backend() == DbBackend::Postgres {
        tenants::Entity::find_by_id(tenant_id.0)
            .lock_exclusive()
            .one(&txn)
            .await
            .map_err(internal)?;
    }
    Ok(txn)
}

async fn find_row(
    txn: &DatabaseTransaction,
    tenant_id: TenantId,
    user_id: UserId,
) -> DomainResult<memberships::Model> {
    memberships::Entity::find()
        .filter(memberships::Column::TenantId.eq(tenant_id.0))
        .filter(memberships::Column::UserId.eq(user_id.0))
        .one(txn)
        .await
        .map_err(internal)?
        .ok_or(DomainError::not_found_in("member", "userId"))
}

async fn owner_count(txn: &DatabaseTransaction, tenant_id: TenantId) -> DomainResult<u64> {
    memberships::Entity::find()
        .filter(memberships::Column::TenantId.eq(tenant_id.0))
        .filter(memberships::Column::Role.eq(Role::Owner.as_str()))
        .count(txn)
        .await
        .map_err(internal)
}

#[async_trait]
impl MembershipRepository for Store {
    async fn find(&self, tenant_id: TenantId, user_id: UserId) -> DomainResult<Option<Membership>> {
        let query = memberships::Entity::find()
            .filter(memberships::Column::TenantId.eq(tenant_id.0))
            .filter(memberships::Column::UserId.eq(user_id.0));
        run::one(&self.db, tenant_id, query)
            .await?
            .map(mapping::membership)
            .transpose()
    }

    async fn list(&self, tenant_id: TenantId, page: PageRequest) -> DomainResult<Page<Member>> {
        let query =
            memberships::Entity::find().filter(memberships::Column::TenantId.eq(tenant_id.0));
        let rows = run::page(&self.db, tenant_id, query, memberships::Column::Id, page).await?;
        let user_ids: Vec<_> = rows.items.iter().map(|m| m.user_id).collect();
        let emails: HashMap<_, _> = users::Entity::find()
            .filter(users::Column::Id.is_in(user_ids))
            .all(&self.db)
            .await
            .map_err(internal)?
            .into_iter()
            .map(|u| (u.id, u.email))
            .collect();
        let mut members = Vec::with_capacity(rows.items.len());
        for row in rows.items {
            let email = emails.get(&row.user_id).cloned().ok_or_else(|| {
                crate::error::corrupt("membership user", &row.user_id.to_string())
            })?;
            members.push(Member {
                membership: mapping::membership(row)?,
                email: refhub_domain::identity::Email::from_trusted(email),
            });
        }
        Ok(Page {
            items: members,
            has_next_page: rows.has_next_page,
            total_count: rows.total_count,
        })
    }

    async fn list_for_user(&self, user_id: UserId) -> DomainResult<Vec<TenantMembership>> {
        let txn = scope::for_user(&self.db, user_id).await.map_err(internal)?;
        let rows = memberships::Entity::find()
            .filter(memberships::Column::UserId.eq(user_id.0))
            .order_by_asc(memberships::Column::CreatedAt)
            .order_by_asc(memberships::Column::Id)
            .find_also_related(tenants::Entity)
            .all(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        rows.into_iter()
            .filter_map(|(membership, tenant)| tenant.map(|t| (membership, t)))
            .map(|(membership, tenant)| {
                Ok(TenantMembership {
                    role: mapping::role(&membership.role)?,
                    tenant: mapping::tenant(tenant)?,
                })
            })
            .collect()
    }

    async fn has_member_with_email(
        &self,
        tenant_id: TenantId,
        email: &Email,
    ) -> DomainResult<bool> {
        let query = memberships::Entity::find()
            .filter(memberships::Column::TenantId.eq(tenant_id.0))
            .inner_join(users::Entity)
            .filter(users::Column::Email.eq(email.as_str()));
        Ok(run::one(&self.db, tenant_id, query).await?.is_some())
    }

    async fn change_role(
        &self,
        tenant_id: TenantId,
        user_id: UserId,
        role: Role,
    ) -> DomainResult<Membership> {
        let txn = locked_for_membership_change(self, tenant_id).await?;
        let row = find_row(&txn, tenant_id, user_id).await?;
        if row.role == Role::Owner.as_str()
            && role != Role::Owner
            && owner_count(&txn, tenant_id).await? <= 1
        {
            return Err(last_owner());
        }
        let mut active: memberships::ActiveModel = row.into();
        active.role = Set(role.as_str().to_owned());
        let row = active.update(&txn).await.map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        mapping::membership(row)
    }

    async fn remove(&self, tenant_id: TenantId, user_id: UserId) -> DomainResult<()> {
        let txn = locked_for_membership_change(self, tenant_id).await?;
        let row = find_row(&txn, tenant_id, user_id).await?;
        if row.role == Role::Owner.as_str() && owner_count(&txn, tenant_id).await? <= 1 {
            return Err(last_owner());
        }
        row.delete(&txn).await.map_err(internal)?;
        txn.commit().await.map_err(internal)
    }
}
