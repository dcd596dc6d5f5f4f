//! E-mail addresses, normalised so that one person has one account.

use std::fmt;
use std::str::FromStr;

use crate::error::{DomainError, DomainResult};

/// A syntactically valid e-mail address, trimmed and lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Validates and normalises `raw`; errors name the field `email`.
    pub fn parse(raw: &str) -> DomainResult<Self> {
        Self::parse_field(raw, "email")
    }

    /// Like [`Email::parse`], naming another input field in errors.
    pub fn parse_field(raw: &str, field: &str) -> DomainResult<Self> {
        let normalised = raw.trim().to_lowercase();
        if normalised.len() > 254 {
            return Err(DomainError::validation(
                field,
                "is longer than 254 characters",
            ));
        }
        let valid = email_address::EmailAddress::from_str(&normalised)
            .map(|address| address.domain().contains('.'))
            .unwrap_or(false);
        if !valid {
            return Err(DomainError::validation(
                field,
                "is not a valid e-mail address",
            ));
        }
        Ok(Self(normalised))
    }

    /// Wraps an address that was validated when it was stored.
    pub fn from_trusted(stored: String) -> Self {
        Self(stored)
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_space() {
        assert_eq!(
            Email::parse("  Ann@Example.COM ").unwrap().as_str(),
            "ann@example.com"
        );
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a b@example.com",
        ] {
            let err = Email::parse(bad).unwrap_err();
            assert_eq!(err.field(), Some("email"), "{bad}");
        }
    }
}
