//! One subscriber's run through a flow: where it is, what it did and when, and the moves a
//! run can make. The runner decides the moves; the store keeps the result.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::flows::step::{FlowStep, MAX_STEPS};
use crate::ids::{FlowId, FlowRunId, PageId, SubscriberId, TenantId, WebhookEventId};

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerKind {
    /// An entry through a ref link with a flow.
    RefLink,
    /// A postback or quick reply matching a rule.
    Postback,
    /// A message matching a keyword rule.
    Keyword,
    /// An opt-in to a topic with a rule.
    TopicOptIn,
    /// Someone started it by hand.
    Manual,
}

impl TriggerKind {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerKind::RefLink => "ref_link",
            TriggerKind::Postback => "postback",
            TriggerKind::Keyword => "keyword",
            TriggerKind::TopicOptIn => "topic_opt_in",
            TriggerKind::Manual => "manual",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "ref_link" => TriggerKind::RefLink,
            "postback" => TriggerKind::Postback,
            "keyword" => TriggerKind::Keyword,
            "topic_opt_in" => TriggerKind::TopicOptIn,
            "manual" => TriggerKind::Manual,
            _ => return None,
        })
    }

    /// The Send API `messaging_type` of the run's messages: a reply to what the person did,
    /// or a proactive update when someone started the run by hand.
    pub fn messaging_type(self) -> &'static str {
        match self {
            TriggerKind::Manual => "UPDATE",
            _ => "RESPONSE",
        }
    }
}

/// What started a run, with what matched (the ref, payload or text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunTrigger {
    /// The kind.
    pub kind: TriggerKind,
    /// What matched.
    pub detail: Option<String>,
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// Due to execute its next step.
    Running,
    /// In a wait step, due at `next_step_at`.
    Waiting,
    /// Waiting for its outgoing message to be sent.
    Sending,
    /// Every step done.
    Completed,
    /// Stopped by a step that could not proceed.
    Failed,
    /// Stopped by hand, or because its flow was deleted.
    Cancelled,
}

impl RunStatus {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Waiting => "waiting",
            RunStatus::Sending => "sending",
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "running" => RunStatus::Running,
            "waiting" => RunStatus::Waiting,
            "sending" => RunStatus::Sending,
            "completed" => RunStatus::Completed,
            "failed" => RunStatus::Failed,
            "cancelled" => RunStatus::Cancelled,
            _ => return None,
        })
    }

    /// Whether the run has ended.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            RunStatus::Completed | RunStatus::Failed | RunStatus::Cancelled
        )
    }
}

/// One line of a run's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// The step concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<u32>,
    /// What happened (`started`, `sendText`, `sent`, `wait`, `completed`, `failed`, …).
    pub action: String,
    /// Details for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// What went wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A run to start once the subscriber is known (webhook events find or create the subscriber
/// in the same transaction that starts the run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunStart {
    /// The flow.
    pub flow_id: FlowId,
    /// Its steps when the run starts.
    pub steps: Vec<FlowStep>,
    /// What started it.
    pub trigger: RunTrigger,
}

/// A run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowRun {
    /// Its id.
    pub id: FlowRunId,
    /// The tenant.
    pub tenant_id: TenantId,
    /// The flow.
    pub flow_id: FlowId,
    /// The subscriber.
    pub subscriber_id: SubscriberId,
    /// The subscriber's page.
    pub page_id: PageId,
    /// What started it.
    pub trigger: RunTrigger,
    /// Starts one run only: the event that started it, or the run itself when started by
    /// hand.
    pub start_key: String,
    /// The flow's steps when the run started.
    pub steps: Vec<FlowStep>,
    /// Where it is.
    pub status: RunStatus,
    /// The index of the next step to execute (the step count once done).
    pub current_step: u32,
    /// When it is next due (running and waiting runs).
    pub next_step_at: Option<DateTime<Utc>>,
    /// Why it failed.
    pub error: Option<String>,
    /// What it did.
    pub history: Vec<HistoryEntry>,
    /// How many times it has been claimed since it last moved (a run that keeps crashing its
    /// worker is failed).
    pub attempts: u32,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
}

/// Claims of a run that ended without its worker saving anything before it is failed.
pub const MAX_RUN_ATTEMPTS: u32 = 5;

/// The longest history a run can have: the line it starts with, at most two lines per step
/// (what the step did, then `resumed` after a wait or `sent` after a send) and the line it
/// ends with. The API lists a run's history whole; its cost counts on this bound.
pub const MAX_HISTORY_ENTRIES: usize = 2 * MAX_STEPS + 2;

impl FlowRun {
    /// A run started by a webhook event.
    pub fn from_event(
        start: RunStart,
        tenant_id: TenantId,
        subscriber_id: SubscriberId,
        page_id: PageId,
        event_id: WebhookEventId,
        now: DateTime<Utc>,
    ) -> FlowRun {
        Self::new(
            start,
            tenant_id,
            subscriber_id,
            page_id,
            Some(format!("event:{event_id}")),
            now,
        )
    }

    /// A run started by hand.
    pub fn manual(
        start: RunStart,
        tenant_id: TenantId,
        subscriber_id: SubscriberId,
        page_id: PageId,
        now: DateTime<Utc>,
    ) -> FlowRun {
        Self::new(start, tenant_id, subscriber_id, page_id, None, now)
    }

    fn new(
        start: RunStart,
        tenant_id: TenantId,
        subscriber_id: SubscriberId,
        page_id: PageId,
        start_key: Option<String>,
        now: DateTime<Utc>,
    ) -> FlowRun {
        let id = FlowRunId::generate();
        FlowRun {
            id,
            tenant_id,
            flow_id: start.flow_id,
            subscriber_id,
            page_id,
            start_key: start_key.unwrap_or_else(|| format!("run:{id}")),
            history: vec![HistoryEntry {
                at: now,
                step: None,
                action: "started".to_owned(),
                detail: Some(match &start.trigger.detail {
                    Some(detail) => format!("{}: {detail}", start.trigger.kind.as_str()),
                    None => start.trigger.kind.as_str().to_owned(),
                }),
                error: None,
            }],
            trigger: start.trigger,
            steps: start.steps,
            status: RunStatus::Running,
            current_step: 0,
            next_step_at: Some(now),
            error: None,
            attempts: 0,
            started_at: now,
            finished_at: None,
        }
    }

    /// The next step to execute, with its index.
    pub fn next_step(&self) -> Option<(u32, FlowStep)> {
        self.steps
            .get(self.current_step as usize)
            .map(|step| (self.current_step, step.clone()))
    }

    /// Records a line of history.
    pub fn record(
        &mut self,
        at: DateTime<Utc>,
        step: Option<u32>,
        action: &str,
        detail: Option<String>,
    ) {
        self.history.push(HistoryEntry {
            at,
            step,
            action: action.to_owned(),
            detail,
            error: None,
        });
    }

    /// A step that acts at once is done: on to the next.
    pub fn step_done(&mut self, at: DateTime<Utc>, step: u32, action: &str, detail: String) {
        self.record(at, Some(step), action, Some(detail));
        self.current_step = step + 1;
    }

    /// A wait step: due again in `seconds`.
    pub fn wait(&mut self, at: DateTime<Utc>, step: u32, seconds: u32) {
        let due = at + Duration::seconds(i64::from(seconds));
        self.record(
            at,
            Some(step),
            "wait",
            Some(format!("until {}", due.to_rfc3339())),
        );
        self.current_step = step + 1;
        self.status = RunStatus::Waiting;
        self.next_step_at = Some(due);
    }

    /// A sending step queued its message: the run waits for it to be sent.
    pub fn await_send(&mut self, at: DateTime<Utc>, step: u32, action: &str) {
        self.record(at, Some(step), action, Some("queued".to_owned()));
        self.current_step = step + 1;
        self.status = RunStatus::Sending;
        self.next_step_at = None;
    }

    /// A waiting run picked up again.
    pub fn resume(&mut self, at: DateTime<Utc>) {
        if self.status == RunStatus::Waiting {
            self.record(at, None, "resumed", None);
        }
        self.status = RunStatus::Running;
    }

    /// Its message went out: due at once for the next step.
    pub fn message_sent(&mut self, at: DateTime<Utc>, meta_message_id: &str) {
        self.record(
            at,
            self.current_step.checked_sub(1),
            "sent",
            Some(meta_message_id.to_owned()).filter(|id| !id.is_empty()),
        );
        self.status = RunStatus::Running;
        self.next_step_at = Some(at);
        self.attempts = 0;
    }

    /// Every step done.
    pub fn complete(&mut self, at: DateTime<Utc>) {
        self.record(at, None, "completed", None);
        self.finish(at, RunStatus::Completed);
    }

    /// Stops the run for `reason`, which people read.
    pub fn fail(&mut self, at: DateTime<Utc>, step: Option<u32>, reason: String) {
        self.history.push(HistoryEntry {
            at,
            step,
            action: "failed".to_owned(),
            detail: None,
            error: Some(reason.clone()),
        });
        self.error = Some(reason);
        self.finish(at, RunStatus::Failed);
    }

    /// Stops the run by hand.
    pub fn cancel(&mut self, at: DateTime<Utc>, why: &str) {
        self.record(at, None, "cancelled", Some(why.to_owned()));
        self.finish(at, RunStatus::Cancelled);
    }

    fn finish(&mut self, at: DateTime<Utc>, status: RunStatus) {
        self.status = status;
        self.next_step_at = None;
        self.finished_at = Some(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(steps: Vec<FlowStep>) -> FlowRun {
        FlowRun::manual(
            RunStart {
                flow_id: FlowId::generate(),
                steps,
                trigger: RunTrigger {
                    kind: TriggerKind::Manual,
                    detail: None,
                },
            },
            TenantId::generate(),
            SubscriberId::generate(),
            PageId::generate(),
            Utc::now(),
        )
    }

    #[test]
    fn a_run_moves_through_waits_and_sends_to_completion() {
        let now = Utc::now();
        let mut run = run(vec![
            FlowStep::SendText { text: "hi".into() },
            FlowStep::Wait { seconds: 60 },
        ]);
        assert_eq!(run.status, RunStatus::Running);
        let (index, step) = run.next_step().unwrap();
        run.await_send(now, index, step.action());
        assert_eq!((run.status, run.next_step_at), (RunStatus::Sending, None));
        run.message_sent(now, "m_1");
        assert_eq!(run.status, RunStatus::Running);
        run.wait(now, 1, 60);
        assert_eq!(run.status, RunStatus::Waiting);
        assert_eq!(run.next_step_at, Some(now + Duration::seconds(60)));
        run.resume(now);
        assert!(run.next_step().is_none());
        run.complete(now);
        assert!(run.status.is_finished());
        let actions: Vec<_> = run.history.iter().map(|h| h.action.as_str()).collect();
        assert_eq!(
            actions,
            [
                "started",
                "sendText",
                "sent",
                "wait",
                "resumed",
                "completed"
            ]
        );
    }

    #[test]
    fn a_failed_run_says_why() {
        let mut run = run(vec![FlowStep::Wait { seconds: 1 }]);
        run.fail(Utc::now(), Some(0), "the tag was deleted".into());
        assert_eq!(run.status, RunStatus::Failed);
        assert_eq!(run.error.as_deref(), Some("the tag was deleted"));
        assert!(run.finished_at.is_some() && run.next_step_at.is_none());
    }
}
