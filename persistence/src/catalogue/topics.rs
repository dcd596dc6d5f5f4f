use async_trait::async_trait;
use refhub_domain::DomainResult;
use refhub_domain::catalogue::{NotificationTopic, TopicRepository};
use refhub_domain::ids::{PageId, TenantId, TopicId};
use refhub_domain::pagination::{Page as ListPage, PageRequest};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter};

use super::mapping;
use crate::Store;
use crate::entities::notification_topics as topics;
use crate::entities::{notification_opt_ins, subscribers};
use crate::error::{internal, unique_as_conflict};
use crate::id_list::among;
use crate::pagination::try_map_page;
use crate::scope::{self, run};

const TITLE_TAKEN: &str = "this page already has a topic with this title";

/// Opt-ins received before the topic existed (same page, same title) now belong to it.
async fn adopt_opt_ins(txn: &DatabaseTransaction, topic: &NotificationTopic) -> DomainResult<()> {
    let opt_ins = notification_opt_ins::Entity::find()
        .filter(notification_opt_ins::Column::TenantId.eq(topic.tenant_id.0))
        .filter(notification_opt_ins::Column::TopicId.is_null())
        .filter(
            notification_opt_ins::Column::SubscriberId.in_subquery(
                Query::select()
                    .column(subscribers::Column::Id)
                    .from(subscribers::Entity)
                    .and_where(subscribers::Column::TenantId.eq(topic.tenant_id.0))
                    .and_where(subscribers::Column::PageId.eq(topic.page_id.0))
                    .to_owned(),
            ),
        )
        .all(txn)
        .await
        .map_err(internal)?;
    let key = mapping::name_key(&topic.title);
    let adopted: Vec<_> = opt_ins
        .into_iter()
        .filter(|opt_in| mapping::name_key(opt_in.topic_title.trim()) == key)
        .map(|opt_in| opt_in.id)
        .collect();
    if adopted.is_empty() {
        return Ok(());
    }
    notification_opt_ins::Entity::update_many()
        .col_expr(
            notification_opt_ins::Column::TopicId,
            Expr::value(topic.id.0),
        )
        .filter(notification_opt_ins::Column::TenantId.eq(topic.tenant_id.0))
        .filter(notification_opt_ins::Column::Id.is_in(adopted))
        .exec(txn)
        .await
        .map_err(internal)?;
    Ok(())
}

fn in_tenant(tenant_id: TenantId) -> sea_orm::Select<topics::Entity> {
    topics::Entity::find().filter(topics::Column::TenantId.eq(tenant_id.0))
}

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
        adopt_opt_ins(&txn, topic).await?;
        txn.commit().await.map_err(internal)
    }

    async fn find(
        &self,
        tenant_id: TenantId,
        id: TopicId,
    ) -> DomainResult<Option<NotificationTopic>> {
        let query = in_tenant(tenant_id).filter(topics::Column::Id.eq(id.0));
        run::one(&self.db, tenant_id, query)
            .await?
            .map(mapping::topic)
            .transpose()
    }

    async fn find_many(
        &self,
        tenant_id: TenantId,
        ids: &[TopicId],
    ) -> DomainResult<Vec<NotificationTopic>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let query = in_tenant(tenant_id).filter(among(
            self.db.get_database_backend(),
            topics::Column::Id,
            ids.iter().map(|id| id.0),
        ));
        run::all(&self.db, tenant_id, query)
            .await?
            .into_iter()
            .map(mapping::topic)
            .collect()
    }

    async fn find_by_title(
        &self,
        tenant_id: TenantId,
        page_id: PageId,
        title: &str,
    ) -> DomainResult<Option<NotificationTopic>> {
        let query = in_tenant(tenant_id)
            .filter(topics::Column::PageId.eq(page_id.0))
            .filter(topics::Column::TitleKey.eq(mapping::name_key(title.trim())));
        run::one(&self.db, tenant_id, query)
            .await?
            .map(mapping::topic)
            .transpose()
    }

    async fn list(
        &self,
        tenant_id: TenantId,
        page_id: Option<PageId>,
        page: PageRequest,
    ) -> DomainResult<ListPage<NotificationTopic>> {
        let mut query = in_tenant(tenant_id);
        if let Some(page_id) = page_id {
            query = query.filter(topics::Column::PageId.eq(page_id.0));
        }
        let rows = run::page(&self.db, tenant_id, query, topics::Column::Id, page).await?;
        try_map_page(rows, mapping::topic)
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
        notification_opt_ins::Entity::update_many()
            .col_expr(
                notification_opt_ins::Column::TopicId,
                Expr::value(Option::<uuid::Uuid>::None),
            )
            .filter(notification_opt_ins::Column::TenantId.eq(tenant_id.0))
            .filter(notification_opt_ins::Column::TopicId.eq(id.0))
            .exec(&txn)
            .await
            .map_err(internal)?;
        let deleted = topics::Entity::delete_many()
            .filter(topics::Column::TenantId.eq(tenant_id.0))
            .filter(topics::Column::Id.eq(id.0))
            .exec(&txn)
            .await
            .map_err(internal)?;
        txn.commit().await.map_err(internal)?;
        Ok(deleted.rows_affected > 0)
    }
}
