//! Tags: labels put on subscribers by hand, by ref links and by flows.

use chrono::{DateTime, Utc};

use crate::error::DomainResult;
use crate::ids::{TagId, TenantId};
use crate::text;

/// Longest tag name accepted.
pub const MAX_TAG_NAME_CHARS: usize = 100;

/// A tag, unique by name (case-insensitively) in its tenant.
#[derive(Debug, Clone)]
pub struct Tag {
    /// Its id.
    pub id: TagId,
    /// The tenant.
    pub tenant_id: TenantId,
    /// Its name.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// A checked tag name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagName(pub String);

impl TagName {
    /// Checks a tag name; errors name the field `name`.
    pub fn parse(raw: &str) -> DomainResult<Self> {
        text::single_line(raw, "name", MAX_TAG_NAME_CHARS).map(Self)
    }
}
