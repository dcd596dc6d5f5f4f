//! Applying checked import rows in one transaction, a few statements per few hundred rows.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use refhub_domain::DomainResult;
use refhub_domain::audience::{ImportApplied, ImportRow};
use refhub_domain::ids::{PageId, TenantId};
use refhub_domain::webhooks::Sender;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect, Set};
use uuid::Uuid;

use super::apply::{field_value_row, insert_tags, tag_row};
use crate::Store;
use crate::entities::{subscriber_field_values, subscribers};
use crate::error::internal;
use crate::scope;

/// Rows per round of statements (the subscriber insert has 15 columns: well under both
/// engines' bound-parameter limits).
const CHUNK: usize = 500;

impl Store {
    pub(crate) async fn import_rows(
        &self,
        tenant_id: TenantId,
        page_id: PageId,
        rows: &[ImportRow],
        now: DateTime<Utc>,
    ) -> DomainResult<ImportApplied> {
        let txn = scope::for_tenant_writing(&self.db, tenant_id)
            .await
            .map_err(internal)?;
        let mut applied = ImportApplied::default();
        for chunk in rows.chunks(CHUNK) {
            let created = import_chunk(&txn, tenant_id, page_id, chunk, now).await?;
            applied.created += created;
            applied.updated += chunk.len() as u64 - created;
        }
        txn.commit().await.map_err(internal)?;
        Ok(applied)
    }
}

/// Creates the chunk's new subscribers, then sets values and adds tags; returns how many were
/// created.
async fn import_chunk(
    txn: &DatabaseTransaction,
    tenant_id: TenantId,
    page_id: PageId,
    rows: &[ImportRow],
    now: DateTime<Utc>,
) -> DomainResult<u64> {
    let key = |row: &ImportRow| Sender::Psid(row.psid.clone()).key();
    let created =
        subscribers::Entity::insert_many(rows.iter().map(|row| subscribers::ActiveModel {
            tenant_id: Set(tenant_id.0),
            id: Set(Uuid::now_v7()),
            page_id: Set(page_id.0),
            sender_key: Set(key(row)),
            psid: Set(Some(row.psid.clone())),
            user_ref: Set(None),
            name: Set(None),
            first_seen_at: Set(now),
            last_interaction_at: Set(None),
            source_ref: Set(None),
            source_ref_link_id: Set(None),
            source_ref_at: Set(None),
            entry_count: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
        }))
        .on_conflict(
            OnConflict::columns([
                subscribers::Column::TenantId,
                subscribers::Column::PageId,
                subscribers::Column::SenderKey,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(txn)
        .await
        .map_err(internal)?;

    let ids: HashMap<String, Uuid> = subscribers::Entity::find()
        .select_only()
        .column(subscribers::Column::SenderKey)
        .column(subscribers::Column::Id)
        .filter(subscribers::Column::TenantId.eq(tenant_id.0))
        .filter(subscribers::Column::PageId.eq(page_id.0))
        .filter(subscribers::Column::SenderKey.is_in(rows.iter().map(key)))
        .into_tuple::<(String, Uuid)>()
        .all(txn)
        .await
        .map_err(internal)?
        .into_iter()
        .collect();

    let values: Vec<_> = rows
        .iter()
        .filter_map(|row| ids.get(&key(row)).map(|id| (*id, row)))
        .flat_map(|(subscriber_id, row)| {
            row.values.iter().map(move |(field_id, value)| {
                field_value_row(tenant_id, subscriber_id, field_id.0, value.clone(), now)
            })
        })
        .collect();
    for values in values.chunks(CHUNK) {
        subscriber_field_values::Entity::insert_many(values.to_vec())
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
            .exec_without_returning(txn)
            .await
            .map_err(internal)?;
    }

    let tags: Vec<_> = rows
        .iter()
        .filter_map(|row| ids.get(&key(row)).map(|id| (*id, row)))
        .flat_map(|(subscriber_id, row)| {
            row.tag_ids
                .iter()
                .map(move |tag_id| tag_row(tenant_id, subscriber_id, tag_id.0, now))
        })
        .collect();
    insert_tags(txn, tags).await?;
    Ok(created)
}
