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
