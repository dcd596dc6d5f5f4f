//! Tenants (workspaces): the unit of isolation and of billing.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::error::DomainResult;
use crate::ids::TenantId;
use crate::text;

/// Longest tenant name accepted.
pub const MAX_TENANT_NAME_CHARS: usize = 100;

/// Whether a tenant may use the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantStatus {
    /// In use.
    Active,
    /// Stopped by a platform operator; every request for it is refused.
    Suspended,
}

impl TenantStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TenantStatus::Active => "active",
            TenantStatus::Suspended => "suspended",
        }
    }
}

impl FromStr for TenantStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "active" => Ok(TenantStatus::Active),
            "suspended" => Ok(TenantStatus::Suspended),
            other => Err(format!("unknown tenant status {other:?}")),
        }
    }
}

/// A tenant's display name: trimmed, 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantName(String);

impl TenantName {
    /// Validates `raw`; errors name the field `tenantName`.
    pub fn parse(raw: &str) -> DomainResult<Self> {
        text::single_line(raw, "tenantName", MAX_TENANT_NAME_CHARS).map(Self)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A URL-friendly slug derived from the name, made unique by a suffix from the id.
    pub fn slug_for(&self, id: TenantId) -> String {
        let mut slug = String::new();
        for c in self.0.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                slug.push(c);
            } else if !slug.ends_with('-') && !slug.is_empty() {
                slug.push('-');
            }
            if slug.len() >= 40 {
                break;
            }
        }
        let slug = slug.trim_end_matches('-');
        let suffix = &id.0.simple().to_string()[24..];
        if slug.is_empty() {
            format!("t-{suffix}")
        } else {
            format!("{slug}-{suffix}")
        }
    }
}

impl fmt::Display for TenantName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A tenant as stored.
#[derive(Debug, Clone)]
pub struct Tenant {
    /// Its id.
    pub id: TenantId,
    /// Its display name.
    pub name: String,
    /// A URL-friendly unique handle.
    pub slug: String,
    /// Active or suspended.
    pub status: TenantStatus,
    /// The IANA time zone its reports count days in.
    pub time_zone: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl Tenant {
    /// A new active tenant.
    pub fn new(name: &TenantName, now: DateTime<Utc>) -> Self {
        let id = TenantId::generate();
        Self {
            id,
            name: name.as_str().to_owned(),
            slug: name.slug_for(id),
            status: TenantStatus::Active,
            time_zone: "UTC".to_owned(),
            created_at: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_checked() {
        assert_eq!(TenantName::parse("  Acme  ").unwrap().as_str(), "Acme");
        assert_eq!(
            TenantName::parse("   ").unwrap_err().field(),
            Some("tenantName")
        );
        assert!(TenantName::parse(&"x".repeat(101)).is_err());
        assert!(TenantName::parse("a\u{0}b").is_err());
    }

    #[test]
    fn slugs_are_url_friendly() {
        let id = TenantId::generate();
        let slug = TenantName::parse("Acme & Co. Agency!")
            .unwrap()
            .slug_for(id);
        assert!(slug.starts_with("acme-co-agency-"), "{slug}");
        let emoji = TenantName::parse("🚀").unwrap().slug_for(id);
        assert!(emoji.starts_with("t-"), "{emoji}");
    }
}
