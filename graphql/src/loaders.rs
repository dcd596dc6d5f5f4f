//! Per-request batch loaders, so that a page of subscribers costs a fixed number of queries
//! whatever its size: each loader gathers the keys asked for in one execution step and fetches
//! them at once. They act as the request's caller, so tenancy and roles apply as everywhere.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use futures::future::BoxFuture;
use refhub_domain::audience::{FieldValueRecord, OptIn, Subscriber};
use refhub_domain::catalogue::{CustomField, NotificationTopic, Page, PageSetup, Tag};
use refhub_domain::flows::{Flow, FlowTrigger};
use refhub_domain::identity::Principal;
use refhub_domain::ids::{CustomFieldId, FlowId, PageId, SubscriberId, TagId, TopicId};

use crate::auth_context::Services;
use crate::error::to_graphql;

/// The loaders of one request.
pub(crate) struct Loaders {
    pub field_values: DataLoader<FieldValuesOf>,
    pub tags_of: DataLoader<TagsOf>,
    pub opt_ins: DataLoader<OptInsOf>,
    pub custom_fields: DataLoader<CustomFields>,
    pub tags: DataLoader<Tags>,
    pub topics: DataLoader<Topics>,
    pub pages: DataLoader<Pages>,
    pub page_setups: DataLoader<PageSetups>,
    pub flows: DataLoader<Flows>,
    pub triggers_of: DataLoader<TriggersOf>,
    pub subscribers: DataLoader<Subscribers>,
}

/// Starts a loader's batch as a task of its own. The HTTP adapter passes one that carries what
/// the request's task carries (its read session); [`spawn_plainly`] is plain `tokio::spawn`.
pub type TaskSpawner = Arc<dyn Fn(BoxFuture<'static, ()>) + Send + Sync>;

/// A spawner that starts batches as plain tasks.
pub fn spawn_plainly() -> TaskSpawner {
    Arc::new(|task| {
        tokio::spawn(task);
    })
}

impl Loaders {
    pub(crate) fn new(services: &Services, principal: Principal, spawner: &TaskSpawner) -> Self {
        let context = || Context {
            services: services.clone(),
            principal,
        };
        let spawn = || {
            let spawner = spawner.clone();
            move |task| spawner(task)
        };
        Self {
            field_values: DataLoader::new(FieldValuesOf(context()), spawn()),
            tags_of: DataLoader::new(TagsOf(context()), spawn()),
            opt_ins: DataLoader::new(OptInsOf(context()), spawn()),
            custom_fields: DataLoader::new(CustomFields(context()), spawn()),
            tags: DataLoader::new(Tags(context()), spawn()),
            topics: DataLoader::new(Topics(context()), spawn()),
            pages: DataLoader::new(Pages(context()), spawn()),
            page_setups: DataLoader::new(PageSetups(context()), spawn()),
            flows: DataLoader::new(Flows(context()), spawn()),
            triggers_of: DataLoader::new(TriggersOf(context()), spawn()),
            subscribers: DataLoader::new(Subscribers(context()), spawn()),
        }
    }
}

pub(crate) struct Context {
    services: Services,
    principal: Principal,
}

type LoadResult<K, V> = Result<HashMap<K, V>, async_graphql::Error>;

/// `pairs` by key, with an empty list for each of `keys` that has none.
pub(crate) fn grouped<K: std::hash::Hash + Eq + Copy, V>(
    keys: &[K],
    pairs: Vec<(K, V)>,
) -> HashMap<K, Vec<V>> {
    let mut map: HashMap<K, Vec<V>> = keys.iter().map(|k| (*k, Vec::new())).collect();
    for (key, value) in pairs {
        map.entry(key).or_default().push(value);
    }
    map
}

/// Field values by subscriber, each with its field.
pub(crate) struct FieldValuesOf(Context);

impl Loader<SubscriberId> for FieldValuesOf {
    type Value = Vec<(FieldValueRecord, CustomField)>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[SubscriberId]) -> LoadResult<SubscriberId, Self::Value> {
        let pairs = self
            .0
            .services
            .subscribers
            .field_values(&self.0.principal, keys)
            .await
            .map_err(|e| to_graphql(&e))?;
        let pairs = pairs
            .into_iter()
            .map(|(id, value, field)| (id, (value, field)))
            .collect();
        Ok(grouped(keys, pairs))
    }
}

/// Tags by subscriber.
pub(crate) struct TagsOf(Context);

impl Loader<SubscriberId> for TagsOf {
    type Value = Vec<Tag>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[SubscriberId]) -> LoadResult<SubscriberId, Self::Value> {
        let pairs = self
            .0
            .services
            .subscribers
            .tags(&self.0.principal, keys)
            .await
            .map_err(|e| to_graphql(&e))?;
        Ok(grouped(keys, pairs))
    }
}

/// Opt-ins by subscriber.
pub(crate) struct OptInsOf(Context);

impl Loader<SubscriberId> for OptInsOf {
    type Value = Vec<OptIn>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[SubscriberId]) -> LoadResult<SubscriberId, Self::Value> {
        let opt_ins = self
            .0
            .services
            .subscribers
            .opt_ins(&self.0.principal, keys)
            .await
            .map_err(|e| to_graphql(&e))?;
        Ok(grouped(
            keys,
            opt_ins.into_iter().map(|o| (o.subscriber_id, o)).collect(),
        ))
    }
}

/// Custom fields by id.
pub(crate) struct CustomFields(Context);

impl Loader<CustomFieldId> for CustomFields {
    type Value = CustomField;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[CustomFieldId]) -> LoadResult<CustomFieldId, Self::Value> {
        let fields = self
            .0
            .services
            .custom_fields
            .get_many(&self.0.principal, keys)
            .await
            .map_err(|e| to_graphql(&e))?;
        Ok(fields.into_iter().map(|f| (f.id, f)).collect())
    }
}

/// Tags by id.
pub(crate) struct Tags(Context);

impl Loader<TagId> for Tags {
    type Value = Tag;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[TagId]) -> LoadResult<TagId, Self::Value> {
        let tags = self
            .0
            .services
            .tags
            .get_many(&self.0.principal, keys)
            .await
            .map_err(|e| to_graphql(&e))?;
        Ok(tags.into_iter().map(|t| (t.id, t)).collect())
    }
}

/// Topics by id.
pub(crate) struct Topics(Context);

impl Loader<TopicId> for Topics {
    type Value = NotificationTopic;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[TopicId]) -> LoadResult<TopicId, Self::Value> {
        let topics = self
            .0
            .services
            .topics
            .get_many(&self.0.principal, keys)
            .await
            .map_err(|e| to_graphql(&e))?;
        Ok(topics.into_iter().map(|t| (t.id, t)).collect())
    }
}

/// Pages by id (a list names few distinct pages, so one lookup each is fine).
pub(crate) struct Pages(Context);

impl Loader<PageId> for Pages {
    type Value = Page;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[PageId]) -> LoadResult<PageId, Self::Value> {
        let mut pages = HashMap::with_capacity(keys.len());
        for key in keys {
            match self.0.services.pages.get(&self.0.principal, *key).await {
                Ok(page) => {
                    pages.insert(*key, page);
                }
                Err(refhub_domain::DomainError::NotFound { .. }) => {}
                Err(err) => return Err(to_graphql(&err)),
            }
        }
        Ok(pages)
    }
}

/// Pages' set-up with Meta (pages never scheduled are left out): `Page.setup`,
/// `messengerProfile` and `messengerProfileSettings` share one read per page.
pub(crate) struct PageSetups(Context);

impl Loader<PageId> for PageSetups {
    type Value = PageSetup;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[PageId]) -> LoadResult<PageId, Self::Value> {
        let mut setups = HashMap::with_capacity(keys.len());
        for key in keys {
            let setup = self
                .0
                .services
                .page_setup
                .get(&self.0.principal, *key)
                .await
                .map_err(|err| to_graphql(&err))?;
            if let Some(setup) = setup {
                setups.insert(*key, setup);
            }
        }
        Ok(setups)
    }
}

/// Flows by id (deleted ones are left out).
pub(crate) struct Flows(Context);

impl Loader<FlowId> for Flows {
    type Value = Flow;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[FlowId]) -> LoadResult<FlowId, Self::Value> {
        let flows = self
            .0
            .services
            .flows
            .get_many(&self.0.principal, keys)
            .await
            .map_err(|e| to_graphql(&e))?;
        Ok(flows.into_iter().map(|f| (f.id, f)).collect())
    }
}

/// Trigger rules by flow.
pub(crate) struct TriggersOf(Context);

impl Loader<FlowId> for TriggersOf {
    type Value = Vec<FlowTrigger>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[FlowId]) -> LoadResult<FlowId, Self::Value> {
        let triggers = self
            .0
            .services
            .flows
            .triggers_of(&self.0.principal, keys)
            .await
            .map_err(|e| to_graphql(&e))?;
        Ok(grouped(
            keys,
            triggers.into_iter().map(|t| (t.flow_id, t)).collect(),
        ))
    }
}

/// Subscribers by id (runs and messages of a page name few distinct people).
pub(crate) struct Subscribers(Context);

impl Loader<SubscriberId> for Subscribers {
    type Value = Subscriber;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[SubscriberId]) -> LoadResult<SubscriberId, Self::Value> {
        let mut found = HashMap::with_capacity(keys.len());
        for key in keys {
            match self
                .0
                .services
                .subscribers
                .get(&self.0.principal, *key)
                .await
            {
                Ok(subscriber) => {
                    found.insert(*key, subscriber);
                }
                Err(refhub_domain::DomainError::NotFound { .. }) => {}
                Err(err) => return Err(to_graphql(&err)),
            }
        }
        Ok(found)
    }
}

/// The loaders of this request (present whenever the caller is authenticated).
pub(crate) fn loaders<'a>(ctx: &async_graphql::Context<'a>) -> async_graphql::Result<&'a Loaders> {
    ctx.data_opt::<Arc<Loaders>>()
        .map(|loaders| loaders.as_ref())
        .ok_or_else(|| {
            to_graphql(&refhub_domain::DomainError::Unauthenticated(
                "sign in first: send Authorization: Bearer <access token or API key>",
            ))
        })
}
