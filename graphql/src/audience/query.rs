use async_graphql::{Context, ID, Object, Result};
use refhub_domain::DomainResult;
use refhub_domain::audience::SubscriberFilter;
use refhub_domain::ids::{PageId, SubscriberId, WebhookEventId};

use super::inputs::SubscriberFilterInput;
use super::preload::preload;
use super::types::{Subscriber, WebhookEvent, WebhookEventStatus};
use crate::auth_context::{principal, services};
use crate::connection::{ListConnection, from_page, page_request};
use crate::error::IntoGraphql;
use crate::ids::parse_id;

/// Queries about subscribers and webhook events.
#[derive(Default)]
pub(crate) struct AudienceQuery;

fn domain_filter(filter: SubscriberFilterInput) -> DomainResult<SubscriberFilter> {
    Ok(SubscriberFilter {
        tag_id: filter
            .tag_id
            .as_ref()
            .map(|id| parse_id(id, "filter.tagId"))
            .transpose()?,
        ref_link_id: filter
            .ref_link_id
            .as_ref()
            .map(|id| parse_id(id, "filter.refLinkId"))
            .transpose()?,
        field_value: filter
            .field
            .map(|f| Ok((parse_id(&f.field_id, "filter.field.fieldId")?, f.value)))
            .transpose()?,
        opted_in_topic: filter
            .opted_in_topic_id
            .as_ref()
            .map(|id| parse_id(id, "filter.optedInTopicId"))
            .transpose()?,
        search: filter.search,
    })
}

/// Queries about subscribers and webhook events.
#[Object]
impl AudienceQuery {
    /// A page's subscribers, filtered, in the order their records were created (a stable
    /// order to page through; `firstSeenAt` may be earlier for an event processed late).
    #[graphql(complexity = "crate::connection::list_cost(first, child_complexity)")]
    async fn subscribers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The page whose subscribers to list.")] page_id: ID,
        #[graphql(desc = "Conditions every listed subscriber meets (all of them).")] filter: Option<
            SubscriberFilterInput,
        >,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> Result<ListConnection<Subscriber>> {
        let principal = principal(ctx).gql()?;
        let page_id = parse_id::<PageId>(&page_id, "pageId").gql()?;
        let filter = domain_filter(filter.unwrap_or_default()).gql()?;
        let had_cursor = after.is_some();
        let page = page_request(first, after).gql()?;
        let subscribers = services(ctx)
            .subscribers
            .list(principal, page_id, &filter, page)
            .await
            .gql()?;
        let mut preloaded = preload(ctx, principal, &subscribers.items)
            .await?
            .into_iter();
        Ok(from_page(
            subscribers,
            had_cursor,
            |s| s.id.0,
            |s| Subscriber(s, preloaded.next().unwrap_or_default()),
        ))
    }

    /// A subscriber by id; `null`, with `NOT_FOUND` in `errors`, when this workspace has none.
    async fn subscriber(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Its id.")] id: ID,
    ) -> Result<Option<Subscriber>> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<SubscriberId>(&id, "id").gql()?;
        services(ctx)
            .subscribers
            .get(principal, id)
            .await
            .map(Subscriber::from)
            .gql()
            .map(Some)
    }

    /// Webhook events, most recently stored first (owners and admins).
    #[graphql(complexity = "crate::connection::list_cost(first, child_complexity)")]
    async fn webhook_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only events in this state.")] status: Option<WebhookEventStatus>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> Result<ListConnection<WebhookEvent>> {
        let principal = principal(ctx).gql()?;
        let had_cursor = after.is_some();
        let page = page_request(first, after).gql()?;
        let events = services(ctx)
            .inbox
            .list(principal, status.map(Into::into), page)
            .await
            .gql()?;
        Ok(from_page(events, had_cursor, |e| e.id.0, WebhookEvent))
    }

    /// A webhook event by id (owners and admins); `null`, with `NOT_FOUND` in `errors`, when
    /// this workspace has none.
    async fn webhook_event(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Its id.")] id: ID,
    ) -> Result<Option<WebhookEvent>> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<WebhookEventId>(&id, "id").gql()?;
        services(ctx)
            .inbox
            .get(principal, id)
            .await
            .map(WebhookEvent)
            .gql()
            .map(Some)
    }
}
