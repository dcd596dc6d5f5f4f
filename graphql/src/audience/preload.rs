//! A page of subscribers fetched together with the field values, tags and opt-ins its query
//! selects, so that its nodes resolve from memory.
//!
//! The batch loaders would also fetch each of these in one statement per page, but only after
//! every node has asked for its share: sixty `load_one` calls for a page of twenty (each a lock,
//! a channel and a suspended future woken again), and a batching delay of a millisecond per
//! loader before the statement is even sent. The list resolver knows the ids already, and the
//! selection says what the nodes will ask for, so it fetches what is selected right away.
//! A node that was not preloaded (a single `subscriber`, a flow run's subscriber) still goes
//! through the loaders.

use std::collections::HashMap;

use async_graphql::{Context, Lookahead, Result};
use refhub_domain::audience::{FieldValueRecord, OptIn, Subscriber};
use refhub_domain::catalogue::{CustomField, Tag};
use refhub_domain::identity::Principal;
use refhub_domain::ids::SubscriberId;

use crate::auth_context::services;
use crate::error::IntoGraphql;

/// What was fetched for one subscriber with its page; `None` where the query did not select it.
#[derive(Default)]
pub(crate) struct Preloaded {
    pub fields: Option<Vec<(FieldValueRecord, CustomField)>>,
    pub tags: Option<Vec<Tag>>,
    pub opt_ins: Option<Vec<OptIn>>,
}

/// Which of a subscriber's lists the query selects, through `nodes` or `edges { node }`.
struct Selected {
    fields: bool,
    tags: bool,
    opt_ins: bool,
}

impl Selected {
    fn of(connection: &Lookahead<'_>) -> Self {
        let nodes = connection.field("nodes");
        let edge_nodes = connection.field("edges").field("node");
        let selects = |name: &str| nodes.field(name).exists() || edge_nodes.field(name).exists();
        Self {
            fields: selects("fields"),
            tags: selects("tags"),
            opt_ins: selects("optIns"),
        }
    }
}

/// Fetches, for the subscribers of one page, each list the query under `ctx` (the connection
/// field) selects; returns one [`Preloaded`] per subscriber, in the order given.
pub(crate) async fn preload(
    ctx: &Context<'_>,
    principal: &Principal,
    subscribers: &[Subscriber],
) -> Result<Vec<Preloaded>> {
    let selected = Selected::of(&ctx.look_ahead());
    let mut preloaded: Vec<Preloaded> = subscribers.iter().map(|_| Preloaded::default()).collect();
    if subscribers.is_empty() {
        return Ok(preloaded);
    }
    let ids: Vec<SubscriberId> = subscribers.iter().map(|s| s.id).collect();
    let service = &services(ctx).subscribers;
    if selected.fields {
        let values = service.field_values(principal, &ids).await.gql()?;
        let mut by_subscriber = group(values.into_iter().map(|(id, v, f)| (id, (v, f))));
        for (slot, id) in preloaded.iter_mut().zip(&ids) {
            slot.fields = Some(by_subscriber.remove(id).unwrap_or_default());
        }
    }
    if selected.tags {
        let mut by_subscriber = group(service.tags(principal, &ids).await.gql()?);
        for (slot, id) in preloaded.iter_mut().zip(&ids) {
            slot.tags = Some(by_subscriber.remove(id).unwrap_or_default());
        }
    }
    if selected.opt_ins {
        let opt_ins = service.opt_ins(principal, &ids).await.gql()?;
        let mut by_subscriber = group(opt_ins.into_iter().map(|o| (o.subscriber_id, o)));
        for (slot, id) in preloaded.iter_mut().zip(&ids) {
            slot.opt_ins = Some(by_subscriber.remove(id).unwrap_or_default());
        }
    }
    Ok(preloaded)
}

fn group<V>(pairs: impl IntoIterator<Item = (SubscriberId, V)>) -> HashMap<SubscriberId, Vec<V>> {
    let mut map: HashMap<SubscriberId, Vec<V>> = HashMap::new();
    for (id, value) in pairs {
        map.entry(id).or_default().push(value);
    }
    map
}
