//! Applying checked import rows in one transaction.
//!
//! On PostgreSQL, three statements whatever the number of rows, the columns going as arrays
//! (as the webhook inbox writes): the subscribers upserted with their ids returned, then their
//! values and tags. The import had looked the ids up again, chunk by chunk, with an `IN` list;
//! on a table never analyzed (a new deployment: autovacuum had not run) the prepared lookup's
//! generic plan scanned the page's every subscriber against the 500 keys, so each chunk cost
//! more than the last and 50,000 rows took minutes. A statement that returns the ids has no
//! plan to go wrong. SQLite keeps a few statements per few hundred rows (its one writer is
//! the bound, not planning).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use refhub_domain::DomainResult;
use refhub_domain::audience::{ImportApplied, ImportRow};
use refhub_domain::ids::{PageId, TenantId};
use refhub_domain::webhooks::Sender;
use sea_orm::sea_query::OnConflict;
use sea_orm::sqlx::{self, PgPool, Row as _};
use sea_orm::{
    ColumnTrait, DatabaseTransaction, DbBackend, EntityTrait, QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

use super::apply::{field_value_row, insert_tags, tag_row};
use crate::Store;
use crate::entities::{subscriber_field_values, subscribers};
use crate::error::{internal, sqlx_failure};
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
        if self.db.get_database_backend() == DbBackend::Postgres {
            return import_on_postgres(
                self.db.get_postgres_connection_pool(),
                tenant_id,
                page_id,
                rows,
                now,
            )
            .await
            .map_err(sqlx_failure);
        }
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
            // The profile columns take their defaults: a new subscriber's profile is pending.
            ..Default::default()
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

// Every row is upserted so that its id comes back; a known subscriber's row is only touched
// (`updated_at`: the import changes it). `xmax = 0` marks a row this statement inserted.
const UPSERT_SUBSCRIBERS_POSTGRES: &str = "
    INSERT INTO subscribers (tenant_id, id, page_id, sender_key, psid, first_seen_at,
                             entry_count, created_at, updated_at)
    SELECT $1, s.id, $2, s.sender_key, s.psid, $3, 0, $3, $3
    FROM unnest($4::uuid[], $5::text[], $6::text[]) AS s(id, sender_key, psid)
    ON CONFLICT (tenant_id, page_id, sender_key) DO UPDATE SET updated_at = excluded.updated_at
    RETURNING id, sender_key, xmax = 0 AS created";

const UPSERT_VALUES_POSTGRES: &str = "
    INSERT INTO subscriber_field_values (tenant_id, subscriber_id, field_id, value, set_at)
    SELECT $1, v.subscriber_id, v.field_id, v.value, $2
    FROM unnest($3::uuid[], $4::uuid[], $5::text[]) AS v(subscriber_id, field_id, value)
    ON CONFLICT (tenant_id, subscriber_id, field_id)
    DO UPDATE SET value = excluded.value, set_at = excluded.set_at";

const ADD_TAGS_POSTGRES: &str = "
    INSERT INTO subscriber_tags (tenant_id, subscriber_id, tag_id, added_at)
    SELECT $1, t.subscriber_id, t.tag_id, $2
    FROM unnest($3::uuid[], $4::uuid[]) AS t(subscriber_id, tag_id)
    ON CONFLICT (tenant_id, subscriber_id, tag_id) DO NOTHING";

/// The rows in one transaction scoped to the tenant (row-level security checks each), in
/// three statements. The domain gives each PSID once, so no statement touches a row twice.
async fn import_on_postgres(
    pool: &PgPool,
    tenant_id: TenantId,
    page_id: PageId,
    rows: &[ImportRow],
    now: DateTime<Utc>,
) -> Result<ImportApplied, sqlx::Error> {
    let opening = scope::opening_for_tenant(tenant_id, "", &[]);
    let mut txn = pool.begin_with(sqlx::AssertSqlSafe(opening)).await?;

    let ids: Vec<Uuid> = rows.iter().map(|_| Uuid::now_v7()).collect();
    let sender_keys: Vec<String> = rows
        .iter()
        .map(|row| Sender::Psid(row.psid.clone()).key())
        .collect();
    let psids: Vec<&str> = rows.iter().map(|row| row.psid.as_str()).collect();
    let upserted = sqlx::query(UPSERT_SUBSCRIBERS_POSTGRES)
        .bind(tenant_id.0)
        .bind(page_id.0)
        .bind(now)
        .bind(ids)
        .bind(&sender_keys)
        .bind(psids)
        .fetch_all(&mut *txn)
        .await?;
    let mut applied = ImportApplied::default();
    // By sender key, as the rows were matched.
    let mut id_of: HashMap<String, Uuid> = HashMap::with_capacity(upserted.len());
    for row in upserted {
        if row.try_get::<bool, _>("created")? {
            applied.created += 1;
        } else {
            applied.updated += 1;
        }
        id_of.insert(row.try_get("sender_key")?, row.try_get("id")?);
    }

    let (mut subscribers, mut fields, mut values) = (Vec::new(), Vec::new(), Vec::new());
    let (mut tagged, mut tags) = (Vec::new(), Vec::new());
    for (row, key) in rows.iter().zip(&sender_keys) {
        let Some(&subscriber_id) = id_of.get(key) else {
            continue;
        };
        for (field_id, value) in &row.values {
            subscribers.push(subscriber_id);
            fields.push(field_id.0);
            values.push(value.as_str());
        }
        for tag_id in &row.tag_ids {
            tagged.push(subscriber_id);
            tags.push(tag_id.0);
        }
    }
    if !values.is_empty() {
        sqlx::query(UPSERT_VALUES_POSTGRES)
            .bind(tenant_id.0)
            .bind(now)
            .bind(subscribers)
            .bind(fields)
            .bind(values)
            .execute(&mut *txn)
            .await?;
    }
    if !tags.is_empty() {
        sqlx::query(ADD_TAGS_POSTGRES)
            .bind(tenant_id.0)
            .bind(now)
            .bind(tagged)
            .bind(tags)
            .execute(&mut *txn)
            .await?;
    }
    txn.commit().await?;
    Ok(applied)
}
