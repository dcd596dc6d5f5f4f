use async_trait::async_trait;
use refhub_domain::DomainResult;
use refhub_domain::catalogue::{NotificationTopic, TopicRepository};
use refhub_domain::ids::{PageId, TenantId, TopicId};
use refhub_domain::pagination::{Page as ListPage, PageRequest};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};

use super::mapping;
use crate::Store;
use crate::entities::notification_topics;
use crate::error::{internal, unique_as_conflict};
use crate::pagination::keyset_page;
use crate::scope;

const TITLE_TAKEN: &str = "this page already has a topic with this title";

#[async_trait]
impl TopicRepository for Store {
    async fn create(&self, topic: &NotificationTopic) -> DomainResult<()> {
        let txn = scope::for_tenant(&self.db, topic.tenant_id)
            .await
            .map_err(internal)?;
        mapping::topic_row(topic)
            .insert(&txn)
            .await
            .map_err(|err| unique_as_conflict(err, "title", TITLE_TAKEN))?;
        txn.commit().await.map_err(internal)
    }

    async fn find(
        &self,
        tenant_id: TenantId,
        id: TopicId,
    ) -> DomainResult<Option<NotificationTopic>> {
        let txn = scope::for_tenant(&self.db, tenant_id)
            .await
            .map_err(internal)?;
        let row = notification_topics::Entity::find_by_id((tenant_id.0, id.0))
            .one(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        row.map(mapping::topic).transpose()
    }

    async fn find_many(
        &self,
        tenant_id: TenantId,
        ids: &[TopicId],
    ) -> DomainResult<Vec<NotificationTopic>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let txn = scope::for_tenant(&self.db, tenant_id)
            .await
            .map_err(internal)?;
        let rows = notification_topics::Entity::find()
            .filter(notification_topics::Column::TenantId.eq(tenant_id.0))
            .filter(notification_topics::Column::Id.is_in(ids.iter().map(|id| id.0)))
            .all(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        rows.into_iter().map(mapping::topic).collect()
    }

    async fn find_by_title(
        &self,
        tenant_id: TenantId,
        page_id: PageId,
        title: &str,
    ) -> DomainResult<Option<NotificationTopic>> {
        let txn = scope::for_tenant(&self.db, tenant_id)
            .await
            .map_err(internal)?;
        let row = notification_topics::Entity::find()
            .filter(notification_topics::Column::TenantId.eq(tenant_id.0))
            .filter(notification_topics::Column::PageId.eq(page_id.0))
            .filter(notification_topics::Column::TitleKey.eq(mapping::name_key(title.trim())))
            .one(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        row.map(mapping::topic).transpose()
    }

    async fn list(
        &self,
        tenant_id: TenantId,
        page_id: Option<PageId>,
        page: PageRequest,
    ) -> DomainResult<ListPage<NotificationTopic>> {
        let txn = scope::for_tenant(&self.db, tenant_id)
            .await
            .map_err(internal)?;
        let mut query = notification_topics::Entity::find()
            .filter(notification_topics::Column::TenantId.eq(tenant_id.0));
        if let Some(page_id) = page_id {
            query = query.filter(notification_topics::Column::PageId.eq(page_id.0));
        }
        let rows = keyset_page(&txn, query, notification_topics::Column::Id, page)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        let items = rows
            .items
            .into_iter()
            .map(mapping::topic)
            .collect::<DomainResult<_>>()?;
        Ok(ListPage {
            items,
            has_next_page: rows.has_next_page,
            total_count: rows.total_count,
        })
    }

    async fn update(&self, topic: &NotificationTopic) -> DomainResult<()> {
        let txn = scope::for_tenant(&self.db, topic.tenant_id)
            .await
            .map_err(internal)?;
        mapping::topic_row(topic)
            .update(&txn)
            .await
            .map_err(|err| unique_as_conflict(err, "title", TITLE_TAKEN))?;
        txn.commit().await.map_err(internal)
    }

    async fn delete(&self, tenant_id: TenantId, id: TopicId) -> DomainResult<bool> {
        let txn = scope::for_tenant(&self.db, tenant_id)
            .await
            .map_err(internal)?;
        let result = notification_topics::Entity::delete_by_id((tenant_id.0, id.0))
            .exec(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        Ok(result.rows_affected > 0)
    }
}
