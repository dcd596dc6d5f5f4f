//! Applying one webhook event's effects in one transaction, at most once.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use refhub_domain::DomainResult;
use refhub_domain::audience::{AppliedEvent, AudienceStore, EventEffects, OptInChange};
use refhub_domain::flows::FlowRun;
use refhub_domain::webhooks::{InboxStatus, Sender};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use crate::Store;
use crate::entities::{
    flow_runs, notification_opt_ins, subscriber_field_values, subscriber_interactions,
    subscriber_tags, subscribers,
};
use crate::error::internal;
use crate::webhooks::mapping::finished;
use crate::webhooks::processing::begin_processing;

/// Finds or creates the subscriber, holding its row lock so that events of one person apply
/// one after another.
///
/// One upsert does all three in one round trip: `ON CONFLICT … DO UPDATE` locks the existing
/// row (waiting for a concurrent inserter of the same person to commit), and it always reaches
/// the row through the unique (tenant, page, sender) index. A plain locking SELECT was left to
/// the planner, which without fresh statistics (a growing table, autovacuum off or behind)
/// picked the (tenant, page, id) list index and filtered the whole page's subscribers: 5 ms
/// per event at 6,000 subscribers, growing with the page. The row comes back as stored; it is
/// new when it carries the id generated here.
async fn lock_subscriber(
    txn: &DatabaseTransaction,
    effects: &EventEffects,
) -> DomainResult<(subscribers::Model, bool)> {
    let (psid, user_ref) = match &effects.sender {
        Sender::Psid(psid) => (Some(psid.clone()), None),
        Sender::UserRef(r) => (None, Some(r.clone())),
    };
    let now = Utc::now();
    let new_id = Uuid::now_v7();
    let row = subscribers::Entity::insert(subscribers::ActiveModel {
        tenant_id: Set(effects.tenant_id.0),
        id: Set(new_id),
        page_id: Set(effects.page_id.0),
        sender_key: Set(effects.sender.key()),
        psid: Set(psid),
        user_ref: Set(user_ref),
        name: Set(None),
        first_seen_at: Set(effects.occurred_at),
        last_interaction_at: Set(None),
        source_ref: Set(None),
        source_ref_link_id: Set(None),
        source_ref_at: Set(None),
        entry_count: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            subscribers::Column::TenantId,
            subscribers::Column::PageId,
            subscribers::Column::SenderKey,
        ])
        .update_column(subscribers::Column::UpdatedAt)
        .to_owned(),
    )
    .exec_with_returning(txn)
    .await
    .map_err(internal)?;
    let inserted = row.id == new_id;
    Ok((row, inserted))
}

/// Records the event on the timeline; `false` when it was recorded before (a replay).
async fn record_interaction(
    txn: &DatabaseTransaction,
    effects: &EventEffects,
    subscriber_id: Uuid,
    new_subscriber: bool,
) -> DomainResult<bool> {
    let inserted = subscriber_interactions::Entity::insert(subscriber_interactions::ActiveModel {
        tenant_id: Set(effects.tenant_id.0),
        id: Set(Uuid::now_v7()),
        subscriber_id: Set(subscriber_id),
        event_id: Set(effects.event_id.0),
        kind: Set(effects.interaction.kind.clone()),
        detail: Set(effects.interaction.detail.clone()),
        token_fingerprint: Set(effects.interaction.token_fingerprint.clone()),
        // Entries through a link are what link reports count.
        ref_link_id: Set(effects
            .entry
            .as_ref()
            .and_then(|e| e.ref_link_id)
            .map(|id| id.0)),
        new_subscriber: Set(new_subscriber),
        occurred_at: Set(effects.occurred_at),
    })
    .on_conflict(
        OnConflict::columns([
            subscriber_interactions::Column::TenantId,
            subscriber_interactions::Column::EventId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(txn)
    .await
    .map_err(internal)?;
    Ok(inserted == 1)
}

async fn update_subscriber(
    txn: &DatabaseTransaction,
    row: subscribers::Model,
    effects: &EventEffects,
) -> DomainResult<()> {
    let at = effects.occurred_at;
    let mut active: subscribers::ActiveModel = row.clone().into();
    if at < row.first_seen_at {
        active.first_seen_at = Set(at);
    }
    if effects.opens_window && row.last_interaction_at.is_none_or(|last| at > last) {
        active.last_interaction_at = Set(Some(at));
    }
    if let Some(entry) = &effects.entry {
        active.entry_count = Set(row.entry_count + 1);
        // First touch wins, by event time, whatever order events are processed in.
        if row.source_ref_at.is_none_or(|first| at < first) {
            active.source_ref = Set(Some(entry.reference.clone()));
            active.source_ref_link_id = Set(entry.ref_link_id.map(|id| id.0));
            active.source_ref_at = Set(Some(at));
        }
    }
    active.updated_at = Set(Utc::now());
    active.update(txn).await.map_err(internal)?;
    Ok(())
}

/// One upsert for all of the event's values; a stored value set by a later event (by event
/// time) stays, so that events applied out of order end as if applied in order.
async fn set_field_values(
    txn: &DatabaseTransaction,
    effects: &EventEffects,
    subscriber_id: Uuid,
) -> DomainResult<()> {
    if effects.field_values.is_empty() {
        return Ok(());
    }
    // The processor keeps one value per field, so no row is upserted twice in one statement.
    let rows =
        effects
            .field_values
            .iter()
            .map(|(field_id, value)| subscriber_field_values::ActiveModel {
                tenant_id: Set(effects.tenant_id.0),
                subscriber_id: Set(subscriber_id),
                field_id: Set(field_id.0),
                value: Set(value.clone()),
                set_at: Set(effects.occurred_at),
            });
    subscriber_field_values::Entity::insert_many(rows)
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
            .action_and_where(Expr::cust(
                "subscriber_field_values.set_at <= excluded.set_at",
            ))
            .to_owned(),
        )
        .exec_without_returning(txn)
        .await
        .map_err(internal)?;
    Ok(())
}

async fn add_tags(
    txn: &DatabaseTransaction,
    effects: &EventEffects,
    subscriber_id: Uuid,
) -> DomainResult<()> {
    if effects.tag_ids.is_empty() {
        return Ok(());
    }
    let rows = effects
        .tag_ids
        .iter()
        .map(|tag_id| subscriber_tags::ActiveModel {
            tenant_id: Set(effects.tenant_id.0),
            subscriber_id: Set(subscriber_id),
            tag_id: Set(tag_id.0),
            added_at: Set(effects.occurred_at),
        });
    subscriber_tags::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([
                subscriber_tags::Column::TenantId,
                subscriber_tags::Column::SubscriberId,
                subscriber_tags::Column::TagId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(txn)
        .await
        .map_err(internal)?;
    Ok(())
}

async fn change_opt_in(
    txn: &DatabaseTransaction,
    effects: &EventEffects,
    subscriber_id: Uuid,
) -> DomainResult<()> {
    let at = effects.occurred_at;
    match &effects.opt_in {
        None => Ok(()),
        Some(OptInChange::Subscribe {
            id,
            topic_id,
            topic_title,
            token,
            token_fingerprint,
            frequency,
            timezone,
            expires_at,
        }) => {
            let existing = notification_opt_ins::Entity::find_by_id((effects.tenant_id.0, id.0))
                .one(txn)
                .await
                .map_err(internal)?;
            if existing
                .as_ref()
                .is_some_and(|row| row.status_changed_at > at)
            {
                return Ok(());
            }
            // A stop or resume of this token may have been processed first although it
            // happened later: it still decides the status.
            let later_change = subscriber_interactions::Entity::find()
                .filter(subscriber_interactions::Column::TenantId.eq(effects.tenant_id.0))
                .filter(subscriber_interactions::Column::SubscriberId.eq(subscriber_id))
                .filter(
                    subscriber_interactions::Column::TokenFingerprint
                        .eq(token_fingerprint.as_str()),
                )
                .filter(subscriber_interactions::Column::Kind.is_in(["optout", "resume"]))
                .filter(subscriber_interactions::Column::OccurredAt.gt(at))
                .order_by_desc(subscriber_interactions::Column::OccurredAt)
                .one(txn)
                .await
                .map_err(internal)?;
            let (status, status_changed_at) = match &later_change {
                Some(change) if change.kind == "optout" => ("stopped", change.occurred_at),
                Some(change) => ("active", change.occurred_at),
                None => ("active", at),
            };
            let row = notification_opt_ins::ActiveModel {
                tenant_id: Set(effects.tenant_id.0),
                id: Set(id.0),
                subscriber_id: Set(subscriber_id),
                topic_id: Set(topic_id.map(|t| t.0)),
                topic_title: Set(topic_title.clone()),
                token: Set(token.0.clone()),
                token_fingerprint: Set(token_fingerprint.clone()),
                frequency: Set(frequency.map(|f| f.as_str().to_owned())),
                timezone: Set(timezone.clone()),
                expires_at: Set(*expires_at),
                status: Set(status.to_owned()),
                status_changed_at: Set(status_changed_at),
                last_sent_at: Set(existing.as_ref().and_then(|row| row.last_sent_at)),
                last_notified_at: Set(existing.as_ref().and_then(|row| row.last_notified_at)),
                created_at: Set(existing.as_ref().map_or(at, |row| row.created_at)),
                updated_at: Set(Utc::now()),
            };
            if existing.is_some() {
                row.update(txn).await.map_err(internal)?;
            } else {
                row.insert(txn).await.map_err(internal)?;
            }
            Ok(())
        }
        Some(OptInChange::SetStatus {
            token_fingerprint,
            status,
        }) => {
            notification_opt_ins::Entity::update_many()
                .col_expr(
                    notification_opt_ins::Column::Status,
                    Expr::value(status.as_str()),
                )
                .col_expr(
                    notification_opt_ins::Column::StatusChangedAt,
                    Expr::value(at),
                )
                .col_expr(
                    notification_opt_ins::Column::UpdatedAt,
                    Expr::value(Utc::now()),
                )
                .filter(notification_opt_ins::Column::TenantId.eq(effects.tenant_id.0))
                .filter(
                    notification_opt_ins::Column::TokenFingerprint.eq(token_fingerprint.as_str()),
                )
                .filter(notification_opt_ins::Column::StatusChangedAt.lte(at))
                .exec(txn)
                .await
                .map_err(internal)?;
            Ok(())
        }
    }
}

/// Starts the flow run the event triggers; the event's id is the run's start key, so the
/// event starts one run however often it is delivered or replayed.
async fn start_run(
    txn: &DatabaseTransaction,
    effects: &EventEffects,
    subscriber_id: Uuid,
) -> DomainResult<()> {
    let Some(start) = &effects.run_start else {
        return Ok(());
    };
    let run = FlowRun::from_event(
        start.clone(),
        effects.tenant_id,
        subscriber_id.into(),
        effects.page_id,
        effects.event_id,
        Utc::now(),
    );
    flow_runs::Entity::insert(crate::flows::run_row(&run))
        .on_conflict(
            OnConflict::columns([flow_runs::Column::TenantId, flow_runs::Column::StartKey])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await
        .map_err(internal)?;
    Ok(())
}

async fn mark_processed(
    txn: &DatabaseTransaction,
    effects: &EventEffects,
    at: DateTime<Utc>,
) -> DomainResult<()> {
    finished(
        effects.tenant_id,
        effects.event_id,
        InboxStatus::Processed,
        effects.outcome.clone(),
        at,
    )
    .exec(txn)
    .await
    .map_err(internal)?;
    Ok(())
}

/// Applies one event's effects inside `txn`, which acts for the event's tenant: finds or
/// creates the subscriber, applies the effects unless the event was applied before, and marks
/// the event processed. Everything one event writes belongs here, so that it commits or rolls
/// back as one.
pub(crate) async fn apply_in(
    txn: &DatabaseTransaction,
    effects: &EventEffects,
) -> DomainResult<AppliedEvent> {
    let (subscriber, new_subscriber) = lock_subscriber(txn, effects).await?;
    let subscriber_id = subscriber.id;
    let first_application = record_interaction(txn, effects, subscriber_id, new_subscriber).await?;
    if first_application {
        update_subscriber(txn, subscriber, effects).await?;
        set_field_values(txn, effects, subscriber_id).await?;
        add_tags(txn, effects, subscriber_id).await?;
        change_opt_in(txn, effects, subscriber_id).await?;
        start_run(txn, effects, subscriber_id).await?;
    }
    mark_processed(txn, effects, Utc::now()).await?;
    Ok(AppliedEvent {
        subscriber_id: subscriber_id.into(),
        new_subscriber,
        first_application,
    })
}

#[async_trait]
impl AudienceStore for Store {
    async fn apply(&self, effects: &EventEffects) -> DomainResult<AppliedEvent> {
        let txn = begin_processing(&self.db, effects.tenant_id).await?;
        let applied = apply_in(&txn, effects).await?;
        txn.commit().await.map_err(internal)?;
        Ok(applied)
    }
}
