use async_graphql::{Context, ID, Object, Result};
use refhub_domain::flows::{MessageFilter, RunFilter};
use refhub_domain::ids::{FlowId, FlowRunId, OutboundMessageId};

use super::types::{Flow, FlowRun, FlowRunStatus, OutboundMessage, OutboundMessageStatus};
use crate::auth_context::{principal, services};
use crate::connection::{ListConnection, from_page, page_request};
use crate::error::IntoGraphql;
use crate::ids::parse_id;

/// Queries of flows, runs and the outbox.
#[derive(Default)]
pub(crate) struct FlowsQuery;

fn optional_id<T: From<uuid::Uuid>>(id: Option<&ID>, field: &str) -> Result<Option<T>> {
    id.map(|id| parse_id(id, field)).transpose().gql()
}

/// Queries of flows, runs and the outbox.
#[Object]
impl FlowsQuery {
    /// Flows, oldest first.
    #[graphql(complexity = "crate::connection::list_cost(first, child_complexity)")]
    async fn flows(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> Result<ListConnection<Flow>> {
        let principal = principal(ctx).gql()?;
        let had_cursor = after.is_some();
        let page = page_request(first, after).gql()?;
        let flows = services(ctx).flows.list(principal, page).await.gql()?;
        Ok(from_page(flows, had_cursor, |f| f.id.0, Flow))
    }

    /// A flow by id; `null`, with `NOT_FOUND` in `errors`, when this workspace has none.
    async fn flow(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Its id.")] id: ID,
    ) -> Result<Option<Flow>> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<FlowId>(&id, "id").gql()?;
        services(ctx)
            .flows
            .get(principal, id)
            .await
            .map(Flow)
            .gql()
            .map(Some)
    }

    /// Flow runs, newest first; every filter given must hold.
    #[graphql(complexity = "crate::connection::list_cost(first, child_complexity)")]
    async fn flow_runs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only runs of this flow.")] flow_id: Option<ID>,
        #[graphql(desc = "Only runs for this subscriber.")] subscriber_id: Option<ID>,
        #[graphql(desc = "Only runs in this status.")] status: Option<FlowRunStatus>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> Result<ListConnection<FlowRun>> {
        let principal = principal(ctx).gql()?;
        let filter = RunFilter {
            flow_id: optional_id(flow_id.as_ref(), "flowId")?,
            subscriber_id: optional_id(subscriber_id.as_ref(), "subscriberId")?,
            status: status.map(Into::into),
        };
        let had_cursor = after.is_some();
        let page = page_request(first, after).gql()?;
        let runs = services(ctx)
            .flows
            .runs(principal, &filter, page)
            .await
            .gql()?;
        Ok(from_page(runs, had_cursor, |r| r.id.0, FlowRun))
    }

    /// A flow run by id; `null`, with `NOT_FOUND` in `errors`, when this workspace has none.
    async fn flow_run(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Its id.")] id: ID,
    ) -> Result<Option<FlowRun>> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<FlowRunId>(&id, "id").gql()?;
        services(ctx)
            .flows
            .run(principal, id)
            .await
            .map(FlowRun)
            .gql()
            .map(Some)
    }

    /// Outgoing messages, newest first; every filter given must hold.
    #[graphql(complexity = "crate::connection::list_cost(first, child_complexity)")]
    async fn outbound_messages(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only messages in this status.")] status: Option<OutboundMessageStatus>,
        #[graphql(desc = "Only messages to this subscriber.")] subscriber_id: Option<ID>,
        #[graphql(desc = "Only messages of this run.")] run_id: Option<ID>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> Result<ListConnection<OutboundMessage>> {
        let principal = principal(ctx).gql()?;
        let filter = MessageFilter {
            status: status.map(Into::into),
            subscriber_id: optional_id(subscriber_id.as_ref(), "subscriberId")?,
            run_id: optional_id(run_id.as_ref(), "runId")?,
        };
        let had_cursor = after.is_some();
        let page = page_request(first, after).gql()?;
        let messages = services(ctx)
            .flows
            .messages(principal, &filter, page)
            .await
            .gql()?;
        Ok(from_page(messages, had_cursor, |m| m.id.0, OutboundMessage))
    }

    /// An outgoing message by id; `null`, with `NOT_FOUND` in `errors`, when this workspace has
    /// none.
    async fn outbound_message(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Its id.")] id: ID,
    ) -> Result<Option<OutboundMessage>> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<OutboundMessageId>(&id, "id").gql()?;
        services(ctx)
            .flows
            .message(principal, id)
            .await
            .map(OutboundMessage)
            .gql()
            .map(Some)
    }
}
