//! A page's set-up with Meta, as refhub tracks it: the app subscribed to the page's webhooks,
//! its Get Started button, and the Messenger Profile settings the workspace manages. Each step
//! has a state; the last failure keeps Meta's code and message; transient failures are retried
//! with a bounded, jittered backoff, off the request path.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value};

use crate::catalogue::messenger_profile::MessengerProfileSettings;
use crate::catalogue::secrets::SealedSecret;
use crate::ids::{PageId, TenantId};

/// The page webhook fields refhub subscribes the app to: exactly those its webhook pipeline
/// reads (`domain/src/webhooks/event.rs`): messages (and message requests), postbacks (Get
/// Started, menus, ice breakers, buttons), opt-ins (plugins, notification opt-ins and their
/// STOP/RESUME), referrals (m.me links, ads, QR codes opened by people already in the
/// conversation), and standby (items for conversations another app owns, recorded without
/// starting flows). Field list: <https://developers.facebook.com/docs/messenger-platform/webhooks#event-notifications>.
pub const SUBSCRIBED_FIELDS: [&str; 5] = [
    "messages",
    "messaging_postbacks",
    "messaging_optins",
    "messaging_referrals",
    "standby",
];

/// Tries of one run before refhub stops retrying on its own (`refreshPageSetup` starts again).
pub const MAX_SETUP_ATTEMPTS: i32 = 8;
/// Tries of an unsubscribe before refhub gives it up (logged).
pub const MAX_TEARDOWN_ATTEMPTS: i32 = 8;
/// The longest wait between two tries.
pub const MAX_BACKOFF: Duration = Duration::hours(1);

/// Where one step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupStepState {
    /// Not done yet (waiting for its turn, or for a retry after a transient failure).
    Pending,
    /// Done.
    Done,
    /// Get Started only: the page already had a button with another payload, which refhub
    /// kept (set `replaceGetStarted` to replace it).
    Kept,
    /// Meta refused it, or it kept failing: see the last error.
    Failed,
}

impl SetupStepState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SetupStepState::Pending => "pending",
            SetupStepState::Done => "done",
            SetupStepState::Kept => "kept",
            SetupStepState::Failed => "failed",
        }
    }

    /// Reads a stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "pending" => SetupStepState::Pending,
            "done" => SetupStepState::Done,
            "kept" => SetupStepState::Kept,
            "failed" => SetupStepState::Failed,
            _ => return None,
        })
    }
}

/// Meta's answer to a failed call, as shown to people (never a token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupError {
    /// Meta's error code, when it gave one.
    pub code: Option<i64>,
    /// Meta's `error_subcode`, when it gave one.
    pub subcode: Option<i64>,
    /// What went wrong.
    pub message: String,
}

/// A page's set-up.
#[derive(Debug, Clone)]
pub struct PageSetup {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The page.
    pub page_id: PageId,
    /// Bumped by every request to (re)run the set-up: a run's result never overwrites a newer
    /// request (its settings, or its wish to run again).
    pub generation: i64,
    /// The webhook subscription.
    pub subscribed: SetupStepState,
    /// The fields subscribed to, once done.
    pub subscribed_fields: Vec<String>,
    /// The Get Started button.
    pub get_started: SetupStepState,
    /// The other Messenger Profile settings.
    pub profile: SetupStepState,
    /// Whether the next run replaces a Get Started button refhub did not set.
    pub replace_get_started: bool,
    /// The Get Started payload refhub last set on the page: a button with it is refhub's own,
    /// changed freely, where one with another payload is someone else's and kept unless asked.
    pub own_get_started: Option<String>,
    /// What the workspace wants.
    pub wanted: MessengerProfileSettings,
    /// What Meta had at the last run (its JSON, as read back and updated by what was set).
    pub meta_profile: Option<Map<String, Value>>,
    /// The last failure, until a run succeeds.
    pub last_error: Option<SetupError>,
    /// When refhub last talked to Meta about this page.
    pub checked_at: Option<DateTime<Utc>>,
    /// When the next try is due (`None`: nothing to do).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Tries of the current run so far.
    pub attempts: i32,
    /// When it was first scheduled.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// An unsubscribe owed to a page that was disconnected: what it needs outlives the page.
#[derive(Debug, Clone)]
pub struct PageTeardown {
    /// The tenant.
    pub tenant_id: TenantId,
    /// Its id.
    pub id: uuid::Uuid,
    /// The page it was (its token is sealed to this id).
    pub page_id: PageId,
    /// Facebook's page id.
    pub facebook_page_id: String,
    /// The page token, sealed as the page had it.
    pub access_token: SealedSecret,
    /// Tries so far.
    pub attempts: i32,
    /// When it was scheduled.
    pub created_at: DateTime<Utc>,
}

/// How long to wait before try number `attempts + 1`: `base` doubling each time, capped at
/// [`MAX_BACKOFF`], plus up to a quarter more. The jitter comes from the page's id, so that
/// pages that failed together (Meta down) do not all come back in the same second.
pub fn backoff(base: Duration, attempts: i32, spread_key: uuid::Uuid) -> Duration {
    let exponent = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
    let delay = base
        .checked_mul(2_i32.saturating_pow(exponent))
        .unwrap_or(MAX_BACKOFF)
        .min(MAX_BACKOFF);
    let bytes = spread_key.as_bytes();
    let spread =
        u16::from_le_bytes([bytes[14], bytes[15]]) ^ u16::try_from(attempts & 0xffff).unwrap_or(0);
    let jitter_ms = delay.num_milliseconds() / 4 * i64::from(spread) / i64::from(u16::MAX);
    delay + Duration::milliseconds(jitter_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_jittered() {
        let key = uuid::Uuid::from_u128(0xffff_0000_0000_0000_0000_0000_0000_ffff);
        let first = backoff(Duration::seconds(30), 1, key);
        assert!(first >= Duration::seconds(30) && first <= Duration::milliseconds(37_500));
        let third = backoff(Duration::seconds(30), 3, key);
        assert!(third >= Duration::seconds(120));
        let late = backoff(Duration::seconds(30), 30, key);
        assert!(late >= MAX_BACKOFF && late <= MAX_BACKOFF + MAX_BACKOFF / 4);
    }
}
