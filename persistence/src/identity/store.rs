use async_trait::async_trait;
use refhub_domain::DomainResult;
use refhub_domain::identity::{IdentityStore, Membership, Tenant, User};
use sea_orm::{ActiveModelTrait, Set};

use super::memberships::new_membership_row;
use super::users::new_user_row;
use crate::Store;
use crate::entities::tenants;
use crate::error::{internal, unique_as_conflict};
use crate::scope;

#[async_trait]
impl IdentityStore for Store {
    async fn create_tenant_with_owner(
        &self,
        tenant: &Tenant,
        owner: &User,
        membership: &Membership,
    ) -> DomainResult<()> {
        let txn = scope::for_tenant(&self.db, tenant.id)
            .await
            .map_err(internal)?;
        tenants::ActiveModel {
            id: Set(tenant.id.0),
            name: Set(tenant.name.clone()),
            slug: Set(tenant.slug.clone()),
            status: Set(tenant.status.as_str().to_owned()),
            time_zone: Set(tenant.time_zone.clone()),
            created_at: Set(tenant.created_at),
            updated_at: Set(tenant.created_at),
        }
        .insert(&txn)
        .await
        .map_err(internal)?;
        new_user_row(owner).insert(&txn).await.map_err(|err| {
            unique_as_conflict(
                err,
                "email",
                "an account with this e-mail already exists; log in instead",
            )
        })?;
        new_membership_row(membership)
            .insert(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)
    }
}
