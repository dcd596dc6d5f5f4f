//! Catalogue lookups remembered for one batch of events. A batch is claimed and processed in
//! well under a second, and its events mostly share a page, a few links and fields; looking
//! each up once per batch instead of once per event removes most of a worker's round trips,
//! while a link, field, flow or trigger rule created meanwhile is seen by the next batch.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;

use crate::catalogue::{CustomField, NotificationTopic, Page, RefLink};
use crate::error::DomainResult;
use crate::flows::{Flow, FlowTrigger};
use crate::ids::{CustomFieldId, FlowId, PageId, TenantId};

/// What one batch has looked up so far (found or not).
#[derive(Default)]
pub struct CatalogueMemo {
    pub(crate) pages: HashMap<(TenantId, String), Option<Page>>,
    pub(crate) links: HashMap<(TenantId, PageId, String), Option<RefLink>>,
    pub(crate) fields_by_number: HashMap<(TenantId, i32), Option<CustomField>>,
    pub(crate) fields_by_id: HashMap<(TenantId, CustomFieldId), Option<CustomField>>,
    pub(crate) topics: HashMap<(TenantId, PageId, String), Option<NotificationTopic>>,
    pub(crate) flows: HashMap<(TenantId, FlowId), Option<Flow>>,
    pub(crate) triggers: HashMap<TenantId, Vec<FlowTrigger>>,
}

/// The remembered answer for `key`, or `load`'s (remembered from then on).
pub(crate) async fn remembered<K, V, F>(
    memo: &mut HashMap<K, V>,
    key: K,
    load: impl FnOnce() -> F,
) -> DomainResult<V>
where
    K: Eq + Hash,
    V: Clone,
    F: Future<Output = DomainResult<V>>,
{
    if let Some(value) = memo.get(&key) {
        return Ok(value.clone());
    }
    let value = load().await?;
    memo.insert(key, value.clone());
    Ok(value)
}
