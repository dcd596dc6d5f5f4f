//! A page of subscribers fetched together with the field values, tags and opt-ins its query
//! selects, so that its nodes resolve from memory.
//!
//! The batch loaders would also fetch each of these in one statement per page, but only after
//! every node has asked for its share: sixty `load_one` calls for a page of twenty (each a lock,
//! a channel and a suspended future woken again), and a batching delay of a millisecond per
//! loader before the statement is even sent. The list resolver knows the ids already, and the
//! selection says what the nodes will ask for, so it fetches what is selected right away, in
//! one call (one statement on PostgreSQL: see the persistence adapter's `audience/details.rs`).
//! A node that was not preloaded (a single `subscriber`, a flow run's subscriber) still goes
//! through the loaders.

use std::collections::HashMap;

use async_graphql::{Context, Lookahead, Result};
use refhub_domain::audience::{DetailSelection, FieldValueRecord, OptIn, Subscriber};
use refhub_domain::catalogue::{CustomField, Tag};
use refhub_domain::identity::Principal;
use refhub_domain::ids::SubscriberId;

use crate::auth_context::services;
use crate::error::IntoGraphql;
use crate::loaders::grouped;

/// What was fetched for one subscriber with its page; `None` where the query did not select it.
#[derive(Default)]
pub(crate) struct Preloaded {
    pub fields: Option<Vec<(FieldValueRecord, CustomField)>>,
    pub tags: Option<Vec<Tag>>,
    pub opt_ins: Option<Vec<OptIn>>,
}

/// Which of a subscriber's lists the query selects, through `nodes` or `edges { node }`.
fn selected(connection: &Lookahead<'_>) -> DetailSelection {
    let nodes = connection.field("nodes");
    let edge_nodes = connection.field("edges").field("node");
    let selects = |name: &str| nodes.field(name).exists() || edge_nodes.field(name).exists();
    DetailSelection {
        fields: selects("fields"),
        tags: selects("tags"),
        opt_ins: selects("optIns"),
    }
}

/// Fetches, for the subscribers of one page, each list the query under `ctx` (the connection
/// field) selects; returns one [`Preloaded`] per subscriber, in the order given.
pub(crate) async fn preload(
    ctx: &Context<'_>,
    principal: &Principal,
    subscribers: &[Subscriber],
) -> Result<Vec<Preloaded>> {
    if subscribers.is_empty() {
        return Ok(Vec::new());
    }
    let selection = selected(&ctx.look_ahead());
    let ids: Vec<SubscriberId> = subscribers.iter().map(|s| s.id).collect();
    let details = services(ctx)
        .subscribers
        .details(principal, &ids, selection)
        .await
        .gql()?;
    let mut fields = details.fields.map(|values| {
        let pairs = values.into_iter().map(|(id, v, f)| (id, (v, f))).collect();
        grouped(&ids, pairs)
    });
    let mut tags = details.tags.map(|tags| grouped(&ids, tags));
    let mut opt_ins = details.opt_ins.map(|rows| {
        let pairs = rows.into_iter().map(|o| (o.subscriber_id, o)).collect();
        grouped(&ids, pairs)
    });
    Ok(ids
        .iter()
        .map(|id| Preloaded {
            fields: share(&mut fields, id),
            tags: share(&mut tags, id),
            opt_ins: share(&mut opt_ins, id),
        })
        .collect())
}

/// One subscriber's share of a fetched list, when the list was fetched.
fn share<V>(
    lists: &mut Option<HashMap<SubscriberId, Vec<V>>>,
    id: &SubscriberId,
) -> Option<Vec<V>> {
    lists
        .as_mut()
        .map(|lists| lists.remove(id).unwrap_or_default())
}
