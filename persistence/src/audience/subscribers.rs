//! Reading subscribers (filtered, paginated) and the changes people make by hand.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use refhub_domain::DomainResult;
use refhub_domain::audience::{
    DetailSelection, FieldValueRecord, ImportApplied, ImportRow, InteractionRecord, OptIn,
    Subscriber, SubscriberDetails, SubscriberFilter, SubscriberRepository,
};
use refhub_domain::catalogue::{CustomField, Tag};
use refhub_domain::ids::{CustomFieldId, PageId, SubscriberId, TagId, TenantId, TopicId};
use refhub_domain::pagination::{Page, PageRequest};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DbBackend, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use super::apply::field_value_row;
use super::details;
use super::mapping;
use crate::Store;
use crate::catalogue::mapping as catalogue_mapping;
use crate::entities::{
    custom_fields, notification_opt_ins, subscriber_field_values, subscriber_interactions,
    subscriber_tags, subscribers, tags,
};
use crate::error::internal;
use crate::id_list::among;
use crate::pagination::{keyset_page_counted, try_map_page};
use crate::scope::{self, run};

/// `%text%` with LIKE's own wildcards taken literally.
fn contains_pattern(text: &str) -> String {
    let escaped = text
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

fn filter_condition(
    tenant_id: TenantId,
    filter: &SubscriberFilter,
    now: DateTime<Utc>,
) -> Condition {
    let tenant = tenant_id.0;
    let mut condition = Condition::all();
    if let Some(tag_id) = filter.tag_id {
        condition = condition.add(
            subscribers::Column::Id.in_subquery(
                Query::select()
                    .column(subscriber_tags::Column::SubscriberId)
                    .from(subscriber_tags::Entity)
                    .and_where(subscriber_tags::Column::TenantId.eq(tenant))
                    .and_where(subscriber_tags::Column::TagId.eq(tag_id.0))
                    .to_owned(),
            ),
        );
    }
    if let Some(link_id) = filter.ref_link_id {
        condition = condition.add(subscribers::Column::SourceRefLinkId.eq(link_id.0));
    }
    if let Some((field_id, value)) = &filter.field_value {
        condition = condition.add(
            subscribers::Column::Id.in_subquery(
                Query::select()
                    .column(subscriber_field_values::Column::SubscriberId)
                    .from(subscriber_field_values::Entity)
                    .and_where(subscriber_field_values::Column::TenantId.eq(tenant))
                    .and_where(subscriber_field_values::Column::FieldId.eq(field_id.0))
                    .and_where(subscriber_field_values::Column::Value.eq(value.as_str()))
                    .to_owned(),
            ),
        );
    }
    if let Some(topic_id) = filter.opted_in_topic {
        condition = condition.add(
            subscribers::Column::Id.in_subquery(
                Query::select()
                    .column(notification_opt_ins::Column::SubscriberId)
                    .from(notification_opt_ins::Entity)
                    .and_where(notification_opt_ins::Column::TenantId.eq(tenant))
                    .and_where(notification_opt_ins::Column::TopicId.eq(topic_id.0))
                    .and_where(notification_opt_ins::Column::Status.eq("active"))
                    .cond_where(
                        Condition::any()
                            .add(notification_opt_ins::Column::ExpiresAt.is_null())
                            .add(notification_opt_ins::Column::ExpiresAt.gt(now)),
                    )
                    .to_owned(),
            ),
        );
    }
    if let Some(search) = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let pattern = contains_pattern(search);
        condition = condition.add(
            Condition::any()
                .add(
                    Expr::expr(Func::lower(Expr::col(subscribers::Column::Name)))
                        .like(LikeExpr::new(pattern.clone()).escape('\\')),
                )
                .add(
                    Expr::col(subscribers::Column::Psid).like(LikeExpr::new(pattern).escape('\\')),
                ),
        );
    }
    condition
}

fn uuids(ids: &[SubscriberId]) -> Vec<Uuid> {
    ids.iter().map(|id| id.0).collect()
}

#[async_trait]
impl SubscriberRepository for Store {
    async fn list(
        &self,
        tenant_id: TenantId,
        page_id: PageId,
        filter: &SubscriberFilter,
        now: DateTime<Utc>,
        page: PageRequest,
    ) -> DomainResult<Page<Subscriber>> {
        let query = subscribers::Entity::find()
            .filter(subscribers::Column::TenantId.eq(tenant_id.0))
            .filter(subscribers::Column::PageId.eq(page_id.0))
            .filter(filter_condition(tenant_id, filter, now));
        let count_key = format!("{tenant_id}|{page_id}|{filter:?}");
        let txn = scope::for_tenant_snapshot_reading(&self.db, tenant_id)
            .await
            .map_err(internal)?;
        let known_count = self.subscriber_counts.usable(&count_key);
        let rows = keyset_page_counted(&txn, query, subscribers::Column::Id, page, known_count)
            .await
            .map_err(internal)?;
        txn.finish().await.map_err(internal)?;
        if known_count.is_none() {
            self.subscriber_counts.remember(count_key, rows.total_count);
        }
        try_map_page(rows, mapping::subscriber)
    }

    async fn find(
        &self,
        tenant_id: TenantId,
        id: SubscriberId,
    ) -> DomainResult<Option<Subscriber>> {
        let query = subscribers::Entity::find()
            .filter(subscribers::Column::TenantId.eq(tenant_id.0))
            .filter(subscribers::Column::Id.eq(id.0));
        run::one(&self.db, tenant_id, query)
            .await?
            .map(mapping::subscriber)
            .transpose()
    }

    async fn field_values(
        &self,
        tenant_id: TenantId,
        ids: &[SubscriberId],
    ) -> DomainResult<Vec<(SubscriberId, FieldValueRecord, CustomField)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let query = subscriber_field_values::Entity::find()
            .filter(subscriber_field_values::Column::TenantId.eq(tenant_id.0))
            .filter(among(
                self.db.get_database_backend(),
                subscriber_field_values::Column::SubscriberId,
                uuids(ids),
            ))
            .find_also_related(custom_fields::Entity)
            .order_by_asc(custom_fields::Column::Number);
        let rows = run::all_with(&self.db, tenant_id, query).await?;
        // Every value has its field (the key cascades); one without is skipped, not an error.
        rows.into_iter()
            .filter_map(|(row, field)| Some((row, field?)))
            .map(|(row, field)| {
                let value = mapping::field_value(&row);
                Ok((
                    row.subscriber_id.into(),
                    value,
                    catalogue_mapping::custom_field(field)?,
                ))
            })
            .collect()
    }

    async fn tags(
        &self,
        tenant_id: TenantId,
        ids: &[SubscriberId],
    ) -> DomainResult<Vec<(SubscriberId, Tag)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let query = subscriber_tags::Entity::find()
            .filter(subscriber_tags::Column::TenantId.eq(tenant_id.0))
            .filter(among(
                self.db.get_database_backend(),
                subscriber_tags::Column::SubscriberId,
                uuids(ids),
            ))
            .find_also_related(tags::Entity)
            .order_by_asc(tags::Column::NameKey)
            .order_by_asc(tags::Column::Id);
        let rows = run::all_with(&self.db, tenant_id, query).await?;
        Ok(rows
            .into_iter()
            .filter_map(|(row, tag)| Some((row.subscriber_id.into(), catalogue_mapping::tag(tag?))))
            .collect())
    }

    async fn opt_ins(&self, tenant_id: TenantId, ids: &[SubscriberId]) -> DomainResult<Vec<OptIn>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let query = notification_opt_ins::Entity::find()
            .filter(notification_opt_ins::Column::TenantId.eq(tenant_id.0))
            .filter(among(
                self.db.get_database_backend(),
                notification_opt_ins::Column::SubscriberId,
                uuids(ids),
            ))
            .order_by_asc(notification_opt_ins::Column::CreatedAt)
            .order_by_asc(notification_opt_ins::Column::Id);
        let rows = run::all(&self.db, tenant_id, query).await?;
        rows.into_iter().map(mapping::opt_in).collect()
    }

    async fn details(
        &self,
        tenant_id: TenantId,
        ids: &[SubscriberId],
        selection: DetailSelection,
    ) -> DomainResult<SubscriberDetails> {
        if !selection.any() {
            return Ok(SubscriberDetails::default());
        }
        if !ids.is_empty() && self.db.get_database_backend() == DbBackend::Postgres {
            return details::in_one_statement(&self.db, tenant_id, ids, selection).await;
        }
        // SQLite: one statement per list, each a call into the process rather than a round trip.
        let mut details = SubscriberDetails::default();
        if selection.fields {
            details.fields = Some(self.field_values(tenant_id, ids).await?);
        }
        if selection.tags {
            details.tags = Some(self.tags(tenant_id, ids).await?);
        }
        if selection.opt_ins {
            details.opt_ins = Some(self.opt_ins(tenant_id, ids).await?);
        }
        Ok(details)
    }

    async fn opt_ins_for_topic(
        &self,
        tenant_id: TenantId,
        topic_id: TopicId,
    ) -> DomainResult<Vec<OptIn>> {
        let query = notification_opt_ins::Entity::find()
            .filter(notification_opt_ins::Column::TenantId.eq(tenant_id.0))
            .filter(notification_opt_ins::Column::TopicId.eq(topic_id.0));
        let rows = run::all(&self.db, tenant_id, query).await?;
        rows.into_iter().map(mapping::opt_in).collect()
    }

    async fn import(
        &self,
        tenant_id: TenantId,
        page_id: PageId,
        rows: &[ImportRow],
        now: DateTime<Utc>,
    ) -> DomainResult<ImportApplied> {
        self.import_rows(tenant_id, page_id, rows, now).await
    }

    async fn interactions(
        &self,
        tenant_id: TenantId,
        id: SubscriberId,
        page: PageRequest,
    ) -> DomainResult<Page<InteractionRecord>> {
        let timeline = subscriber_interactions::Entity::find()
            .filter(subscriber_interactions::Column::TenantId.eq(tenant_id.0))
            .filter(subscriber_interactions::Column::SubscriberId.eq(id.0));
        // Newest first in event time: events may be processed out of order.
        let rows = run::page_newest_by_time(
            &self.db,
            tenant_id,
            timeline,
            subscriber_interactions::Column::OccurredAt,
            subscriber_interactions::Column::Id,
            page,
        )
        .await?;
        Ok(rows.map(|row| InteractionRecord {
            id: row.id,
            event_id: row.event_id.into(),
            kind: row.kind,
            detail: row.detail,
            occurred_at: row.occurred_at,
        }))
    }

    async fn set_field_value(
        &self,
        tenant_id: TenantId,
        id: SubscriberId,
        value: &FieldValueRecord,
    ) -> DomainResult<()> {
        let txn = scope::for_tenant(&self.db, tenant_id)
            .await
            .map_err(internal)?;
        subscriber_field_values::Entity::insert(field_value_row(
            tenant_id,
            id.0,
            value.field_id.0,
            value.value.clone(),
            value.set_at,
        ))
        .on_conflict(
            OnConflict::columns([
                subscriber_field_values::Column::TenantId,
                subscriber_field_values::Column::SubscriberId,
                subscriber_field_values::Column::FieldId,
            ])
            .update_columns([
                subscriber_field_values::Column::Value,
                subscriber_field_values::Column::SetAt,
            ])
            .to_owned(),
        )
        .exec_without_returning(&txn)
        .await
        .map_err(internal)?;
        txn.commit().await.map_err(internal)
    }

    async fn clear_field_value(
        &self,
        tenant_id: TenantId,
        id: SubscriberId,
        field_id: CustomFieldId,
    ) -> DomainResult<bool> {
        let delete = subscriber_field_values::Entity::delete_many()
            .filter(subscriber_field_values::Column::TenantId.eq(tenant_id.0))
            .filter(subscriber_field_values::Column::SubscriberId.eq(id.0))
            .filter(subscriber_field_values::Column::FieldId.eq(field_id.0));
        Ok(run::delete(&self.db, tenant_id, delete).await? > 0)
    }

    async fn add_tag(
        &self,
        tenant_id: TenantId,
        id: SubscriberId,
        tag_id: TagId,
        at: DateTime<Utc>,
    ) -> DomainResult<()> {
        // Reads, then writes: on SQLite the write lock is taken at BEGIN, so that another
        // writer committing in between makes this wait its turn instead of failing.
        let txn = scope::for_tenant_writing(&self.db, tenant_id)
            .await
            .map_err(internal)?;
        let exists = subscriber_tags::Entity::find_by_id((tenant_id.0, id.0, tag_id.0))
            .one(&txn)
            .await
            .map_err(internal)?
            .is_some();
        if !exists {
            subscriber_tags::ActiveModel {
                tenant_id: Set(tenant_id.0),
                subscriber_id: Set(id.0),
                tag_id: Set(tag_id.0),
                added_at: Set(at),
            }
            .insert(&txn)
            .await
            .map_err(internal)?;
        }
        txn.commit().await.map_err(internal)
    }

    async fn remove_tag(
        &self,
        tenant_id: TenantId,
        id: SubscriberId,
        tag_id: TagId,
    ) -> DomainResult<bool> {
        let delete = subscriber_tags::Entity::delete_many()
            .filter(subscriber_tags::Column::TenantId.eq(tenant_id.0))
            .filter(subscriber_tags::Column::SubscriberId.eq(id.0))
            .filter(subscriber_tags::Column::TagId.eq(tag_id.0));
        Ok(run::delete(&self.db, tenant_id, delete).await? > 0)
    }

    async fn field_has_values(
        &self,
        tenant_id: TenantId,
        field_id: CustomFieldId,
    ) -> DomainResult<bool> {
        let query = subscriber_field_values::Entity::find()
            .filter(subscriber_field_values::Column::TenantId.eq(tenant_id.0))
            .filter(subscriber_field_values::Column::FieldId.eq(field_id.0));
        Ok(run::count(&self.db, tenant_id, query).await? > 0)
    }
}
