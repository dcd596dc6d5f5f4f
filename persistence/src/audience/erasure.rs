//! Erasing a subscriber: their rows deleted, the webhook items naming them redacted, in one
//! tenant-scoped transaction.

use std::collections::BTreeMap;

use async_trait::async_trait;
use refhub_domain::DomainResult;
use refhub_domain::audience::{ErasureCounts, ErasureTarget, SubscriberEraser, redacted_item};
use refhub_domain::ids::TenantId;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, EntityTrait, QueryFilter,
    Statement, Value,
};
use uuid::Uuid;

use crate::Store;
use crate::entities::{
    flow_runs, notification_opt_ins, outbound_messages, subscriber_field_values,
    subscriber_interactions, subscriber_tags, subscribers, webhook_events,
};
use crate::error::internal;
use crate::id_list::among;
use crate::scope;

#[async_trait]
impl SubscriberEraser for Store {
    async fn erase(
        &self,
        tenant_id: TenantId,
        target: &ErasureTarget,
    ) -> DomainResult<Option<ErasureCounts>> {
        let txn = scope::for_tenant_writing(&self.db, tenant_id)
            .await
            .map_err(internal)?;
        let Some(counts) = erase_in(&txn, tenant_id, target).await.map_err(internal)? else {
            return Ok(None);
        };
        txn.commit().await.map_err(internal)?;
        Ok(Some(counts))
    }
}

async fn erase_in(
    txn: &DatabaseTransaction,
    tenant_id: TenantId,
    target: &ErasureTarget,
) -> Result<Option<ErasureCounts>, DbErr> {
    let tenant = tenant_id.0;
    let subscriber = target.subscriber_id.0;
    // Messages first: they name the runs and opt-ins deleted after them.
    let messages = outbound_messages::Entity::delete_many()
        .filter(outbound_messages::Column::TenantId.eq(tenant))
        .filter(outbound_messages::Column::SubscriberId.eq(subscriber))
        .exec(txn)
        .await?
        .rows_affected;
    let flow_runs = flow_runs::Entity::delete_many()
        .filter(flow_runs::Column::TenantId.eq(tenant))
        .filter(flow_runs::Column::SubscriberId.eq(subscriber))
        .exec(txn)
        .await?
        .rows_affected;
    let opt_ins = notification_opt_ins::Entity::delete_many()
        .filter(notification_opt_ins::Column::TenantId.eq(tenant))
        .filter(notification_opt_ins::Column::SubscriberId.eq(subscriber))
        .exec(txn)
        .await?
        .rows_affected;
    let interactions = subscriber_interactions::Entity::delete_many()
        .filter(subscriber_interactions::Column::TenantId.eq(tenant))
        .filter(subscriber_interactions::Column::SubscriberId.eq(subscriber))
        .exec(txn)
        .await?
        .rows_affected;
    let tags = subscriber_tags::Entity::delete_many()
        .filter(subscriber_tags::Column::TenantId.eq(tenant))
        .filter(subscriber_tags::Column::SubscriberId.eq(subscriber))
        .exec(txn)
        .await?
        .rows_affected;
    let field_values = subscriber_field_values::Entity::delete_many()
        .filter(subscriber_field_values::Column::TenantId.eq(tenant))
        .filter(subscriber_field_values::Column::SubscriberId.eq(subscriber))
        .exec(txn)
        .await?
        .rows_affected;
    let deleted = subscribers::Entity::delete_many()
        .filter(subscribers::Column::TenantId.eq(tenant))
        .filter(subscribers::Column::Id.eq(subscriber))
        .exec(txn)
        .await?
        .rows_affected;
    if deleted == 0 {
        // Erased meanwhile by another request: that one redacted the inbox too.
        return Ok(None);
    }
    for (prefix, replacement) in &target.dedup_key_prefixes {
        rewrite_dedup_keys(txn, tenant, prefix, replacement).await?;
    }
    let webhook_events_redacted = redact_events(txn, tenant, target).await?;
    Ok(Some(ErasureCounts {
        field_values,
        tags,
        interactions,
        opt_ins,
        flow_runs,
        messages,
        webhook_events_redacted,
    }))
}

/// `sql` written with `$1, $2, …` (each used once, in order), for the transaction's engine.
fn statement(txn: &DatabaseTransaction, sql: &str, values: Vec<Value>) -> Statement {
    let backend = txn.get_database_backend();
    let sql = if backend == DbBackend::Postgres {
        sql.to_owned()
    } else {
        (1..=values.len())
            .rev()
            .fold(sql.to_owned(), |sql, n| sql.replace(&format!("${n}"), "?"))
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// Rewrites the dedup keys starting with `prefix` to start with `replacement`. A key whose
/// rewritten form is taken already (the same item stored again after keys changed form) cannot
/// keep either: it becomes the event's own id, which names nobody and matches no redelivery
/// (the other row already does).
async fn rewrite_dedup_keys(
    txn: &DatabaseTransaction,
    tenant: Uuid,
    prefix: &str,
    replacement: &str,
) -> Result<(), DbErr> {
    let length = i32::try_from(prefix.chars().count()).unwrap_or(i32::MAX);
    let rewritten = statement(
        txn,
        "UPDATE webhook_events AS e SET dedup_key = $1 || substr(e.dedup_key, $2)
          WHERE e.tenant_id = $3 AND substr(e.dedup_key, 1, $4) = $5
            AND NOT EXISTS (SELECT 1 FROM webhook_events AS o
                             WHERE o.tenant_id = e.tenant_id
                               AND o.dedup_key = $6 || substr(e.dedup_key, $7))",
        vec![
            replacement.into(),
            (length + 1).into(),
            tenant.into(),
            length.into(),
            prefix.into(),
            replacement.into(),
            (length + 1).into(),
        ],
    );
    txn.execute_raw(rewritten).await?;
    let clashing = statement(
        txn,
        "UPDATE webhook_events SET dedup_key = $1 || CAST(id AS TEXT)
          WHERE tenant_id = $2 AND substr(dedup_key, 1, $3) = $4",
        vec![
            "erased|".into(),
            tenant.into(),
            length.into(),
            prefix.into(),
        ],
    );
    txn.execute_raw(clashing).await?;
    Ok(())
}

/// Redacts the tenant's stored events sent by the person or whose item names them (as a JSON
/// string, the way Meta writes every id); returns how many.
async fn redact_events(
    txn: &DatabaseTransaction,
    tenant: Uuid,
    target: &ErasureTarget,
) -> Result<u64, DbErr> {
    let backend = txn.get_database_backend();
    let contains = if backend == DbBackend::Postgres {
        "strpos(CAST(item AS TEXT), $2) > 0"
    } else {
        "instr(item, $2) > 0"
    };
    let mut by_kind: BTreeMap<String, Vec<Uuid>> = BTreeMap::new();
    let by_sender = target.sender_keys.iter().map(|key| {
        statement(
            txn,
            "SELECT id, kind FROM webhook_events WHERE tenant_id = $1 AND sender_key = $2",
            vec![tenant.into(), key.clone().into()],
        )
    });
    let by_name = target.names.iter().map(|name| {
        let quoted = serde_json::Value::String(name.clone()).to_string();
        statement(
            txn,
            &format!("SELECT id, kind FROM webhook_events WHERE tenant_id = $1 AND {contains}"),
            vec![tenant.into(), quoted.into()],
        )
    });
    for find in by_sender.chain(by_name).collect::<Vec<_>>() {
        for row in txn.query_all_raw(find).await? {
            let id: Uuid = row.try_get("", "id")?;
            let kind: String = row.try_get("", "kind")?;
            by_kind.entry(kind).or_default().push(id);
        }
    }
    let mut redacted = 0;
    for (kind, mut ids) in by_kind {
        ids.sort_unstable();
        ids.dedup();
        redacted += webhook_events::Entity::update_many()
            .col_expr(
                webhook_events::Column::Item,
                Expr::value(redacted_item(&kind)),
            )
            .col_expr(
                webhook_events::Column::SenderKey,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                webhook_events::Column::LastError,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                webhook_events::Column::Outcome,
                Expr::value(Option::<serde_json::Value>::None),
            )
            .filter(webhook_events::Column::TenantId.eq(tenant))
            .filter(among(backend, webhook_events::Column::Id, ids))
            .exec(txn)
            .await?
            .rows_affected;
    }
    Ok(redacted)
}
