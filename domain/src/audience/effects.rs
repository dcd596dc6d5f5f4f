//! What one webhook event changes, decided by the processor and applied by the store in one
//! transaction together with marking the event processed.

use chrono::{DateTime, Utc};
use serde_json::Value;

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
    /// `referral`, `plugin_optin`, `postback`, `message`, `quick_reply`, `optin`, `optout`,
    /// `resume`.
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
