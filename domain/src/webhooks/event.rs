//! What a stored messaging item means, read when a worker processes it. Field names and
//! spellings vary across Meta's products and API versions; this reads them all leniently.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::catalogue::Cadence;
use crate::webhooks::envelope::timestamp;

/// How someone arrived through a link or an ad.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral {
    /// The `ref` as received (with any payload), if any.
    pub reference: Option<String>,
    /// Where it came from, upper-cased (`SHORTLINK`, `SHORT-URL`, `ADS`, `CUSTOMER_CHAT_PLUGIN`, …).
    pub source: Option<String>,
    /// The ad, for click-to-Messenger ads.
    pub ad_id: Option<String>,
}

impl Referral {
    /// Whether it says how the person came in: a ref, a source or an ad.
    pub fn names_a_way_in(&self) -> bool {
        self.reference.is_some() || self.source.is_some() || self.ad_id.is_some()
    }
}

/// A recurring-notification opt-in with its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationOptIn {
    /// The token that lets the page notify this person.
    pub token: String,
    /// The topic title opted in to.
    pub topic: Option<String>,
    /// The agreed frequency.
    pub frequency: Option<Cadence>,
    /// The person's time zone.
    pub timezone: Option<String>,
    /// When the token expires.
    pub expires_at: Option<DateTime<Utc>>,
    /// The link the person opted in through: an `m.me/rn` link may carry a `ref` (with a
    /// payload, like any ref link's), which Meta hands back in the opt-in.
    pub referral: Option<Referral>,
}

/// The plugin message a person's reply answers. The page may write first to someone who
/// ticked the checkbox plugin (or used the chat plugin) knowing only the plugin's `user_ref`;
/// their reply comes from their PSID and names that `user_ref` under `prior_message`, which
/// is how the two become one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorMessage {
    /// The plugin, as named (`checkbox_plugin`, `customer_chat_plugin`), if named.
    pub source: Option<String>,
    /// The `user_ref` the person was known by.
    pub user_ref: String,
}

impl PriorMessage {
    /// Reads `prior_message` beside the item's kind (where Meta puts it) or, leniently,
    /// inside it.
    pub fn of(kind: &str, item: &Value) -> Option<Self> {
        let prior = item
            .get("prior_message")
            .or_else(|| item.get(kind)?.get("prior_message"))?;
        Some(PriorMessage {
            source: text(prior, "source"),
            user_ref: text(prior, "identifier")
                .or_else(|| text(prior, "user_ref"))
                .map(|user_ref| user_ref.trim().to_owned())
                .filter(|user_ref| !user_ref.is_empty())?,
        })
    }
}

/// A messaging item, interpreted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessengerEvent {
    /// Someone followed an m.me link or ad into an existing conversation.
    Referred(Referral),
    /// A button press (Get Started included), possibly carrying the referral that opened it.
    Postback {
        /// The button's payload.
        payload: Option<String>,
        /// The button's title.
        title: Option<String>,
        /// The referral, for a conversation opened through a link.
        referral: Option<Referral>,
    },
    /// A message from the person (a quick reply carries its payload).
    Message {
        /// The text, if any.
        text: Option<String>,
        /// The quick reply's payload, if it was one.
        quick_reply: Option<String>,
        /// The ad (or link) the person came through, when the message carries it: a
        /// click-to-Messenger ad's first message does, inside `message` or beside it.
        referral: Option<Referral>,
    },
    /// A copy of a message the page sent.
    Echo,
    /// A recurring-notification opt-in.
    OptedIn(NotificationOptIn),
    /// An opt-in through a plugin (the checkbox, whose sender is a `user_ref`, or Send to
    /// Messenger): the person agreed to hear from the page, with the plugin's `data-ref`.
    PluginOptIn(Referral),
    /// The person accepted a one-time notification request ("Notify me"). Meta has retired
    /// these and its token is not used (it is sealed in the inbox like any token), but the
    /// person acted: the subscriber and their window are updated, the payload recorded.
    OneTimeOptIn {
        /// The request's payload.
        payload: Option<String>,
    },
    /// The person accepted the page's message request (a conversation the page opened, from
    /// a comment or an ad, say, waits in their requests until they do): they acted.
    MessageRequestAccepted,
    /// The person stopped a topic's notifications.
    OptedOut {
        /// The token concerned.
        token: String,
    },
    /// The person resumed a topic's notifications.
    Resumed {
        /// The token concerned.
        token: String,
    },
    /// Anything else (reads, deliveries, reactions, new kinds, other products' items): stored,
    /// and marked unhandled.
    Unhandled {
        /// The item's kind.
        kind: String,
    },
}

impl MessengerEvent {
    /// Reads a stored item of `kind`.
    pub fn interpret(kind: &str, item: &Value) -> Self {
        // The envelope names the product of an item that is not a page's (Instagram's, say):
        // its ids are not page-scoped, so it must not touch a page's subscribers.
        if let Some(object) = item.get("object") {
            let object = object.as_str().unwrap_or("another product");
            return MessengerEvent::Unhandled {
                kind: format!("{object} {kind}"),
            };
        }
        let body = item.get(kind).unwrap_or(&Value::Null);
        match kind {
            "referral" => MessengerEvent::Referred(referral(body)),
            "postback" => MessengerEvent::Postback {
                payload: text(body, "payload"),
                title: text(body, "title"),
                // Meta nests it in the postback; a referral beside it says the same.
                referral: body
                    .get("referral")
                    .or_else(|| item.get("referral"))
                    .filter(|r| r.is_object())
                    .map(referral),
            },
            "message" if body.get("is_echo").and_then(Value::as_bool) == Some(true) => {
                MessengerEvent::Echo
            }
            "message" => MessengerEvent::Message {
                text: text(body, "text"),
                quick_reply: body.get("quick_reply").and_then(|q| text(q, "payload")),
                // A message about a Shops product carries a `referral` naming only the
                // `product`: no link, no ad, no source, so no entry.
                referral: body
                    .get("referral")
                    .or_else(|| item.get("referral"))
                    .filter(|r| r.is_object())
                    .map(referral)
                    .filter(Referral::names_a_way_in),
            },
            "optin" => optin(body),
            "message_request" if body.as_str() == Some("accept") => {
                MessengerEvent::MessageRequestAccepted
            }
            other => MessengerEvent::Unhandled {
                kind: other.to_owned(),
            },
        }
    }

    /// Whether the person acted, opening (or keeping open) the 24-hour messaging window. A
    /// notification opt-in, and its STOP or RESUME, change what the page may send outside the
    /// window and do not open it: Meta's marketing messages page ("a user opting in to marketing
    /// messages does not open the standard messaging window").
    pub fn opens_window(&self) -> bool {
        !matches!(
            self,
            MessengerEvent::Echo
                | MessengerEvent::Unhandled { .. }
                | MessengerEvent::OptedIn(_)
                | MessengerEvent::OptedOut { .. }
                | MessengerEvent::Resumed { .. }
        )
    }

    /// The referral that brought the person in, if this event carries one.
    pub fn referral(&self) -> Option<&Referral> {
        match self {
            MessengerEvent::Referred(referral) | MessengerEvent::PluginOptIn(referral) => {
                Some(referral)
            }
            MessengerEvent::OptedIn(optin) => optin.referral.as_ref(),
            MessengerEvent::Postback { referral, .. }
            | MessengerEvent::Message { referral, .. } => referral.as_ref(),
            _ => None,
        }
    }
}

fn text(body: &Value, key: &str) -> Option<String> {
    match body.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn referral(body: &Value) -> Referral {
    Referral {
        reference: text(body, "ref"),
        source: text(body, "source").map(|s| s.trim().to_uppercase()),
        ad_id: text(body, "ad_id"),
    }
}

/// `STOP NOTIFICATIONS`, `STOP_NOTIFICATIONS`, `stop-notifications`… all mean the same.
fn normalised_status(status: &str) -> String {
    status
        .trim()
        .to_uppercase()
        .replace(['_', '-'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn optin(body: &Value) -> MessengerEvent {
    if text(body, "type").as_deref() == Some("one_time_notif_req")
        && text(body, "one_time_notif_token").is_some()
    {
        return MessengerEvent::OneTimeOptIn {
            payload: text(body, "payload"),
        };
    }
    let token = text(body, "notification_messages_token");
    // Present, even empty, is not absent: see below.
    let status = body
        .get("notification_messages_status")
        .filter(|status| !status.is_null())
        .map(|status| normalised_status(status.as_str().unwrap_or_default()));
    match (token, status.as_deref()) {
        (Some(token), Some("STOP NOTIFICATIONS")) => MessengerEvent::OptedOut { token },
        (Some(token), Some("RESUME NOTIFICATIONS")) => MessengerEvent::Resumed { token },
        // An opt-in carries no status; a status we do not know (a new one, or an empty one) is
        // not an opt-in, and must not overwrite the one that token belongs to.
        (Some(_), Some(_)) => MessengerEvent::Unhandled {
            kind: "optin".to_owned(),
        },
        (Some(token), None) => MessengerEvent::OptedIn(NotificationOptIn {
            token,
            topic: text(body, "notification_messages_topic").or_else(|| text(body, "title")),
            frequency: text(body, "notification_messages_frequency").and_then(|f| f.parse().ok()),
            timezone: text(body, "notification_messages_timezone"),
            expires_at: body.get("token_expiry_timestamp").and_then(timestamp),
            referral: text(body, "ref").map(|reference| Referral {
                reference: Some(reference),
                ..referral(body)
            }),
        }),
        // No token and nothing of a notification request: a plugin's opt-in, which carries
        // the plugin's `ref` (a ref payload may fill fields as a link's does).
        (None, None) if from_a_plugin(body) => MessengerEvent::PluginOptIn(Referral {
            reference: text(body, "ref"),
            source: Some("PLUGIN".to_owned()),
            ad_id: None,
        }),
        (None, _) => MessengerEvent::Unhandled {
            kind: "optin".to_owned(),
        },
    }
}

/// Plugins send no `type`; notification requests (recurring or one-time) name theirs, or
/// carry their fields, and one without its token is not a plugin's.
fn from_a_plugin(body: &Value) -> bool {
    body.as_object().is_some_and(|fields| {
        !fields.contains_key("type")
            && !fields
                .keys()
                .any(|key| key.starts_with("notification_messages") || key.starts_with("one_time"))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn referrals_and_postbacks() {
        let item = json!({"referral": {"ref": "tutorial--456", "source": "short-url", "type": "OPEN_THREAD"}});
        let event = MessengerEvent::interpret("referral", &item);
        assert_eq!(
            event.referral().unwrap().reference.as_deref(),
            Some("tutorial--456")
        );
        assert_eq!(
            event.referral().unwrap().source.as_deref(),
            Some("SHORT-URL")
        );
        let item = json!({"postback": {"payload": "GET_STARTED", "referral": {"ref": "x", "source": "ADS", "ad_id": "9"}}});
        let event = MessengerEvent::interpret("postback", &item);
        assert_eq!(event.referral().unwrap().ad_id.as_deref(), Some("9"));
        assert!(event.opens_window());
    }

    #[test]
    fn a_message_from_an_ad_carries_its_referral_inside_or_beside() {
        let inside = json!({"message": {"mid": "m", "text": "hi",
            "referral": {"source": "ADS", "type": "OPEN_THREAD", "ad_id": "77"}}});
        let beside = json!({"message": {"mid": "m", "text": "hi"},
            "referral": {"source": "ADS", "type": "OPEN_THREAD", "ad_id": "77", "ref": "spring"}});
        let event = MessengerEvent::interpret("message", &inside);
        assert_eq!(event.referral().unwrap().ad_id.as_deref(), Some("77"));
        assert_eq!(event.referral().unwrap().reference, None);
        let event = MessengerEvent::interpret("message", &beside);
        assert_eq!(
            event.referral().unwrap().reference.as_deref(),
            Some("spring")
        );
        let plain = json!({"message": {"mid": "m", "text": "hi"}});
        assert!(
            MessengerEvent::interpret("message", &plain)
                .referral()
                .is_none()
        );
    }

    #[test]
    fn notification_opt_ins_stops_and_resumes_do_not_open_the_window() {
        let token = "t".to_owned();
        assert!(
            !MessengerEvent::OptedOut {
                token: token.clone()
            }
            .opens_window()
        );
        assert!(!MessengerEvent::Resumed { token }.opens_window());
        let optin = json!({"optin": {"type": "notification_messages", "notification_messages_token": "t",
            "notification_messages_frequency": "WEEKLY", "title": "Deals"}});
        let optin = MessengerEvent::interpret("optin", &optin);
        assert!(matches!(optin, MessengerEvent::OptedIn(_)), "{optin:?}");
        assert!(!optin.opens_window(), "opting in does not open the window");
    }

    #[test]
    fn a_message_about_a_shops_product_is_no_entry() {
        let item = json!({"message": {"mid": "m", "text": "Is this in stock?",
            "referral": {"product": {"id": "1234567890"}}}});
        let event = MessengerEvent::interpret("message", &item);
        assert_eq!(event.referral(), None, "{event:?}");
        assert!(event.opens_window(), "the person still wrote");
    }

    #[test]
    fn an_accepted_message_request_is_the_person_acting_and_handover_items_are_named() {
        let accepted = json!({"message_request": "accept"});
        let event = MessengerEvent::interpret("message_request", &accepted);
        assert_eq!(event, MessengerEvent::MessageRequestAccepted);
        assert!(event.opens_window());
        for kind in ["request_thread_control", "app_roles", "response_feedback"] {
            let event = MessengerEvent::interpret(kind, &json!({kind: {"a": 1}}));
            assert_eq!(
                event,
                MessengerEvent::Unhandled {
                    kind: kind.to_owned()
                }
            );
            assert!(!event.opens_window());
        }
    }

    #[test]
    fn quick_replies_and_echoes() {
        let item =
            json!({"message": {"mid": "m", "text": "hi", "quick_reply": {"payload": "MENU"}}});
        assert_eq!(
            MessengerEvent::interpret("message", &item),
            MessengerEvent::Message {
                text: Some("hi".into()),
                quick_reply: Some("MENU".into()),
                referral: None,
            }
        );
        let echo = json!({"message": {"mid": "m", "is_echo": true, "text": "hello"}});
        assert_eq!(
            MessengerEvent::interpret("message", &echo),
            MessengerEvent::Echo
        );
        assert!(!MessengerEvent::Echo.opens_window());
    }

    #[test]
    fn opt_ins_outs_and_resumes_in_every_spelling() {
        let item = json!({"optin": {"type": "notification_messages", "notification_messages_token": "T",
            "notification_messages_topic": "weekly deals", "notification_messages_frequency": "WEEKLY",
            "notification_messages_timezone": "Europe/Berlin", "token_expiry_timestamp": 1795236004000_i64}});
        let MessengerEvent::OptedIn(optin) = MessengerEvent::interpret("optin", &item) else {
            panic!("not an opt-in");
        };
        assert_eq!(optin.topic.as_deref(), Some("weekly deals"));
        assert_eq!(optin.referral, None, "no ref, no entry");
        assert_eq!(optin.frequency, Some(Cadence::Weekly));
        assert!(optin.expires_at.is_some());
        for spelling in [
            "STOP NOTIFICATIONS",
            "STOP_NOTIFICATIONS",
            "stop notifications",
        ] {
            let item = json!({"optin": {"notification_messages_token": "T", "notification_messages_status": spelling}});
            assert_eq!(
                MessengerEvent::interpret("optin", &item),
                MessengerEvent::OptedOut { token: "T".into() },
                "{spelling}"
            );
        }
        let item = json!({"optin": {"notification_messages_token": "T", "notification_messages_status": "RESUME_NOTIFICATIONS"}});
        assert_eq!(
            MessengerEvent::interpret("optin", &item),
            MessengerEvent::Resumed { token: "T".into() }
        );
    }

    #[test]
    fn a_one_time_notification_request_accepted_is_the_person_acting() {
        let item = json!({"optin": {"type": "one_time_notif_req", "payload": "restock-42",
            "one_time_notif_token": "OTN"}});
        let event = MessengerEvent::interpret("optin", &item);
        assert_eq!(
            event,
            MessengerEvent::OneTimeOptIn {
                payload: Some("restock-42".into())
            }
        );
        assert!(event.opens_window());
        assert!(event.referral().is_none());
    }

    #[test]
    fn an_opt_in_through_a_link_with_a_ref_is_an_entry() {
        let item = json!({"optin": {"type": "notification_messages", "title": "Deals",
            "ref": "rn_deals--gold", "payload": "", "source": "shortlink",
            "notification_messages_token": "T", "notification_messages_topic": "deals"}});
        let event = MessengerEvent::interpret("optin", &item);
        let referral = event.referral().expect("an entry");
        assert_eq!(referral.reference.as_deref(), Some("rn_deals--gold"));
        assert_eq!(referral.source.as_deref(), Some("SHORTLINK"));
    }

    #[test]
    fn a_referral_beside_a_postback_is_its_referral() {
        let item = json!({"postback": {"title": "Get Started", "payload": "GO"},
            "referral": {"ref": "beside", "source": "SHORTLINK", "type": "OPEN_THREAD"}});
        let event = MessengerEvent::interpret("postback", &item);
        assert_eq!(
            event.referral().unwrap().reference.as_deref(),
            Some("beside")
        );
        let both = json!({"postback": {"payload": "GO", "referral": {"ref": "inside"}},
            "referral": {"ref": "beside"}});
        let event = MessengerEvent::interpret("postback", &both);
        assert_eq!(
            event.referral().unwrap().reference.as_deref(),
            Some("inside")
        );
    }

    #[test]
    fn a_status_we_do_not_know_is_no_opt_in() {
        for status in [json!("PAUSE"), json!(""), json!(3)] {
            let item = json!({"optin": {"type": "notification_messages", "title": "Deals",
                "notification_messages_token": "T", "notification_messages_status": status,
                "token_expiry_timestamp": 1900000000000_i64}});
            assert_eq!(
                MessengerEvent::interpret("optin", &item),
                MessengerEvent::Unhandled {
                    kind: "optin".into()
                },
                "{status}"
            );
        }
        let item = json!({"optin": {"notification_messages_token": "T", "notification_messages_status": null, "title": "Deals"}});
        assert!(matches!(
            MessengerEvent::interpret("optin", &item),
            MessengerEvent::OptedIn(_)
        ));
    }

    #[test]
    fn a_reply_names_the_plugin_user_it_was_before() {
        let beside = json!({"message": {"mid": "m", "text": "yes"},
            "prior_message": {"source": "checkbox_plugin", "identifier": "u-7"}});
        assert_eq!(
            PriorMessage::of("message", &beside),
            Some(PriorMessage {
                source: Some("checkbox_plugin".into()),
                user_ref: "u-7".into()
            })
        );
        let inside = json!({"postback": {"payload": "GO",
            "prior_message": {"identifier": 42}}});
        assert_eq!(
            PriorMessage::of("postback", &inside).map(|p| p.user_ref),
            Some("42".into())
        );
        for nothing in [
            json!({"message": {"mid": "m"}}),
            json!({"message": {"mid": "m"}, "prior_message": {"source": "checkbox_plugin"}}),
            json!({"message": {"mid": "m"}, "prior_message": {"identifier": "  "}}),
            json!({"message": {"mid": "m"}, "prior_message": "u-7"}),
        ] {
            assert_eq!(PriorMessage::of("message", &nothing), None, "{nothing}");
        }
    }

    #[test]
    fn unknown_kinds_are_unhandled() {
        let event = MessengerEvent::interpret("read", &json!({"read": {"watermark": 1}}));
        assert_eq!(
            event,
            MessengerEvent::Unhandled {
                kind: "read".into()
            }
        );
        let instagram = json!({"object": "instagram", "message": {"mid": "m", "text": "hi"}});
        assert_eq!(
            MessengerEvent::interpret("message", &instagram),
            MessengerEvent::Unhandled {
                kind: "instagram message".into()
            }
        );
    }

    #[test]
    fn plugin_opt_ins_are_entries_and_broken_notification_requests_are_not() {
        let plugin = MessengerEvent::interpret(
            "optin",
            &json!({"optin": {"ref": "spring--3:gold", "user_ref": "u-1"}}),
        );
        assert_eq!(
            plugin.referral().unwrap().reference.as_deref(),
            Some("spring--3:gold")
        );
        assert!(plugin.opens_window());
        for broken in [
            json!({"optin": {"type": "notification_messages", "title": "Deals"}}),
            json!({"optin": {"notification_messages_topic": "Deals"}}),
            json!({"optin": {"type": "one_time_notif_req", "payload": "x"}}),
            json!({"optin": "yes"}),
        ] {
            assert_eq!(
                MessengerEvent::interpret("optin", &broken),
                MessengerEvent::Unhandled {
                    kind: "optin".into()
                },
                "{broken}"
            );
        }
    }
}
