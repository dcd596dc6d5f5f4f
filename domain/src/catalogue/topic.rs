//! Recurring-notification topics: `m.me/rn` opt-in links, and the registration Meta requires
//! before a topic's link works.

use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::catalogue::links::rn_url;
use crate::catalogue::page::PageHandle;
use crate::error::{DomainError, DomainResult};
use crate::ids::{PageId, TenantId, TopicId};

/// Longest topic title accepted.
pub const MAX_TOPIC_TITLE_CHARS: usize = 65;

/// How often a subscriber agreed to be notified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cadence {
    /// Once a day.
    Daily,
    /// Once a week.
    Weekly,
    /// Once a month.
    Monthly,
}

impl Cadence {
    /// The spelling in `m.me/rn` links and storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Cadence::Daily => "daily",
            Cadence::Weekly => "weekly",
            Cadence::Monthly => "monthly",
        }
    }

    /// The spelling in Send API requests (`notification_messages_frequency`).
    pub fn as_graph_api(self) -> &'static str {
        match self {
            Cadence::Daily => "DAILY",
            Cadence::Weekly => "WEEKLY",
            Cadence::Monthly => "MONTHLY",
        }
    }
}

impl FromStr for Cadence {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "daily" => Ok(Cadence::Daily),
            "weekly" => Ok(Cadence::Weekly),
            "monthly" => Ok(Cadence::Monthly),
            other => Err(format!("unknown cadence {other:?}")),
        }
    }
}

/// A topic's title: Meta asks for letters and digits (spaces allowed), no special characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicTitle(pub String);

impl TopicTitle {
    /// Checks a title; errors name the field `title`.
    pub fn parse(raw: &str) -> DomainResult<Self> {
        let title = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if title.is_empty() {
            return Err(DomainError::validation("title", "must not be empty"));
        }
        if title.chars().count() > MAX_TOPIC_TITLE_CHARS {
            return Err(DomainError::validation(
                "title",
                format!("must be at most {MAX_TOPIC_TITLE_CHARS} characters"),
            ));
        }
        if !title.chars().all(|c| c.is_alphanumeric() || c == ' ') {
            return Err(DomainError::validation(
                "title",
                "may contain only letters, digits and spaces (Meta allows no special characters)",
            ));
        }
        Ok(Self(title))
    }
}

/// Where a topic stands with Meta.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicRegistration {
    /// Not sent yet.
    Unregistered,
    /// The registration message was accepted.
    Registered {
        /// When.
        at: DateTime<Utc>,
        /// Meta's message id.
        message_id: String,
    },
    /// The last attempt failed.
    Failed {
        /// When.
        at: DateTime<Utc>,
        /// What Meta (or the network) said.
        error: String,
    },
}

/// A notification topic on a page.
#[derive(Debug, Clone)]
pub struct NotificationTopic {
    /// Its id.
    pub id: TopicId,
    /// The tenant.
    pub tenant_id: TenantId,
    /// The page.
    pub page_id: PageId,
    /// The title people opt in to (unique per page).
    pub title: String,
    /// The cadence its link offers by default.
    pub default_cadence: Cadence,
    /// Where it stands with Meta.
    pub registration: TopicRegistration,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl NotificationTopic {
    /// The opt-in link, at `cadence` or the topic's default.
    pub fn rn_url(&self, page: PageHandle<'_>, cadence: Option<Cadence>) -> String {
        rn_url(
            page.0,
            &self.title,
            cadence.unwrap_or(self.default_cadence).as_str(),
        )
    }
}

/// Changes to a topic; `None` keeps a value.
#[derive(Debug, Clone, Default)]
pub struct TopicChanges {
    /// A new title (it must be registered again).
    pub title: Option<String>,
    /// A new default cadence.
    pub default_cadence: Option<Cadence>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_alphanumeric_with_spaces() {
        assert_eq!(
            TopicTitle::parse("  weekly   deals ").unwrap().0,
            "weekly deals"
        );
        assert_eq!(
            TopicTitle::parse("Ofertas año 2026").unwrap().0,
            "Ofertas año 2026"
        );
        assert_eq!(
            TopicTitle::parse("deals!").unwrap_err().field(),
            Some("title")
        );
        assert!(TopicTitle::parse("").is_err());
    }

    #[test]
    fn cadences_parse_in_any_case() {
        assert_eq!("WEEKLY".parse::<Cadence>().unwrap(), Cadence::Weekly);
        assert!("hourly".parse::<Cadence>().is_err());
    }
}
