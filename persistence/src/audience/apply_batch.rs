//! Applying a tenant's share of a claimed batch of events in one transaction, with one
//! multi-row statement per table (subscribers, timeline, subscriber rows, field values, tags,
//! flow runs, the inbox) instead of about eight statements per event. The rows and the rules
//! are those of applying one event (`apply.rs`); the result is that of applying the events one
//! by one, in event time.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use refhub_domain::audience::{AppliedEvent, EventEffects, Findings};
use refhub_domain::ids::WebhookEventId;
use refhub_domain::webhooks::InboxStatus;
use refhub_domain::{DomainError, DomainResult};
use sea_orm::{DatabaseTransaction, EntityTrait};
use serde_json::Value;
use uuid::Uuid;

use super::apply::{
    apply_in, change_opt_in, field_value_row, fold_event, insert_runs, insert_tags,
    interaction_once, interaction_row, new_subscriber_row, rows_per_statement, run_row,
    subscriber_upsert, tag_row, upsert_field_values, write_subscribers,
};
use crate::entities::{subscriber_interactions, subscribers};
use crate::error::internal;
use crate::webhooks::mapping::finished_each;

/// A person on a page: the page and the sender key, the subscriber's unique key.
type PersonKey = (Uuid, String);

fn person_key(effects: &EventEffects) -> PersonKey {
    (effects.page_id.0, effects.sender.key())
}

/// A subscriber the batch holds locked, as it will be written back.
struct Person {
    row: subscribers::Model,
    /// The event (its index in the batch) that created the subscriber, when the batch did.
    created_by: Option<usize>,
    /// Whether an event applied for the first time changed the row.
    touched: bool,
}

#[derive(Debug, thiserror::Error)]
enum BatchError {
    #[error("a batch applies the events of one tenant; this one mixes tenants")]
    MixedTenants,
    #[error("the subscriber upsert returned no row for a person of the batch")]
    MissingSubscriber,
}

/// Applies `effects` (one tenant's events) inside `txn`, which acts for that tenant. Results
/// come in the order of `effects`.
///
/// Events of plugin users, and replies that link one to a PSID, may change who a subscriber
/// is (`plugin_users.rs`): they are rare, and applied first, one by one in event time, so that
/// the others find the people as those events leave them.
pub(crate) async fn apply_batch_in(
    txn: &DatabaseTransaction,
    effects: &[EventEffects],
) -> DomainResult<Vec<AppliedEvent>> {
    let Some(first) = effects.first() else {
        return Ok(Vec::new());
    };
    if effects.iter().any(|e| e.tenant_id != first.tenant_id) {
        return Err(DomainError::internal(BatchError::MixedTenants));
    }
    if !effects.iter().any(EventEffects::concerns_a_plugin_user) {
        return apply_together(txn, effects).await;
    }
    let (mut one_by_one, together): (Vec<usize>, Vec<usize>) =
        (0..effects.len()).partition(|&i| effects[i].concerns_a_plugin_user());
    one_by_one.sort_by_key(|&i| effects[i].occurred_at);
    let mut applied = vec![None; effects.len()];
    for i in one_by_one {
        applied[i] = Some(apply_in(txn, &effects[i]).await?);
    }
    let rest: Vec<EventEffects> = together.iter().map(|&i| effects[i].clone()).collect();
    for (i, result) in together.into_iter().zip(apply_together(txn, &rest).await?) {
        applied[i] = Some(result);
    }
    applied
        .into_iter()
        .map(|result| result.ok_or_else(|| DomainError::internal(BatchError::MissingSubscriber)))
        .collect()
}

/// Applies events none of which concerns a plugin user, with one statement per table.
async fn apply_together(
    txn: &DatabaseTransaction,
    effects: &[EventEffects],
) -> DomainResult<Vec<AppliedEvent>> {
    if effects.is_empty() {
        return Ok(Vec::new());
    }
    let now = Utc::now();
    // Event time, ties in batch order (a stable sort): the order applying one by one takes.
    let mut by_time: Vec<usize> = (0..effects.len()).collect();
    by_time.sort_by_key(|&i| effects[i].occurred_at);

    let mut people = lock_subscribers(txn, effects, &by_time, now).await?;
    let first_application = record_interactions(txn, effects, &people).await?;
    let firsts: Vec<usize> = by_time
        .iter()
        .copied()
        .filter(|&i| first_application[i])
        .collect();

    for &i in &firsts {
        let person = person_mut(&mut people, &effects[i])?;
        fold_event(&mut person.row, &effects[i]);
        person.touched = true;
    }
    let changed = people
        .values()
        .filter(|person| person.touched)
        .map(|person| subscribers::Model {
            updated_at: now,
            ..person.row.clone()
        })
        .collect();
    write_subscribers(txn, changed).await?;

    set_field_values(txn, effects, &people, &firsts).await?;
    add_tags(txn, effects, &people, &firsts).await?;
    // Opt-ins are rare and read what they change: one by one, in event time.
    let mut findings = HashMap::new();
    for &i in &firsts {
        if effects[i].opt_in.is_some() {
            let subscriber_id = person(&people, &effects[i])?.row.id;
            let status_change = change_opt_in(txn, &effects[i], subscriber_id).await?;
            findings.insert(
                i,
                Findings {
                    plugin_link: None,
                    status_change,
                },
            );
        }
    }
    let mut runs = Vec::new();
    for &i in &firsts {
        let subscriber_id = person(&people, &effects[i])?.row.id;
        runs.extend(run_row(&effects[i], subscriber_id));
    }
    insert_runs(txn, runs).await?;
    mark_processed(txn, effects, &findings, Utc::now()).await?;

    effects
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let person = person(&people, e)?;
            Ok(AppliedEvent {
                subscriber_id: person.row.id.into(),
                new_subscriber: person.created_by == Some(i),
                first_application: first_application[i],
            })
        })
        .collect()
}

fn person<'a>(
    people: &'a BTreeMap<PersonKey, Person>,
    effects: &EventEffects,
) -> DomainResult<&'a Person> {
    people
        .get(&person_key(effects))
        .ok_or_else(|| DomainError::internal(BatchError::MissingSubscriber))
}

fn person_mut<'a>(
    people: &'a mut BTreeMap<PersonKey, Person>,
    effects: &EventEffects,
) -> DomainResult<&'a mut Person> {
    people
        .get_mut(&person_key(effects))
        .ok_or_else(|| DomainError::internal(BatchError::MissingSubscriber))
}

/// Finds or creates every person of the batch in one upsert, holding their rows locked until
/// the transaction ends (see `lock_subscriber` in `apply.rs`).
///
/// Each person appears once (one statement cannot upsert a row twice), with their earliest
/// event, which is the one that creates them if they are new. The rows are sorted by page and
/// sender key, so that workers applying batches that share people lock them in the same order
/// and never wait for each other in a cycle.
async fn lock_subscribers(
    txn: &DatabaseTransaction,
    effects: &[EventEffects],
    by_time: &[usize],
    now: DateTime<Utc>,
) -> DomainResult<BTreeMap<PersonKey, Person>> {
    let mut earliest: BTreeMap<PersonKey, usize> = BTreeMap::new();
    for &i in by_time {
        earliest.entry(person_key(&effects[i])).or_insert(i);
    }
    let mut generated: HashMap<Uuid, usize> = HashMap::with_capacity(earliest.len());
    let rows: Vec<subscribers::ActiveModel> = earliest
        .values()
        .map(|&i| {
            let id = Uuid::now_v7();
            generated.insert(id, i);
            new_subscriber_row(&effects[i], id, now)
        })
        .collect();
    let mut people = BTreeMap::new();
    for chunk in rows.chunks(rows_per_statement::<subscribers::Entity>()) {
        let stored = subscribers::Entity::insert_many(chunk.iter().cloned())
            .on_conflict(subscriber_upsert())
            .exec_with_returning(txn)
            .await
            .map_err(internal)?;
        for row in stored {
            // New when the row carries the id generated here.
            let created_by = generated.get(&row.id).copied();
            people.insert(
                (row.page_id, row.sender_key.clone()),
                Person {
                    row,
                    created_by,
                    touched: false,
                },
            );
        }
    }
    if earliest.keys().any(|key| !people.contains_key(key)) {
        return Err(DomainError::internal(BatchError::MissingSubscriber));
    }
    Ok(people)
}

/// Records every event on its subscriber's timeline in one insert; returns, for each event,
/// whether this is its first application (its record was new). An event recorded before (a
/// replay), or named twice in the batch, changes nothing more.
async fn record_interactions(
    txn: &DatabaseTransaction,
    effects: &[EventEffects],
    people: &BTreeMap<PersonKey, Person>,
) -> DomainResult<Vec<bool>> {
    let mut seen = HashSet::with_capacity(effects.len());
    let mut ids = Vec::with_capacity(effects.len());
    let mut rows = Vec::with_capacity(effects.len());
    for (i, e) in effects.iter().enumerate() {
        if !seen.insert(e.event_id) {
            ids.push(None);
            continue;
        }
        let person = person(people, e)?;
        let id = Uuid::now_v7();
        rows.push(interaction_row(
            e,
            id,
            person.row.id,
            person.created_by == Some(i),
        ));
        ids.push(Some(id));
    }
    let mut inserted = HashSet::with_capacity(rows.len());
    for chunk in rows.chunks(rows_per_statement::<subscriber_interactions::Entity>()) {
        let keys = subscriber_interactions::Entity::insert_many(chunk.iter().cloned())
            .on_conflict(interaction_once())
            .exec_with_returning_keys(txn)
            .await
            .map_err(internal)?;
        inserted.extend(keys.into_iter().map(|(_, id)| id));
    }
    Ok(ids
        .into_iter()
        .map(|id| id.is_some_and(|id| inserted.contains(&id)))
        .collect())
}

/// One row per subscriber and field: the value of the latest event (ties: the later in the
/// batch), upserted with the same guard as one event's values.
async fn set_field_values(
    txn: &DatabaseTransaction,
    effects: &[EventEffects],
    people: &BTreeMap<PersonKey, Person>,
    firsts: &[usize],
) -> DomainResult<()> {
    let mut latest: BTreeMap<(Uuid, Uuid), (&str, DateTime<Utc>)> = BTreeMap::new();
    for &i in firsts {
        let e = &effects[i];
        let subscriber_id = person(people, e)?.row.id;
        for (field_id, value) in &e.field_values {
            latest.insert((subscriber_id, field_id.0), (value, e.occurred_at));
        }
    }
    let Some(e) = effects.first() else {
        return Ok(());
    };
    let rows = latest
        .into_iter()
        .map(|((subscriber_id, field_id), (value, at))| {
            field_value_row(e.tenant_id, subscriber_id, field_id, value.to_owned(), at)
        })
        .collect();
    upsert_field_values(txn, rows).await
}

/// One row per subscriber and tag, added at the earliest event that adds it.
async fn add_tags(
    txn: &DatabaseTransaction,
    effects: &[EventEffects],
    people: &BTreeMap<PersonKey, Person>,
    firsts: &[usize],
) -> DomainResult<()> {
    let mut tags: BTreeMap<(Uuid, Uuid), DateTime<Utc>> = BTreeMap::new();
    for &i in firsts {
        let e = &effects[i];
        let subscriber_id = person(people, e)?.row.id;
        for tag_id in &e.tag_ids {
            tags.entry((subscriber_id, tag_id.0))
                .or_insert(e.occurred_at);
        }
    }
    let Some(e) = effects.first() else {
        return Ok(());
    };
    let rows = tags
        .into_iter()
        .map(|((subscriber_id, tag_id), at)| tag_row(e.tenant_id, subscriber_id, tag_id, at))
        .collect();
    insert_tags(txn, rows).await
}

/// Events one inbox update closes: three bound values each, far within the limits.
const EVENTS_PER_UPDATE: usize = 1_000;

/// Marks every event processed with its own outcome, in one update (per [`EVENTS_PER_UPDATE`]).
async fn mark_processed(
    txn: &DatabaseTransaction,
    effects: &[EventEffects],
    findings: &HashMap<usize, Findings>,
    at: DateTime<Utc>,
) -> DomainResult<()> {
    let Some(first) = effects.first() else {
        return Ok(());
    };
    let mut seen = HashSet::with_capacity(effects.len());
    let outcomes: Vec<(WebhookEventId, Value)> = effects
        .iter()
        .enumerate()
        .filter(|(_, e)| seen.insert(e.event_id))
        .map(|(i, e)| {
            let outcome = match findings.get(&i) {
                Some(found) => e.outcome_with(*found),
                None => e.outcome.clone(),
            };
            (e.event_id, outcome)
        })
        .collect();
    for chunk in outcomes.chunks(EVENTS_PER_UPDATE) {
        finished_each(first.tenant_id, chunk, InboxStatus::Processed, at)
            .exec(txn)
            .await
            .map_err(internal)?;
    }
    Ok(())
}
