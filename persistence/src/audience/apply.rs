//! Applying one webhook event's effects in one transaction, at most once, and the rows and
//! statements that applying a batch of events (`apply_batch.rs`) shares with it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use refhub_domain::DomainResult;
use refhub_domain::audience::{
    AppliedEvent, AudienceStore, EventEffects, Findings, OptInChange, OptInStatus,
    StatusChangeFound,
};
use refhub_domain::flows::FlowRun;
use refhub_domain::ids::{OptInId, TenantId};
use refhub_domain::webhooks::{InboxStatus, Sender};
use sea_orm::sea_query::{Expr, ExprTrait, Func, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, Iterable, QueryFilter,
    QueryOrder, Set,
};
use uuid::Uuid;

use super::plugin_users::{Settled, settle_person};
use crate::Store;
use crate::entities::{
    flow_runs, notification_opt_ins, subscriber_field_values, subscriber_interactions,
    subscriber_tags, subscribers,
};
use crate::error::internal;
use crate::webhooks::mapping::finished;
use crate::webhooks::processing::begin_processing;

/// Bound values one statement may carry: under SQLite's default limit (32,766) and well under
/// PostgreSQL's (65,535), whatever the batch size.
const MAX_BINDS: usize = 30_000;

/// How many rows of `E` one multi-row statement may hold within [`MAX_BINDS`].
pub(super) fn rows_per_statement<E: EntityTrait>() -> usize {
    (MAX_BINDS / E::Column::iter().count()).max(1)
}

/// The row of a subscriber first seen in `effects`, under the id `id`.
pub(super) fn new_subscriber_row(
    effects: &EventEffects,
    id: Uuid,
    now: DateTime<Utc>,
) -> subscribers::ActiveModel {
    let (psid, user_ref) = match &effects.sender {
        // A reply linking a plugin user nobody knew yet: one subscriber for both.
        Sender::Psid(psid) => (Some(psid.clone()), effects.links_user_ref.clone()),
        Sender::UserRef(r) => (None, Some(r.clone())),
    };
    subscribers::ActiveModel {
        tenant_id: Set(effects.tenant_id.0),
        id: Set(id),
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
        // The profile columns take their defaults: a new subscriber's profile is pending.
        ..Default::default()
    }
}

/// Inserting a subscriber that exists already locks and returns the stored row instead.
///
/// A reply linking a plugin user nobody knew yet inserts the PSID's subscriber with the
/// `user_ref`; should another event of that PSID have inserted it first (a concurrent
/// worker), the `user_ref` is set on the stored row all the same. Any other insert carries no
/// `user_ref`, or the one the row has.
pub(super) fn subscriber_upsert() -> OnConflict {
    OnConflict::columns([
        subscribers::Column::TenantId,
        subscribers::Column::PageId,
        subscribers::Column::SenderKey,
    ])
    .update_column(subscribers::Column::UpdatedAt)
    .value(
        subscribers::Column::UserRef,
        Expr::cust("COALESCE(excluded.user_ref, subscribers.user_ref)"),
    )
    .to_owned()
}

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
    let new_id = Uuid::now_v7();
    let row = subscribers::Entity::insert(new_subscriber_row(effects, new_id, Utc::now()))
        .on_conflict(subscriber_upsert())
        .exec_with_returning(txn)
        .await
        .map_err(internal)?;
    let inserted = row.id == new_id;
    Ok((row, inserted))
}

/// The timeline record of the event, under the id `id`.
pub(super) fn interaction_row(
    effects: &EventEffects,
    id: Uuid,
    subscriber_id: Uuid,
    new_subscriber: bool,
) -> subscriber_interactions::ActiveModel {
    subscriber_interactions::ActiveModel {
        tenant_id: Set(effects.tenant_id.0),
        id: Set(id),
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
    }
}

/// An event is on the timeline at most once: recording it again does nothing, and whether it
/// was recorded decides whether this is its first application.
pub(super) fn interaction_once() -> OnConflict {
    OnConflict::columns([
        subscriber_interactions::Column::TenantId,
        subscriber_interactions::Column::EventId,
    ])
    .do_nothing()
    .to_owned()
}

/// Records the event on the timeline; `false` when it was recorded before (a replay).
async fn record_interaction(
    txn: &DatabaseTransaction,
    effects: &EventEffects,
    subscriber_id: Uuid,
    new_subscriber: bool,
) -> DomainResult<bool> {
    let row = interaction_row(effects, Uuid::now_v7(), subscriber_id, new_subscriber);
    let inserted = subscriber_interactions::Entity::insert(row)
        .on_conflict(interaction_once())
        .exec_without_returning(txn)
        .await
        .map_err(internal)?;
    Ok(inserted == 1)
}

/// Folds the first application of an event into the subscriber's row: first seen and first
/// touch (the entry's ref) move back, the last interaction forward, in event time, whatever
/// order events are applied in; every entry counts.
pub(super) fn fold_event(row: &mut subscribers::Model, effects: &EventEffects) {
    let at = effects.occurred_at;
    if at < row.first_seen_at {
        row.first_seen_at = at;
    }
    if effects.opens_window && row.last_interaction_at.is_none_or(|last| at > last) {
        row.last_interaction_at = Some(at);
    }
    if let Some(entry) = &effects.entry {
        row.entry_count += 1;
        let link_id = entry.ref_link_id.map(|id| id.0);
        take_first_touch(row, at, entry.reference.as_deref(), link_id);
    }
}

/// Folds into `row` another record of the same person (a plugin user merged into the PSID's
/// subscriber), by the same rules as its events: first seen and first touch move back, the
/// last interaction forward, entries add up.
pub(super) fn fold_record(row: &mut subscribers::Model, other: &subscribers::Model) {
    row.first_seen_at = Ord::min(row.first_seen_at, other.first_seen_at);
    row.last_interaction_at = Ord::max(row.last_interaction_at, other.last_interaction_at);
    row.entry_count += other.entry_count;
    if row.name.is_none() {
        row.name.clone_from(&other.name);
    }
    if let Some(at) = other.source_ref_at {
        take_first_touch(
            row,
            at,
            other.source_ref.as_deref(),
            other.source_ref_link_id,
        );
    }
}

/// First touch wins, by event time, whatever order events are processed (or records merged) in.
fn take_first_touch(
    row: &mut subscribers::Model,
    at: DateTime<Utc>,
    reference: Option<&str>,
    link_id: Option<Uuid>,
) {
    if row.source_ref_at.is_none_or(|first| at < first) {
        row.source_ref = reference.map(str::to_owned);
        row.source_ref_link_id = link_id;
        row.source_ref_at = Some(at);
    }
}

/// Writes subscriber rows read (and locked) earlier in the transaction, in one statement per
/// [`rows_per_statement`]: the columns events change, keyed by the primary key.
pub(super) async fn write_subscribers(
    txn: &DatabaseTransaction,
    rows: Vec<subscribers::Model>,
) -> DomainResult<()> {
    let rows: Vec<subscribers::ActiveModel> = rows.into_iter().map(Into::into).collect();
    for chunk in rows.chunks(rows_per_statement::<subscribers::Entity>()) {
        subscribers::Entity::insert_many(chunk.iter().cloned())
            .on_conflict(
                OnConflict::columns([subscribers::Column::TenantId, subscribers::Column::Id])
                    .update_columns([
                        subscribers::Column::FirstSeenAt,
                        subscribers::Column::LastInteractionAt,
                        subscribers::Column::SourceRef,
                        subscribers::Column::SourceRefLinkId,
                        subscribers::Column::SourceRefAt,
                        subscribers::Column::EntryCount,
                        subscribers::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await
            .map_err(internal)?;
    }
    Ok(())
}

async fn update_subscriber(
    txn: &DatabaseTransaction,
    mut row: subscribers::Model,
    effects: &EventEffects,
) -> DomainResult<()> {
    fold_event(&mut row, effects);
    row.updated_at = Utc::now();
    write_subscribers(txn, vec![row]).await
}

/// A subscriber's value for a field, set by an event that happened at `set_at`.
pub(super) fn field_value_row(
    tenant_id: TenantId,
    subscriber_id: Uuid,
    field_id: Uuid,
    value: String,
    set_at: DateTime<Utc>,
) -> subscriber_field_values::ActiveModel {
    subscriber_field_values::ActiveModel {
        tenant_id: Set(tenant_id.0),
        subscriber_id: Set(subscriber_id),
        field_id: Set(field_id),
        value: Set(value),
        set_at: Set(set_at),
    }
}

/// Upserts field values; a stored value set by a later event (by event time) stays, so that
/// events applied out of order end as if applied in order. The caller gives at most one row
/// per subscriber and field (one statement cannot upsert a row twice).
pub(super) async fn upsert_field_values(
    txn: &DatabaseTransaction,
    rows: Vec<subscriber_field_values::ActiveModel>,
) -> DomainResult<()> {
    for chunk in rows.chunks(rows_per_statement::<subscriber_field_values::Entity>()) {
        subscriber_field_values::Entity::insert_many(chunk.iter().cloned())
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
    }
    Ok(())
}

/// One upsert for all of the event's values.
async fn set_field_values(
    txn: &DatabaseTransaction,
    effects: &EventEffects,
    subscriber_id: Uuid,
) -> DomainResult<()> {
    // The processor keeps one value per field, so no row is upserted twice in one statement.
    let rows = effects
        .field_values
        .iter()
        .map(|(field_id, value)| {
            field_value_row(
                effects.tenant_id,
                subscriber_id,
                field_id.0,
                value.clone(),
                effects.occurred_at,
            )
        })
        .collect();
    upsert_field_values(txn, rows).await
}

/// A tag on a subscriber, added by an event that happened at `added_at`.
pub(super) fn tag_row(
    tenant_id: TenantId,
    subscriber_id: Uuid,
    tag_id: Uuid,
    added_at: DateTime<Utc>,
) -> subscriber_tags::ActiveModel {
    subscriber_tags::ActiveModel {
        tenant_id: Set(tenant_id.0),
        subscriber_id: Set(subscriber_id),
        tag_id: Set(tag_id),
        added_at: Set(added_at),
    }
}

/// Adds tags; a tag the subscriber has already stays as it was.
pub(super) async fn insert_tags(
    txn: &DatabaseTransaction,
    rows: Vec<subscriber_tags::ActiveModel>,
) -> DomainResult<()> {
    for chunk in rows.chunks(rows_per_statement::<subscriber_tags::Entity>()) {
        subscriber_tags::Entity::insert_many(chunk.iter().cloned())
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
    }
    Ok(())
}

async fn add_tags(
    txn: &DatabaseTransaction,
    effects: &EventEffects,
    subscriber_id: Uuid,
) -> DomainResult<()> {
    let rows = effects
        .tag_ids
        .iter()
        .map(|tag_id| {
            tag_row(
                effects.tenant_id,
                subscriber_id,
                tag_id.0,
                effects.occurred_at,
            )
        })
        .collect();
    insert_tags(txn, rows).await
}

/// Applies the event's opt-in change, if any, by event time. For a stop or resume, says what
/// it found.
pub(super) async fn change_opt_in(
    txn: &DatabaseTransaction,
    effects: &EventEffects,
    subscriber_id: Uuid,
) -> DomainResult<Option<StatusChangeFound>> {
    let at = effects.occurred_at;
    match &effects.opt_in {
        None => Ok(None),
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
            let existing = opt_in_to_topic(txn, effects, *id, subscriber_id, topic_title).await?;
            // The row holds the opt-in given last, by event time: an earlier one processed
            // late (a renewal, or a token since replaced) changes nothing, while a newer token
            // replaces the row's whatever happened to the old one meanwhile.
            if let Some(row) = &existing
                && opted_in_at(
                    txn,
                    effects.tenant_id.0,
                    subscriber_id,
                    &row.token_fingerprint,
                )
                .await?
                .is_some_and(|since| since > at)
            {
                return Ok(None);
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
                id: Set(existing.as_ref().map_or(id.0, |row| row.id)),
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
            Ok(None)
        }
        Some(OptInChange::SetStatus {
            token_fingerprint,
            status,
        }) => {
            // The person's own opt-in holding the token, changed or not (a later change of it
            // may have been applied first).
            let held = notification_opt_ins::Entity::find()
                .filter(notification_opt_ins::Column::TenantId.eq(effects.tenant_id.0))
                .filter(notification_opt_ins::Column::SubscriberId.eq(subscriber_id))
                .filter(
                    notification_opt_ins::Column::TokenFingerprint.eq(token_fingerprint.as_str()),
                )
                .one(txn)
                .await
                .map_err(internal)?;
            let found = match held {
                None => StatusChangeFound::NoOptIn,
                Some(row)
                    if *status == OptInStatus::Active
                        && row.expires_at.is_some_and(|expiry| expiry <= at) =>
                {
                    StatusChangeFound::ExpiredToken
                }
                Some(_) => StatusChangeFound::Applied,
            };
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
                // The person's own opt-in: a stop naming someone else's token changes nothing.
                .filter(notification_opt_ins::Column::SubscriberId.eq(subscriber_id))
                .filter(
                    notification_opt_ins::Column::TokenFingerprint.eq(token_fingerprint.as_str()),
                )
                .filter(notification_opt_ins::Column::StatusChangedAt.lte(at))
                .exec(txn)
                .await
                .map_err(internal)?;
            Ok(Some(found))
        }
    }
}

/// The subscriber's opt-in to the topic: the row of this id or, failing that, the row with
/// this title (one made under another sender key, by a plugin user merged into this person).
async fn opt_in_to_topic(
    txn: &DatabaseTransaction,
    effects: &EventEffects,
    id: OptInId,
    subscriber_id: Uuid,
    topic_title: &str,
) -> DomainResult<Option<notification_opt_ins::Model>> {
    if let Some(row) = notification_opt_ins::Entity::find_by_id((effects.tenant_id.0, id.0))
        .one(txn)
        .await
        .map_err(internal)?
    {
        return Ok(Some(row));
    }
    notification_opt_ins::Entity::find()
        .filter(notification_opt_ins::Column::TenantId.eq(effects.tenant_id.0))
        .filter(notification_opt_ins::Column::SubscriberId.eq(subscriber_id))
        .filter(
            Expr::expr(Func::lower(Expr::col(
                notification_opt_ins::Column::TopicTitle,
            )))
            .eq(topic_title.to_lowercase()),
        )
        .one(txn)
        .await
        .map_err(internal)
}

/// When the subscriber last opted in with the token of this fingerprint, by event time (its
/// timeline records each opt-in with the token's fingerprint).
pub(super) async fn opted_in_at(
    txn: &DatabaseTransaction,
    tenant_id: Uuid,
    subscriber_id: Uuid,
    token_fingerprint: &str,
) -> DomainResult<Option<DateTime<Utc>>> {
    let latest = subscriber_interactions::Entity::find()
        .filter(subscriber_interactions::Column::TenantId.eq(tenant_id))
        .filter(subscriber_interactions::Column::SubscriberId.eq(subscriber_id))
        .filter(subscriber_interactions::Column::TokenFingerprint.eq(token_fingerprint))
        .filter(subscriber_interactions::Column::Kind.eq("optin"))
        .order_by_desc(subscriber_interactions::Column::OccurredAt)
        .one(txn)
        .await
        .map_err(internal)?;
    Ok(latest.map(|interaction| interaction.occurred_at))
}

/// The flow run the event starts, if any; the event's id is the run's start key, so the event
/// starts one run however often it is delivered or replayed.
pub(super) fn run_row(
    effects: &EventEffects,
    subscriber_id: Uuid,
) -> Option<flow_runs::ActiveModel> {
    let start = effects.run_start.as_ref()?;
    let run = FlowRun::from_event(
        start.clone(),
        effects.tenant_id,
        subscriber_id.into(),
        effects.page_id,
        effects.event_id,
        Utc::now(),
    );
    Some(crate::flows::run_row(&run))
}

/// Starts flow runs; a run whose start key exists already is not started again.
pub(super) async fn insert_runs(
    txn: &DatabaseTransaction,
    rows: Vec<flow_runs::ActiveModel>,
) -> DomainResult<()> {
    for chunk in rows.chunks(rows_per_statement::<flow_runs::Entity>()) {
        flow_runs::Entity::insert_many(chunk.iter().cloned())
            .on_conflict(
                OnConflict::columns([flow_runs::Column::TenantId, flow_runs::Column::StartKey])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await
            .map_err(internal)?;
    }
    Ok(())
}

async fn start_run(
    txn: &DatabaseTransaction,
    effects: &EventEffects,
    subscriber_id: Uuid,
) -> DomainResult<()> {
    let rows = run_row(effects, subscriber_id).into_iter().collect();
    insert_runs(txn, rows).await
}

async fn mark_processed(
    txn: &DatabaseTransaction,
    effects: &EventEffects,
    findings: Findings,
    at: DateTime<Utc>,
) -> DomainResult<()> {
    finished(
        effects.tenant_id,
        effects.event_id,
        InboxStatus::Processed,
        effects.outcome_with(findings),
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
    original: &EventEffects,
) -> DomainResult<AppliedEvent> {
    let Settled { effects, link } = settle_person(txn, original).await?;
    let effects = effects.as_ref();
    let (subscriber, new_subscriber) = lock_subscriber(txn, effects).await?;
    let subscriber_id = subscriber.id;
    let first_application = record_interaction(txn, effects, subscriber_id, new_subscriber).await?;
    let mut findings = Findings {
        plugin_link: link,
        status_change: None,
    };
    if first_application {
        update_subscriber(txn, subscriber, effects).await?;
        set_field_values(txn, effects, subscriber_id).await?;
        add_tags(txn, effects, subscriber_id).await?;
        findings.status_change = change_opt_in(txn, effects, subscriber_id).await?;
        start_run(txn, effects, subscriber_id).await?;
    }
    mark_processed(txn, original, findings, Utc::now()).await?;
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

    async fn apply_batch(&self, effects: &[EventEffects]) -> DomainResult<Vec<AppliedEvent>> {
        let Some(first) = effects.first() else {
            return Ok(Vec::new());
        };
        let txn = begin_processing(&self.db, first.tenant_id).await?;
        let applied = super::apply_batch::apply_batch_in(&txn, effects).await?;
        txn.commit().await.map_err(internal)?;
        Ok(applied)
    }
}
