//! Finding subscribers by the ids Messenger gave them, across a tenant's pages (a data-deletion
//! request names a person, not a page).

use async_trait::async_trait;
use refhub_domain::DomainResult;
use refhub_domain::audience::Subscriber;
use refhub_domain::ids::TenantId;
use refhub_domain::privacy::SubscriberIdentities;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};

use super::mapping;
use crate::Store;
use crate::entities::subscribers;
use crate::scope::run;

#[async_trait]
impl SubscriberIdentities for Store {
    async fn find_by_ids(
        &self,
        tenant_id: TenantId,
        ids: &[String],
    ) -> DomainResult<Vec<Subscriber>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let query = subscribers::Entity::find()
            .filter(subscribers::Column::TenantId.eq(tenant_id.0))
            .filter(
                Condition::any()
                    .add(subscribers::Column::Psid.is_in(ids.iter().cloned()))
                    .add(subscribers::Column::UserRef.is_in(ids.iter().cloned())),
            );
        run::all(&self.db, tenant_id, query)
            .await?
            .into_iter()
            .map(mapping::subscriber)
            .collect()
    }
}
