use async_graphql::{Context, ID, Object, Result};
use refhub_domain::DomainResult;
use refhub_domain::flows::TriggerRule;
use refhub_domain::ids::{FlowId, FlowRunId, FlowTriggerId, SubscriberId, TopicId};

use super::inputs::{
    CancelFlowRunInput, CreateFlowInput, CreateFlowTriggerInput, DeleteFlowInput,
    DeleteFlowTriggerInput, FlowTriggerRuleInput, SendTopicNotificationInput, StartFlowInput,
    UpdateFlowInput, steps,
};
use super::types::{Flow, FlowRun, FlowTrigger, StartFlowPayload, TopicNotificationReport};
use crate::auth_context::{principal, services};
use crate::error::IntoGraphql;
use crate::ids::{parse_id, to_id};

/// Mutations of flows, their rules and runs, and notifications.
#[derive(Default)]
pub(crate) struct FlowsMutation;

fn rule(input: FlowTriggerRuleInput) -> DomainResult<TriggerRule> {
    Ok(match input {
        FlowTriggerRuleInput::Postback(rule) => TriggerRule::Postback {
            payload: rule.payload,
        },
        FlowTriggerRuleInput::Keyword(rule) => TriggerRule::Keyword {
            keyword: rule.keyword,
            matching: rule.matching.into(),
        },
        FlowTriggerRuleInput::TopicOptIn(rule) => TriggerRule::TopicOptIn {
            topic_id: parse_id(&rule.topic_id, "rule.topicOptIn.topicId")?,
        },
    })
}

/// Mutations of flows, their rules and runs, and notifications.
#[Object]
impl FlowsMutation {
    /// Creates a flow (editors).
    async fn create_flow(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `CreateFlowInput`.")] input: CreateFlowInput,
    ) -> Result<Flow> {
        let principal = principal(ctx).gql()?;
        let steps = steps(input.steps).gql()?;
        services(ctx)
            .flows
            .create(principal, &input.name, steps)
            .await
            .map(Flow)
            .gql()
    }

    /// Renames a flow or replaces its steps; runs under way keep the steps they started with.
    async fn update_flow(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `UpdateFlowInput`.")] input: UpdateFlowInput,
    ) -> Result<Flow> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<FlowId>(&input.id, "id").gql()?;
        let steps = input.steps.map(steps).transpose().gql()?;
        services(ctx)
            .flows
            .update(principal, id, input.name.as_deref(), steps)
            .await
            .map(Flow)
            .gql()
    }

    /// Deletes a flow: its rules go, ref links stop starting it, and its unfinished runs are
    /// cancelled. Returns its id.
    async fn delete_flow(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `DeleteFlowInput`.")] input: DeleteFlowInput,
    ) -> Result<ID> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<FlowId>(&input.id, "id").gql()?;
        services(ctx)
            .flows
            .delete(principal, id)
            .await
            .map(|id| to_id(id.0))
            .gql()
    }

    /// Adds a rule that starts a flow when a webhook event matches it.
    async fn create_flow_trigger(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `CreateFlowTriggerInput`.")] input: CreateFlowTriggerInput,
    ) -> Result<FlowTrigger> {
        let principal = principal(ctx).gql()?;
        let flow_id = parse_id::<FlowId>(&input.flow_id, "flowId").gql()?;
        let page_id = input
            .page_id
            .as_ref()
            .map(|id| parse_id(id, "pageId"))
            .transpose()
            .gql()?;
        let rule = rule(input.rule).gql()?;
        services(ctx)
            .flows
            .create_trigger(principal, flow_id, page_id, rule)
            .await
            .map(FlowTrigger)
            .gql()
    }

    /// Deletes a rule. Returns its id.
    async fn delete_flow_trigger(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `DeleteFlowTriggerInput`.")] input: DeleteFlowTriggerInput,
    ) -> Result<ID> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<FlowTriggerId>(&input.id, "id").gql()?;
        services(ctx)
            .flows
            .delete_trigger(principal, id)
            .await
            .map(|id| to_id(id.0))
            .gql()
    }

    /// Starts a flow for each subscriber; their messages go out as updates
    /// (`messaging_type: UPDATE`), within each person's 24-hour window.
    async fn start_flow(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `StartFlowInput`.")] input: StartFlowInput,
    ) -> Result<StartFlowPayload> {
        let principal = principal(ctx).gql()?;
        let flow_id = parse_id::<FlowId>(&input.flow_id, "flowId").gql()?;
        let subscriber_ids = input
            .subscriber_ids
            .iter()
            .enumerate()
            .map(|(i, id)| parse_id::<SubscriberId>(id, &format!("subscriberIds[{i}]")))
            .collect::<DomainResult<Vec<_>>>()
            .gql()?;
        let runs = services(ctx)
            .flows
            .start(principal, flow_id, &subscriber_ids)
            .await
            .gql()?;
        Ok(StartFlowPayload {
            runs: runs.into_iter().map(FlowRun).collect(),
        })
    }

    /// Cancels a run that has not ended; a message it queued and that is not sent yet is not
    /// sent.
    async fn cancel_flow_run(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `CancelFlowRunInput`.")] input: CancelFlowRunInput,
    ) -> Result<FlowRun> {
        let principal = principal(ctx).gql()?;
        let id = parse_id::<FlowRunId>(&input.id, "id").gql()?;
        services(ctx)
            .flows
            .cancel_run(principal, id)
            .await
            .map(FlowRun)
            .gql()
    }

    /// Queues a notification for every opt-in of a topic that may receive one now (active,
    /// unexpired, and none sent within its cadence), addressed by its token.
    #[graphql(
        deprecation = "Meta retired recurring notifications (closed to new integrations on 2025-09-01, ended on 2026-02-10 outside a few regions); kept for workspaces that hold tokens. Meta offers the Messenger Marketing Messages API instead."
    )]
    async fn send_topic_notification(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "See `SendTopicNotificationInput`.")] input: SendTopicNotificationInput,
    ) -> Result<TopicNotificationReport> {
        let principal = principal(ctx).gql()?;
        let topic_id = parse_id::<TopicId>(&input.topic_id, "topicId").gql()?;
        let buttons = input
            .message
            .buttons
            .into_iter()
            .enumerate()
            .map(|(i, b)| b.into_button(&format!("message.buttons[{i}]")))
            .collect::<DomainResult<Vec<_>>>()
            .gql()?;
        services(ctx)
            .notifications
            .send(principal, topic_id, &input.message.text, buttons)
            .await
            .map(TopicNotificationReport::from)
            .gql()
    }
}
