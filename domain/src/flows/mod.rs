//! Flows and outbound messaging: flows of steps, the rules that start them, runs, the outbox
//! that sends their messages through the Send API, and topic notifications.

mod flow;
mod flow_service;
mod notifications;
mod outbox;
mod ports;
mod run;
mod runner;
mod sender;
mod step;
mod trigger;

pub use flow::{Flow, MAX_FLOW_NAME_CHARS};
pub use flow_service::{FlowService, FlowServicePorts, MAX_MANUAL_STARTS, MAX_TRIGGERS_PER_FLOW};
pub use notifications::{NotificationReport, NotificationService, SkipReason, cadence_start};
pub use outbox::{MAX_SEND_ATTEMPTS, MessageKind, OutboundMessage, OutboxStatus, retry_delay};
pub use ports::{
    FlowRepository, FlowRunRepository, FlowTriggerRepository, MessageFilter, MessageSender,
    OutboxRepository, RunFilter, SendRequest, SendThrottle,
};
pub use run::{
    FlowRun, HistoryEntry, MAX_HISTORY_ENTRIES, MAX_RUN_ATTEMPTS, RunStart, RunStatus, RunTrigger,
    TriggerKind,
};
pub use runner::{FlowRunner, RunnerPorts};
pub use sender::{OutboxSender, SenderPorts};
pub use step::{
    Button, ButtonAction, FlowStep, MAX_BUTTONS, MAX_QUICK_REPLIES, MAX_STEPS, QuickReply,
};
pub use trigger::{FlowTrigger, KeywordMatch, TriggerRule, TriggerSignal, matching_trigger};
