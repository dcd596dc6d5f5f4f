use async_graphql::{Context, ID, Object, Result};
use refhub_domain::ids::{CustomFieldId, PageId, RefLinkId, TagId, TopicId};

use super::types::{CustomField, MessengerAppConnection, NotificationTopic, Page, RefLink, Tag};
use crate::auth_context::{principal, services};
use crate::connection::{ListConnection, from_page, page_request};
use crate::error::IntoGraphql;
use crate::ids::parse_id;

/// Queries about the Messenger catalogue.
#[derive(Default)]
pub(crate) struct CatalogueQuery;

/// Queries about the Messenger catalogue.
#[Object]
impl CatalogueQuery {
    /// The workspace's Meta app connection, if connected.
    async fn messenger_app(&self, ctx: &Context<'_>) -> Result<Option<MessengerAppConnection>> {
        let principal = principal(ctx).gql()?;
        services(ctx)
            .messenger_apps
            .get(principal)
            .await
            .map(|app| app.map(MessengerAppConnection))
            .gql()
    }

    /// Connected pages, oldest first.
    #[graphql(complexity = "crate::connection::list_cost(first, child_complexity)")]
    async fn pages(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> Result<ListConnection<Page>> {
        let principal = principal(ctx).gql()?;
        let had_cursor = after.is_some();
        let page = page_request(first, after).gql()?;
        let pages = services(ctx).pages.list(principal, page).await.gql()?;
        Ok(from_page(pages, had_cursor, |p| p.id.0, Page))
    }

    /// A page by id; `null`, with `NOT_FOUND` in `errors`, when this workspace has none.
    async fn page(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Its id.")] id: ID,
    ) -> Result<Option<Page>> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<PageId>(&id, "id").gql()?;
        services(ctx)
            .pages
            .get(principal, id)
            .await
            .map(Page)
            .gql()
            .map(Some)
    }

    /// Custom fields, in creation order.
    #[graphql(complexity = "crate::connection::list_cost(first, child_complexity)")]
    async fn custom_fields(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
        #[graphql(desc = "Include archived fields.", default)] include_archived: bool,
    ) -> Result<ListConnection<CustomField>> {
        let principal = principal(ctx).gql()?;
        let had_cursor = after.is_some();
        let page = page_request(first, after).gql()?;
        let fields = services(ctx)
            .custom_fields
            .list(principal, include_archived, page)
            .await
            .gql()?;
        Ok(from_page(fields, had_cursor, |f| f.id.0, CustomField))
    }

    /// A custom field by id; `null`, with `NOT_FOUND` in `errors`, when this workspace has none.
    async fn custom_field(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Its id.")] id: ID,
    ) -> Result<Option<CustomField>> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<CustomFieldId>(&id, "id").gql()?;
        services(ctx)
            .custom_fields
            .get(principal, id)
            .await
            .map(CustomField)
            .gql()
            .map(Some)
    }

    /// Tags, oldest first.
    #[graphql(complexity = "crate::connection::list_cost(first, child_complexity)")]
    async fn tags(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> Result<ListConnection<Tag>> {
        let principal = principal(ctx).gql()?;
        let had_cursor = after.is_some();
        let page = page_request(first, after).gql()?;
        let tags = services(ctx).tags.list(principal, page).await.gql()?;
        Ok(from_page(tags, had_cursor, |t| t.id.0, Tag::from))
    }

    /// A tag by id; `null`, with `NOT_FOUND` in `errors`, when this workspace has none.
    async fn tag(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Its id.")] id: ID,
    ) -> Result<Option<Tag>> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<TagId>(&id, "id").gql()?;
        services(ctx)
            .tags
            .get(principal, id)
            .await
            .map(Tag::from)
            .gql()
            .map(Some)
    }

    /// A page's ref links, oldest first.
    #[graphql(complexity = "crate::connection::list_cost(first, child_complexity)")]
    async fn ref_links(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The page whose links to list.")] page_id: ID,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> Result<ListConnection<RefLink>> {
        let principal = principal(ctx).gql()?;
        let page_id = parse_id::<PageId>(&page_id, "pageId").gql()?;
        let had_cursor = after.is_some();
        let page = page_request(first, after).gql()?;
        let links = services(ctx)
            .ref_links
            .list_for_page(principal, page_id, page)
            .await
            .gql()?;
        Ok(from_page(links, had_cursor, |l| l.id.0, RefLink))
    }

    /// A ref link by id; `null`, with `NOT_FOUND` in `errors`, when this workspace has none.
    async fn ref_link(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Its id.")] id: ID,
    ) -> Result<Option<RefLink>> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<RefLinkId>(&id, "id").gql()?;
        services(ctx)
            .ref_links
            .get(principal, id)
            .await
            .map(RefLink)
            .gql()
            .map(Some)
    }

    /// Notification topics, on one page or all, oldest first.
    #[graphql(
        complexity = "crate::connection::list_cost(first, child_complexity)",
        deprecation = "Meta retired recurring notifications (closed to new integrations on 2025-09-01, ended on 2026-02-10 outside a few regions); kept for workspaces that hold tokens. Meta offers the Messenger Marketing Messages API instead."
    )]
    async fn notification_topics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this page's topics.")] page_id: Option<ID>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> Result<ListConnection<NotificationTopic>> {
        let principal = principal(ctx).gql()?;
        let page_id = page_id
            .as_ref()
            .map(|id| parse_id::<PageId>(id, "pageId"))
            .transpose()
            .gql()?;
        let had_cursor = after.is_some();
        let page = page_request(first, after).gql()?;
        let topics = services(ctx)
            .topics
            .list(principal, page_id, page)
            .await
            .gql()?;
        Ok(from_page(topics, had_cursor, |t| t.id.0, NotificationTopic))
    }

    /// A notification topic by id; `null`, with `NOT_FOUND` in `errors`, when this workspace
    /// has none.
    #[graphql(
        deprecation = "Meta retired recurring notifications (closed to new integrations on 2025-09-01, ended on 2026-02-10 outside a few regions); kept for workspaces that hold tokens. Meta offers the Messenger Marketing Messages API instead."
    )]
    async fn notification_topic(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Its id.")] id: ID,
    ) -> Result<Option<NotificationTopic>> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<TopicId>(&id, "id").gql()?;
        services(ctx)
            .topics
            .get(principal, id)
            .await
            .map(NotificationTopic)
            .gql()
            .map(Some)
    }
}
