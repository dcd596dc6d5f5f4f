//! Custom field types and the validators that turn people's input into canonical values.
//!
//! Every value is stored and shown in its canonical text, and parsing that text gives back the
//! same value, so a value can travel through the database, the API and ref payloads unchanged.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Utc};

use crate::error::DomainError;
use crate::identity::Email;

/// Longest text value, in characters; Messenger cuts text messages at 2,000 characters too.
pub const MAX_TEXT_CHARS: usize = 2000;
/// Longest URL value, in characters of its canonical form (the classic browser limit).
pub const MAX_URL_CHARS: usize = 2083;
/// Fewest digits in a phone number.
pub const MIN_PHONE_DIGITS: usize = 7;
/// Most digits in a phone number (E.164).
pub const MAX_PHONE_DIGITS: usize = 15;

/// The type of a custom field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// Free text.
    Text,
    /// A finite decimal number.
    Number,
    /// Yes or no.
    Boolean,
    /// A calendar date without time.
    Date,
    /// An instant, stored in UTC.
    DateTime,
    /// An e-mail address.
    Email,
    /// A phone number.
    Phone,
    /// An absolute http or https URL.
    Url,
}

impl FieldType {
    /// Every field type, in the order the dashboard lists them.
    pub const ALL: [FieldType; 8] = [
        FieldType::Text,
        FieldType::Number,
        FieldType::Boolean,
        FieldType::Date,
        FieldType::DateTime,
        FieldType::Email,
        FieldType::Phone,
        FieldType::Url,
    ];

    /// The type's stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Number => "number",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
            FieldType::DateTime => "datetime",
            FieldType::Email => "email",
            FieldType::Phone => "phone",
            FieldType::Url => "url",
        }
    }

    /// Checks `raw` against this type and returns the value in canonical form.
    ///
    /// Surrounding whitespace is ignored for every type.
    pub fn parse_value(self, raw: &str) -> Result<FieldValue, FieldValueError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(FieldValueError::new("must not be empty"));
        }
        match self {
            FieldType::Text => parse_text(trimmed).map(FieldValue::Text),
            FieldType::Number => parse_number(trimmed).map(FieldValue::Number),
            FieldType::Boolean => parse_boolean(trimmed).map(FieldValue::Boolean),
            FieldType::Date => parse_date(trimmed).map(FieldValue::Date),
            FieldType::DateTime => parse_date_time(trimmed).map(FieldValue::DateTime),
            FieldType::Email => parse_email(trimmed).map(FieldValue::Email),
            FieldType::Phone => parse_phone(trimmed).map(FieldValue::Phone),
            FieldType::Url => parse_url(trimmed).map(FieldValue::Url),
        }
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FieldType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FieldType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = FieldType::ALL.iter().map(|t| t.as_str()).collect();
                format!(
                    "unknown field type '{s}' (expected one of {})",
                    known.join(", ")
                )
            })
    }
}

/// A value that fits its field's type, in canonical form.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// Trimmed text with Unix line breaks.
    Text(String),
    /// A finite number; never NaN, infinite or negative zero.
    Number(f64),
    /// Yes or no.
    Boolean(bool),
    /// A calendar date (years 0000 to 9999).
    Date(NaiveDate),
    /// An instant in UTC (years 0000 to 9999).
    DateTime(DateTime<Utc>),
    /// A lower-case e-mail address.
    Email(String),
    /// `+` and digits for international numbers, digits only for national ones.
    Phone(String),
    /// The URL as the `url` crate serialises it.
    Url(String),
}

impl FieldValue {
    /// The type this value belongs to.
    pub fn field_type(&self) -> FieldType {
        match self {
            FieldValue::Text(_) => FieldType::Text,
            FieldValue::Number(_) => FieldType::Number,
            FieldValue::Boolean(_) => FieldType::Boolean,
            FieldValue::Date(_) => FieldType::Date,
            FieldValue::DateTime(_) => FieldType::DateTime,
            FieldValue::Email(_) => FieldType::Email,
            FieldValue::Phone(_) => FieldType::Phone,
            FieldValue::Url(_) => FieldType::Url,
        }
    }

    /// The canonical text, stored and shown; parsing it with [`FieldType::parse_value`] gives
    /// this value back.
    pub fn canonical(&self) -> String {
        match self {
            FieldValue::Text(text)
            | FieldValue::Email(text)
            | FieldValue::Phone(text)
            | FieldValue::Url(text) => text.clone(),
            FieldValue::Number(n) => format_number(*n),
            FieldValue::Boolean(b) => b.to_string(),
            FieldValue::Date(date) => date.format("%Y-%m-%d").to_string(),
            FieldValue::DateTime(instant) => instant.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        }
    }
}

impl fmt::Display for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

/// Why a value does not fit its field's type; the message is for people and names no field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FieldValueError {
    /// What is wrong, phrased to follow a field name ("must not be empty").
    pub message: String,
}

impl FieldValueError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// The same error as a validation error on the input field `field`.
    pub fn into_domain(self, field: &str) -> DomainError {
        DomainError::validation(field, self.message)
    }
}

fn parse_text(trimmed: &str) -> Result<String, FieldValueError> {
    // Browsers submit textarea line breaks as CRLF; keeping one spelling of a line break
    // means the same text always compares equal.
    let text = trimmed.replace("\r\n", "\n");
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(FieldValueError::new(
            "must not contain control characters (line breaks and tabs are fine)",
        ));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(FieldValueError::new(format!(
            "must be at most {MAX_TEXT_CHARS} characters"
        )));
    }
    Ok(text)
}

fn parse_number(trimmed: &str) -> Result<f64, FieldValueError> {
    let not_a_number = || {
        let hint = if trimmed.contains(',') {
            "use '.' as the decimal point and no thousands separators"
        } else {
            "use digits with an optional sign, '.' and exponent, like -3.5 or 1e3"
        };
        FieldValueError::new(format!("is not a number ({hint})"))
    };
    // Rust's float syntax also takes "inf" and "NaN"; only plain decimals are numbers here.
    if !trimmed
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return Err(not_a_number());
    }
    let n: f64 = trimmed.parse().map_err(|_| not_a_number())?;
    // A double keeps 15 significant digits exactly; with more, 12345678901234567 would be
    // stored as 12345678901234568. Order numbers and ids belong in text fields: refusing
    // tells people so, where rounding would change them without a word.
    if significant_digits(trimmed) > MAX_SIGNIFICANT_DIGITS {
        return Err(FieldValueError::new(format!(
            "has more than {MAX_SIGNIFICANT_DIGITS} significant digits, more than a number \
             field keeps exactly (use a text field for ids and codes)"
        )));
    }
    if !n.is_finite() {
        return Err(FieldValueError::new("is too large"));
    }
    if n == 0.0 {
        // A non-zero mantissa that came out as zero underflowed; storing 0 would lie.
        let mantissa = trimmed.split(['e', 'E']).next().unwrap_or_default();
        if mantissa.bytes().any(|b| matches!(b, b'1'..=b'9')) {
            return Err(FieldValueError::new("is too close to zero"));
        }
        // One zero: -0 and 0 are the same number to people.
        return Ok(0.0);
    }
    Ok(n)
}

/// The significant digits a double is sure to keep, whatever the number.
const MAX_SIGNIFICANT_DIGITS: usize = 15;

/// The digits of a decimal's mantissa, less the leading zeros and the trailing ones (which
/// say where the point is, not what the number is: 1200 and 1.2e3 have two).
fn significant_digits(decimal: &str) -> usize {
    let mantissa = decimal.split(['e', 'E']).next().unwrap_or_default();
    mantissa
        .trim_start_matches(['+', '-', '0', '.'])
        .trim_end_matches(['0', '.'])
        .bytes()
        .filter(u8::is_ascii_digit)
        .count()
}

/// Shortest round-trip text; exponent form only where positional text would be absurdly long
/// (the thresholds JavaScript uses), so 1e300 does not become 301 digits.
fn format_number(n: f64) -> String {
    let magnitude = n.abs();
    if magnitude != 0.0 && !(1e-6..1e21).contains(&magnitude) {
        format!("{n:e}")
    } else {
        format!("{n}")
    }
}

fn parse_boolean(trimmed: &str) -> Result<bool, FieldValueError> {
    match trimmed.to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "on" => Ok(true),
        "false" | "no" | "n" | "0" | "off" => Ok(false),
        _ => Err(FieldValueError::new(
            "is not a yes/no value (use true or false)",
        )),
    }
}

fn parse_date(trimmed: &str) -> Result<NaiveDate, FieldValueError> {
    // chrono's "%Y-%m-%d" also takes unpadded and signed parts; the stored form is exact.
    let bytes = trimmed.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shaped {
        return Err(FieldValueError::new("is not a date (use YYYY-MM-DD)"));
    }
    let number = |range: std::ops::Range<usize>| {
        trimmed
            .get(range)
            .and_then(|part| part.parse::<u32>().ok())
            .unwrap_or_default()
    };
    let year = i32::try_from(number(0..4)).unwrap_or_default();
    NaiveDate::from_ymd_opt(year, number(5..7), number(8..10))
        .ok_or_else(|| FieldValueError::new("is not a day on the calendar"))
}

fn parse_date_time(trimmed: &str) -> Result<DateTime<Utc>, FieldValueError> {
    let parsed = DateTime::parse_from_rfc3339(trimmed).map_err(|_| {
        FieldValueError::new(
            "is not a date and time (use RFC 3339 with an offset, like 2026-11-21T10:00:00+01:00)",
        )
    })?;
    let instant = parsed.with_timezone(&Utc);
    // Outside four-digit years the canonical text would not be RFC 3339 any more.
    if !(0..=9999).contains(&instant.year()) {
        return Err(FieldValueError::new("is out of range (years 0000 to 9999)"));
    }
    Ok(instant)
}

fn parse_email(trimmed: &str) -> Result<String, FieldValueError> {
    Email::parse_field(trimmed, "value")
        .map(|email| email.as_str().to_owned())
        .map_err(|error| match error {
            DomainError::Validation { message, .. } => FieldValueError::new(message),
            other => FieldValueError::new(other.to_string()),
        })
}

fn parse_phone(trimmed: &str) -> Result<String, FieldValueError> {
    let (plus, rest) = match trimmed.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, trimmed),
    };
    let mut digits = String::with_capacity(rest.len());
    for c in rest.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else if !matches!(c, ' ' | '-' | '.' | '(' | ')') {
            return Err(FieldValueError::new(
                "may contain only digits, a leading + and spaces, dashes, dots or parentheses",
            ));
        }
    }
    let starts_well = rest
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || c == '(');
    let ends_well = rest
        .chars()
        .next_back()
        .is_some_and(|c| c.is_ascii_digit() || c == ')');
    if !starts_well || !ends_well {
        return Err(FieldValueError::new(
            "must start and end with a digit (after an optional +)",
        ));
    }
    // Decided on digits, not characters, so that "0 0..." and "00..." mean the same and a
    // stored national number never starts with "00".
    let international = plus || digits.starts_with("00");
    if !plus && international {
        digits.drain(..2);
    }
    if international && digits.starts_with('0') {
        return Err(FieldValueError::new(
            "has a country code starting with 0, which no country has",
        ));
    }
    if !(MIN_PHONE_DIGITS..=MAX_PHONE_DIGITS).contains(&digits.len()) {
        return Err(FieldValueError::new(format!(
            "must have {MIN_PHONE_DIGITS} to {MAX_PHONE_DIGITS} digits"
        )));
    }
    if international {
        digits.insert(0, '+');
    }
    Ok(digits)
}

fn parse_url(trimmed: &str) -> Result<String, FieldValueError> {
    let url = url::Url::parse(trimmed).map_err(|_| {
        FieldValueError::new("is not a web address (use a full http:// or https:// URL)")
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(FieldValueError::new("must start with http:// or https://"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(FieldValueError::new("has no host"));
    }
    // Field values are shown in the dashboard and may reach logs; a password must not ride along.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FieldValueError::new(
            "must not contain a user name or password",
        ));
    }
    let canonical = url.to_string();
    if canonical.chars().count() > MAX_URL_CHARS {
        return Err(FieldValueError::new(format!(
            "must be at most {MAX_URL_CHARS} characters"
        )));
    }
    Ok(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(t: FieldType, raw: &str) -> String {
        match t.parse_value(raw) {
            Ok(value) => {
                assert_eq!(value.field_type(), t, "{raw:?}");
                value.canonical()
            }
            Err(error) => panic!("{t} rejected {raw:?}: {error}"),
        }
    }

    fn rejects(t: FieldType, raw: &str) -> String {
        match t.parse_value(raw) {
            Ok(value) => panic!("{t} accepted {raw:?} as {value:?}"),
            Err(error) => error.message,
        }
    }

    #[test]
    fn type_names_round_trip() {
        for t in FieldType::ALL {
            assert_eq!(t.as_str().parse::<FieldType>(), Ok(t));
            assert_eq!(t.to_string(), t.as_str());
        }
        let error = "Text".parse::<FieldType>().unwrap_err();
        assert!(error.contains("text, number, boolean"), "{error}");
        assert!("".parse::<FieldType>().is_err());
    }

    #[test]
    fn every_type_rejects_blank_input() {
        for t in FieldType::ALL {
            for blank in ["", "   ", "\n\t"] {
                assert_eq!(rejects(t, blank), "must not be empty");
            }
        }
    }

    #[test]
    fn text_is_trimmed_and_keeps_line_breaks_and_tabs() {
        assert_eq!(ok(FieldType::Text, "  hello  "), "hello");
        assert_eq!(ok(FieldType::Text, "a\n\tb"), "a\n\tb");
        assert_eq!(ok(FieldType::Text, "line 1\r\nline 2"), "line 1\nline 2");
        assert_eq!(ok(FieldType::Text, "héllo 👋"), "héllo 👋");
        let longest = "é".repeat(MAX_TEXT_CHARS);
        assert_eq!(ok(FieldType::Text, &format!(" {longest} ")), longest);
    }

    #[test]
    fn text_rejects_control_characters_and_overlong_text() {
        for bad in ["a\u{0}b", "a\rb", "a\u{7}b", "a\u{1b}[31mb", "a\u{85}b"] {
            assert!(rejects(FieldType::Text, bad).contains("control"), "{bad:?}");
        }
        let too_long = "a".repeat(MAX_TEXT_CHARS + 1);
        assert!(rejects(FieldType::Text, &too_long).contains("2000"));
    }

    #[test]
    fn numbers_are_canonicalised() {
        for (raw, canonical) in [
            ("42", "42"),
            ("-3.5", "-3.5"),
            ("1e3", "1000"),
            ("1E3", "1000"),
            ("+7", "7"),
            ("0.10", "0.1"),
            ("-0", "0"),
            ("-0.0e5", "0"),
            ("007", "7"),
            (".5", "0.5"),
            ("5.", "5"),
            (" 12.50 ", "12.5"),
            ("0.1", "0.1"),
            ("123456789012345000", "123456789012345000"),
            ("999999999999999", "999999999999999"),
            ("0.000000000000000123456789012345", "1.23456789012345e-16"),
            ("1e20", "100000000000000000000"),
            ("1e21", "1e21"),
            ("-2.5e300", "-2.5e300"),
            ("0.000001", "0.000001"),
            ("0.0000001", "1e-7"),
            ("5e-324", "5e-324"),
        ] {
            assert_eq!(ok(FieldType::Number, raw), canonical, "{raw}");
        }
        assert_eq!(
            FieldType::Number.parse_value("-0"),
            Ok(FieldValue::Number(0.0))
        );
        assert!(matches!(
            FieldType::Number.parse_value("-0"),
            Ok(FieldValue::Number(n)) if n.is_sign_positive()
        ));
    }

    #[test]
    fn numbers_reject_non_decimals() {
        for bad in [
            "NaN", "nan", "inf", "-inf", "infinity", "1,5", "1 000", "1_000", "0x10", "abc", "1e",
            ".", "-", "+", "1.2.3", "--1", "1e3.5", "٣",
        ] {
            assert!(
                rejects(FieldType::Number, bad).contains("not a number"),
                "{bad}"
            );
        }
        assert!(rejects(FieldType::Number, "1,5").contains("decimal point"));
        assert_eq!(rejects(FieldType::Number, "1e400"), "is too large");
        assert_eq!(rejects(FieldType::Number, "-1e400"), "is too large");
        assert_eq!(rejects(FieldType::Number, "1e-400"), "is too close to zero");
        assert_eq!(ok(FieldType::Number, "0e-400"), "0");
        for too_precise in [
            "12345678901234567",
            "9007199254740993",
            "99999999999999999999999",
            "0.1000000000000001",
            "-1.2345678901234567e5",
        ] {
            assert!(
                rejects(FieldType::Number, too_precise).contains("15 significant digits"),
                "{too_precise}"
            );
        }
    }

    #[test]
    fn booleans_accept_common_spellings() {
        for raw in ["true", "TRUE", "Yes", "y", "1", "on", " On "] {
            assert_eq!(ok(FieldType::Boolean, raw), "true", "{raw}");
        }
        for raw in ["false", "False", "NO", "n", "0", "off"] {
            assert_eq!(ok(FieldType::Boolean, raw), "false", "{raw}");
        }
        for bad in ["maybe", "2", "t", "yess", "oui", "0.0"] {
            assert!(rejects(FieldType::Boolean, bad).contains("yes/no"), "{bad}");
        }
    }

    #[test]
    fn dates_are_exactly_year_month_day() {
        assert_eq!(ok(FieldType::Date, "2026-11-21"), "2026-11-21");
        assert_eq!(ok(FieldType::Date, " 2024-02-29 "), "2024-02-29");
        assert_eq!(ok(FieldType::Date, "0000-01-01"), "0000-01-01");
        assert_eq!(ok(FieldType::Date, "9999-12-31"), "9999-12-31");
        for bad in [
            "2026-1-5",
            "26-11-21",
            "2026/11/21",
            "21-11-2026",
            "+2026-11-21",
            "2026-11-21T10:00:00Z",
            "20261121",
            "2026-11-2１",
        ] {
            assert!(
                rejects(FieldType::Date, bad).contains("YYYY-MM-DD"),
                "{bad}"
            );
        }
        for impossible in ["2026-02-29", "2026-13-01", "2026-00-10", "2026-04-31"] {
            assert!(
                rejects(FieldType::Date, impossible).contains("calendar"),
                "{impossible}"
            );
        }
    }

    #[test]
    fn date_times_become_utc() {
        for (raw, canonical) in [
            ("2026-11-21T10:00:00+01:00", "2026-11-21T09:00:00Z"),
            ("2026-11-21T09:00:00Z", "2026-11-21T09:00:00Z"),
            ("2026-11-21t09:00:00z", "2026-11-21T09:00:00Z"),
            ("2026-11-21T09:00:00.000Z", "2026-11-21T09:00:00Z"),
            ("2026-11-21T09:00:00.5-00:30", "2026-11-21T09:30:00.500Z"),
            (
                "2026-11-21T09:00:00.123456789Z",
                "2026-11-21T09:00:00.123456789Z",
            ),
            ("2026-01-01T00:30:00+01:00", "2025-12-31T23:30:00Z"),
        ] {
            assert_eq!(ok(FieldType::DateTime, raw), canonical, "{raw}");
        }
        for bad in [
            "2026-11-21",
            "2026-11-21T10:00:00",
            "2026-11-21T10:00+01:00",
            "2026-11-21T25:00:00Z",
            "tomorrow",
            "1763715600",
        ] {
            assert!(
                rejects(FieldType::DateTime, bad).contains("RFC 3339"),
                "{bad}"
            );
        }
        assert!(rejects(FieldType::DateTime, "0000-01-01T00:00:00+01:00").contains("range"));
    }

    #[test]
    fn emails_are_lower_cased() {
        assert_eq!(ok(FieldType::Email, " Ann@Example.COM "), "ann@example.com");
        for bad in ["ann", "ann@example", "@example.com", "a b@example.com"] {
            assert_eq!(
                rejects(FieldType::Email, bad),
                "is not a valid e-mail address"
            );
        }
        let error = FieldType::Email.parse_value("nope").unwrap_err();
        let domain = error.into_domain("customFields.email");
        assert_eq!(domain.field(), Some("customFields.email"));
        assert_eq!(
            domain.to_string(),
            "customFields.email: is not a valid e-mail address"
        );
    }

    #[test]
    fn phones_keep_digits_and_the_international_prefix() {
        for (raw, canonical) in [
            ("+44 20 7946 0958", "+442079460958"),
            ("0044 (20) 7946-0958", "+442079460958"),
            ("0 044 20 7946 0958", "+442079460958"),
            ("+1 (555) 010-9999", "+15550109999"),
            ("+1.555.010.9999", "+15550109999"),
            ("020 7946 0958", "02079460958"),
            ("1234567", "1234567"),
            ("+123456789012345", "+123456789012345"),
            ("(020) 7946 0958", "02079460958"),
        ] {
            assert_eq!(ok(FieldType::Phone, raw), canonical, "{raw}");
        }
        for (bad, why) in [
            ("123456", "7 to 15"),
            ("+1234567890123456", "7 to 15"),
            ("00123456", "7 to 15"),
            ("+44 20 7946 0958 ext 2", "only digits"),
            ("+44/20/7946", "only digits"),
            ("44+2079460958", "only digits"),
            ("++442079460958", "only digits"),
            ("+ 44 20 7946 0958", "start and end"),
            ("-2079460958", "start and end"),
            ("2079460958-", "start and end"),
            ("+0442079460958", "country code"),
            ("000442079460958", "country code"),
            ("+٤٤2079460958", "only digits"),
        ] {
            assert!(rejects(FieldType::Phone, bad).contains(why), "{bad}");
        }
    }

    #[test]
    fn urls_must_be_absolute_web_addresses() {
        assert_eq!(
            ok(FieldType::Url, " https://Example.com "),
            "https://example.com/"
        );
        assert_eq!(
            ok(FieldType::Url, "http://example.com:80/a/../b?q=1#top"),
            "http://example.com/b?q=1#top"
        );
        assert_eq!(
            ok(FieldType::Url, "https://bücher.example/straße"),
            "https://xn--bcher-kva.example/stra%C3%9Fe"
        );
        assert_eq!(
            ok(FieldType::Url, "HTTP://[::1]:8080"),
            "http://[::1]:8080/"
        );
        for (bad, why) in [
            ("example.com", "web address"),
            ("/relative/path", "web address"),
            ("https://", "web address"),
            ("http://exa mple.com", "web address"),
            ("ftp://example.com/file", "http://"),
            ("mailto:ann@example.com", "http://"),
            ("javascript:alert(1)", "http://"),
            ("file:///etc/passwd", "http://"),
            ("https://ann:secret@example.com/", "user name or password"),
            ("https://ann@example.com/", "user name or password"),
        ] {
            assert!(rejects(FieldType::Url, bad).contains(why), "{bad}");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_CHARS));
        assert!(rejects(FieldType::Url, &long).contains("at most"));
    }

    #[test]
    fn errors_display_their_message() {
        let error = FieldValueError::new("must not be empty");
        assert_eq!(error.to_string(), "must not be empty");
        let domain = error.into_domain("value");
        assert_eq!(domain.field(), Some("value"));
        assert_eq!(domain.code(), crate::error::ErrorCode::Validation);
    }

    fn text_value() -> impl Strategy<Value = FieldValue> {
        "[^\\p{Cc}]{0,30}(\n|\t|\r\n)?[^\\p{Cc}]{1,30}".prop_filter_map("blank", |s| {
            let text = s.trim().replace("\r\n", "\n");
            (!text.is_empty()).then_some(FieldValue::Text(text))
        })
    }

    fn number_value() -> impl Strategy<Value = FieldValue> {
        prop_oneof![
            // Any double, as the 15 significant digits a number field keeps.
            any::<f64>().prop_filter_map("not finite", |n| format!("{n:.14e}").parse().ok()),
            (-999_999_999_999_999i64..=999_999_999_999_999).prop_map(|n| n as f64),
            (-1_000_000i64..1_000_000, 0i32..6).prop_map(|(n, scale)| n as f64 / 10f64.powi(scale)),
        ]
        .prop_filter("finite", |n| n.is_finite())
        .prop_map(|n| FieldValue::Number(if n == 0.0 { 0.0 } else { n }))
    }

    fn date_value() -> impl Strategy<Value = FieldValue> {
        (0i32..=9999, 1u32..=366).prop_filter_map("no such day", |(year, day)| {
            NaiveDate::from_yo_opt(year, day).map(FieldValue::Date)
        })
    }

    fn date_time_value() -> impl Strategy<Value = FieldValue> {
        // 0000-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
        let seconds = -62_167_219_200i64..=253_402_300_799;
        let nanos = prop_oneof![
            Just(0u32),
            (0u32..1000).prop_map(|ms| ms * 1_000_000),
            0u32..1_000_000_000,
        ];
        (seconds, nanos).prop_filter_map("out of range", |(s, ns)| {
            DateTime::from_timestamp(s, ns).map(FieldValue::DateTime)
        })
    }

    fn email_value() -> impl Strategy<Value = FieldValue> {
        "[A-Za-z0-9._%+-]{1,12}@[A-Za-z0-9-]{1,12}\\.[A-Za-z]{2,6}".prop_filter_map(
            "invalid address",
            |raw| {
                Email::parse(&raw)
                    .ok()
                    .map(|email| FieldValue::Email(email.as_str().to_owned()))
            },
        )
    }

    fn phone_value() -> impl Strategy<Value = FieldValue> {
        prop_oneof![
            "[1-9][0-9]{6,14}".prop_map(|digits| format!("+{digits}")),
            "(0[1-9]|[1-9][0-9])[0-9]{5,13}",
        ]
        .prop_map(FieldValue::Phone)
    }

    fn url_value() -> impl Strategy<Value = FieldValue> {
        concat!(
            "https?://[a-zA-Z0-9-]{1,10}(\\.[a-z]{2,5}){0,2}(:[0-9]{1,5})?",
            "(/[a-zA-Z0-9._~%é -]{0,8}){0,3}(\\?[a-z0-9=&]{0,10})?(#[a-z]{0,5})?"
        )
        .prop_filter_map("invalid URL", |raw| {
            url::Url::parse(&raw)
                .ok()
                .filter(|url| url.host_str().is_some_and(|h| !h.is_empty()))
                .map(|url| FieldValue::Url(url.to_string()))
        })
    }

    fn any_value() -> impl Strategy<Value = FieldValue> {
        prop_oneof![
            text_value(),
            number_value(),
            any::<bool>().prop_map(FieldValue::Boolean),
            date_value(),
            date_time_value(),
            email_value(),
            phone_value(),
            url_value(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn canonical_text_parses_back_to_the_same_value(value in any_value()) {
            let t = value.field_type();
            prop_assert_eq!(t.parse_value(&value.canonical()), Ok(value));
        }

        #[test]
        fn parsing_never_panics_and_canonical_forms_are_stable(
            raw in "\\PC{0,40}|[-+0-9.eE ()]{0,20}|.{0,40}"
        ) {
            for t in FieldType::ALL {
                if let Ok(value) = t.parse_value(&raw) {
                    prop_assert_eq!(value.field_type(), t);
                    prop_assert_eq!(t.parse_value(&value.canonical()), Ok(value));
                }
            }
        }
    }
}
