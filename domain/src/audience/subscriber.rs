//! A subscriber, and what is known about them.

use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};

use crate::catalogue::{Cadence, SealedSecret};
use crate::ids::{
    CustomFieldId, OptInId, PageId, RefLinkId, SubscriberId, TenantId, TopicId, WebhookEventId,
};
use crate::webhooks::Sender;

/// How long after the person's last action the page may message them freely.
pub const MESSAGING_WINDOW_HOURS: i64 = 24;

/// One person on one page.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscriber {
    /// Its id.
    pub id: SubscriberId,
    /// The tenant.
    pub tenant_id: TenantId,
    /// The page.
    pub page_id: PageId,
    /// The person, by PSID or plugin `user_ref`.
    pub sender: Sender,
    /// The plugin `user_ref` the person is known by: their sender for a plugin user without a
    /// PSID, and kept beside the PSID once their reply links the two.
    pub user_ref: Option<String>,
    /// The person's name, when known.
    pub name: Option<String>,
    /// When they were first seen.
    pub first_seen_at: DateTime<Utc>,
    /// When they last acted (opens the 24-hour window).
    pub last_interaction_at: Option<DateTime<Utc>>,
    /// The first `ref` they arrived with, as received (payload included).
    pub source_ref: Option<String>,
    /// The ref link that `source_ref` matched, if any.
    pub source_ref_link_id: Option<RefLinkId>,
    /// How many times they entered through a link or ad.
    pub entry_count: i32,
    /// What Meta's User Profile API told of them, and where fetching it stands.
    pub profile: SubscriberProfile,
}

/// What Meta's User Profile API told of a person
/// (<https://developers.facebook.com/docs/messenger-platform/identity/user-profile/>).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SubscriberProfile {
    /// `first_name`.
    pub first_name: Option<String>,
    /// `last_name`.
    pub last_name: Option<String>,
    /// `profile_pic`: a URL that expires (see `refreshSubscriberProfile`).
    pub profile_pic_url: Option<String>,
    /// `locale` (needs the `pages_user_locale` permission), e.g. `en_US`.
    pub locale: Option<String>,
    /// `timezone` (needs `pages_user_timezone`): hours from UTC, e.g. `-7` or `5.5`.
    pub time_zone: Option<f64>,
    /// Where fetching it stands.
    pub status: ProfileStatus,
    /// When it was last fetched.
    pub fetched_at: Option<DateTime<Utc>>,
    /// Why Meta gave none (a permission error, `2018218` "No profile available", ...).
    pub error: Option<String>,
}

/// Where fetching a subscriber's profile stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProfileStatus {
    /// Queued (or waiting for its page to be reconnected, or for a PSID).
    #[default]
    Pending,
    /// Fetched.
    Fetched,
    /// Meta gave none, for good (recorded in `error`, never retried by itself).
    Unavailable,
}

impl ProfileStatus {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ProfileStatus::Pending => "pending",
            ProfileStatus::Fetched => "fetched",
            ProfileStatus::Unavailable => "unavailable",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(raw: &str) -> Self {
        match raw {
            "fetched" => ProfileStatus::Fetched,
            "unavailable" => ProfileStatus::Unavailable,
            _ => ProfileStatus::Pending,
        }
    }
}

impl Subscriber {
    /// The PSID, when the person has one.
    pub fn psid(&self) -> Option<&str> {
        match &self.sender {
            Sender::Psid(psid) => Some(psid),
            Sender::UserRef(_) => None,
        }
    }

    /// Whether the page may message them now without a notification token.
    pub fn within_messaging_window(&self, now: DateTime<Utc>) -> bool {
        self.last_interaction_at
            .is_some_and(|at| now - at < Duration::hours(MESSAGING_WINDOW_HOURS))
    }
}

/// A subscriber's value for one custom field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldValueRecord {
    /// The field.
    pub field_id: CustomFieldId,
    /// The value, in the field type's canonical text.
    pub value: String,
    /// When it was set (by the event's time, so late deliveries do not overwrite newer values).
    pub set_at: DateTime<Utc>,
}

/// One entry of a subscriber's timeline: something they did, from one webhook event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InteractionRecord {
    /// Its id.
    pub id: uuid::Uuid,
    /// The event it came from.
    pub event_id: WebhookEventId,
    /// `referral`, `postback`, `message`, `quick_reply`, `optin`, `optout`, `resume`.
    pub kind: String,
    /// The payload or text.
    pub detail: Option<String>,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
}

/// Whether an opt-in's token may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OptInStatus {
    /// Usable.
    Active,
    /// The person stopped notifications.
    Stopped,
    /// The token expired.
    Expired,
}

impl OptInStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            OptInStatus::Active => "active",
            OptInStatus::Stopped => "stopped",
            OptInStatus::Expired => "expired",
        }
    }
}

impl FromStr for OptInStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "active" => Ok(OptInStatus::Active),
            "stopped" => Ok(OptInStatus::Stopped),
            "expired" => Ok(OptInStatus::Expired),
            other => Err(format!("unknown opt-in status {other:?}")),
        }
    }
}

/// A subscriber's opt-in to a notification topic.
#[derive(Debug, Clone, PartialEq)]
pub struct OptIn {
    /// Its id.
    pub id: OptInId,
    /// The tenant.
    pub tenant_id: TenantId,
    /// The subscriber.
    pub subscriber_id: SubscriberId,
    /// The topic, when one of the page's topics has this title.
    pub topic_id: Option<TopicId>,
    /// The topic title as Meta sent it.
    pub topic_title: String,
    /// The notification token, sealed.
    pub token: SealedSecret,
    /// The agreed frequency.
    pub frequency: Option<Cadence>,
    /// The person's time zone.
    pub timezone: Option<String>,
    /// When the token expires.
    pub expires_at: Option<DateTime<Utc>>,
    /// Active or stopped, as stored.
    pub status: OptInStatus,
    /// When a notification was last sent with it.
    pub last_sent_at: Option<DateTime<Utc>>,
}

impl OptIn {
    /// The status, with expiry taken into account.
    pub fn effective_status(&self, now: DateTime<Utc>) -> OptInStatus {
        match (self.status, self.expires_at) {
            (OptInStatus::Active, Some(expiry)) if expiry <= now => OptInStatus::Expired,
            (status, _) => status,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_lasts_24_hours() {
        let now = Utc::now();
        let mut subscriber = Subscriber {
            profile: SubscriberProfile::default(),
            id: SubscriberId::generate(),
            tenant_id: TenantId::generate(),
            page_id: PageId::generate(),
            sender: Sender::Psid("1".into()),
            user_ref: None,
            name: None,
            first_seen_at: now,
            last_interaction_at: Some(now - Duration::hours(23)),
            source_ref: None,
            source_ref_link_id: None,
            entry_count: 0,
        };
        assert!(subscriber.within_messaging_window(now));
        subscriber.last_interaction_at = Some(now - Duration::hours(25));
        assert!(!subscriber.within_messaging_window(now));
        subscriber.last_interaction_at = None;
        assert!(!subscriber.within_messaging_window(now));
    }
}
