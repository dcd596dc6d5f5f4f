//! Ref names and the payload grammar carried in an m.me link's `ref` (DESIGN.md section 5).
//!
//! A received ref reads `REF` then zero or more segments joined by `--`. With an odd number of
//! segments after the ref name the first is the value for the link's default field; the rest
//! are `FIELD_NUMBER--VALUE` pairs: `tutorial`, `tutorial--456`, `tutorial--738--v1`,
//! `tutorial--v0--738--v1--514--v2`.
//!
//! Parsing is tolerant because refs arrive from Meta after the link was shared, pasted and
//! retyped by people; rendering is strict because it builds the links we hand out, so that
//! everything we render parses back exactly.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use percent_encoding::percent_decode_str;

use crate::catalogue::field_type::FieldValueError;
use crate::catalogue::links::{MAX_ENCODED_REF_CHARS, encode_query_value};
use crate::error::{DomainError, DomainResult};
use crate::text::excerpt;

/// How much of a part that is not a field number a problem quotes.
const QUOTED_SEGMENT_CHARS: usize = 40;

/// Longest ref name, in characters.
pub const MAX_REF_NAME_CHARS: usize = 200;
/// The separator between a ref name and its payload segments, and between segments.
pub const SEPARATOR: &str = "--";
/// The en dash, also read as a separator: help articles render `--` as one, and people paste it.
pub const EN_DASH_SEPARATOR: char = '\u{2013}';

const REF_CHARS_RULE: &str = "may contain only letters, digits, '-', '_' and '='";
const DOUBLE_HYPHEN_RULE: &str = "must not contain '--', which separates payload values";
const EDGE_HYPHEN_RULE: &str =
    "must not start or end with '-', which would merge with a payload separator";

/// Characters Meta allows in a ref: ASCII letters and digits, `-`, `_` and `=`.
pub fn is_ref_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '=')
}

/// A ref link's name: 1..=200 chars, only ref chars, no "--" inside (the separator), not
/// starting or ending with '-' (it would merge with a separator).
///
/// Case is kept as typed: Meta hands the ref back unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RefName(String);

impl RefName {
    /// Validates a name typed by a person (surrounding whitespace is ignored); errors name the
    /// field `ref` and say which rule was broken.
    pub fn parse(raw: &str) -> DomainResult<RefName> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(DomainError::validation("ref", "must not be empty"));
        }
        if name.chars().count() > MAX_REF_NAME_CHARS {
            return Err(DomainError::validation(
                "ref",
                format!("must be at most {MAX_REF_NAME_CHARS} characters"),
            ));
        }
        check_ref_text(name).map_err(|error| error.into_domain("ref"))?;
        Ok(RefName(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RefName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A payload value that can travel inside a ref: non-empty, only ref chars, no "--", not
/// starting/ending with '-'.
///
/// The value is checked as given, without trimming: it is meant to be a canonical field value.
pub fn check_payload_value(value: &str) -> Result<(), FieldValueError> {
    if value.is_empty() {
        return Err(FieldValueError::new("must not be empty"));
    }
    check_ref_text(value)
}

/// The rules names and payload values share, so that both split apart again exactly.
fn check_ref_text(text: &str) -> Result<(), FieldValueError> {
    if let Some(bad) = text.chars().find(|c| !is_ref_char(*c)) {
        return Err(FieldValueError::new(format!(
            "{REF_CHARS_RULE} (found {bad:?})"
        )));
    }
    if text.contains(SEPARATOR) {
        return Err(FieldValueError::new(DOUBLE_HYPHEN_RULE));
    }
    if text.starts_with('-') || text.ends_with('-') {
        return Err(FieldValueError::new(EDGE_HYPHEN_RULE));
    }
    Ok(())
}

/// One field assignment carried in a payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadPair {
    /// The custom field's number (unique per tenant).
    pub field_number: u32,
    /// The raw value; the field's type decides whether it fits.
    pub value: String,
}

/// A ref as received, split into its parts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedRef {
    /// The ref name, to look the link up by; empty when the received ref was empty or began
    /// with a separator.
    pub ref_name: String,
    /// The value for the link's default field, when the payload had an odd number of segments.
    /// Whether the link has a default field is for the caller to judge.
    pub default_value: Option<String>,
    /// The field assignments, in the order received, at most one per field number.
    pub pairs: Vec<PayloadPair>,
    /// What could not be used, in the order it appeared.
    pub problems: Vec<PayloadProblem>,
}

/// Something in a received payload that could not be used; the rest of the payload still applies.
///
/// A `position` counts the parts of the received ref between separators, the ref name being
/// part 0, so payload parts start at 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadProblem {
    /// Nothing came before the first separator (or the whole ref was empty).
    EmptyRefName,
    /// The part where a field number belongs is not one (empty, not only ASCII digits, or above
    /// `u32::MAX`); the value after it was skipped.
    NotAFieldNumber {
        /// The part as received.
        segment: String,
    },
    /// A value is empty (`tutorial--`, `tutorial--738--`); it was skipped.
    EmptyValue {
        /// Where the empty value was.
        position: usize,
    },
    /// A value decodes to U+0000 (`%00`), which no stored text may hold; it was skipped.
    NulInValue {
        /// Where the value was.
        position: usize,
    },
    /// A field number came again; its first value was kept and this one skipped.
    DuplicateField {
        /// The repeated field number.
        field_number: u32,
        /// Where the repeated field number was.
        position: usize,
    },
}

impl PayloadProblem {
    /// The problem, for people (shown with the recorded webhook event).
    pub fn describe(&self) -> String {
        match self {
            PayloadProblem::EmptyRefName => {
                "the ref name is empty, so no ref link can match".to_owned()
            }
            PayloadProblem::NotAFieldNumber { segment } if segment.is_empty() => {
                "a field number is missing, so the value after it was skipped".to_owned()
            }
            PayloadProblem::NotAFieldNumber { segment } => {
                let segment = excerpt(segment, QUOTED_SEGMENT_CHARS);
                format!("{segment:?} is not a field number, so the value after it was skipped")
            }
            PayloadProblem::EmptyValue { position } => {
                format!("the value in part {position} of the payload is empty and was skipped")
            }
            PayloadProblem::NulInValue { position } => format!(
                "the value in part {position} of the payload holds U+0000 (%00) and was skipped"
            ),
            PayloadProblem::DuplicateField {
                field_number,
                position,
            } => format!(
                "field {field_number} is given again in part {position} of the payload; \
                 only its first value was used"
            ),
        }
    }
}

impl fmt::Display for PayloadProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// Splits a received ref into name, default value and pairs. Never fails: anything unusable
/// goes into `problems`.
///
/// - Surrounding whitespace is trimmed; nothing inside is.
/// - Meta decodes the link's `ref` before handing it over, so a percent escape that arrives
///   was encoded twice (by hand, or by a tool that encoded an encoded link): each part is
///   decoded once after splitting (`tutorial--738--New%20York` sets `New York`), and an
///   escaped separator stays inside its part (`a%2D%2Db` is one name, `a--b`). A part whose
///   escapes do not decode to UTF-8 is kept as received; `+` is not a space here.
/// - `--` and the en dash (U+2013) both separate, and may be mixed.
/// - A run of hyphens is split from the left, two at a time: `a---b` is `a` and `-b`, and
///   `a----b` is `a`, an empty part and `b`.
/// - Empty parts keep their place, so a trailing separator (`tutorial--`) or a doubled one
///   gives an empty value (reported and skipped) rather than shifting the pairs.
/// - Field numbers are ASCII digits, leading zeros allowed (`0738` is 738); a sign, other
///   characters or a value above `u32::MAX` make the pair unusable.
pub fn parse_ref(received: &str) -> ParsedRef {
    let received_segments = split_segments(received.trim());
    let segments: Vec<Cow<'_, str>> = received_segments
        .iter()
        .map(|segment| decoded_once(segment))
        .collect();
    let segments: Vec<&str> = segments.iter().map(AsRef::as_ref).collect();
    let mut parsed = ParsedRef::default();
    let mut parts = segments.into_iter().enumerate();
    if let Some((_, name)) = parts.next() {
        // A name decoding to U+0000 names no link (their names cannot hold it): it is kept as
        // received, which no text column refuses.
        parsed.ref_name = match name.contains('\0') {
            true => received_segments[0].to_owned(),
            false => name.to_owned(),
        };
    }
    if parsed.ref_name.is_empty() {
        parsed.problems.push(PayloadProblem::EmptyRefName);
    }
    let payload: Vec<(usize, &str)> = parts.collect();
    let pair_parts = if !payload.len().is_multiple_of(2) {
        let (default, rest) = payload.split_at(1);
        if let Some(&(position, value)) = default.first() {
            if value.is_empty() {
                parsed
                    .problems
                    .push(PayloadProblem::EmptyValue { position });
            } else if value.contains('\0') {
                parsed
                    .problems
                    .push(PayloadProblem::NulInValue { position });
            } else {
                parsed.default_value = Some(value.to_owned());
            }
        }
        rest
    } else {
        &payload[..]
    };
    // A set, not a scan of the pairs so far: a forged ref may carry a hundred thousand pairs.
    let mut seen = HashSet::new();
    for pair in pair_parts.chunks_exact(2) {
        let [(number_position, number), (value_position, value)] = pair else {
            continue;
        };
        let Some(field_number) = parse_field_number(number) else {
            parsed.problems.push(PayloadProblem::NotAFieldNumber {
                segment: (*number).to_owned(),
            });
            continue;
        };
        if value.is_empty() {
            parsed.problems.push(PayloadProblem::EmptyValue {
                position: *value_position,
            });
            continue;
        }
        if value.contains('\0') {
            parsed.problems.push(PayloadProblem::NulInValue {
                position: *value_position,
            });
            continue;
        }
        if !seen.insert(field_number) {
            parsed.problems.push(PayloadProblem::DuplicateField {
                field_number,
                position: *number_position,
            });
            continue;
        }
        parsed.pairs.push(PayloadPair {
            field_number,
            value: (*value).to_owned(),
        });
    }
    parsed
}

/// Splits on every `--` (leftmost first) and every en dash; always at least one part.
fn split_segments(text: &str) -> Vec<&str> {
    let mut segments = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let separator_len = match c {
            '-' if chars.next_if(|&(_, next)| next == '-').is_some() => SEPARATOR.len(),
            EN_DASH_SEPARATOR => EN_DASH_SEPARATOR.len_utf8(),
            _ => continue,
        };
        segments.push(text.get(start..at).unwrap_or_default());
        start = at + separator_len;
    }
    segments.push(text.get(start..).unwrap_or_default());
    segments
}

/// The part with its percent escapes decoded, or as received when it has none or they do not
/// decode to UTF-8. A decoded part may hold U+0000: each caller decides what that makes it.
fn decoded_once(part: &str) -> Cow<'_, str> {
    if !part.contains('%') {
        return Cow::Borrowed(part);
    }
    percent_decode_str(part)
        .decode_utf8()
        .unwrap_or(Cow::Borrowed(part))
}

fn parse_field_number(segment: &str) -> Option<u32> {
    // u32's own parser takes a leading '+'; a field number is digits only.
    if segment.is_empty() || !segment.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    segment.parse().ok()
}

/// Why a payload ref could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderError {
    /// The part at fault: `None` for the default value, `Some(i)` for `pairs[i]`.
    pub index: Option<usize>,
    /// What is wrong with it, phrased to follow the part's name.
    pub message: String,
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.index {
            None => write!(f, "default value: {}", self.message),
            Some(i) => write!(f, "pairs[{i}]: {}", self.message),
        }
    }
}

impl std::error::Error for RenderError {}

/// Renders a payload ref from its parts (the inverse of [`parse_ref`]), checking every value.
///
/// Besides [`check_payload_value`], a field number may appear only once, and the ref must stay
/// within Meta's 2,083 characters once percent-encoded for the m.me link; the error then names
/// the part that crossed the limit.
pub fn render_ref(
    name: &RefName,
    default_value: Option<&str>,
    pairs: &[PayloadPair],
) -> Result<String, RenderError> {
    let too_long = |index| RenderError {
        index,
        message: format!(
            "makes the ref longer than {MAX_ENCODED_REF_CHARS} characters once URL-encoded"
        ),
    };
    // Percent-encoding works byte by byte, so the encoded length of the whole is the sum of
    // the parts' and each part is encoded once.
    let encoded_len = |part: &str| encode_query_value(part).len();
    let mut rendered = name.as_str().to_owned();
    let mut encoded = encoded_len(&rendered);
    if let Some(value) = default_value {
        check_payload_value(value).map_err(|error| RenderError {
            index: None,
            message: error.message,
        })?;
        rendered.push_str(SEPARATOR);
        rendered.push_str(value);
        encoded += SEPARATOR.len() + encoded_len(value);
        if encoded > MAX_ENCODED_REF_CHARS {
            return Err(too_long(None));
        }
    }
    for (i, pair) in pairs.iter().enumerate() {
        check_payload_value(&pair.value).map_err(|error| RenderError {
            index: Some(i),
            message: error.message,
        })?;
        if pairs[..i]
            .iter()
            .any(|earlier| earlier.field_number == pair.field_number)
        {
            return Err(RenderError {
                index: Some(i),
                message: format!("repeats field number {}", pair.field_number),
            });
        }
        let field_number = pair.field_number.to_string();
        rendered.push_str(SEPARATOR);
        rendered.push_str(&field_number);
        rendered.push_str(SEPARATOR);
        rendered.push_str(&pair.value);
        encoded += 2 * SEPARATOR.len() + field_number.len() + encoded_len(&pair.value);
        if encoded > MAX_ENCODED_REF_CHARS {
            return Err(too_long(Some(i)));
        }
    }
    Ok(rendered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pair(field_number: u32, value: &str) -> PayloadPair {
        PayloadPair {
            field_number,
            value: value.to_owned(),
        }
    }

    fn parsed(
        ref_name: &str,
        default_value: Option<&str>,
        pairs: Vec<PayloadPair>,
        problems: Vec<PayloadProblem>,
    ) -> ParsedRef {
        ParsedRef {
            ref_name: ref_name.to_owned(),
            default_value: default_value.map(str::to_owned),
            pairs,
            problems,
        }
    }

    fn name(raw: &str) -> RefName {
        RefName::parse(raw).unwrap()
    }

    fn name_error(raw: &str) -> String {
        let error = RefName::parse(raw).unwrap_err();
        assert_eq!(error.field(), Some("ref"), "{raw:?}");
        match error {
            DomainError::Validation { message, .. } => message,
            other => panic!("unexpected error {other:?}"),
        }
    }

    #[test]
    fn ref_chars_are_what_meta_allows() {
        for c in ['a', 'Z', '0', '9', '-', '_', '='] {
            assert!(is_ref_char(c), "{c:?}");
        }
        for c in [
            ' ',
            '.',
            '/',
            '?',
            '&',
            '%',
            '+',
            '~',
            'é',
            EN_DASH_SEPARATOR,
            '٣',
        ] {
            assert!(!is_ref_char(c), "{c:?}");
        }
    }

    #[test]
    fn ref_names_accept_single_hyphens_and_trim() {
        for raw in [
            "tutorial",
            "button-in-bottom",
            "facebook-post",
            "summer_coupon",
            "a=b",
            "A1",
            "x",
        ] {
            assert_eq!(name(raw).as_str(), raw);
        }
        assert_eq!(name("  youtube \n").as_str(), "youtube");
        assert_eq!(name("Tutorial").to_string(), "Tutorial");
        let longest = "a".repeat(MAX_REF_NAME_CHARS);
        assert_eq!(name(&longest).as_str(), longest);
    }

    #[test]
    fn ref_names_say_which_rule_they_break() {
        assert_eq!(name_error(""), "must not be empty");
        assert_eq!(name_error("   "), "must not be empty");
        assert!(name_error(&"a".repeat(MAX_REF_NAME_CHARS + 1)).contains("at most 200"));
        for bad in [
            "a b",
            "a.b",
            "a/b",
            "a?b",
            "a&b",
            "a%2Db",
            "café",
            "tutorial–456",
        ] {
            assert!(name_error(bad).starts_with(REF_CHARS_RULE), "{bad}");
        }
        assert!(name_error("a b").contains("' '"));
        for bad in ["a--b", "tutorial--456", "a---b"] {
            assert_eq!(name_error(bad), DOUBLE_HYPHEN_RULE, "{bad}");
        }
        for bad in ["-a", "a-", "-"] {
            assert_eq!(name_error(bad), EDGE_HYPHEN_RULE, "{bad}");
        }
    }

    #[test]
    fn payload_values_follow_the_ref_rules() {
        for ok in ["456", "v1", "2026-11-21", "a_b=c", "x-y"] {
            assert_eq!(check_payload_value(ok), Ok(()), "{ok}");
        }
        assert_eq!(
            check_payload_value("").unwrap_err().message,
            "must not be empty"
        );
        for bad in [" 456", "3.5", "ann@example.com", "a b", "a–b"] {
            assert!(
                check_payload_value(bad)
                    .unwrap_err()
                    .message
                    .starts_with(REF_CHARS_RULE),
                "{bad}"
            );
        }
        assert_eq!(
            check_payload_value("a--b").unwrap_err().message,
            DOUBLE_HYPHEN_RULE
        );
        for bad in ["-5", "5-", "-"] {
            assert_eq!(
                check_payload_value(bad).unwrap_err().message,
                EDGE_HYPHEN_RULE
            );
        }
    }

    #[test]
    fn parses_the_design_examples() {
        assert_eq!(
            parse_ref("tutorial"),
            parsed("tutorial", None, vec![], vec![])
        );
        assert_eq!(
            parse_ref("tutorial--456"),
            parsed("tutorial", Some("456"), vec![], vec![])
        );
        assert_eq!(
            parse_ref("tutorial--738--v1"),
            parsed("tutorial", None, vec![pair(738, "v1")], vec![])
        );
        assert_eq!(
            parse_ref("tutorial--v0--738--v1--514--v2"),
            parsed(
                "tutorial",
                Some("v0"),
                vec![pair(738, "v1"), pair(514, "v2")],
                vec![]
            )
        );
        assert_eq!(
            parse_ref("button-in-bottom--738--v1"),
            parsed("button-in-bottom", None, vec![pair(738, "v1")], vec![])
        );
    }

    #[test]
    fn en_dashes_separate_too_even_mixed() {
        assert_eq!(parse_ref("tutorial–456"), parse_ref("tutorial--456"));
        assert_eq!(parse_ref("tutorial–738–v1"), parse_ref("tutorial--738--v1"));
        assert_eq!(
            parse_ref("tutorial–v0--738–v1--514–v2"),
            parse_ref("tutorial--v0--738--v1--514--v2")
        );
        assert_eq!(
            parse_ref("button-in-bottom–456"),
            parsed("button-in-bottom", Some("456"), vec![], vec![])
        );
    }

    #[test]
    fn surrounding_whitespace_is_trimmed_and_escapes_decoded_once_per_part() {
        assert_eq!(parse_ref("  tutorial--456 \n"), parse_ref("tutorial--456"));
        assert_eq!(
            parse_ref("tutorial%2D%2D456"),
            parsed("tutorial--456", None, vec![], vec![])
        );
        assert_eq!(
            parse_ref("tutorial--738--New%20York--514--S%C3%A3o%2BPaulo"),
            parsed(
                "tutorial",
                None,
                vec![pair(738, "New York"), pair(514, "São+Paulo")],
                vec![]
            )
        );
        assert_eq!(
            parse_ref("summer%5Fcoupon--50%25--738--100%"),
            parsed(
                "summer_coupon",
                Some("50%"),
                vec![pair(738, "100%")],
                vec![]
            )
        );
        assert_eq!(
            parse_ref("tutorial--%FF%FE"),
            parsed("tutorial", Some("%FF%FE"), vec![], vec![])
        );
        assert_eq!(
            parse_ref("a--b%252Fc").default_value.as_deref(),
            Some("b%2Fc")
        );
        assert_eq!(
            parse_ref("tutorial--a b"),
            parsed("tutorial", Some("a b"), vec![], vec![])
        );
    }

    #[test]
    fn empty_refs_and_missing_names_are_reported() {
        assert_eq!(
            parse_ref(""),
            parsed("", None, vec![], vec![PayloadProblem::EmptyRefName])
        );
        assert_eq!(parse_ref("   "), parse_ref(""));
        assert_eq!(
            parse_ref("--456"),
            parsed("", Some("456"), vec![], vec![PayloadProblem::EmptyRefName])
        );
    }

    #[test]
    fn empty_values_keep_their_place_and_are_skipped() {
        assert_eq!(
            parse_ref("tutorial--"),
            parsed(
                "tutorial",
                None,
                vec![],
                vec![PayloadProblem::EmptyValue { position: 1 }]
            )
        );
        assert_eq!(
            parse_ref("tutorial–"),
            parse_ref("tutorial--"),
            "a trailing en dash"
        );
        assert_eq!(
            parse_ref("tutorial--738--"),
            parsed(
                "tutorial",
                None,
                vec![],
                vec![PayloadProblem::EmptyValue { position: 2 }]
            )
        );
        assert_eq!(
            parse_ref("tutorial--v0--738----514--v2"),
            parsed(
                "tutorial",
                Some("v0"),
                vec![pair(514, "v2")],
                vec![PayloadProblem::EmptyValue { position: 3 }]
            )
        );
    }

    #[test]
    fn a_value_decoding_to_nul_is_skipped_and_a_name_kept_as_received() {
        assert_eq!(
            parse_ref("menu--pi%00zza--738--Berlin--514--%00"),
            parsed(
                "menu",
                None,
                vec![pair(738, "Berlin")],
                vec![
                    PayloadProblem::NulInValue { position: 1 },
                    PayloadProblem::NulInValue { position: 5 }
                ]
            )
        );
        assert_eq!(parse_ref("me%00nu--x").ref_name, "me%00nu");
        assert!(
            PayloadProblem::NulInValue { position: 2 }
                .describe()
                .contains("U+0000")
        );
    }

    #[test]
    fn hyphen_runs_split_from_the_left() {
        assert_eq!(parse_ref("a---b"), parsed("a", Some("-b"), vec![], vec![]));
        assert_eq!(
            parse_ref("a----b"),
            parsed(
                "a",
                None,
                vec![],
                vec![PayloadProblem::NotAFieldNumber {
                    segment: String::new()
                }]
            )
        );
        assert_eq!(
            parse_ref("a-----b"),
            parsed(
                "a",
                None,
                vec![],
                vec![PayloadProblem::NotAFieldNumber {
                    segment: String::new()
                }]
            )
        );
        assert_eq!(
            parse_ref("tutorial---7--v"),
            parsed(
                "tutorial",
                None,
                vec![],
                vec![PayloadProblem::NotAFieldNumber {
                    segment: "-7".to_owned()
                }]
            )
        );
        assert_eq!(parse_ref("a-–b"), parsed("a-", Some("b"), vec![], vec![]));
        assert_eq!(parse_ref("a–-b"), parsed("a", Some("-b"), vec![], vec![]));
        assert_eq!(parse_ref("a-"), parsed("a-", None, vec![], vec![]));
    }

    #[test]
    fn field_numbers_are_plain_digits_within_u32() {
        assert_eq!(parse_ref("t--0738--v").pairs, vec![pair(738, "v")]);
        assert_eq!(parse_ref("t--0--v").pairs, vec![pair(0, "v")]);
        assert_eq!(
            parse_ref("t--4294967295--v").pairs,
            vec![pair(u32::MAX, "v")]
        );
        assert_eq!(
            parse_ref("t--000000000000000000000000000000000007--v").pairs,
            vec![pair(7, "v")]
        );
        for bad in [
            "+7",
            "-7",
            "4294967296",
            "99999999999999999999999999999999999",
            "abc",
            "7a",
            " 7",
            "٣",
            "7.0",
        ] {
            let received = format!("t--{bad}--v--5--w");
            assert_eq!(
                parse_ref(&received),
                parsed(
                    "t",
                    None,
                    vec![pair(5, "w")],
                    vec![PayloadProblem::NotAFieldNumber {
                        segment: bad.to_owned()
                    }]
                ),
                "{received}"
            );
        }
    }

    #[test]
    fn a_repeated_field_keeps_its_first_value() {
        assert_eq!(
            parse_ref("t--7--a--8--b--07--c"),
            parsed(
                "t",
                None,
                vec![pair(7, "a"), pair(8, "b")],
                vec![PayloadProblem::DuplicateField {
                    field_number: 7,
                    position: 5
                }]
            )
        );
    }

    #[test]
    fn problems_describe_themselves() {
        let cases = [
            (PayloadProblem::EmptyRefName, "ref name is empty"),
            (
                PayloadProblem::NotAFieldNumber {
                    segment: "v0".to_owned(),
                },
                "\"v0\" is not a field number",
            ),
            (
                PayloadProblem::NotAFieldNumber {
                    segment: String::new(),
                },
                "field number is missing",
            ),
            (PayloadProblem::EmptyValue { position: 3 }, "part 3"),
            (
                PayloadProblem::DuplicateField {
                    field_number: 7,
                    position: 5,
                },
                "field 7 is given again in part 5",
            ),
        ];
        for (problem, expected) in cases {
            assert!(problem.describe().contains(expected), "{problem:?}");
            assert_eq!(problem.to_string(), problem.describe());
        }
    }

    #[test]
    fn renders_the_design_examples() {
        let tutorial = name("tutorial");
        assert_eq!(render_ref(&tutorial, None, &[]).unwrap(), "tutorial");
        assert_eq!(
            render_ref(&tutorial, Some("456"), &[]).unwrap(),
            "tutorial--456"
        );
        assert_eq!(
            render_ref(&tutorial, None, &[pair(738, "v1")]).unwrap(),
            "tutorial--738--v1"
        );
        assert_eq!(
            render_ref(&tutorial, Some("v0"), &[pair(738, "v1"), pair(514, "v2")]).unwrap(),
            "tutorial--v0--738--v1--514--v2"
        );
    }

    #[test]
    fn rendering_names_the_bad_part() {
        let tutorial = name("tutorial");
        let error = render_ref(&tutorial, Some(""), &[]).unwrap_err();
        assert_eq!(error.index, None);
        assert_eq!(error.message, "must not be empty");
        assert_eq!(error.to_string(), "default value: must not be empty");

        let error = render_ref(&tutorial, Some("ok"), &[pair(1, "a"), pair(2, "3.5")]).unwrap_err();
        assert_eq!(error.index, Some(1));
        assert!(error.message.starts_with(REF_CHARS_RULE));
        assert!(error.to_string().starts_with("pairs[1]: "));

        let error = render_ref(&tutorial, None, &[pair(1, "-a")]).unwrap_err();
        assert_eq!(
            (error.index, error.message.as_str()),
            (Some(0), EDGE_HYPHEN_RULE)
        );
        let error = render_ref(&tutorial, None, &[pair(1, "a--b")]).unwrap_err();
        assert_eq!(
            (error.index, error.message.as_str()),
            (Some(0), DOUBLE_HYPHEN_RULE)
        );

        let error =
            render_ref(&tutorial, None, &[pair(7, "a"), pair(8, "b"), pair(7, "c")]).unwrap_err();
        assert_eq!(error.index, Some(2));
        assert_eq!(error.message, "repeats field number 7");
    }

    #[test]
    fn rendering_keeps_within_metas_length_limit() {
        let tutorial = name("tutorial");
        // 8 + 2 + 2073 = 2083 characters: exactly at the limit.
        let fits = "a".repeat(MAX_ENCODED_REF_CHARS - 10);
        assert_eq!(
            render_ref(&tutorial, Some(&fits), &[]).map(|r| r.len()),
            Ok(MAX_ENCODED_REF_CHARS)
        );
        let error = render_ref(&tutorial, Some(&format!("{fits}a")), &[]).unwrap_err();
        assert_eq!(error.index, None);
        assert!(error.message.contains("2083"));
        // '=' is percent-encoded, so it counts three times.
        let equals = "=".repeat(700);
        let error = render_ref(&tutorial, None, &[pair(1, &equals)]).unwrap_err();
        assert_eq!(error.index, Some(0));
        let many: Vec<PayloadPair> = (0..400).map(|n| pair(n, "value")).collect();
        let error = render_ref(&tutorial, None, &many).unwrap_err();
        assert!(error.index.is_some_and(|i| i > 100), "{error:?}");
    }

    /// Text that passes the ref rules: no "--", no hyphen at either end.
    fn ref_text(max_links: usize) -> impl Strategy<Value = String> {
        let word = "[A-Za-z0-9_=]{1,6}";
        (
            word,
            prop::collection::vec((prop::bool::ANY, word), 0..max_links),
        )
            .prop_map(|(first, rest)| {
                let mut text = first;
                for (hyphen, part) in rest {
                    if hyphen {
                        text.push('-');
                    }
                    text.push_str(&part);
                }
                text
            })
    }

    fn unique_pairs() -> impl Strategy<Value = Vec<PayloadPair>> {
        let field_number = prop_oneof![0u32..1000, any::<u32>()];
        prop::collection::vec((field_number, ref_text(4)), 0..8).prop_map(|raw| {
            let mut pairs: Vec<PayloadPair> = Vec::new();
            for (field_number, value) in raw {
                if pairs.iter().all(|p| p.field_number != field_number) {
                    pairs.push(PayloadPair {
                        field_number,
                        value,
                    });
                }
            }
            pairs
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn rendered_refs_parse_back_exactly(
            raw_name in ref_text(12),
            default_value in prop::option::of(ref_text(4)),
            pairs in unique_pairs(),
        ) {
            let ref_name = RefName::parse(&raw_name).unwrap();
            prop_assert_eq!(ref_name.as_str(), raw_name.as_str());
            let rendered = render_ref(&ref_name, default_value.as_deref(), &pairs).unwrap();
            prop_assert_eq!(
                parse_ref(&rendered),
                ParsedRef { ref_name: raw_name, default_value, pairs, problems: vec![] }
            );
        }

        #[test]
        fn en_dashes_parse_like_double_hyphens(
            raw_name in ref_text(6),
            default_value in prop::option::of(ref_text(3)),
            pairs in unique_pairs(),
            dashes in prop::collection::vec(prop::bool::ANY, 20),
        ) {
            let ref_name = RefName::parse(&raw_name).unwrap();
            let rendered = render_ref(&ref_name, default_value.as_deref(), &pairs).unwrap();
            let mut en_dash = dashes.iter().cycle();
            let mut pasted = String::new();
            for (i, part) in rendered.split(SEPARATOR).enumerate() {
                if i > 0 {
                    let en = en_dash.next().copied().unwrap_or(false);
                    pasted.push_str(if en { "–" } else { SEPARATOR });
                }
                pasted.push_str(part);
            }
            prop_assert_eq!(parse_ref(&pasted), parse_ref(&rendered));
        }

        #[test]
        fn parse_ref_never_panics_and_its_parts_hold_no_separator(
            received in prop_oneof![any::<String>(), "[-–a0 =_\u{2014}é]{0,40}", "[-–0-9]{0,30}"]
        ) {
            let parsed = parse_ref(&received);
            let parts = std::iter::once(&parsed.ref_name)
                .chain(parsed.default_value.iter())
                .chain(parsed.pairs.iter().map(|p| &p.value));
            for part in parts {
                prop_assert!(
                    !part.contains(SEPARATOR) && !part.contains(EN_DASH_SEPARATOR),
                    "{:?}",
                    part
                );
            }
            for (i, p) in parsed.pairs.iter().enumerate() {
                prop_assert!(!p.value.is_empty());
                prop_assert!(parsed.pairs[..i].iter().all(|q| q.field_number != p.field_number));
            }
            prop_assert_eq!(
                parsed.ref_name.is_empty(),
                parsed.problems.first() == Some(&PayloadProblem::EmptyRefName)
            );
            for problem in &parsed.problems {
                prop_assert!(!problem.describe().is_empty());
            }
        }

        #[test]
        fn render_rejects_exactly_the_values_the_check_rejects(
            value in "[-a-z0-9=. –]{0,6}",
            as_default in prop::bool::ANY,
        ) {
            let ref_name = RefName::parse("tutorial").unwrap();
            let result = if as_default {
                render_ref(&ref_name, Some(&value), &[])
            } else {
                render_ref(&ref_name, None, &[pair(1, &value)])
            };
            match check_payload_value(&value) {
                Ok(()) => prop_assert!(result.is_ok()),
                Err(error) => {
                    let expected_index = if as_default { None } else { Some(0) };
                    let expected = RenderError { index: expected_index, message: error.message };
                    prop_assert_eq!(result, Err(expected));
                }
            }
        }
    }
}
