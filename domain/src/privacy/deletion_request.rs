//! A person's data-deletion request, as Meta delivers it: recorded before Meta is answered,
//! then carried out off the request path. What is kept about the person is only what the
//! work needs, for as long as it needs it.

use chrono::{DateTime, Utc};

use crate::ids::{DeletionRequestId, TenantId};

/// Which of Meta's callbacks a request came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeletionKind {
    /// The data-deletion request callback: erase the person.
    DataDeletion,
    /// The deauthorize callback: the person removed the app; recorded, nothing erased.
    Deauthorize,
}

impl DeletionKind {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            DeletionKind::DataDeletion => "data_deletion",
            DeletionKind::Deauthorize => "deauthorize",
        }
    }

    /// Reads a stored kind.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "data_deletion" => Some(DeletionKind::DataDeletion),
            "deauthorize" => Some(DeletionKind::Deauthorize),
            _ => None,
        }
    }
}

/// Where a request stands. The status page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeletionStatus {
    /// Recorded; the erasure has not started.
    Received,
    /// A worker is finding the person's ids and erasing (or waits to retry Meta).
    Erasing,
    /// Done: the person's data was erased.
    Finished,
    /// Done: the workspace held nothing about the person.
    NothingFound,
    /// A deauthorization, recorded (nothing to erase).
    Recorded,
}

impl DeletionStatus {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            DeletionStatus::Received => "received",
            DeletionStatus::Erasing => "erasing",
            DeletionStatus::Finished => "finished",
            DeletionStatus::NothingFound => "nothing_found",
            DeletionStatus::Recorded => "recorded",
        }
    }

    /// Reads a stored status.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "received" => Some(DeletionStatus::Received),
            "erasing" => Some(DeletionStatus::Erasing),
            "finished" => Some(DeletionStatus::Finished),
            "nothing_found" => Some(DeletionStatus::NothingFound),
            "recorded" => Some(DeletionStatus::Recorded),
            _ => None,
        }
    }

    /// Whether the work is over.
    pub fn is_done(self) -> bool {
        matches!(
            self,
            DeletionStatus::Finished | DeletionStatus::NothingFound | DeletionStatus::Recorded
        )
    }

    /// What the status page says, for the person who asked (no personal data).
    pub fn explanation(self) -> &'static str {
        match self {
            DeletionStatus::Received => {
                "Your request was received. Erasing your data will start shortly."
            }
            DeletionStatus::Erasing => "Your data is being erased.",
            DeletionStatus::Finished => {
                "Finished: the data this service held about you for this business was erased."
            }
            DeletionStatus::NothingFound => {
                "Finished: this service held no data about you for this business; nothing was left to erase."
            }
            DeletionStatus::Recorded => "Your removal of the app was recorded.",
        }
    }
}

/// A recorded request.
#[derive(Debug, Clone, PartialEq)]
pub struct DeletionRequest {
    /// Its id.
    pub id: DeletionRequestId,
    /// The workspace whose URL Meta called.
    pub tenant_id: TenantId,
    /// Which callback.
    pub kind: DeletionKind,
    /// The confirmation code: 256 random bits, the key to the status page. Kept as it is (not
    /// as a fingerprint) so that a replayed callback is answered with the same code; the page
    /// it opens shows nothing about the person.
    pub confirmation_code: String,
    /// The fingerprint of the app-scoped user id: enough to recognise a replay, forever.
    pub user_fingerprint: String,
    /// The app-scoped user id itself, kept only until the erasure is done (the worker needs it
    /// to ask Meta for the person's PSIDs), then cleared.
    pub app_scoped_user_id: Option<String>,
    /// Where it stands.
    pub status: DeletionStatus,
    /// Subscribers erased.
    pub subscribers_erased: u64,
    /// Stored webhook events redacted.
    pub events_redacted: u64,
    /// Attempts made to carry it out.
    pub attempts: u32,
    /// Why the last attempt could not finish, for operators (Meta's code and message; no
    /// personal data).
    pub last_error: Option<String>,
    /// When Meta called.
    pub requested_at: DateTime<Utc>,
    /// When the work was done.
    pub finished_at: Option<DateTime<Utc>>,
}

/// What the status page may show: nothing that names the person.
#[derive(Debug, Clone, PartialEq)]
pub struct DeletionStatusView {
    /// Where it stands.
    pub status: DeletionStatus,
    /// Subscribers erased.
    pub subscribers_erased: u64,
    /// When Meta called.
    pub requested_at: DateTime<Utc>,
    /// When the work was done.
    pub finished_at: Option<DateTime<Utc>>,
}

/// What Meta is answered: the status URL and the confirmation code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletionReceipt {
    /// The public status page.
    pub url: String,
    /// The code the person can quote.
    pub confirmation_code: String,
}
