//! What the inbox accepts. Every item of a signed delivery is stored, but one that no page or
//! person could have sent, or that the store could not give back, is stored as a rejection:
//! acknowledged (Meta would otherwise send it again for days), shown to the tenant with its
//! reason, never processed. Its item is kept in a form every store holds and reads back.
//!
//! - Page-scoped ids (PSIDs) and page ids are numeric ids: Meta's Graph API documents both as
//!   numeric strings (a PSID is the `id` of a `User` node, a page's the `id` of a `Page`; they
//!   are 64-bit numbers, 15 to 17 digits in practice). More than [`MAX_ID_DIGITS`] digits, or
//!   anything but digits, is no id Meta assigned.
//! - A checkbox plugin's `user_ref` is chosen by the website that renders the plugin; Meta
//!   documents no length, so it is held to [`MAX_USER_REF_CHARS`] characters without control
//!   characters (what the plugin's examples pass is a short random string).
//! - Numbers: PostgreSQL's `jsonb` keeps a number exactly as written and prints it without an
//!   exponent, so `1.7976931348623157e308` comes back as 309 digits that serde_json refuses
//!   ("number out of range"). A number is accepted only if that printed form reads back.
//! - U+0000 is replaced by U+FFFD where the envelope reads the item (texts keep their place);
//!   an id holding it is no id, and is rejected by the rules above.

use serde_json::{Number, Value};

use crate::webhooks::envelope::{EnvelopeEvent, Sender, fingerprint};

/// The most digits of a page-scoped id or a page id (Meta's are at most 17 today).
pub const MAX_ID_DIGITS: usize = 32;

/// The most characters of a plugin user's `user_ref`.
pub const MAX_USER_REF_CHARS: usize = 256;

/// The event as read, or its rejection: the reason, the item with what the store cannot read
/// back written as text, no sender or page that is not one, and a key of its own (a
/// redelivery of it is still one event).
pub(crate) fn admit(mut event: EnvelopeEvent) -> EnvelopeEvent {
    let sender_ok = event.sender.as_ref().is_none_or(|sender| match sender {
        Sender::Psid(id) => is_numeric_id(id),
        Sender::UserRef(user_ref) => is_user_ref(user_ref),
    });
    let page_ok = event.page_id.as_deref().is_none_or(is_numeric_id);
    let reason = if !sender_ok {
        Some(match event.sender {
            Some(Sender::UserRef(_)) => format!(
                "the sender's user_ref is not a plugin user's reference (1 to \
                 {MAX_USER_REF_CHARS} characters, no control characters)"
            ),
            _ => format!(
                "the sender's id is not a page-scoped id (ASCII digits, at most {MAX_ID_DIGITS})"
            ),
        })
    } else if !page_ok {
        Some(format!(
            "the page's id (recipient.id, or the entry's id) is not a page id (ASCII digits, \
             at most {MAX_ID_DIGITS})"
        ))
    } else {
        unreadable_number(&event.item).map(|number| {
            format!(
                "the item holds a number that cannot be read back once stored ({}); no page \
                 sends one",
                excerpt(&number)
            )
        })
    };
    let Some(reason) = reason else {
        return event;
    };
    if !sender_ok {
        event.sender = None;
    }
    if !page_ok {
        event.page_id = None;
    }
    event.item = with_unreadable_numbers_as_text(event.item);
    event.dedup_key = format!("rejected|{}", fingerprint(&event.item));
    event.rejection = Some(reason);
    event
}

/// A number's text, cut short: a rejection reason quotes it.
fn excerpt(number: &str) -> String {
    const QUOTED: usize = 40;
    match number.char_indices().nth(QUOTED) {
        Some((at, _)) => format!("{}…", &number[..at]),
        None => number.to_owned(),
    }
}

/// Whether `id` can be a page-scoped id or a page id: ASCII digits, at most [`MAX_ID_DIGITS`].
pub fn is_numeric_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ID_DIGITS && id.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `user_ref` can be a plugin user's reference.
pub fn is_user_ref(user_ref: &str) -> bool {
    !user_ref.is_empty()
        && user_ref.chars().count() <= MAX_USER_REF_CHARS
        && !user_ref.chars().any(char::is_control)
}

/// The key of the object a number too large for a float is read as (see the envelope), with the
/// number's text as its value.
pub(crate) const UNREADABLE_NUMBER: &str = "$unreadableNumber";

/// The text of a number the envelope could not read at all, if `map` stands for one.
fn marked_number(map: &serde_json::Map<String, Value>) -> Option<String> {
    match (map.len(), map.get(UNREADABLE_NUMBER)) {
        (1, Some(Value::String(text))) => Some(text.clone()),
        _ => None,
    }
}

/// The first number of `item` that would not read back once stored, as written.
pub fn unreadable_number(item: &Value) -> Option<String> {
    match item {
        Value::Number(n) if !reads_back(n) => Some(n.to_string()),
        Value::Array(items) => items.iter().find_map(unreadable_number),
        Value::Object(map) => {
            marked_number(map).or_else(|| map.values().find_map(unreadable_number))
        }
        _ => None,
    }
}

/// `item` with every number that would not read back replaced by its text, so that a
/// rejected item can be stored and shown.
pub fn with_unreadable_numbers_as_text(item: Value) -> Value {
    match item {
        Value::Number(n) if !reads_back(&n) => Value::String(n.to_string()),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(with_unreadable_numbers_as_text)
                .collect(),
        ),
        Value::Object(map) => match marked_number(&map) {
            Some(text) => Value::String(text),
            None => Value::Object(
                map.into_iter()
                    .map(|(key, value)| (key, with_unreadable_numbers_as_text(value)))
                    .collect(),
            ),
        },
        other => other,
    }
}

/// Whether a number, written as serde_json writes it and printed back the way PostgreSQL
/// prints a `jsonb` number (plain decimal digits), reads back. Whole numbers within 64 bits
/// always do; only floats are printed.
fn reads_back(number: &Number) -> bool {
    if !number.is_f64() {
        return true;
    }
    let Some(plain) = plain_decimal(&number.to_string()) else {
        return false;
    };
    serde_json::from_str::<Number>(&plain).is_ok()
}

/// `1.5e3` as `1500`, `2.5e-3` as `0.0025`: a number without its exponent, as PostgreSQL's
/// `numeric` prints one; `None` for text that is not a number.
fn plain_decimal(written: &str) -> Option<String> {
    let (sign, unsigned) = match written.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", written),
    };
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, exponent.parse::<i64>().ok()?),
        None => (unsigned, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if whole.is_empty()
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let digits = format!("{whole}{fraction}");
    // Where the decimal point falls in `digits`, counted from their start.
    let point = i64::try_from(whole.len()).ok()?.checked_add(exponent)?;
    // An f64 has at most 309 whole digits and 1074 fraction digits: anything far beyond is
    // not a number serde_json wrote.
    if !(-1100..=1100).contains(&point) {
        return None;
    }
    let len = digits.len() as i64;
    let (whole, fraction) = if point <= 0 {
        (
            "0".to_owned(),
            format!("{}{digits}", "0".repeat((-point) as usize)),
        )
    } else if point >= len {
        (
            format!("{digits}{}", "0".repeat((point - len) as usize)),
            String::new(),
        )
    } else {
        let (w, f) = digits.split_at(point as usize);
        (w.to_owned(), f.to_owned())
    };
    let whole = whole.trim_start_matches('0');
    let whole = if whole.is_empty() { "0" } else { whole };
    let fraction = fraction.trim_end_matches('0');
    Some(if fraction.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(sender: Option<Sender>, page_id: Option<&str>, item: Value) -> EnvelopeEvent {
        EnvelopeEvent {
            page_id: page_id.map(str::to_owned),
            sender,
            kind: "message".to_owned(),
            occurred_at: chrono::Utc::now(),
            dedup_key: "mid:m1:message".to_owned(),
            item,
            rejection: None,
        }
    }

    #[test]
    fn sane_events_are_admitted_unchanged() {
        let sane = event(
            Some(Sender::Psid("1000001".into())),
            Some("104"),
            json!({"message": {"mid": "m1", "text": "hi", "n": 1.5}}),
        );
        assert_eq!(admit(sane.clone()), sane);
        let plugin = event(Some(Sender::UserRef("u-9".into())), None, json!({}));
        assert_eq!(admit(plugin.clone()), plugin);
    }

    #[test]
    fn what_no_page_sends_is_rejected_and_kept_storable() {
        let long = admit(event(
            Some(Sender::Psid("7".repeat(100_000))),
            Some("104"),
            json!({"sender": {"id": "7".repeat(100_000)}}),
        ));
        assert!(long.rejection.unwrap().contains("sender's id"));
        assert_eq!(long.sender, None);
        assert_eq!(long.page_id.as_deref(), Some("104"));
        assert!(long.dedup_key.starts_with("rejected|"));

        let page = admit(event(None, Some("page\u{0}1"), json!({})));
        assert!(page.rejection.unwrap().contains("page's id"));
        assert_eq!(page.page_id, None);

        let user_ref = admit(event(
            Some(Sender::UserRef("x".repeat(300))),
            None,
            json!({}),
        ));
        assert!(user_ref.rejection.unwrap().contains("user_ref"));

        let number = admit(event(
            Some(Sender::Psid("1000001".into())),
            Some("104"),
            json!({"message": {"mid": "m1", "n": 1.7976931348623157e308}}),
        ));
        // Written as serde_json writes it.
        assert!(
            number
                .rejection
                .unwrap()
                .contains("1.7976931348623157e+308")
        );
        assert_eq!(number.item["message"]["n"], "1.7976931348623157e+308");
        assert_eq!(number.sender, Some(Sender::Psid("1000001".into())));
    }

    #[test]
    fn ids_are_digits_of_a_sane_length() {
        assert!(is_numeric_id("1"));
        assert!(is_numeric_id("104857600000001"));
        assert!(is_numeric_id(&"9".repeat(MAX_ID_DIGITS)));
        assert!(!is_numeric_id(&"9".repeat(MAX_ID_DIGITS + 1)));
        assert!(!is_numeric_id(&"7".repeat(100_000)));
        assert!(!is_numeric_id(""));
        assert!(!is_numeric_id("1000\u{0}002"));
        assert!(!is_numeric_id("12a"));
        assert!(!is_numeric_id("-12"));
        assert!(!is_numeric_id("١٢٣"), "only ASCII digits");
    }

    #[test]
    fn user_refs_are_bounded_printable_text() {
        assert!(is_user_ref("plugin-user-42"));
        assert!(is_user_ref(&"é".repeat(MAX_USER_REF_CHARS)));
        assert!(!is_user_ref(&"é".repeat(MAX_USER_REF_CHARS + 1)));
        assert!(!is_user_ref(""));
        assert!(!is_user_ref("a\u{0}b"));
        assert!(!is_user_ref("a\nb"));
    }

    #[test]
    fn numbers_are_printed_as_postgresql_prints_them() {
        assert_eq!(plain_decimal("1.5e3").as_deref(), Some("1500"));
        assert_eq!(plain_decimal("2.5e-3").as_deref(), Some("0.0025"));
        assert_eq!(plain_decimal("-12.50").as_deref(), Some("-12.5"));
        assert_eq!(plain_decimal("0.1").as_deref(), Some("0.1"));
        assert_eq!(
            plain_decimal("1e20").as_deref(),
            Some("100000000000000000000")
        );
        assert_eq!(plain_decimal("1.7976931348623157e308").unwrap().len(), 309);
        assert_eq!(plain_decimal("1e+2").as_deref(), Some("100"));
        assert_eq!(plain_decimal("nope"), None);
    }

    #[test]
    fn numbers_that_do_not_read_back_are_found_and_kept_as_text() {
        let item = json!({"message": {"text": "hi", "n": 1.7976931348623157e308, "ok": [1, 2.5, -7, 1e300, 5e-324, u64::MAX]}});
        assert_eq!(
            unreadable_number(&item).as_deref(),
            Some("1.7976931348623157e+308")
        );
        let kept = with_unreadable_numbers_as_text(item);
        assert_eq!(kept["message"]["n"], "1.7976931348623157e+308");
        assert_eq!(kept["message"]["ok"][1], 2.5);
        assert_eq!(unreadable_number(&kept), None);
        assert_eq!(
            unreadable_number(&json!({"lat": 52.5200066, "long": 13.404954})),
            None
        );
    }
}
