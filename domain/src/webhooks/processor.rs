//! What a worker does with stored events: read each, decide its effects on the subscriber
//! (entry, payload fields, tags, opt-ins, timeline) without writing anything, and hand them to
//! the store, which applies them once: one event at a time, or a tenant's share of a claimed
//! batch in one transaction. Nothing here depends on the order events arrive in.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::activity::{ActivityEvent, ActivityKind, ActivityPublisher};
use crate::audience::{
    AppliedEvent, AudienceStore, Entry, EventEffects, Interaction, OptInChange, OptInStatus,
};
use crate::catalogue::{
    CustomField, CustomFieldRepository, Page, PageRepository, RefLinkRepository, SecretCipher,
    SecretPurpose, TopicRepository, parse_ref,
};
use crate::clock::Clock;
use crate::error::DomainResult;
use crate::flows::{
    FlowRepository, FlowTriggerRepository, RunStart, RunTrigger, TriggerKind, TriggerRule,
    TriggerSignal, matching_trigger,
};
use crate::identity::SecretGenerator;
use crate::ids::{FlowId, OptInId, TenantId};
use crate::text::excerpt;
use crate::webhooks::catalogue_memo::{CatalogueMemo, remembered};
use crate::webhooks::envelope::{Sender, is_standby};
use crate::webhooks::event::{MessengerEvent, NotificationOptIn, PriorMessage, Referral};
use crate::webhooks::inbox::{InboxEvent, InboxStatus};
use crate::webhooks::ports::InboxRepository;
use crate::webhooks::sealed_tokens::open_token;

/// What processing one event came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Processed {
    /// Applied to a subscriber.
    Applied(AppliedEvent),
    /// Stored but not acted on (unknown page, no sender, unhandled kind).
    Ignored,
}

/// What an event comes to before anything is written: decided from the event and the
/// catalogue alone, so that a worker can decide a whole batch and then apply it at once.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Nothing to apply: finish the event as ignored, with this outcome.
    Ignore(Value),
    /// Effects to apply to a subscriber (their outcome included).
    Apply(Box<EventEffects>),
}

/// Everything the processor reads and writes.
pub struct ProcessorPorts {
    /// Pages.
    pub pages: Arc<dyn PageRepository>,
    /// Ref links.
    pub links: Arc<dyn RefLinkRepository>,
    /// Custom fields.
    pub fields: Arc<dyn CustomFieldRepository>,
    /// Topics.
    pub topics: Arc<dyn TopicRepository>,
    /// Flows (started by links and rules).
    pub flows: Arc<dyn FlowRepository>,
    /// The rules that start flows.
    pub triggers: Arc<dyn FlowTriggerRepository>,
    /// Subscribers.
    pub audience: Arc<dyn AudienceStore>,
    /// The inbox.
    pub inbox: Arc<dyn InboxRepository>,
    /// Sealing notification tokens.
    pub cipher: Arc<dyn SecretCipher>,
    /// Fingerprints.
    pub secrets: Arc<dyn SecretGenerator>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// The live activity feed.
    pub activity: Arc<dyn ActivityPublisher>,
}

/// Turns stored events into subscriber changes.
pub struct EventProcessor {
    ports: ProcessorPorts,
}

/// How much of a ref or a value the notes quote.
const QUOTED_CHARS: usize = 200;
/// Payload problems noted one by one; the rest are counted in one note.
const NOTED_PAYLOAD_PROBLEMS: usize = 20;
/// Fields one ref may set. A ref from a real link (2,083 characters at most) sets far fewer;
/// each field number costs a lookup, so a forged one must not cost thousands.
const MAX_PAYLOAD_PAIRS: usize = 100;

/// Notes on what was applied and skipped, stored on the event.
#[derive(Default)]
struct Notes {
    applied: Vec<Value>,
    skipped: Vec<Value>,
    /// Problems past the ones noted, counted.
    skipped_unnoted: usize,
    attribution: Option<Value>,
}

impl Notes {
    /// Notes a skipped part: the first [`NOTED_PAYLOAD_PROBLEMS`] one by one, the rest counted,
    /// whatever they are (payload syntax, unknown fields, values that do not fit).
    fn skip(&mut self, what: Value, reason: impl Into<String>) {
        self.skip_with(|| (what, reason.into()));
    }

    /// [`Notes::skip`], building the note only when it is listed: a forged ref may hold
    /// thousands of problems, of which only the first few are.
    fn skip_with(&mut self, note: impl FnOnce() -> (Value, String)) {
        if self.skipped.len() < NOTED_PAYLOAD_PROBLEMS {
            let (what, reason) = note();
            self.skipped.push(json!({ "what": what, "reason": reason }));
        } else {
            self.skipped_unnoted += 1;
        }
    }

    fn into_outcome(mut self, interaction: &Interaction) -> Value {
        if self.skipped_unnoted > 0 {
            self.skipped.push(json!({
                "what": null,
                "reason": format!(
                    "{} more problems, not listed; those parts were skipped",
                    self.skipped_unnoted
                ),
            }));
        }
        json!({
            "interaction": interaction.kind,
            "attribution": self.attribution,
            "applied": self.applied,
            "skipped": self.skipped,
        })
    }
}

impl EventProcessor {
    /// Builds the processor.
    pub fn new(ports: ProcessorPorts) -> Self {
        Self { ports }
    }

    /// Processes one event. An error means "try again later"; the caller records it.
    pub async fn process(&self, event: &InboxEvent) -> DomainResult<Processed> {
        self.process_with(event, &mut CatalogueMemo::default())
            .await
    }

    /// Processes one event of a batch, sharing the batch's catalogue lookups: decides it, then
    /// finishes it as ignored or applies it in a transaction of its own.
    pub async fn process_with(
        &self,
        event: &InboxEvent,
        memo: &mut CatalogueMemo,
    ) -> DomainResult<Processed> {
        match self.decide(event, memo).await? {
            Decision::Ignore(outcome) => self.finish_ignored(event, outcome).await,
            Decision::Apply(effects) => self.apply(&effects).await.map(Processed::Applied),
        }
    }

    /// Decides what an event does, reading the catalogue (through the batch's memo) and
    /// writing nothing. An error means "try again later"; the caller records it.
    pub async fn decide(
        &self,
        event: &InboxEvent,
        memo: &mut CatalogueMemo,
    ) -> DomainResult<Decision> {
        let tenant_id = event.tenant_id;
        if crate::audience::is_redacted(&event.item) {
            return Ok(Decision::Ignore(json!({ "ignored": "erased" })));
        }
        let mut meaning = MessengerEvent::interpret(&event.kind, &event.item);
        let cipher = self.ports.cipher.as_ref();
        match &mut meaning {
            MessengerEvent::OptedIn(optin) => {
                optin.token = open_token(&optin.token, tenant_id, event.id, cipher)?;
            }
            MessengerEvent::OptedOut { token } | MessengerEvent::Resumed { token } => {
                *token = open_token(token, tenant_id, event.id, cipher)?;
            }
            _ => {}
        }
        if let MessengerEvent::Unhandled { kind } = &meaning {
            return Ok(Decision::Ignore(json!({ "unhandled": kind })));
        }
        if meaning == MessengerEvent::Echo {
            return Ok(Decision::Ignore(json!({ "unhandled": "echo" })));
        }
        let Some(sender) = event.sender_key.as_deref().and_then(Sender::from_key) else {
            return Ok(Decision::Ignore(
                json!({ "ignored": "the event names no sender" }),
            ));
        };
        let page = match event.page_facebook_id.clone() {
            Some(facebook_id) => {
                let pages = &self.ports.pages;
                let key = (tenant_id, facebook_id.clone());
                remembered(&mut memo.pages, key, || async move {
                    pages.find_by_facebook_id(tenant_id, &facebook_id).await
                })
                .await?
            }
            None => None,
        };
        let Some(page) = page else {
            tracing::info!(%tenant_id, page = ?event.page_facebook_id, "event for a page the tenant has not connected");
            return Ok(Decision::Ignore(
                json!({ "ignored": "page not connected", "page": event.page_facebook_id }),
            ));
        };

        let mut notes = Notes::default();
        // Only a PSID can answer for a plugin user; a plugin user naming one is noise.
        let links_user_ref = match sender {
            Sender::Psid(_) => PriorMessage::of(&event.kind, &event.item).map(|p| p.user_ref),
            Sender::UserRef(_) => None,
        };
        let mut effects = EventEffects {
            tenant_id,
            event_id: event.id,
            page_id: page.id,
            sender,
            links_user_ref,
            occurred_at: event.occurred_at,
            opens_window: meaning.opens_window(),
            interaction: interaction(&meaning, self.ports.secrets.as_ref()),
            entry: None,
            field_values: Vec::new(),
            tag_ids: Vec::new(),
            opt_in: None,
            run_start: None,
            outcome: Value::Null,
        };
        let mut link_flow = None;
        match meaning.referral() {
            Some(Referral {
                reference: Some(reference),
                ..
            }) => {
                let reference = reference.clone();
                link_flow = self
                    .apply_referral(&page, &reference, &mut effects, &mut notes, memo)
                    .await?
                    .map(|flow_id| (flow_id, reference));
            }
            // An ad names a ref only when its advertiser gave one; the entry counts all the same.
            Some(Referral {
                reference: None,
                ad_id,
                ..
            }) => {
                effects.entry = Some(Entry {
                    reference: None,
                    ref_link_id: None,
                });
                notes.attribution = Some(json!({ "ref": null, "adId": ad_id }));
            }
            None => {}
        }
        match &meaning {
            MessengerEvent::OptedIn(optin) => {
                effects.opt_in = Some(
                    self.subscribe(&page, &effects.sender, optin, &mut notes, memo)
                        .await?,
                );
            }
            MessengerEvent::OptedOut { token } => {
                effects.opt_in = Some(self.set_status(token, OptInStatus::Stopped, &mut notes));
            }
            MessengerEvent::Resumed { token } => {
                effects.opt_in = Some(self.set_status(token, OptInStatus::Active, &mut notes));
            }
            _ => {}
        }
        // A standby item is a copy for an app that does not own the conversation (a person
        // may be talking to a live agent through another app): it is recorded like any other,
        // but under Meta's handover protocol this app must not write into that conversation,
        // so it starts no flow.
        let standby = is_standby(&event.item);
        effects.run_start = self
            .run_to_start(&page, &meaning, &effects, link_flow, &mut notes, memo)
            .await?;
        match effects.run_start.take() {
            Some(run) if standby => notes.skip(
                json!({ "flow": run.flow_id.to_string() }),
                "a standby item: another app owns the conversation, so no flow starts",
            ),
            // Said only of a run that starts: the outcome lists what happened.
            Some(run) => {
                notes.applied.push(json!({
                    "flowStarted": run.flow_id.to_string(),
                    "trigger": run.trigger.kind.as_str(),
                }));
                effects.run_start = Some(run);
            }
            None => {}
        }
        effects.outcome = notes.into_outcome(&effects.interaction);
        Ok(Decision::Apply(Box::new(effects)))
    }

    /// Records that an event was stored but not acted on, with the outcome its decision gave.
    pub async fn finish_ignored(
        &self,
        event: &InboxEvent,
        outcome: Value,
    ) -> DomainResult<Processed> {
        self.ports
            .inbox
            .finish(
                event.tenant_id,
                event.id,
                InboxStatus::Ignored,
                outcome,
                self.ports.clock.now(),
            )
            .await?;
        Ok(Processed::Ignored)
    }

    /// Applies one decided event in a transaction of its own; once committed, tells the live
    /// feed what it did if this was its first application.
    pub async fn apply(&self, effects: &EventEffects) -> DomainResult<AppliedEvent> {
        let applied = self.ports.audience.apply(effects).await?;
        if applied.first_application {
            self.publish(effects, applied);
        }
        Ok(applied)
    }

    /// Applies decided events of one tenant in one transaction (see
    /// [`AudienceStore::apply_batch`]); once committed, tells the live feed what each did the
    /// first time it was applied. Results come in the order of `effects`.
    pub async fn apply_batch(&self, effects: &[EventEffects]) -> DomainResult<Vec<AppliedEvent>> {
        let applied = self.ports.audience.apply_batch(effects).await?;
        for (effects, applied) in effects.iter().zip(&applied) {
            if applied.first_application {
                self.publish(effects, *applied);
            }
        }
        Ok(applied)
    }

    /// Tells the live feed what an event did the first time it was applied.
    fn publish(&self, effects: &EventEffects, applied: AppliedEvent) {
        let event = |kind| {
            ActivityEvent::about_subscriber(
                effects.tenant_id,
                kind,
                effects.occurred_at,
                applied.subscriber_id,
                effects.page_id,
            )
        };
        if applied.new_subscriber {
            self.ports
                .activity
                .publish(event(ActivityKind::NewSubscriber));
        }
        if let Some(ref_link_id) = effects.entry.as_ref().and_then(|e| e.ref_link_id) {
            self.ports.activity.publish(ActivityEvent {
                ref_link_id: Some(ref_link_id),
                ..event(ActivityKind::RefLinkEntry)
            });
        }
        match &effects.opt_in {
            Some(OptInChange::Subscribe { topic_id, .. }) => {
                self.ports.activity.publish(ActivityEvent {
                    topic_id: *topic_id,
                    ..event(ActivityKind::OptIn)
                });
            }
            Some(OptInChange::SetStatus {
                status: OptInStatus::Stopped,
                ..
            }) => self.ports.activity.publish(event(ActivityKind::OptOut)),
            _ => {}
        }
    }

    /// An entry through a link: attribution, payload values and the link's tags. Returns the
    /// flow the link starts, if it is active and has one.
    async fn apply_referral(
        &self,
        page: &Page,
        reference: &str,
        effects: &mut EventEffects,
        notes: &mut Notes,
        memo: &mut CatalogueMemo,
    ) -> DomainResult<Option<FlowId>> {
        let tenant_id = page.tenant_id;
        let mut parsed = parse_ref(reference);
        // A ref is at most a few kilobytes from a real link, but one delivery may carry a
        // megabyte of it: what is noted about it stays small, and only so many fields are set.
        let quoted_ref = excerpt(reference, QUOTED_CHARS);
        for problem in &parsed.problems {
            notes.skip_with(|| (json!({ "ref": quoted_ref }), problem.describe()));
        }
        if parsed.pairs.len() > MAX_PAYLOAD_PAIRS {
            let more = parsed.pairs.len() - MAX_PAYLOAD_PAIRS;
            parsed.pairs.truncate(MAX_PAYLOAD_PAIRS);
            notes.skip(
                json!({ "ref": quoted_ref }),
                format!(
                    "the payload sets more than {MAX_PAYLOAD_PAIRS} fields; \
                     the {more} after those were skipped"
                ),
            );
        }
        let links = &self.ports.links;
        let page_id = page.id;
        let ref_name = parsed.ref_name.clone();
        let key = (tenant_id, page_id, ref_name.clone());
        let link = remembered(&mut memo.links, key, || async move {
            links.find_by_ref(tenant_id, page_id, &ref_name).await
        })
        .await?;
        effects.entry = Some(Entry {
            reference: Some(reference.to_owned()),
            ref_link_id: link.as_ref().map(|l| l.id),
        });
        let Some(link) = link else {
            notes.attribution = Some(json!({ "unknownRef": parsed.ref_name }));
            // Without a link there is no default field, and a payload is only taken from a
            // link of the tenant's: the entry counts, its values are listed as skipped.
            const NO_LINK: &str = "the ref matches no ref link, so its payload was not applied";
            if let Some(value) = &parsed.default_value {
                notes.skip(
                    json!({ "defaultValue": excerpt(value, QUOTED_CHARS) }),
                    NO_LINK,
                );
            }
            for pair in &parsed.pairs {
                notes.skip_with(|| {
                    (
                        json!({ "field": pair.field_number, "value": excerpt(&pair.value, QUOTED_CHARS) }),
                        NO_LINK.to_owned(),
                    )
                });
            }
            return Ok(None);
        };
        notes.attribution =
            Some(json!({ "refLinkId": link.id.to_string(), "ref": parsed.ref_name }));
        if !link.active {
            notes.skip(
                json!({ "refLink": link.id.to_string() }),
                "the ref link is inactive",
            );
            return Ok(None);
        }
        effects.tag_ids = link.tag_ids.clone();
        if let Some(value) = parsed.default_value {
            match link.default_field_id {
                Some(field_id) => {
                    let fields = &self.ports.fields;
                    let key = (tenant_id, field_id);
                    let field = remembered(&mut memo.fields_by_id, key, || async move {
                        fields.find(tenant_id, field_id).await
                    })
                    .await?;
                    self.assign(
                        field,
                        &value,
                        json!({ "defaultValue": excerpt(&value, QUOTED_CHARS) }),
                        effects,
                        notes,
                    );
                }
                None => notes.skip(
                    json!({ "defaultValue": excerpt(&value, QUOTED_CHARS) }),
                    "the link has no default field",
                ),
            }
        }
        for pair in parsed.pairs {
            let field = match i32::try_from(pair.field_number) {
                Ok(number) => {
                    let fields = &self.ports.fields;
                    let key = (tenant_id, number);
                    remembered(&mut memo.fields_by_number, key, || async move {
                        fields.find_by_number(tenant_id, number).await
                    })
                    .await?
                }
                Err(_) => None,
            };
            let what =
                json!({ "field": pair.field_number, "value": excerpt(&pair.value, QUOTED_CHARS) });
            self.assign(field, &pair.value, what, effects, notes);
        }
        Ok(link.flow_id)
    }

    /// The run this event starts, if any: the entry link's flow, else the first matching
    /// rule (postback, keyword, topic opt-in). At most one per event.
    async fn run_to_start(
        &self,
        page: &Page,
        meaning: &MessengerEvent,
        effects: &EventEffects,
        link_flow: Option<(FlowId, String)>,
        notes: &mut Notes,
        memo: &mut CatalogueMemo,
    ) -> DomainResult<Option<RunStart>> {
        let tenant_id = page.tenant_id;
        let chosen = match link_flow {
            Some((flow_id, reference)) => Some((flow_id, TriggerKind::RefLink, Some(reference))),
            None => {
                let signal = trigger_signal(meaning, effects);
                if signal == TriggerSignal::default() {
                    return Ok(None);
                }
                let triggers = &self.ports.triggers;
                let rules = remembered(&mut memo.triggers, tenant_id, || async move {
                    triggers.list(tenant_id).await
                })
                .await?;
                matching_trigger(&rules, page.id, &signal).map(|rule| {
                    let (kind, detail) = match &rule.rule {
                        TriggerRule::Postback { .. } => {
                            (TriggerKind::Postback, signal.payload.clone())
                        }
                        TriggerRule::Keyword { .. } => (TriggerKind::Keyword, signal.text.clone()),
                        TriggerRule::TopicOptIn { .. } => {
                            (TriggerKind::TopicOptIn, meaning_topic_title(meaning))
                        }
                    };
                    (rule.flow_id, kind, detail)
                })
            }
        };
        let Some((flow_id, kind, detail)) = chosen else {
            return Ok(None);
        };
        let flows = &self.ports.flows;
        let flow = remembered(&mut memo.flows, (tenant_id, flow_id), || async move {
            flows.find(tenant_id, flow_id).await
        })
        .await?;
        let Some(flow) = flow else {
            notes.skip(
                json!({ "flow": flow_id.to_string() }),
                "the flow was deleted",
            );
            return Ok(None);
        };
        Ok(Some(RunStart {
            flow_id: flow.id,
            steps: flow.steps,
            trigger: RunTrigger { kind, detail },
        }))
    }

    /// A payload value for a field, when the field exists, is live and the value fits.
    fn assign(
        &self,
        field: Option<CustomField>,
        value: &str,
        what: Value,
        effects: &mut EventEffects,
        notes: &mut Notes,
    ) {
        let Some(field) = field else {
            notes.skip(what, "no custom field has this number");
            return;
        };
        if field.is_archived() {
            notes.skip(what, format!("custom field {} is archived", field.number));
            return;
        }
        match field.field_type.parse_value(value) {
            Ok(typed) => {
                let canonical = typed.canonical();
                notes
                    .applied
                    .push(json!({ "field": field.number, "value": canonical }));
                effects.field_values.retain(|(id, _)| *id != field.id);
                effects.field_values.push((field.id, canonical));
            }
            Err(err) => notes.skip(
                what,
                format!(
                    "does not fit {} field {}: {err}",
                    field.field_type.as_str(),
                    field.number
                ),
            ),
        }
    }

    async fn subscribe(
        &self,
        page: &Page,
        sender: &Sender,
        optin: &NotificationOptIn,
        notes: &mut Notes,
        memo: &mut CatalogueMemo,
    ) -> DomainResult<OptInChange> {
        let tenant_id = page.tenant_id;
        let title = optin.topic.clone().unwrap_or_default();
        let topic = if title.is_empty() {
            None
        } else {
            let topics = &self.ports.topics;
            let page_id = page.id;
            let wanted = title.clone();
            let key = (tenant_id, page_id, title.to_lowercase());
            remembered(&mut memo.topics, key, || async move {
                topics.find_by_title(tenant_id, page_id, &wanted).await
            })
            .await?
        };
        if topic.is_none() {
            notes.skip(
                json!({ "topic": title }),
                "no topic on this page has this title; the opt-in is kept without one",
            );
        }
        let id = self.opt_in_id(tenant_id, page, sender, &title);
        let token = self.ports.cipher.seal(
            &optin.token,
            tenant_id,
            id.0,
            SecretPurpose::NotificationToken,
        )?;
        notes.applied.push(json!({ "optIn": title }));
        Ok(OptInChange::Subscribe {
            id,
            topic_id: topic.map(|t| t.id),
            topic_title: title,
            token,
            token_fingerprint: self.ports.secrets.fingerprint(&optin.token),
            frequency: optin.frequency,
            timezone: optin.timezone.clone(),
            expires_at: optin.expires_at,
        })
    }

    fn set_status(&self, token: &str, status: OptInStatus, notes: &mut Notes) -> OptInChange {
        notes
            .applied
            .push(json!({ "optInStatus": status.as_str() }));
        OptInChange::SetStatus {
            token_fingerprint: self.ports.secrets.fingerprint(token),
            status,
        }
    }

    /// One opt-in row per person, page and topic: renewals update it in place.
    fn opt_in_id(&self, tenant_id: TenantId, page: &Page, sender: &Sender, title: &str) -> OptInId {
        let fingerprint = self.ports.secrets.fingerprint(&format!(
            "opt-in|{tenant_id}|{}|{}|{}",
            page.id,
            sender.key(),
            title.to_lowercase()
        ));
        let bits =
            u128::from_str_radix(fingerprint.get(..32).unwrap_or_default(), 16).unwrap_or_default();
        OptInId(Uuid::from_u128(bits))
    }
}

/// What an event offers the trigger rules.
fn trigger_signal(meaning: &MessengerEvent, effects: &EventEffects) -> TriggerSignal {
    match meaning {
        MessengerEvent::Postback { payload, .. } => TriggerSignal {
            payload: payload.clone(),
            ..TriggerSignal::default()
        },
        MessengerEvent::Message {
            quick_reply: Some(payload),
            ..
        } => TriggerSignal {
            payload: Some(payload.clone()),
            ..TriggerSignal::default()
        },
        MessengerEvent::Message { text, .. } => TriggerSignal {
            text: text.clone(),
            ..TriggerSignal::default()
        },
        MessengerEvent::OptedIn(_) => TriggerSignal {
            opted_in_topic: match &effects.opt_in {
                Some(OptInChange::Subscribe { topic_id, .. }) => *topic_id,
                _ => None,
            },
            ..TriggerSignal::default()
        },
        _ => TriggerSignal::default(),
    }
}

fn meaning_topic_title(meaning: &MessengerEvent) -> Option<String> {
    match meaning {
        MessengerEvent::OptedIn(optin) => optin.topic.clone(),
        _ => None,
    }
}

fn interaction(meaning: &MessengerEvent, secrets: &dyn SecretGenerator) -> Interaction {
    let token = match meaning {
        MessengerEvent::OptedIn(optin) => Some(optin.token.as_str()),
        MessengerEvent::OptedOut { token } | MessengerEvent::Resumed { token } => {
            Some(token.as_str())
        }
        _ => None,
    };
    let (kind, detail) = match meaning {
        MessengerEvent::Referred(referral) => ("referral", referral.reference.clone()),
        MessengerEvent::PluginOptIn(referral) => ("plugin_optin", referral.reference.clone()),
        MessengerEvent::Postback { payload, .. } => ("postback", payload.clone()),
        MessengerEvent::Message {
            quick_reply: Some(payload),
            ..
        } => ("quick_reply", Some(payload.clone())),
        MessengerEvent::Message { text, .. } => ("message", text.clone()),
        MessengerEvent::OptedIn(optin) => ("optin", optin.topic.clone()),
        MessengerEvent::OneTimeOptIn { payload } => ("one_time_optin", payload.clone()),
        MessengerEvent::OptedOut { .. } => ("optout", None),
        MessengerEvent::Resumed { .. } => ("resume", None),
        MessengerEvent::MessageRequestAccepted => ("message_request_accepted", None),
        MessengerEvent::Echo => ("echo", None),
        MessengerEvent::Unhandled { kind } => (kind.as_str(), None),
    };
    Interaction {
        kind: kind.to_owned(),
        detail,
        token_fingerprint: token.map(|token| secrets.fingerprint(token)),
    }
}

/// When the next attempt is due after a failure, or `None` to park the event.
pub fn next_attempt(event: &InboxEvent, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    crate::webhooks::inbox::retry_at(event.attempts, now)
}
