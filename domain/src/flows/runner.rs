//! Moves a claimed run forward: executes its steps until one has to wait (a `wait`, or a
//! message that must be sent before the next step), the flow ends, or a step cannot proceed.
//!
//! Steps that change the subscriber are idempotent (set a value, add or remove a tag), so a
//! run whose worker dies before saving repeats them harmlessly; a sending step queues its
//! message under a key made of the run and step, so it is never queued twice.

use std::sync::Arc;

use crate::activity::{ActivityEvent, ActivityPublisher};
use crate::audience::{FieldValueRecord, SubscriberRepository};
use crate::catalogue::{CustomFieldRepository, TagRepository};
use crate::clock::Clock;
use crate::error::DomainResult;
use crate::flows::outbox::OutboundMessage;
use crate::flows::ports::FlowRunRepository;
use crate::flows::run::{FlowRun, MAX_RUN_ATTEMPTS, RunStatus};
use crate::flows::step::FlowStep;

/// What the runner reads and writes.
pub struct RunnerPorts {
    /// Runs.
    pub runs: Arc<dyn FlowRunRepository>,
    /// Subscribers.
    pub subscribers: Arc<dyn SubscriberRepository>,
    /// Custom fields.
    pub fields: Arc<dyn CustomFieldRepository>,
    /// Tags.
    pub tags: Arc<dyn TagRepository>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// The live activity feed (runs that end).
    pub activity: Arc<dyn ActivityPublisher>,
}

/// Executes runs.
pub struct FlowRunner {
    ports: RunnerPorts,
}

/// How far one step got.
enum Outcome {
    /// Done; on to the next step.
    Next,
    /// The run stops here for now (or for good).
    Stop(Option<Box<OutboundMessage>>),
}

impl FlowRunner {
    /// Builds the runner.
    pub fn new(ports: RunnerPorts) -> Self {
        Self { ports }
    }

    /// Moves a claimed run as far as it can go now, and saves it.
    pub async fn advance(&self, mut run: FlowRun) -> DomainResult<()> {
        let now = self.ports.clock.now();
        if run.attempts > MAX_RUN_ATTEMPTS {
            run.fail(
                now,
                Some(run.current_step),
                "abandoned after its worker stopped repeatedly while running it".to_owned(),
            );
            if self.ports.runs.save(&run, None).await? {
                self.ports
                    .activity
                    .publish(ActivityEvent::run_finished(&run, now));
            }
            return Ok(());
        }
        run.resume(now);
        let subscriber = self
            .ports
            .subscribers
            .find(run.tenant_id, run.subscriber_id)
            .await?;
        let mut queued = None;
        if subscriber.is_none() {
            run.fail(now, None, "the subscriber no longer exists".to_owned());
        }
        while run.status == RunStatus::Running {
            let Some((index, step)) = run.next_step() else {
                // Stamped after the steps executed just before it.
                run.complete(self.ports.clock.now());
                break;
            };
            match self.execute(&mut run, index, &step).await? {
                Outcome::Next => {}
                Outcome::Stop(message) => {
                    queued = message;
                    break;
                }
            }
        }
        run.attempts = 0;
        if !self.ports.runs.save(&run, queued.as_deref()).await? {
            tracing::info!(run_id = %run.id, "run ended elsewhere while it was being executed");
        } else if run.status.is_finished() {
            let at = run.finished_at.unwrap_or(now);
            self.ports
                .activity
                .publish(ActivityEvent::run_finished(&run, at));
        }
        Ok(())
    }

    async fn execute(
        &self,
        run: &mut FlowRun,
        index: u32,
        step: &FlowStep,
    ) -> DomainResult<Outcome> {
        let now = self.ports.clock.now();
        let tenant_id = run.tenant_id;
        match step {
            FlowStep::SetField { field_id, value } => {
                let field = self.ports.fields.find(tenant_id, *field_id).await?;
                let Some(field) = field.filter(|f| !f.is_archived()) else {
                    run.fail(
                        now,
                        Some(index),
                        "the custom field of this step was deleted or archived".to_owned(),
                    );
                    return Ok(Outcome::Stop(None));
                };
                let record = FieldValueRecord {
                    field_id: *field_id,
                    value: value.clone(),
                    set_at: now,
                };
                self.ports
                    .subscribers
                    .set_field_value(tenant_id, run.subscriber_id, &record)
                    .await?;
                run.step_done(
                    now,
                    index,
                    step.action(),
                    format!("{} = {value}", field.name),
                );
                Ok(Outcome::Next)
            }
            FlowStep::AddTag { tag_id } => {
                let Some(tag) = self.ports.tags.find(tenant_id, *tag_id).await? else {
                    run.fail(
                        now,
                        Some(index),
                        "the tag of this step was deleted".to_owned(),
                    );
                    return Ok(Outcome::Stop(None));
                };
                self.ports
                    .subscribers
                    .add_tag(tenant_id, run.subscriber_id, *tag_id, now)
                    .await?;
                run.step_done(now, index, step.action(), tag.name);
                Ok(Outcome::Next)
            }
            FlowStep::RemoveTag { tag_id } => {
                // A deleted tag is on nobody any more: nothing to remove.
                let detail = match self.ports.tags.find(tenant_id, *tag_id).await? {
                    Some(tag) => {
                        self.ports
                            .subscribers
                            .remove_tag(tenant_id, run.subscriber_id, *tag_id)
                            .await?;
                        tag.name
                    }
                    None => "the tag was deleted; nothing to remove".to_owned(),
                };
                run.step_done(now, index, step.action(), detail);
                Ok(Outcome::Next)
            }
            FlowStep::Wait { seconds } => {
                run.wait(now, index, *seconds);
                Ok(Outcome::Stop(None))
            }
            FlowStep::SendText { .. }
            | FlowStep::SendQuickReplies { .. }
            | FlowStep::SendButtons { .. } => {
                let body = step.message().unwrap_or_default();
                let message = OutboundMessage::for_run_step(run, index, body, now);
                run.await_send(now, index, step.action());
                Ok(Outcome::Stop(Some(Box::new(message))))
            }
        }
    }
}
