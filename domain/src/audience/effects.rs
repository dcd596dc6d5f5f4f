//! What one webhook event changes, decided by the processor and applied by the store in one
//! transaction together with marking the event processed.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::audience::subscriber::OptInStatus;
use crate::catalogue::{Cadence, SealedSecret};
use crate::flows::RunStart;
use crate::ids::{
    CustomFieldId, OptInId, PageId, RefLinkId, SubscriberId, TagId, TenantId, TopicId,
    WebhookEventId,
};
use crate::webhooks::Sender;

/// An entry through a link or ad.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The `ref` as received; none for an ad that names none.
    pub reference: Option<String>,
    /// The ref link it matched, if any.
    pub ref_link_id: Option<RefLinkId>,
}

/// The interaction recorded on the subscriber's timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Interaction {
    /// `referral`, `plugin_optin`, `postback`, `message`, `quick_reply`, `optin`,
    /// `one_time_optin`, `optout`, `resume`.
    pub kind: String,
    /// The payload or text.
    pub detail: Option<String>,
    /// For opt-ins, opt-outs and resumes: the fingerprint of the token concerned, so that a
    /// status change processed before its opt-in still wins by event time.
    pub token_fingerprint: Option<String>,
}

/// A change to a notification opt-in.
#[derive(Debug, Clone, PartialEq)]
pub enum OptInChange {
    /// A new or renewed opt-in.
    Subscribe {
        /// Its id (derived from page, person and topic, so renewals update the same row).
        id: OptInId,
        /// The topic, when the page has one with this title.
        topic_id: Option<TopicId>,
        /// The topic title as received.
        topic_title: String,
        /// The sealed token.
        token: SealedSecret,
        /// The token's fingerprint, to find it again on opt-out.
        token_fingerprint: String,
        /// The agreed frequency.
        frequency: Option<Cadence>,
        /// The person's time zone.
        timezone: Option<String>,
        /// When the token expires.
        expires_at: Option<DateTime<Utc>>,
    },
    /// Stop or resume the opt-in holding this token.
    SetStatus {
        /// The token's fingerprint.
        token_fingerprint: String,
        /// The new status.
        status: OptInStatus,
    },
}

/// Everything one event does.
#[derive(Debug, Clone, PartialEq)]
pub struct EventEffects {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The event (applied at most once).
    pub event_id: WebhookEventId,
    /// The page.
    pub page_id: PageId,
    /// The person.
    pub sender: Sender,
    /// For a PSID's event that answers a plugin message: the plugin `user_ref` the person was
    /// known by, to be linked to the PSID (see [`PluginLink`]).
    pub links_user_ref: Option<String>,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Whether it opens the 24-hour window.
    pub opens_window: bool,
    /// The timeline record.
    pub interaction: Interaction,
    /// An entry through a link, if any.
    pub entry: Option<Entry>,
    /// Field values to set (canonical text), newest event wins.
    pub field_values: Vec<(CustomFieldId, String)>,
    /// Tags to add.
    pub tag_ids: Vec<TagId>,
    /// An opt-in change, if any.
    pub opt_in: Option<OptInChange>,
    /// A flow run to start (once: the event's id is its start key).
    pub run_start: Option<RunStart>,
    /// What was applied and skipped, stored on the event for people.
    pub outcome: Value,
}

/// What linking a PSID to a plugin `user_ref` came to, when an event names both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginLink {
    /// The plugin user became the PSID's subscriber (or the PSID's subscriber, new or known,
    /// now answers for the `user_ref` too).
    Linked,
    /// Both were known apart: the plugin user's record (entries, fields, tags, timeline,
    /// opt-ins, runs, messages) was moved into the PSID's subscriber, and removed.
    Merged,
    /// Linked by an earlier event: nothing to do.
    AlreadyLinked,
    /// The `user_ref` is linked to another PSID already: nothing changed.
    HeldByAnother,
}

impl PluginLink {
    /// Its name in the event's outcome.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginLink::Linked => "linked",
            PluginLink::Merged => "merged",
            PluginLink::AlreadyLinked => "already linked",
            PluginLink::HeldByAnother => "the user_ref belongs to another PSID; nothing changed",
        }
    }
}

/// What applying an event found out that deciding it could not know, for its outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Findings {
    /// What linking a plugin user to the PSID came to, if the event names one.
    pub plugin_link: Option<PluginLink>,
    /// For a stop or resume: what it found.
    pub status_change: Option<StatusChangeFound>,
}

/// What a stop or resume found when applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChangeFound {
    /// An opt-in of this subscriber holds the token: its status changed (unless a later
    /// change of it came first).
    Applied,
    /// No opt-in of this subscriber holds the token, or not yet: its opt-in may be processed
    /// later, and then takes this status.
    NoOptIn,
    /// A resume of a token that had expired by then: the opt-in stays expired until the
    /// person opts in again.
    ExpiredToken,
}

impl StatusChangeFound {
    /// Why the change was not applied, if it was not.
    fn skipped_because(self) -> Option<&'static str> {
        match self {
            StatusChangeFound::Applied => None,
            StatusChangeFound::NoOptIn => Some(
                "no opt-in of this subscriber holds this token yet; \
                 the change applies if that opt-in is processed later",
            ),
            StatusChangeFound::ExpiredToken => Some(
                "the token had expired; the opt-in stays expired until the person opts in again",
            ),
        }
    }
}

impl EventEffects {
    /// Whether applying the event may change who a subscriber is: a plugin user's event may
    /// belong to a PSID's subscriber, and a reply may link the two.
    pub fn concerns_a_plugin_user(&self) -> bool {
        matches!(self.sender, Sender::UserRef(_)) || self.links_user_ref.is_some()
    }

    /// The outcome to store, with what applying the event found.
    pub fn outcome_with(&self, findings: Findings) -> Value {
        let mut outcome = self.outcome.clone();
        let Some(fields) = outcome.as_object_mut() else {
            return outcome;
        };
        if let (Some(link), Some(user_ref)) = (findings.plugin_link, &self.links_user_ref) {
            fields.insert(
                "pluginUser".to_owned(),
                json!({ "userRef": user_ref, "link": link.as_str() }),
            );
        }
        if let Some(reason) = findings
            .status_change
            .and_then(StatusChangeFound::skipped_because)
        {
            let mut moved = Vec::new();
            if let Some(Value::Array(applied)) = fields.get_mut("applied") {
                applied.retain(|note| {
                    let status = note.get("optInStatus").is_some();
                    if status {
                        moved.push(note.clone());
                    }
                    !status
                });
            }
            if let Some(Value::Array(skipped)) = fields.get_mut("skipped") {
                skipped.extend(
                    moved
                        .into_iter()
                        .map(|what| json!({ "what": what, "reason": reason })),
                );
            }
        }
        outcome
    }
}

/// What applying an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppliedEvent {
    /// The subscriber.
    pub subscriber_id: SubscriberId,
    /// Whether the subscriber was created by this event.
    pub new_subscriber: bool,
    /// Whether this was the first application (a replay changes nothing).
    pub first_application: bool,
}
