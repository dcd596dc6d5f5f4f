//! Splitting a webhook body into its events, tolerantly, the way Meta's payloads require:
//! every entry and every item of `messaging` and `standby` (not just the first); timestamps as
//! numbers or strings, in milliseconds or seconds; senders by `id` or `user_ref`. This runs on
//! the request path, so it does only what storing needs: the rest waits for the workers.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{DomainError, DomainResult};
use crate::webhooks::admission::{UNREADABLE_NUMBER, admit};

/// Who sent an event: a page-scoped id, or a plugin user's reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Sender {
    /// A page-scoped user id.
    Psid(String),
    /// A checkbox or customer-chat plugin user, before they have a PSID.
    UserRef(String),
}

impl Sender {
    /// A stable text form: `psid:<id>` or `user_ref:<ref>`.
    pub fn key(&self) -> String {
        match self {
            Sender::Psid(id) => format!("psid:{id}"),
            Sender::UserRef(r) => format!("user_ref:{r}"),
        }
    }

    /// The digest of [`Sender::key`] that dedup keys hold in its place.
    pub fn keyed(&self) -> String {
        format!("sender#{}", fingerprint(&Value::String(self.key())))
    }

    /// Reads a stored key back.
    pub fn from_key(key: &str) -> Option<Self> {
        if let Some(id) = key.strip_prefix("psid:") {
            return Some(Sender::Psid(id.to_owned()));
        }
        key.strip_prefix("user_ref:")
            .map(|r| Sender::UserRef(r.to_owned()))
    }
}

/// One messaging item of a webhook body, ready to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvelopeEvent {
    /// The page the event is for (`recipient.id`, else the entry's `id`).
    pub page_id: Option<String>,
    /// Who sent it.
    pub sender: Option<Sender>,
    /// What kind of item it is (`message`, `postback`, `referral`, `optin`, …, or `unknown`).
    pub kind: String,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// What makes a redelivery recognisable: a message's or postback's id, else the sender,
    /// kind, timestamp, page and a digest of what the item says.
    pub dedup_key: String,
    /// The item itself, as Meta sent it, with `standby: true` added for standby items.
    pub item: Value,
    /// Why the inbox refuses to process it, when it does (see [`super::admission`]); it is
    /// stored all the same, to be seen.
    pub rejection: Option<String>,
}

/// The keys of a messaging item that name its kind, in the order they are looked for.
const KINDS: [&str; 16] = [
    "message",
    "postback",
    "referral",
    "optin",
    "read",
    "delivery",
    "reaction",
    "message_edit",
    "account_linking",
    "pass_thread_control",
    "take_thread_control",
    "request_thread_control",
    "app_roles",
    "message_request",
    "response_feedback",
    "policy_enforcement",
];

/// Splits a webhook body into events. Fails only when the body is not a JSON object; anything
/// unexpected inside becomes an event of kind `unknown` rather than being dropped: an item of
/// a kind we do not know, an entry with no items (a feed change, say), a body with no `entry`.
pub fn split_envelope(body: &[u8], received_at: DateTime<Utc>) -> DomainResult<Vec<EnvelopeEvent>> {
    // RFC 8259 lets a parser ignore a byte order mark; refusing it would lose the delivery.
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let root: Value = match serde_json::from_slice(body) {
        Ok(root) => root,
        // Only a body that does not parse is read again, its lone surrogates mended once for
        // both second reads.
        Err(_) => {
            let mended = without_lone_surrogates(body);
            let text = mended.as_deref().unwrap_or(body);
            mended
                .as_deref()
                .and_then(|mended| serde_json::from_slice(mended).ok())
                .or_else(|| serde_json::from_slice(&with_huge_numbers_marked(text)?).ok())
                .ok_or_else(|| DomainError::validation("body", "is not JSON"))?
        }
    };
    let Some(fields) = root.as_object() else {
        return Err(DomainError::validation("body", "is not a JSON object"));
    };
    // Messenger's deliveries are about `page`s. Another product's (Instagram's, say) sent to
    // this URL is kept with its object named, so that it is not taken for a page's.
    let object = fields
        .get("object")
        .filter(|object| object.as_str() != Some("page") && !object.is_null());
    let mut events = Vec::new();
    let entries = listed(fields.get("entry"));
    // An empty list of entries says nothing; a body with none at all is kept to be looked at.
    if entries.is_empty() && !fields.get("entry").is_some_and(Value::is_array) {
        events.push(unread(&root, None, received_at));
    }
    for entry in entries {
        let entry_page = entry.get("id").and_then(id_text);
        let entry_time = entry.get("time").and_then(timestamp);
        let read_before = events.len();
        for (item, standby) in entry_items(entry) {
            let mut event = read_item(
                item,
                standby,
                entry_page.as_deref(),
                entry_time,
                received_at,
            );
            if let (Some(object), Some(item)) = (object, event.item.as_object_mut()) {
                item.insert("object".to_owned(), object.clone());
            }
            events.push(event);
        }
        if events.len() == read_before {
            events.push(unread(entry, entry_page, received_at));
        }
    }
    Ok(events.into_iter().map(admit).collect())
}

/// An entry's messaging items, each with whether it came on the standby channel: those of
/// `messaging` and `standby`, and those written as `changes` (`{"field": "messaging_postbacks",
/// "value": {item}}`, the form the App Dashboard's test button sends and Meta's webhook reference
/// pages show), read alike so that a redelivery in either form is one event.
fn entry_items(entry: &Value) -> Vec<(&Value, bool)> {
    let listed_items = [("messaging", false), ("standby", true)]
        .into_iter()
        .flat_map(|(list, standby)| {
            listed(entry.get(list))
                .into_iter()
                .map(move |item| (item, standby))
        });
    let changed_items = listed(entry.get("changes"))
        .into_iter()
        .filter_map(|change| {
            // Only a messaging item: a page's other changes (`feed`, say) keep their entry whole.
            let item = change.get("value").filter(|value| {
                value.get("sender").is_some() || value.get("recipient").is_some()
            })?;
            let standby = change.get("field").and_then(Value::as_str) == Some("standby");
            Some((item, standby))
        });
    listed_items.chain(changed_items).collect()
}

/// The items of a list, where Meta's lists are arrays; a lone object is read as a list of one
/// rather than lost.
fn listed(value: Option<&Value>) -> Vec<&Value> {
    match value {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(item @ Value::Object(_)) => vec![item],
        _ => Vec::new(),
    }
}

/// A part of the body no item was read from, kept whole as an event of kind `unknown`.
fn unread(part: &Value, page_id: Option<String>, received_at: DateTime<Utc>) -> EnvelopeEvent {
    let stated_at = part.get("time").and_then(timestamp);
    EnvelopeEvent {
        page_id,
        sender: None,
        kind: "unknown".to_owned(),
        occurred_at: stated_at
            .filter(|at| plausible(*at, received_at))
            .unwrap_or(received_at),
        dedup_key: format!("unread|{}", fingerprint(part)),
        item: without_nul_characters(part.clone()),
        rejection: None,
    }
}

/// A short, stable digest of a JSON value. Objects are serialised with their keys sorted
/// (serde_json's map is ordered unless its `preserve_order` feature is on; a test guards
/// that), so the digest does not depend on the order Meta wrote the keys in.
pub(crate) fn fingerprint(value: &Value) -> String {
    // Serialised straight into the hash: this runs on the request path, once per item.
    let mut hasher = Sha256::new();
    serde_json::to_writer(&mut hasher, value).expect("a JSON value serialises into a hash");
    hex::encode(&hasher.finalize()[..12])
}

/// The key marking a stored item that arrived under `standby` (a copy for an app that does not
/// own the conversation).
const STANDBY_MARK: &str = "standby";

/// Whether a stored item arrived under `standby`.
pub(crate) fn is_standby(item: &Value) -> bool {
    item.get(STANDBY_MARK).and_then(Value::as_bool) == Some(true)
}

fn read_item(
    item: &Value,
    standby: bool,
    entry_page: Option<&str>,
    entry_time: Option<DateTime<Utc>>,
    received_at: DateTime<Utc>,
) -> EnvelopeEvent {
    // An echo is the page's own message: it is sent by the page, to the person.
    let echo = item
        .get("message")
        .and_then(|message| message.get("is_echo"))
        .and_then(Value::as_bool)
        == Some(true);
    let (person, page) = if echo {
        ("recipient", "sender")
    } else {
        ("sender", "recipient")
    };
    let sender = item.get(person).and_then(|sender| {
        sender
            .get("id")
            .and_then(id_text)
            .map(Sender::Psid)
            .or_else(|| {
                sender
                    .get("user_ref")
                    .and_then(id_text)
                    .map(Sender::UserRef)
            })
    });
    // The checkbox plugin's opt-in names no sender: the person is its `optin.user_ref`.
    let sender = sender.or_else(|| {
        item.get("optin")
            .and_then(|optin| optin.get("user_ref"))
            .and_then(id_text)
            .map(Sender::UserRef)
    });
    let page_id = item
        .get(page)
        .and_then(|r| r.get("id"))
        .and_then(id_text)
        .or_else(|| entry_page.map(str::to_owned));
    let kind = KINDS
        .iter()
        .find(|kind| item.get(**kind).is_some())
        .map_or("unknown", |kind| *kind)
        .to_owned();
    let stated_at = item.get("timestamp").and_then(timestamp);
    let occurred_at = stated_at
        .filter(|at| plausible(*at, received_at))
        .or(entry_time.filter(|at| plausible(*at, received_at)))
        .unwrap_or(received_at);
    // Redeliveries carry the same stated time, implausible or not; the receipt time differs.
    let keyed_at = stated_at.or(entry_time).unwrap_or(occurred_at);
    // A message's or a postback's mid names it. A reaction's or an edit's names the message
    // it is about, which many of them share, so those are keyed like items without one.
    let mid = ["message", "postback"]
        .contains(&kind.as_str())
        .then(|| item.get(kind.as_str())?.get("mid")?.as_str())
        .flatten()
        .filter(|mid| !mid.is_empty());
    // The same item under `messaging` and under `standby` (thread control changing hands
    // while Meta delivers) is one event: the channel is not part of the key.
    let dedup_key = match mid {
        // Meta's mids are short printable text; any other is keyed by its digest, so that the
        // key stays short (a unique index holds it) and holds no U+0000.
        Some(mid) if mid.len() > MAX_KEYED_MID_BYTES || mid.chars().any(char::is_control) => {
            format!("mid#{}:{kind}", fingerprint(&Value::String(mid.to_owned())))
        }
        Some(mid) => format!("mid:{mid}:{kind}"),
        // Two different items can share a sender, a kind and a time (timestamps in seconds
        // make that likely): what the item says tells them apart. Only its kind's body is
        // digested, so a redelivery that writes the timestamp differently is still the same.
        // The sender goes in as a digest: a key outlives an erasure of the person (it keeps
        // recognising redeliveries), so it must not name them.
        None => format!(
            "{}|{kind}|{}|{}|{}",
            sender.as_ref().map(Sender::keyed).unwrap_or_default(),
            keyed_at.timestamp_millis(),
            page_id.as_deref().unwrap_or_default(),
            fingerprint(item.get(kind.as_str()).unwrap_or(item)),
        ),
    };
    let mut item = without_nul_characters(item.clone());
    if standby && let Some(object) = item.as_object_mut() {
        object.insert(STANDBY_MARK.to_owned(), Value::Bool(true));
    }
    EnvelopeEvent {
        page_id,
        sender,
        kind,
        occurred_at,
        dedup_key,
        item,
        rejection: None,
    }
}

/// The longest mid kept as it is in a dedup key (Meta's are about 100 characters).
const MAX_KEYED_MID_BYTES: usize = 512;

/// The JSON text with every unpaired UTF-16 surrogate escape (a lone `\ud83d`, say, from a
/// text cut in the middle of an emoji) replaced by `\ufffd`, or `None` when it has none. Such
/// an escape is valid JSON syntax but no Unicode text, so the parser refuses the whole body,
/// and with it every other event of the delivery, which Meta would send again unchanged.
fn without_lone_surrogates(body: &[u8]) -> Option<Vec<u8>> {
    let unit_at = |at: usize| -> Option<u32> {
        let digits = body.get(at..at + 6)?;
        if !digits.starts_with(b"\\u") {
            return None;
        }
        u32::from_str_radix(std::str::from_utf8(&digits[2..]).ok()?, 16).ok()
    };
    let (high, low) = (0xD800..0xDC00, 0xDC00..0xE000);
    let mut fixed = Vec::with_capacity(body.len());
    let (mut changed, mut in_string, mut i) = (false, false, 0);
    while i < body.len() {
        let byte = body[i];
        if !in_string || byte != b'\\' {
            in_string ^= byte == b'"';
            fixed.push(byte);
            i += 1;
            continue;
        }
        match unit_at(i) {
            Some(unit)
                if high.contains(&unit) && unit_at(i + 6).is_some_and(|u| low.contains(&u)) =>
            {
                fixed.extend_from_slice(&body[i..i + 12]);
                i += 12;
            }
            Some(unit) if high.contains(&unit) || low.contains(&unit) => {
                fixed.extend_from_slice(b"\\ufffd");
                changed = true;
                i += 6;
            }
            // Any other escape: the backslash and the character it escapes.
            _ => {
                fixed.extend_from_slice(&body[i..(i + 2).min(body.len())]);
                i += 2;
            }
        }
    }
    changed.then_some(fixed)
}

/// The JSON text with every number too large for a float (`1e400`: valid JSON, which the
/// parser refuses, and with it the delivery's other events) written as an
/// `{"$unreadableNumber": "1e400"}` object, which the inbox rejects as it rejects a number it
/// cannot read back; `None` when there is no such number.
fn with_huge_numbers_marked(body: &[u8]) -> Option<Vec<u8>> {
    let mut marked = Vec::with_capacity(body.len() + 32);
    let (mut changed, mut in_string, mut i) = (false, false, 0);
    while i < body.len() {
        let byte = body[i];
        if in_string {
            // A backslash and the character it escapes; a quote ends the string.
            let step = if byte == b'\\' { 2 } else { 1 };
            in_string = byte != b'"';
            marked.extend_from_slice(&body[i..(i + step).min(body.len())]);
            i += step;
            continue;
        }
        if byte == b'-' || byte.is_ascii_digit() {
            let end = body[i..]
                .iter()
                .position(|b| !matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                .map_or(body.len(), |length| i + length);
            let token = &body[i..end];
            let finite = std::str::from_utf8(token)
                .ok()
                .and_then(|text| text.parse::<f64>().ok())
                .is_some_and(f64::is_finite);
            if finite {
                marked.extend_from_slice(token);
            } else {
                changed = true;
                marked.extend_from_slice(b"{\"");
                marked.extend_from_slice(UNREADABLE_NUMBER.as_bytes());
                marked.extend_from_slice(b"\":\"");
                marked.extend_from_slice(token);
                marked.extend_from_slice(b"\"}");
            }
            i = end;
            continue;
        }
        in_string = byte == b'"';
        marked.push(byte);
        i += 1;
    }
    changed.then_some(marked)
}

/// U+0000 is valid JSON but cannot be stored by PostgreSQL's `jsonb` (nor shown safely): it is
/// replaced by U+FFFD wherever it appears, so that such a delivery is stored like any other.
fn without_nul_characters(value: Value) -> Value {
    match value {
        Value::String(s) if s.contains('\0') => Value::String(s.replace('\0', "\u{FFFD}")),
        Value::Array(items) => {
            Value::Array(items.into_iter().map(without_nul_characters).collect())
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| (key.replace('\0', "\u{FFFD}"), without_nul_characters(value)))
                .collect(),
        ),
        other => other,
    }
}

/// Ids arrive as strings, and sometimes as numbers.
fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Events are applied in event time, and the latest one stays "the last interaction": a time
/// far in the future (a timestamp in microseconds read as milliseconds is year 57859) would
/// hold a subscriber's state and messaging window for ever. Meta's clock and ours may differ a
/// little; a day is far more than that.
const FUTURE_TOLERANCE_HOURS: i64 = 24;

/// Messenger's platform is younger than this; earlier is a zero, a sign or a unit gone wrong.
const EARLIEST_EVENT_MILLIS: i64 = 1_072_915_200_000; // 2004-01-01

/// Whether an event time can be trusted; otherwise the entry's time or the receipt time stands in.
fn plausible(at: DateTime<Utc>, received_at: DateTime<Utc>) -> bool {
    at.timestamp_millis() >= EARLIEST_EVENT_MILLIS
        && at <= received_at + TimeDelta::hours(FUTURE_TOLERANCE_HOURS)
}

/// Below this a timestamp is taken to be in seconds (10^11 ms is 1973; 10^11 s is year 5138).
const SECONDS_THRESHOLD: i64 = 100_000_000_000;

/// A timestamp as a number or a string, in milliseconds or seconds, whole or with a fraction
/// (`1763700000.5` is half a second past; a fraction of a millisecond is dropped).
pub fn timestamp(value: &Value) -> Option<DateTime<Utc>> {
    let millis = match value {
        Value::Number(n) => match n.as_i64() {
            Some(whole) => whole_millis(whole),
            None => fractional_millis(n.as_f64()?),
        },
        Value::String(s) => {
            let s = s.trim();
            match s.parse::<i64>() {
                Ok(whole) => whole_millis(whole),
                Err(_) => s
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .and_then(fractional_millis)
                    .or_else(|| {
                        DateTime::parse_from_rfc3339(s)
                            .ok()
                            .map(|t| t.timestamp_millis())
                    }),
            }
        }
        _ => None,
    }?;
    Utc.timestamp_millis_opt(millis).single()
}

fn whole_millis(number: i64) -> Option<i64> {
    if number.abs() < SECONDS_THRESHOLD {
        number.checked_mul(1000)
    } else {
        Some(number)
    }
}

fn fractional_millis(number: f64) -> Option<i64> {
    let millis = if number.abs() < SECONDS_THRESHOLD as f64 {
        number * 1000.0
    } else {
        number
    };
    // Beyond i64 (and NaN) is no time; `as` would saturate it into one.
    (millis.is_finite() && millis.abs() < i64::MAX as f64).then(|| millis.floor() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.timestamp_millis_opt(1_763_700_000_000).unwrap()
    }

    #[test]
    fn every_entry_and_item_is_read() {
        let body = br#"{"object":"page","entry":[
            {"id":"1","time":1763700007000,"messaging":[
                {"sender":{"id":"5"},"recipient":{"id":"1"},"timestamp":1763700007000,"referral":{"ref":"youtube"}},
                {"sender":{"id":"5"},"recipient":{"id":"1"},"timestamp":1763700007100,"message":{"mid":"m_1","text":"hi"}}]},
            {"id":"1","time":1763700007200,"standby":[
                {"sender":{"id":"6"},"recipient":{"id":"1"},"timestamp":"1763700007","postback":{"payload":"MENU"}}]}]}"#;
        let events = split_envelope(body, now()).unwrap();
        assert_eq!(events.len(), 3);
        assert_eq!(events[0].kind, "referral");
        assert_eq!(events[1].dedup_key, "mid:m_1:message");
        assert_eq!(events[2].kind, "postback");
        assert_eq!(events[2].occurred_at.timestamp(), 1_763_700_007);
        assert_eq!(events[2].item["standby"], Value::Bool(true));
        assert_eq!(events[2].sender, Some(Sender::Psid("6".into())));
    }

    #[test]
    fn one_item_under_messaging_and_under_standby_is_one_event() {
        let item = r#"{"sender":{"id":"5"},"recipient":{"id":"1"},"timestamp":1763700000000,"postback":{"mid":"m_p","payload":"GO"}}"#;
        let body = format!(r#"{{"entry":[{{"id":"1","messaging":[{item}],"standby":[{item}]}}]}}"#);
        let events = split_envelope(body.as_bytes(), now()).unwrap();
        assert_eq!(events[0].dedup_key, events[1].dedup_key);
        let referral = r#"{"sender":{"id":"5"},"recipient":{"id":"1"},"timestamp":1763700000000,"referral":{"ref":"a"}}"#;
        let body = format!(
            r#"{{"entry":[{{"id":"1","messaging":[{referral}],"standby":[{referral}]}}]}}"#
        );
        let events = split_envelope(body.as_bytes(), now()).unwrap();
        assert_eq!(events[0].dedup_key, events[1].dedup_key);
    }

    #[test]
    fn items_written_as_changes_are_read_as_messaging_items() {
        let item = r#"{"sender":{"id":"5"},"recipient":{"id":"1"},"timestamp":"1763700000","postback":{"mid":"m_c","title":"Go","payload":"GO","referral":{"ref":"spring","source":"SHORT-URL","type":"OPEN_THREAD"}}}"#;
        let changes = format!(
            r#"{{"object":"page","entry":[{{"id":"1","time":1763700000000,"changes":[
                {{"field":"messaging_postbacks","value":{item}}},
                {{"field":"standby","value":{item}}},
                {{"field":"feed","value":"not an item"}}]}}]}}"#
        );
        let events = split_envelope(changes.as_bytes(), now()).unwrap();
        assert_eq!(events.len(), 2, "{events:#?}");
        assert_eq!(events[0].kind, "postback");
        assert_eq!(events[0].sender, Some(Sender::Psid("5".into())));
        assert_eq!(events[1].kind, "postback");
        assert_eq!(events[1].item["standby"], Value::Bool(true));
        // The same item under `messaging` is the same event: a redelivery in the other form.
        let messaging = format!(r#"{{"entry":[{{"id":"1","messaging":[{item}]}}]}}"#);
        let plain = split_envelope(messaging.as_bytes(), now()).unwrap();
        assert_eq!(plain[0].dedup_key, events[0].dedup_key);
    }

    #[test]
    fn a_number_too_large_for_a_float_rejects_its_item_only() {
        let body = br#"{"object":"page","entry":[{"id":"1","messaging":[
            {"sender":{"id":"5"},"recipient":{"id":"1"},"timestamp":1763700000000,"message":{"mid":"m_1","text":"a \"1e400\" in text","n":-1e400}},
            {"sender":{"id":"5"},"recipient":{"id":"1"},"timestamp":1763700000001,"message":{"mid":"m_2","text":"hi","n":1.5e3}}]}]}"#;
        assert!(
            serde_json::from_slice::<Value>(body).is_err(),
            "serde_json refuses it"
        );
        let events = split_envelope(body, now()).unwrap();
        assert_eq!(events.len(), 2);
        let reason = events[0]
            .rejection
            .as_deref()
            .expect("the first item is rejected");
        assert!(reason.contains("-1e400"), "{reason}");
        assert_eq!(events[0].item["message"]["n"], "-1e400");
        assert_eq!(events[0].item["message"]["text"], "a \"1e400\" in text");
        assert_eq!(events[1].rejection, None);
        assert_eq!(events[1].item["message"]["n"], 1500.0);
    }

    #[test]
    fn a_checkbox_opt_in_without_a_sender_is_its_user_ref() {
        let body = br#"{"entry":[{"id":"1","messaging":[{"recipient":{"id":"1"},"timestamp":1763700000000,"optin":{"ref":"plug","user_ref":"u-9"}}]}]}"#;
        let events = split_envelope(body, now()).unwrap();
        assert_eq!(events[0].sender, Some(Sender::UserRef("u-9".into())));
    }

    #[test]
    fn odd_shapes_are_kept_not_dropped() {
        let body = br#"{"entry":[{"id":1234,"messaging":[
            {"sender":{"user_ref":"ref-1"},"timestamp":"2026-11-21T10:00:00Z","optin":{"ref":"x"}},
            {"sender":{"id":"7"},"something_new":{"a":1}},
            "not an object"]}]}"#;
        let events = split_envelope(body, now()).unwrap();
        assert_eq!(events.len(), 3);
        assert_eq!(events[0].sender, Some(Sender::UserRef("ref-1".into())));
        assert_eq!(events[0].page_id.as_deref(), Some("1234"));
        assert_eq!(events[1].kind, "unknown");
        assert_eq!(events[1].occurred_at, now());
        assert_eq!(events[2].sender, None);
    }

    #[test]
    fn redeliveries_share_a_key() {
        let body = br#"{"entry":[{"id":"1","messaging":[{"sender":{"id":"5"},"recipient":{"id":"1"},"timestamp":1763700000000,"referral":{"ref":"a"}}]}]}"#;
        let first = split_envelope(body, now()).unwrap();
        let second = split_envelope(body, now() + chrono::Duration::seconds(30)).unwrap();
        assert_eq!(first[0].dedup_key, second[0].dedup_key);
    }

    #[test]
    fn a_byte_order_mark_is_ignored() {
        let body = b"\xEF\xBB\xBF{\"entry\":[{\"id\":\"1\",\"messaging\":[{\"sender\":{\"id\":\"5\"},\"timestamp\":1763700000000,\"referral\":{\"ref\":\"a\"}}]}]}";
        assert_eq!(split_envelope(body, now()).unwrap().len(), 1);
    }

    #[test]
    fn a_lone_surrogate_loses_nothing_else_of_the_delivery() {
        let body = br#"{"entry":[{"id":"1","messaging":[
            {"sender":{"id":"5"},"timestamp":1763700000000,"message":{"mid":"m1","text":"cut \ud83d here, kept \ud83d\ude00, quoted \\ud83d, lone low \udc00"}},
            {"sender":{"id":"6"},"timestamp":1763700000001,"referral":{"ref":"a"}}]}]}"#;
        let events = split_envelope(body, now()).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(
            events[0].item["message"]["text"],
            "cut \u{FFFD} here, kept \u{1F600}, quoted \\ud83d, lone low \u{FFFD}"
        );
        assert_eq!(
            without_lone_surrogates(br#"{"a":"\ud83d\ude00 \\ud83d"}"#),
            None
        );
    }

    #[test]
    fn non_json_is_refused() {
        assert!(split_envelope(b"nope", now()).is_err());
        assert!(split_envelope(b"[1,2]", now()).is_err());
        let events = split_envelope(b"{}", now()).unwrap();
        assert_eq!(events.len(), 1, "a body with no entries is kept");
        assert_eq!(events[0].kind, "unknown");
        assert!(
            split_envelope(br#"{"entry":[]}"#, now())
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn different_items_at_the_same_second_are_not_duplicates() {
        let body = br#"{"entry":[{"id":"1","messaging":[
            {"sender":{"id":"5"},"recipient":{"id":"1"},"timestamp":1763700000,"optin":{"notification_messages_token":"A","notification_messages_topic":"Deals"}},
            {"sender":{"id":"5"},"recipient":{"id":"1"},"timestamp":1763700000,"optin":{"notification_messages_token":"B","notification_messages_topic":"News"}},
            {"sender":{"id":"5"},"recipient":{"id":"1"},"timestamp":1763700001,"reaction":{"mid":"m_1","action":"react","reaction":"love"}},
            {"sender":{"id":"5"},"recipient":{"id":"1"},"timestamp":1763700002,"reaction":{"mid":"m_1","action":"unreact","reaction":"love"}},
            {"sender":{"id":"5"},"recipient":{"id":"1"},"timestamp":1763700002,"message_edit":{"mid":"m_1","text":"one","num_edit":1}},
            {"sender":{"id":"5"},"recipient":{"id":"1"},"timestamp":1763700002,"message_edit":{"mid":"m_1","text":"two","num_edit":2}}]}]}"#;
        let events = split_envelope(body, now()).unwrap();
        let keys: std::collections::HashSet<_> = events.iter().map(|e| &e.dedup_key).collect();
        assert_eq!(keys.len(), 6, "{keys:?}");
    }

    #[test]
    fn a_redelivery_written_differently_is_still_a_duplicate() {
        let first = br#"{"entry":[{"id":"1","messaging":[{"sender":{"id":"5"},"timestamp":1763700000000,"optin":{"ref":"a","user_ref":"u"}}]}]}"#;
        let second = br#"{"entry":[{"messaging":[{"optin":{"user_ref":"u","ref":"a"},"timestamp":"1763700000000","sender":{"id":5}}],"id":1}]}"#;
        assert_eq!(
            split_envelope(first, now()).unwrap()[0].dedup_key,
            split_envelope(second, now()).unwrap()[0].dedup_key
        );
    }

    #[test]
    fn lone_objects_entries_without_items_and_other_products_are_kept() {
        let body = br#"{"object":"page","entry":{"id":"1","messaging":{"sender":{"id":"5"},"timestamp":1763700000000,"referral":{"ref":"a"}}}}"#;
        let events = split_envelope(body, now()).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, "referral");
        assert_eq!(events[0].item.get("object"), None);

        let body = br#"{"object":"page","entry":[{"id":"1","time":1763700000000,"changes":[{"field":"feed","value":{"item":"status"}}]}]}"#;
        let events = split_envelope(body, now()).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, "unknown");
        assert_eq!(events[0].page_id.as_deref(), Some("1"));
        assert_eq!(events[0].item["changes"][0]["field"], "feed");
        let again = split_envelope(body, now() + chrono::Duration::seconds(9)).unwrap();
        assert_eq!(events[0].dedup_key, again[0].dedup_key);

        let body = br#"{"object":"instagram","entry":[{"id":"17841","messaging":[{"sender":{"id":"5"},"recipient":{"id":"17841"},"timestamp":1763700000000,"message":{"mid":"m_9","text":"hi"}}]}]}"#;
        let events = split_envelope(body, now()).unwrap();
        assert_eq!(events[0].kind, "message");
        assert_eq!(events[0].item["object"], "instagram");
    }

    #[test]
    fn nul_characters_are_replaced() {
        let body = br#"{"entry":[{"id":"1","messaging":[{"sender":{"id":"5"},"message":{"mid":"m","text":"a\u0000b"}}]}]}"#;
        let events = split_envelope(body, now()).unwrap();
        assert_eq!(events[0].item["message"]["text"], "a\u{FFFD}b");
    }

    #[test]
    fn implausible_times_give_way_to_the_entry_time_or_the_receipt_time() {
        let item = |stamp: &str| {
            format!(
                r#"{{"entry":[{{"id":"1","time":1763700000000,"messaging":[{{"sender":{{"id":"5"}},"timestamp":{stamp},"referral":{{"ref":"a"}}}}]}}]}}"#
            )
        };
        let entry_time = Utc.timestamp_millis_opt(1_763_700_000_000).unwrap();
        // Microseconds read as milliseconds (year 57859), past 9999, zero, negative.
        for stamp in ["1763700407000000", "253402300800000", "0", "-1", "5"] {
            let events = split_envelope(item(stamp).as_bytes(), now()).unwrap();
            assert_eq!(events[0].occurred_at, entry_time, "{stamp}");
        }
        let events = split_envelope(item("1763700007000").as_bytes(), now()).unwrap();
        assert_eq!(events[0].occurred_at.timestamp_millis(), 1_763_700_007_000);
        let no_entry_time = br#"{"entry":[{"id":"1","messaging":[{"sender":{"id":"5"},"timestamp":1763700407000000,"referral":{"ref":"a"}}]}]}"#;
        let events = split_envelope(no_entry_time, now()).unwrap();
        assert_eq!(events[0].occurred_at, now());
        let again = split_envelope(no_entry_time, now() + chrono::Duration::seconds(30)).unwrap();
        assert_eq!(
            events[0].dedup_key, again[0].dedup_key,
            "a redelivery is a duplicate"
        );
    }

    #[test]
    fn an_echo_is_the_page_writing_to_the_person() {
        let body = br#"{"entry":[{"id":"104","messaging":[{"sender":{"id":"104"},"recipient":{"id":"750"},"timestamp":1763700000000,"message":{"mid":"m_echo","is_echo":true,"app_id":1,"text":"hi"}}]}]}"#;
        let events = split_envelope(body, now()).unwrap();
        assert_eq!(events[0].page_id.as_deref(), Some("104"));
        assert_eq!(events[0].sender, Some(Sender::Psid("750".into())));
    }

    #[test]
    fn timestamps_in_any_unit() {
        let ms = timestamp(&serde_json::json!(1763700000000_i64)).unwrap();
        let s = timestamp(&serde_json::json!(1763700000)).unwrap();
        let text = timestamp(&serde_json::json!("1763700000000")).unwrap();
        assert_eq!(ms, s);
        assert_eq!(ms, text);
        assert_eq!(timestamp(&serde_json::json!("soon")), None);
        let half = ms + chrono::Duration::milliseconds(500);
        assert_eq!(timestamp(&serde_json::json!(1763700000.5)), Some(half));
        assert_eq!(timestamp(&serde_json::json!("1763700000.5")), Some(half));
        assert_eq!(timestamp(&serde_json::json!(1763700000500.9)), Some(half));
        assert_eq!(timestamp(&serde_json::json!("1e400")), None);
        assert_eq!(timestamp(&serde_json::json!("NaN")), None);
        assert_eq!(timestamp(&serde_json::json!(i64::MAX)), None);
    }
}
