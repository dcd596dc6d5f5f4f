//! Plugin users and their PSIDs: one person, whatever order their events are applied in.
//!
//! Someone who ticks the checkbox plugin is known only by the plugin's `user_ref`; their reply
//! comes from their PSID and names the `user_ref` (`prior_message`). From then on both are one
//! subscriber: the PSID's, keeping the `user_ref` beside it (unique on the page). So:
//!
//! - an event of a plugin user goes to the subscriber holding their `user_ref`, PSID or not;
//! - a reply naming a `user_ref` gives the plugin user's record the PSID when the PSID has
//!   none yet, records the `user_ref` on the PSID's subscriber when the plugin user has none,
//!   and merges the plugin user's record into the PSID's when both exist (a known person
//!   ticking the checkbox). A `user_ref` linked to another PSID is left alone.
//!
//! Two workers linking the same person at once collide on the unique indexes; the loser's
//! transaction fails and is retried, and then finds the link made.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::Utc;
use refhub_domain::DomainResult;
use refhub_domain::audience::{EventEffects, PluginLink};
use refhub_domain::webhooks::Sender;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseTransaction, EntityTrait, IntoActiveModel,
    QueryFilter, QuerySelect,
};
use uuid::Uuid;

use super::apply::{
    field_value_row, fold_record, insert_tags, opted_in_at, tag_row, upsert_field_values,
};
use crate::entities::{
    flow_runs, notification_opt_ins, outbound_messages, subscriber_field_values,
    subscriber_interactions, subscriber_tags, subscribers,
};
use crate::error::internal;

/// The event as it applies to the subscriber it belongs to, and what linking came to when the
/// event names a `user_ref` beside a PSID.
pub(super) struct Settled<'a> {
    pub effects: Cow<'a, EventEffects>,
    pub link: Option<PluginLink>,
}

/// Settles who the event's person is before it is applied: see the module's documentation.
pub(super) async fn settle_person<'a>(
    txn: &DatabaseTransaction,
    effects: &'a EventEffects,
) -> DomainResult<Settled<'a>> {
    let unchanged = |link| Settled {
        effects: Cow::Borrowed(effects),
        link,
    };
    match (&effects.sender, effects.links_user_ref.as_deref()) {
        (Sender::UserRef(user_ref), _) => {
            let holder = on_page(effects)
                .filter(subscribers::Column::UserRef.eq(user_ref.as_str()))
                .one(txn)
                .await
                .map_err(internal)?;
            let linked = holder
                .and_then(|row| Sender::from_key(&row.sender_key))
                .filter(|sender| matches!(sender, Sender::Psid(_)));
            Ok(match linked {
                Some(sender) => Settled {
                    effects: Cow::Owned(EventEffects {
                        sender,
                        ..effects.clone()
                    }),
                    link: None,
                },
                None => unchanged(None),
            })
        }
        (Sender::Psid(psid), Some(user_ref)) => link(txn, effects, psid, user_ref).await,
        (Sender::Psid(_), None) => Ok(unchanged(None)),
    }
}

fn on_page(effects: &EventEffects) -> sea_orm::Select<subscribers::Entity> {
    subscribers::Entity::find()
        .filter(subscribers::Column::TenantId.eq(effects.tenant_id.0))
        .filter(subscribers::Column::PageId.eq(effects.page_id.0))
}

async fn link<'a>(
    txn: &DatabaseTransaction,
    effects: &'a EventEffects,
    psid: &str,
    user_ref: &str,
) -> DomainResult<Settled<'a>> {
    let psid_key = effects.sender.key();
    let rows = on_page(effects)
        .filter(
            Condition::any()
                .add(subscribers::Column::SenderKey.eq(psid_key.as_str()))
                .add(subscribers::Column::UserRef.eq(user_ref)),
        )
        .lock_exclusive()
        .all(txn)
        .await
        .map_err(internal)?;
    let (mut with_psid, mut with_user_ref) = (None, None);
    for row in rows {
        if row.sender_key == psid_key {
            with_psid = Some(row);
        } else {
            with_user_ref = Some(row);
        }
    }
    let settled = |link| Settled {
        effects: Cow::Borrowed(effects),
        link: Some(link),
    };
    let outcome = match (with_psid, with_user_ref) {
        (Some(person), None) if person.user_ref.as_deref() == Some(user_ref) => {
            settled(PluginLink::AlreadyLinked)
        }
        // The `user_ref` is on another PSID's subscriber.
        (_, Some(other)) if other.psid.is_some() => Settled {
            effects: Cow::Owned(EventEffects {
                links_user_ref: None,
                ..effects.clone()
            }),
            link: Some(PluginLink::HeldByAnother),
        },
        // Neither known: the subscriber the event creates carries both.
        (None, None) => settled(PluginLink::Linked),
        (Some(person), None) => {
            let columns = vec![(subscribers::Column::UserRef, user_ref.into())];
            update_person(txn, effects, person.id, columns).await?;
            settled(PluginLink::Linked)
        }
        // The plugin user's record becomes the PSID's: its sender key changes, the rest stays.
        (None, Some(plugin_user)) => {
            let columns = vec![
                (subscribers::Column::SenderKey, psid_key.clone().into()),
                (subscribers::Column::Psid, psid.into()),
            ];
            update_person(txn, effects, plugin_user.id, columns).await?;
            settled(PluginLink::Linked)
        }
        (Some(person), Some(plugin_user)) => {
            merge(txn, person, plugin_user, user_ref).await?;
            settled(PluginLink::Merged)
        }
    };
    Ok(outcome)
}

/// Sets `columns` of one subscriber's row, and its `updated_at`.
async fn update_person(
    txn: &DatabaseTransaction,
    effects: &EventEffects,
    id: Uuid,
    columns: Vec<(subscribers::Column, sea_orm::Value)>,
) -> DomainResult<()> {
    let mut update = subscribers::Entity::update_many()
        .col_expr(subscribers::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(subscribers::Column::TenantId.eq(effects.tenant_id.0))
        .filter(subscribers::Column::Id.eq(id));
    for (column, value) in columns {
        update = update.col_expr(column, Expr::value(value));
    }
    update.exec(txn).await.map_err(internal)?;
    Ok(())
}

/// Where both records had an opt-in to a topic, the one whose token was given last (by event
/// time) stays, and the other goes: one person, one token per topic.
async fn keep_one_opt_in_per_topic(
    txn: &DatabaseTransaction,
    tenant_id: Uuid,
    subscriber_id: Uuid,
) -> DomainResult<()> {
    let rows = notification_opt_ins::Entity::find()
        .filter(notification_opt_ins::Column::TenantId.eq(tenant_id))
        .filter(notification_opt_ins::Column::SubscriberId.eq(subscriber_id))
        .all(txn)
        .await
        .map_err(internal)?;
    let mut by_topic: HashMap<String, Vec<notification_opt_ins::Model>> = HashMap::new();
    for row in rows {
        by_topic
            .entry(row.topic_title.to_lowercase())
            .or_default()
            .push(row);
    }
    for rows in by_topic.into_values().filter(|rows| rows.len() > 1) {
        let mut given = Vec::with_capacity(rows.len());
        for row in rows {
            let at = opted_in_at(txn, tenant_id, subscriber_id, &row.token_fingerprint).await?;
            given.push((at, row.status_changed_at, row.id));
        }
        given.sort();
        let stale: Vec<Uuid> = given.iter().rev().skip(1).map(|(_, _, id)| *id).collect();
        notification_opt_ins::Entity::delete_many()
            .filter(notification_opt_ins::Column::TenantId.eq(tenant_id))
            .filter(notification_opt_ins::Column::Id.is_in(stale))
            .exec(txn)
            .await
            .map_err(internal)?;
    }
    Ok(())
}

/// Moves everything of `plugin_user` to `person` and removes `plugin_user`: its rows in every
/// table that names a subscriber (a removed subscriber's rows would go with it), its values
/// where they are newer, its tags, and its entries folded into the person's row by event
/// time, as if its events had been the person's all along.
async fn merge(
    txn: &DatabaseTransaction,
    person: subscribers::Model,
    plugin_user: subscribers::Model,
    user_ref: &str,
) -> DomainResult<()> {
    let tenant_id = person.tenant_id;
    let (to, from) = (person.id, plugin_user.id);
    // One person is new once: at whichever record came first.
    let later = if plugin_user.first_seen_at < person.first_seen_at {
        to
    } else {
        from
    };
    subscriber_interactions::Entity::update_many()
        .col_expr(
            subscriber_interactions::Column::NewSubscriber,
            Expr::value(false),
        )
        .filter(subscriber_interactions::Column::TenantId.eq(tenant_id))
        .filter(subscriber_interactions::Column::SubscriberId.eq(later))
        .exec(txn)
        .await
        .map_err(internal)?;
    macro_rules! move_rows {
        ($entity:ident) => {
            $entity::Entity::update_many()
                .col_expr($entity::Column::SubscriberId, Expr::value(to))
                .filter($entity::Column::TenantId.eq(tenant_id))
                .filter($entity::Column::SubscriberId.eq(from))
                .exec(txn)
                .await
                .map_err(internal)?;
        };
    }
    move_rows!(subscriber_interactions);
    move_rows!(notification_opt_ins);
    move_rows!(flow_runs);
    move_rows!(outbound_messages);
    keep_one_opt_in_per_topic(txn, tenant_id, to).await?;

    // Values and tags are keyed by subscriber: copied under the person (a value only where it
    // is newer than the person's), then removed with the plugin user.
    let values = subscriber_field_values::Entity::find()
        .filter(subscriber_field_values::Column::TenantId.eq(tenant_id))
        .filter(subscriber_field_values::Column::SubscriberId.eq(from))
        .all(txn)
        .await
        .map_err(internal)?;
    let values = values
        .into_iter()
        .map(|v| field_value_row(tenant_id.into(), to, v.field_id, v.value, v.set_at))
        .collect();
    upsert_field_values(txn, values).await?;
    let tags = subscriber_tags::Entity::find()
        .filter(subscriber_tags::Column::TenantId.eq(tenant_id))
        .filter(subscriber_tags::Column::SubscriberId.eq(from))
        .all(txn)
        .await
        .map_err(internal)?;
    let tags = tags
        .into_iter()
        .map(|t| tag_row(tenant_id.into(), to, t.tag_id, t.added_at))
        .collect();
    insert_tags(txn, tags).await?;

    subscribers::Entity::delete_many()
        .filter(subscribers::Column::TenantId.eq(tenant_id))
        .filter(subscribers::Column::Id.eq(from))
        .exec(txn)
        .await
        .map_err(internal)?;

    let mut merged = person;
    fold_record(&mut merged, &plugin_user);
    merged.user_ref = Some(user_ref.to_owned());
    merged.updated_at = Utc::now();
    // Every column as folded (the key included, unchanged: it names the row).
    let merged = merged.into_active_model().reset_all();
    merged.update(txn).await.map_err(internal)?;
    Ok(())
}
