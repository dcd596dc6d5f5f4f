//! Flow, trigger, run and outbox rows to domain values and back.

use refhub_domain::DomainResult;
use refhub_domain::flows::{
    Flow, FlowRun, FlowStep, FlowTrigger, HistoryEntry, KeywordMatch, MessageKind, OutboundMessage,
    OutboxStatus, RunStatus, RunTrigger, TriggerKind, TriggerRule,
};
use sea_orm::Set;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::entities::{flow_runs, flow_triggers, flows, outbound_messages};
use crate::error::corrupt;

fn to_json<T: Serialize>(value: &T) -> Value {
    // Plain data (strings, numbers, ids): serialising cannot fail.
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn from_json<T: DeserializeOwned>(what: &str, value: Value) -> DomainResult<T> {
    serde_json::from_value(value.clone()).map_err(|_| corrupt(what, &value.to_string()))
}

fn count(value: i32) -> u32 {
    u32::try_from(value).unwrap_or(0)
}

fn stored_count(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

pub(crate) fn flow(row: flows::Model) -> DomainResult<Flow> {
    Ok(Flow {
        id: row.id.into(),
        tenant_id: row.tenant_id.into(),
        name: row.name,
        steps: from_json::<Vec<FlowStep>>("flow steps", row.steps)?,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

pub(crate) fn flow_row(flow: &Flow) -> flows::ActiveModel {
    flows::ActiveModel {
        tenant_id: Set(flow.tenant_id.0),
        id: Set(flow.id.0),
        name: Set(flow.name.clone()),
        steps: Set(to_json(&flow.steps)),
        deleted_at: Set(None),
        created_at: Set(flow.created_at),
        updated_at: Set(flow.updated_at),
    }
}

pub(crate) fn trigger(row: flow_triggers::Model) -> DomainResult<FlowTrigger> {
    let rule = match row.kind.as_str() {
        "postback" => TriggerRule::Postback { payload: row.value },
        "keyword" => TriggerRule::Keyword {
            matching: row
                .keyword_match
                .as_deref()
                .and_then(KeywordMatch::parse)
                .ok_or_else(|| corrupt("keyword match", &format!("{:?}", row.keyword_match)))?,
            keyword: row.value,
        },
        "topic_opt_in" => TriggerRule::TopicOptIn {
            topic_id: row
                .topic_id
                .ok_or_else(|| corrupt("trigger topic", "NULL"))?
                .into(),
        },
        other => return Err(corrupt("trigger kind", other)),
    };
    Ok(FlowTrigger {
        id: row.id.into(),
        tenant_id: row.tenant_id.into(),
        flow_id: row.flow_id.into(),
        page_id: row.page_id.map(Into::into),
        rule,
        created_at: row.created_at,
    })
}

pub(crate) fn trigger_row(trigger: &FlowTrigger) -> flow_triggers::ActiveModel {
    let (value, keyword_match, topic_id) = match &trigger.rule {
        TriggerRule::Postback { payload } => (payload.clone(), None, None),
        TriggerRule::Keyword { keyword, matching } => {
            (keyword.clone(), Some(matching.as_str().to_owned()), None)
        }
        TriggerRule::TopicOptIn { topic_id } => (topic_id.to_string(), None, Some(topic_id.0)),
    };
    flow_triggers::ActiveModel {
        tenant_id: Set(trigger.tenant_id.0),
        id: Set(trigger.id.0),
        flow_id: Set(trigger.flow_id.0),
        page_id: Set(trigger.page_id.map(|p| p.0)),
        page_scope: Set(trigger
            .page_id
            .map_or_else(|| "*".to_owned(), |p| p.to_string())),
        kind: Set(trigger.rule.kind().to_owned()),
        pattern: Set(trigger.rule.pattern()),
        value: Set(value),
        keyword_match: Set(keyword_match),
        topic_id: Set(topic_id),
        created_at: Set(trigger.created_at),
    }
}

pub(crate) fn run(row: flow_runs::Model) -> DomainResult<FlowRun> {
    Ok(FlowRun {
        id: row.id.into(),
        tenant_id: row.tenant_id.into(),
        flow_id: row.flow_id.into(),
        subscriber_id: row.subscriber_id.into(),
        page_id: row.page_id.into(),
        trigger: RunTrigger {
            kind: TriggerKind::parse(&row.trigger_kind)
                .ok_or_else(|| corrupt("trigger kind", &row.trigger_kind))?,
            detail: row.trigger_detail,
        },
        start_key: row.start_key,
        steps: from_json::<Vec<FlowStep>>("run steps", row.steps)?,
        status: RunStatus::parse(&row.status).ok_or_else(|| corrupt("run status", &row.status))?,
        current_step: count(row.current_step),
        next_step_at: row.next_step_at,
        error: row.error,
        history: from_json::<Vec<HistoryEntry>>("run history", row.history)?,
        attempts: count(row.attempts),
        started_at: row.started_at,
        finished_at: row.finished_at,
    })
}

pub(crate) fn run_row(run: &FlowRun) -> flow_runs::ActiveModel {
    flow_runs::ActiveModel {
        tenant_id: Set(run.tenant_id.0),
        id: Set(run.id.0),
        flow_id: Set(run.flow_id.0),
        subscriber_id: Set(run.subscriber_id.0),
        page_id: Set(run.page_id.0),
        trigger_kind: Set(run.trigger.kind.as_str().to_owned()),
        trigger_detail: Set(run.trigger.detail.clone()),
        start_key: Set(run.start_key.clone()),
        steps: Set(to_json(&run.steps)),
        status: Set(run.status.as_str().to_owned()),
        current_step: Set(stored_count(run.current_step)),
        next_step_at: Set(run.next_step_at),
        error: Set(run.error.clone()),
        history: Set(to_json(&run.history)),
        attempts: Set(stored_count(run.attempts)),
        started_at: Set(run.started_at),
        finished_at: Set(run.finished_at),
        updated_at: Set(chrono::Utc::now()),
    }
}

pub(crate) fn message(row: outbound_messages::Model) -> DomainResult<OutboundMessage> {
    Ok(OutboundMessage {
        id: row.id.into(),
        tenant_id: row.tenant_id.into(),
        page_id: row.page_id.into(),
        subscriber_id: row.subscriber_id.into(),
        kind: MessageKind::parse(&row.kind).ok_or_else(|| corrupt("message kind", &row.kind))?,
        run_id: row.run_id.map(Into::into),
        topic_id: row.topic_id.map(Into::into),
        opt_in_id: row.opt_in_id.map(Into::into),
        idempotency_key: row.idempotency_key,
        messaging_type: row.messaging_type,
        message: row.message,
        status: OutboxStatus::parse(&row.status)
            .ok_or_else(|| corrupt("message status", &row.status))?,
        attempts: count(row.attempts),
        next_attempt_at: row.next_attempt_at,
        last_error: row.last_error,
        error_code: row.error_code,
        meta_message_id: row.meta_message_id,
        created_at: row.created_at,
        sent_at: row.sent_at,
    })
}

pub(crate) fn message_row(message: &OutboundMessage) -> outbound_messages::ActiveModel {
    outbound_messages::ActiveModel {
        tenant_id: Set(message.tenant_id.0),
        id: Set(message.id.0),
        page_id: Set(message.page_id.0),
        subscriber_id: Set(message.subscriber_id.0),
        kind: Set(message.kind.as_str().to_owned()),
        run_id: Set(message.run_id.map(|r| r.0)),
        topic_id: Set(message.topic_id.map(|t| t.0)),
        opt_in_id: Set(message.opt_in_id.map(|o| o.0)),
        idempotency_key: Set(message.idempotency_key.clone()),
        messaging_type: Set(message.messaging_type.clone()),
        message: Set(message.message.clone()),
        status: Set(message.status.as_str().to_owned()),
        attempts: Set(stored_count(message.attempts)),
        next_attempt_at: Set(message.next_attempt_at),
        last_error: Set(message.last_error.clone()),
        error_code: Set(message.error_code),
        meta_message_id: Set(message.meta_message_id.clone()),
        created_at: Set(message.created_at),
        sent_at: Set(message.sent_at),
        updated_at: Set(chrono::Utc::now()),
    }
}
