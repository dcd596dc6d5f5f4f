//! Connected Facebook Pages.

use chrono::{DateTime, Utc};

use crate::catalogue::secrets::SealedSecret;
use crate::error::{DomainError, DomainResult};
use crate::ids::{PageId, TenantId};
use crate::text;

/// Longest page name accepted.
pub const MAX_PAGE_NAME_CHARS: usize = 200;
/// Longest m.me username (Facebook's rule).
pub const MAX_USERNAME_CHARS: usize = 50;

/// A Facebook Page connected to a tenant.
#[derive(Debug, Clone)]
pub struct Page {
    /// Its id.
    pub id: PageId,
    /// The tenant.
    pub tenant_id: TenantId,
    /// Facebook's page id (webhooks name it in `entry.id` and `recipient.id`).
    pub facebook_page_id: String,
    /// The page's name.
    pub name: String,
    /// The page's m.me username, if it has one.
    pub username: Option<String>,
    /// The page access token, sealed.
    pub access_token: SealedSecret,
    /// Whether its token works (token health).
    pub health: PageHealth,
    /// When it was connected.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl Page {
    /// What follows `m.me/`: the username, or the page id when there is none.
    pub fn handle(&self) -> PageHandle<'_> {
        PageHandle(self.username.as_deref().unwrap_or(&self.facebook_page_id))
    }
}

/// Whether a page's token works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageStatus {
    /// Calls with its token succeed (as far as refhub knows).
    Active,
    /// Meta said its token is dead (error 190): nothing is sent from the page until it is
    /// reconnected with a new token; its outgoing messages wait.
    NeedsReconnect,
}

impl PageStatus {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PageStatus::Active => "active",
            PageStatus::NeedsReconnect => "needs_reconnect",
        }
    }

    /// Parses the stored spelling (anything else reads as active: a call will tell).
    pub fn parse(raw: &str) -> Self {
        match raw {
            "needs_reconnect" => PageStatus::NeedsReconnect,
            _ => PageStatus::Active,
        }
    }
}

/// A page's status, with Meta's reason when it needs reconnecting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageHealth {
    /// The status.
    pub status: PageStatus,
    /// Meta's error code (190) when it needs reconnecting.
    pub code: Option<i64>,
    /// Meta's `error_subcode` (460 password changed, 463 expired, 458 app removed, ...).
    pub subcode: Option<i64>,
    /// Meta's message, for people.
    pub message: Option<String>,
    /// When the status last changed (none: active since it was connected).
    pub changed_at: Option<DateTime<Utc>>,
}

impl PageHealth {
    /// A page whose token works.
    pub fn active(changed_at: Option<DateTime<Utc>>) -> Self {
        Self {
            status: PageStatus::Active,
            code: None,
            subcode: None,
            message: None,
            changed_at,
        }
    }

    /// Whether its outgoing calls must wait for a reconnection.
    pub fn needs_reconnect(&self) -> bool {
        self.status == PageStatus::NeedsReconnect
    }
}

/// The part of an m.me URL that names a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageHandle<'a>(pub &'a str);

/// Changes to a page; `None` keeps a value.
#[derive(Debug, Clone, Default)]
pub struct PageChanges {
    /// A new name.
    pub name: Option<String>,
    /// A new username (`Some(None)` clears it).
    pub username: Option<Option<String>>,
    /// A new access token: checked with Meta, then the page is reconnected with it (see
    /// `PageService::update`).
    pub access_token: Option<String>,
}

/// Checks a Facebook page id; errors name the field `facebookPageId`.
pub fn validate_facebook_page_id(raw: &str) -> DomainResult<String> {
    text::numeric_id(raw, "facebookPageId", 32)
}

/// Checks a page name; errors name the field `name`.
pub fn validate_page_name(raw: &str) -> DomainResult<String> {
    text::single_line(raw, "name", MAX_PAGE_NAME_CHARS)
}

/// Checks an m.me username (Facebook's rules: letters, digits and periods, at most 50); blank
/// means none. Errors name the field `username`.
pub fn validate_username(raw: Option<&str>) -> DomainResult<Option<String>> {
    let Some(username) = raw.map(str::trim).filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    let username = username.trim_start_matches('@');
    if username.len() > MAX_USERNAME_CHARS
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.')
        || username.chars().all(|c| c == '.')
    {
        return Err(DomainError::validation(
            "username",
            "must be the page's username: letters, digits and periods, at most 50",
        ));
    }
    Ok(Some(username.to_owned()))
}

/// Checks a page access token; errors name the field `accessToken`.
pub fn validate_access_token(raw: &str) -> DomainResult<String> {
    text::credential(raw, "accessToken", 10, 2048)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_facebook_rules() {
        assert_eq!(
            validate_username(Some("@acme.shop")).unwrap(),
            Some("acme.shop".into())
        );
        assert_eq!(validate_username(Some("  ")).unwrap(), None);
        assert!(validate_username(Some("acme shop")).is_err());
        assert!(validate_username(Some("acme/shop")).is_err());
    }
}
