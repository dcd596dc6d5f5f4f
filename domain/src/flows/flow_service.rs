//! The flow use cases: editors build flows and the rules that start them, start runs by hand
//! and cancel them; every member reads flows, runs and the outbox.

use std::sync::Arc;

use crate::activity::{ActivityEvent, ActivityPublisher};
use crate::audience::SubscriberRepository;
use crate::catalogue::{CustomFieldRepository, PageRepository, TagRepository, TopicRepository};
use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};
use crate::flows::flow::{Flow, flow_name, step_count};
use crate::flows::outbox::OutboundMessage;
use crate::flows::ports::{
    FlowRepository, FlowRunRepository, FlowTriggerRepository, MessageFilter, OutboxRepository,
    RunFilter,
};
use crate::flows::run::{FlowRun, RunStart, RunTrigger, TriggerKind};
use crate::flows::step::FlowStep;
use crate::flows::trigger::{FlowTrigger, TriggerRule};
use crate::identity::{Principal, Role};
use crate::ids::{
    FlowId, FlowRunId, FlowTriggerId, OutboundMessageId, PageId, SubscriberId, TenantId,
};
use crate::pagination::{Page, PageRequest};

/// Most subscribers one `startFlow` call may start runs for.
pub const MAX_MANUAL_STARTS: usize = 100;

/// Most rules one flow may have. The API lists a flow's rules whole, and each leads back to
/// its flow: the bound is what lets a query's cost count them (see the GraphQL `cost` module).
pub const MAX_TRIGGERS_PER_FLOW: usize = 20;

/// Everything the flow use cases read and write.
pub struct FlowServicePorts {
    /// Flows.
    pub flows: Arc<dyn FlowRepository>,
    /// Trigger rules.
    pub triggers: Arc<dyn FlowTriggerRepository>,
    /// Runs.
    pub runs: Arc<dyn FlowRunRepository>,
    /// The outbox.
    pub outbox: Arc<dyn OutboxRepository>,
    /// Custom fields (steps name them).
    pub fields: Arc<dyn CustomFieldRepository>,
    /// Tags (steps name them).
    pub tags: Arc<dyn TagRepository>,
    /// Pages (rules may name one).
    pub pages: Arc<dyn PageRepository>,
    /// Topics (rules may name one).
    pub topics: Arc<dyn TopicRepository>,
    /// Subscribers (runs are started for them).
    pub subscribers: Arc<dyn SubscriberRepository>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// The live activity feed (runs cancelled by hand).
    pub activity: Arc<dyn ActivityPublisher>,
}

/// The flow use cases.
pub struct FlowService {
    ports: FlowServicePorts,
}

impl FlowService {
    /// Builds the service.
    pub fn new(ports: FlowServicePorts) -> Self {
        Self { ports }
    }

    /// Creates a flow.
    pub async fn create(
        &self,
        principal: &Principal,
        name: &str,
        steps: Vec<FlowStep>,
    ) -> DomainResult<Flow> {
        let access = principal.require_role(Role::Editor)?;
        let name = flow_name(name)?;
        let steps = self.checked_steps(access.tenant_id, steps).await?;
        let now = self.ports.clock.now();
        let flow = Flow {
            id: FlowId::generate(),
            tenant_id: access.tenant_id,
            name,
            steps,
            created_at: now,
            updated_at: now,
        };
        self.ports.flows.create(&flow).await?;
        Ok(flow)
    }

    /// Renames a flow or replaces its steps (runs under way keep the steps they started with).
    pub async fn update(
        &self,
        principal: &Principal,
        id: FlowId,
        name: Option<&str>,
        steps: Option<Vec<FlowStep>>,
    ) -> DomainResult<Flow> {
        let access = principal.require_role(Role::Editor)?;
        let mut flow = self.flow_in(access.tenant_id, id, "id").await?;
        if let Some(name) = name {
            flow.name = flow_name(name)?;
        }
        if let Some(steps) = steps {
            flow.steps = self.checked_steps(access.tenant_id, steps).await?;
        }
        flow.updated_at = self.ports.clock.now();
        self.ports.flows.update(&flow).await?;
        Ok(flow)
    }

    /// Deletes a flow: its rules go, ref links stop starting it, and its unfinished runs are
    /// cancelled (their history stays readable).
    pub async fn delete(&self, principal: &Principal, id: FlowId) -> DomainResult<FlowId> {
        let access = principal.require_role(Role::Editor)?;
        let now = self.ports.clock.now();
        if !self.ports.flows.delete(access.tenant_id, id, now).await? {
            return Err(DomainError::not_found_in("flow", "id"));
        }
        Ok(id)
    }

    /// A flow.
    pub async fn get(&self, principal: &Principal, id: FlowId) -> DomainResult<Flow> {
        let access = principal.require_role(Role::Viewer)?;
        self.flow_in(access.tenant_id, id, "id").await
    }

    /// Flows by ids (other tenants' and deleted ones left out).
    pub async fn get_many(&self, principal: &Principal, ids: &[FlowId]) -> DomainResult<Vec<Flow>> {
        let access = principal.require_role(Role::Viewer)?;
        self.ports.flows.find_many(access.tenant_id, ids).await
    }

    /// The tenant's flows, oldest first.
    pub async fn list(&self, principal: &Principal, page: PageRequest) -> DomainResult<Page<Flow>> {
        let access = principal.require_role(Role::Viewer)?;
        self.ports.flows.list(access.tenant_id, page).await
    }

    /// The rules of some flows, oldest first.
    pub async fn triggers_of(
        &self,
        principal: &Principal,
        flow_ids: &[FlowId],
    ) -> DomainResult<Vec<FlowTrigger>> {
        let access = principal.require_role(Role::Viewer)?;
        self.ports
            .triggers
            .list_for_flows(access.tenant_id, flow_ids)
            .await
    }

    /// Adds a rule starting a flow, on one page or on all.
    pub async fn create_trigger(
        &self,
        principal: &Principal,
        flow_id: FlowId,
        page_id: Option<PageId>,
        rule: TriggerRule,
    ) -> DomainResult<FlowTrigger> {
        let access = principal.require_role(Role::Editor)?;
        let tenant_id = access.tenant_id;
        self.flow_in(tenant_id, flow_id, "flowId").await?;
        if let Some(page_id) = page_id {
            self.ports
                .pages
                .find(tenant_id, page_id)
                .await?
                .ok_or_else(|| DomainError::not_found_in("page", "pageId"))?;
        }
        let rule = rule.checked()?;
        let existing = self
            .ports
            .triggers
            .list_for_flows(tenant_id, &[flow_id])
            .await?;
        if existing.len() >= MAX_TRIGGERS_PER_FLOW {
            return Err(DomainError::validation(
                "flowId",
                format!("a flow has at most {MAX_TRIGGERS_PER_FLOW} rules; delete one first"),
            ));
        }
        if let TriggerRule::TopicOptIn { topic_id } = &rule {
            let topic = self
                .ports
                .topics
                .find(tenant_id, *topic_id)
                .await?
                .ok_or_else(|| {
                    DomainError::not_found_in("notification topic", "rule.topicOptIn.topicId")
                })?;
            if page_id.is_some_and(|page| page != topic.page_id) {
                return Err(DomainError::validation(
                    "pageId",
                    "the topic belongs to another page",
                ));
            }
        }
        let trigger = FlowTrigger {
            id: FlowTriggerId::generate(),
            tenant_id,
            flow_id,
            page_id,
            rule,
            created_at: self.ports.clock.now(),
        };
        self.ports.triggers.create(&trigger).await?;
        Ok(trigger)
    }

    /// Deletes a rule.
    pub async fn delete_trigger(
        &self,
        principal: &Principal,
        id: FlowTriggerId,
    ) -> DomainResult<FlowTriggerId> {
        let access = principal.require_role(Role::Editor)?;
        if !self.ports.triggers.delete(access.tenant_id, id).await? {
            return Err(DomainError::not_found_in("flow trigger", "id"));
        }
        Ok(id)
    }

    /// Starts a run of a flow for each subscriber (their messages go out as updates).
    pub async fn start(
        &self,
        principal: &Principal,
        flow_id: FlowId,
        subscriber_ids: &[SubscriberId],
    ) -> DomainResult<Vec<FlowRun>> {
        let access = principal.require_role(Role::Editor)?;
        let tenant_id = access.tenant_id;
        if subscriber_ids.is_empty() || subscriber_ids.len() > MAX_MANUAL_STARTS {
            return Err(DomainError::validation(
                "subscriberIds",
                format!("between 1 and {MAX_MANUAL_STARTS} subscribers at a time"),
            ));
        }
        let flow = self.flow_in(tenant_id, flow_id, "flowId").await?;
        let now = self.ports.clock.now();
        let mut runs = Vec::with_capacity(subscriber_ids.len());
        for (index, id) in subscriber_ids.iter().enumerate() {
            if subscriber_ids[..index].contains(id) {
                return Err(DomainError::validation(
                    format!("subscriberIds[{index}]"),
                    "this subscriber is listed twice",
                ));
            }
            let subscriber = self
                .ports
                .subscribers
                .find(tenant_id, *id)
                .await?
                .ok_or_else(|| {
                    DomainError::not_found_in("subscriber", format!("subscriberIds[{index}]"))
                })?;
            let start = RunStart {
                flow_id,
                steps: flow.steps.clone(),
                trigger: RunTrigger {
                    kind: TriggerKind::Manual,
                    detail: None,
                },
            };
            runs.push(FlowRun::manual(
                start,
                tenant_id,
                subscriber.id,
                subscriber.page_id,
                now,
            ));
        }
        self.ports.runs.insert(&runs).await?;
        Ok(runs)
    }

    /// A run.
    pub async fn run(&self, principal: &Principal, id: FlowRunId) -> DomainResult<FlowRun> {
        let access = principal.require_role(Role::Viewer)?;
        self.run_in(access.tenant_id, id).await
    }

    /// Runs, newest first.
    pub async fn runs(
        &self,
        principal: &Principal,
        filter: &RunFilter,
        page: PageRequest,
    ) -> DomainResult<Page<FlowRun>> {
        let access = principal.require_role(Role::Viewer)?;
        let tenant_id = access.tenant_id;
        // Filtering by something that is not there is a mistake, not an empty list.
        if let Some(flow_id) = filter.flow_id {
            self.flow_in(tenant_id, flow_id, "flowId").await?;
        }
        if let Some(subscriber_id) = filter.subscriber_id {
            self.subscriber_in(tenant_id, subscriber_id).await?;
        }
        self.ports.runs.list(tenant_id, filter, page).await
    }

    /// Stops a run that has not ended; a message it queued and that is not sent yet is not
    /// sent.
    pub async fn cancel_run(&self, principal: &Principal, id: FlowRunId) -> DomainResult<FlowRun> {
        let access = principal.require_role(Role::Editor)?;
        let mut run = self.run_in(access.tenant_id, id).await?;
        let ended = || DomainError::validation("id", "the run has already ended");
        if run.status.is_finished() {
            return Err(ended());
        }
        run.cancel(self.ports.clock.now(), "cancelled by hand");
        // The save is refused if the run ended while we looked.
        if !self.ports.runs.save(&run, None).await? {
            return Err(ended());
        }
        let at = run.finished_at.unwrap_or_else(|| self.ports.clock.now());
        self.ports
            .activity
            .publish(ActivityEvent::run_finished(&run, at));
        Ok(run)
    }

    /// An outgoing message.
    pub async fn message(
        &self,
        principal: &Principal,
        id: OutboundMessageId,
    ) -> DomainResult<OutboundMessage> {
        let access = principal.require_role(Role::Viewer)?;
        self.ports
            .outbox
            .find(access.tenant_id, id)
            .await?
            .ok_or_else(|| DomainError::not_found_in("outbound message", "id"))
    }

    /// Outgoing messages, newest first.
    pub async fn messages(
        &self,
        principal: &Principal,
        filter: &MessageFilter,
        page: PageRequest,
    ) -> DomainResult<Page<OutboundMessage>> {
        let access = principal.require_role(Role::Viewer)?;
        let tenant_id = access.tenant_id;
        if let Some(subscriber_id) = filter.subscriber_id {
            self.subscriber_in(tenant_id, subscriber_id).await?;
        }
        if let Some(run_id) = filter.run_id {
            self.ports
                .runs
                .find(tenant_id, run_id)
                .await?
                .ok_or_else(|| DomainError::not_found_in("flow run", "runId"))?;
        }
        self.ports.outbox.list(tenant_id, filter, page).await
    }

    async fn subscriber_in(&self, tenant_id: TenantId, id: SubscriberId) -> DomainResult<()> {
        self.ports
            .subscribers
            .find(tenant_id, id)
            .await?
            .map(|_| ())
            .ok_or_else(|| DomainError::not_found_in("subscriber", "subscriberId"))
    }

    async fn flow_in(&self, tenant_id: TenantId, id: FlowId, field: &str) -> DomainResult<Flow> {
        self.ports
            .flows
            .find(tenant_id, id)
            .await?
            .ok_or_else(|| DomainError::not_found_in("flow", field))
    }

    async fn run_in(&self, tenant_id: TenantId, id: FlowRunId) -> DomainResult<FlowRun> {
        self.ports
            .runs
            .find(tenant_id, id)
            .await?
            .ok_or_else(|| DomainError::not_found_in("flow run", "id"))
    }

    /// Checks every step: Meta's limits, ids of this tenant, values by their field's type
    /// (kept canonical).
    async fn checked_steps(
        &self,
        tenant_id: TenantId,
        steps: Vec<FlowStep>,
    ) -> DomainResult<Vec<FlowStep>> {
        step_count(&steps)?;
        let mut checked = Vec::with_capacity(steps.len());
        for (index, step) in steps.into_iter().enumerate() {
            let path = format!("steps[{index}]");
            let step = step.checked(&path)?;
            let at = |field: &str| format!("{path}.{}.{field}", step.action());
            let step = match step {
                FlowStep::SetField {
                    field_id,
                    ref value,
                } => {
                    let field = self
                        .ports
                        .fields
                        .find(tenant_id, field_id)
                        .await?
                        .ok_or_else(|| DomainError::not_found_in("custom field", at("fieldId")))?;
                    if field.is_archived() {
                        return Err(DomainError::validation(
                            at("fieldId"),
                            "this custom field is archived",
                        ));
                    }
                    let value = field
                        .field_type
                        .parse_value(value)
                        .map_err(|err| err.into_domain(&at("value")))?
                        .canonical();
                    FlowStep::SetField { field_id, value }
                }
                FlowStep::AddTag { tag_id } | FlowStep::RemoveTag { tag_id } => {
                    self.ports
                        .tags
                        .find(tenant_id, tag_id)
                        .await?
                        .ok_or_else(|| DomainError::not_found_in("tag", at("tagId")))?;
                    step
                }
                other => other,
            };
            checked.push(step);
        }
        Ok(checked)
    }
}
