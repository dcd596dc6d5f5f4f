//! The Messenger Profile settings a workspace manages for a page: the Get Started payload, the
//! greeting, ice breakers and the persistent menu, checked against Meta's documented limits
//! before anything is stored or sent, and written in (and read from) Meta's own JSON shape.
//!
//! - Messenger Profile API: <https://developers.facebook.com/docs/messenger-platform/reference/messenger-profile-api/>
//! - Get Started (payload up to 1,000 characters): <https://developers.facebook.com/docs/messenger-platform/reference/messenger-profile-api/get-started-button>
//! - Greeting (per locale, `default` required, up to 160 characters): <https://developers.facebook.com/docs/messenger-platform/reference/messenger-profile-api/greeting>
//! - Ice breakers (per locale, `default` required, at most 4 questions): <https://developers.facebook.com/docs/messenger-platform/reference/messenger-profile-api/ice-breakers>
//! - Persistent menu (per locale, `default` required, at most 20 `web_url`/`postback` items,
//!   titles up to 30 characters, payloads up to 1,000; needs a Get Started button):
//!   <https://developers.facebook.com/docs/messenger-platform/send-messages/persistent-menu>
//!
//! A property left out (`None`) is not managed: refhub leaves whatever the page has. An empty
//! list asks refhub to remove the property from the page.

use serde_json::{Map, Value, json};

use crate::error::{DomainError, DomainResult};

/// The Get Started payload refhub sets unless the workspace chooses another. A Get Started
/// postback is handled like any postback (payload rules may start a flow on it), and the
/// `referral` a new person's m.me link puts inside it counts as their entry.
pub const DEFAULT_GET_STARTED_PAYLOAD: &str = "REFHUB_GET_STARTED";

/// Longest postback payload (Get Started, ice breakers, menu items).
pub const MAX_PAYLOAD_CHARS: usize = 1000;
/// Longest greeting text.
pub const MAX_GREETING_CHARS: usize = 160;
/// Most ice breaker questions per locale.
pub const MAX_ICE_BREAKERS: usize = 4;
/// Longest ice breaker question. Meta's reference states no number; 80 is refhub's own bound,
/// what Messenger shows on one line.
pub const MAX_QUESTION_CHARS: usize = 80;
/// Most persistent menu items per locale.
pub const MAX_MENU_ITEMS: usize = 20;
/// Longest menu item title.
pub const MAX_MENU_TITLE_CHARS: usize = 30;
/// Longest menu item URL.
pub const MAX_URL_CHARS: usize = 2000;

/// Most locales per property: Meta supports about a hundred (`ll_CC`).
/// <https://developers.facebook.com/docs/messenger-platform/messenger-profile/supported-locales/>
pub const MAX_LOCALES: usize = 120;

/// The properties refhub reads back from Meta (`GET /me/messenger_profile?fields=…`).
pub const MANAGED_PROPERTIES: [&str; 4] =
    ["get_started", "greeting", "ice_breakers", "persistent_menu"];

/// A greeting in one locale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Greeting {
    /// `default` or one of Meta's locales (`en_US`, `fr_FR`, …).
    pub locale: String,
    /// Up to 160 characters; may use `{{user_first_name}}`, `{{user_last_name}}`,
    /// `{{user_full_name}}`.
    pub text: String,
}

/// One ice breaker question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceBreaker {
    /// What the person taps.
    pub question: String,
    /// The postback payload it sends.
    pub payload: String,
}

/// The ice breakers of one locale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceBreakerSet {
    /// `default` or a Meta locale.
    pub locale: String,
    /// One to four questions.
    pub questions: Vec<IceBreaker>,
}

/// What a menu item does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MenuAction {
    /// Sends a postback with this payload.
    Postback(String),
    /// Opens this URL.
    WebUrl(String),
}

/// One persistent menu item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuItem {
    /// Up to 30 characters.
    pub title: String,
    /// What tapping it does.
    pub action: MenuAction,
}

/// The persistent menu of one locale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuSet {
    /// `default` or a Meta locale.
    pub locale: String,
    /// Whether the person may only use the menu and buttons (no typing).
    pub composer_input_disabled: bool,
    /// Up to 20 items.
    pub items: Vec<MenuItem>,
}

/// The Messenger Profile settings of a page.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MessengerProfileSettings {
    /// The Get Started payload (`None`: [`DEFAULT_GET_STARTED_PAYLOAD`]).
    pub get_started_payload: Option<String>,
    /// Greetings per locale (`None`: not managed; empty: removed).
    pub greeting: Option<Vec<Greeting>>,
    /// Ice breakers per locale (`None`: not managed; empty: removed).
    pub ice_breakers: Option<Vec<IceBreakerSet>>,
    /// Persistent menus per locale (`None`: not managed; empty: removed).
    pub persistent_menu: Option<Vec<MenuSet>>,
}

impl MessengerProfileSettings {
    /// The Get Started payload refhub sets.
    pub fn get_started(&self) -> &str {
        self.get_started_payload
            .as_deref()
            .unwrap_or(DEFAULT_GET_STARTED_PAYLOAD)
    }

    /// Checks every value against Meta's limits; errors name the input field, such as
    /// `greeting[1].text` or `persistentMenu[0].items[3].title`.
    pub fn validate(&self) -> DomainResult<()> {
        if let Some(payload) = &self.get_started_payload {
            check_payload(payload, "getStartedPayload")?;
        }
        if let Some(greetings) = &self.greeting {
            check_locales(greetings.iter().map(|g| g.locale.as_str()), "greeting")?;
            for (i, greeting) in greetings.iter().enumerate() {
                check_text(
                    &greeting.text,
                    &format!("greeting[{i}].text"),
                    MAX_GREETING_CHARS,
                )?;
            }
        }
        if let Some(sets) = &self.ice_breakers {
            check_locales(sets.iter().map(|s| s.locale.as_str()), "iceBreakers")?;
            for (i, set) in sets.iter().enumerate() {
                let field = format!("iceBreakers[{i}].questions");
                if set.questions.is_empty() || set.questions.len() > MAX_ICE_BREAKERS {
                    return Err(DomainError::validation(
                        field,
                        format!("must hold 1 to {MAX_ICE_BREAKERS} questions (Meta's limit)"),
                    ));
                }
                for (j, question) in set.questions.iter().enumerate() {
                    check_text(
                        &question.question,
                        &format!("{field}[{j}].question"),
                        MAX_QUESTION_CHARS,
                    )?;
                    check_payload(&question.payload, &format!("{field}[{j}].payload"))?;
                }
            }
        }
        if let Some(menus) = &self.persistent_menu {
            check_locales(menus.iter().map(|m| m.locale.as_str()), "persistentMenu")?;
            for (i, menu) in menus.iter().enumerate() {
                let field = format!("persistentMenu[{i}].items");
                if menu.items.len() > MAX_MENU_ITEMS {
                    return Err(DomainError::validation(
                        field,
                        format!("must hold at most {MAX_MENU_ITEMS} items (Meta's limit)"),
                    ));
                }
                if menu.items.is_empty() {
                    return Err(DomainError::validation(
                        field,
                        "must hold at least one item (an empty persistentMenu list removes the menu)",
                    ));
                }
                for (j, item) in menu.items.iter().enumerate() {
                    check_text(
                        &item.title,
                        &format!("{field}[{j}].title"),
                        MAX_MENU_TITLE_CHARS,
                    )?;
                    match &item.action {
                        MenuAction::Postback(payload) => {
                            check_payload(payload, &format!("{field}[{j}].payload"))?;
                        }
                        MenuAction::WebUrl(url) => check_url(url, &format!("{field}[{j}].url"))?,
                    }
                }
            }
        }
        Ok(())
    }

    /// The properties to send Meta (`POST /me/messenger_profile`), Get Started included. Empty
    /// lists are left out: they are removals ([`Self::removed_properties`]).
    pub fn to_meta(&self) -> Map<String, Value> {
        self.properties(true)
    }

    /// The settings as stored: Meta's shape, with a Get Started payload only when the
    /// workspace chose one and removals kept as empty lists ([`Self::from_meta`] reads it back).
    pub fn to_stored(&self) -> Map<String, Value> {
        self.properties(false)
    }

    fn properties(&self, for_meta: bool) -> Map<String, Value> {
        let kept = |empty: bool| !(for_meta && empty);
        let mut properties = Map::new();
        if for_meta || self.get_started_payload.is_some() {
            properties.insert(
                "get_started".into(),
                json!({ "payload": self.get_started() }),
            );
        }
        if let Some(greetings) = self.greeting.as_ref().filter(|g| kept(g.is_empty())) {
            properties.insert(
                "greeting".into(),
                greetings
                    .iter()
                    .map(|g| json!({ "locale": g.locale, "text": g.text }))
                    .collect(),
            );
        }
        if let Some(sets) = self.ice_breakers.as_ref().filter(|s| kept(s.is_empty())) {
            properties.insert(
                "ice_breakers".into(),
                sets.iter()
                    .map(|s| {
                        json!({
                            "locale": s.locale,
                            "call_to_actions": s.questions.iter()
                                .map(|q| json!({ "question": q.question, "payload": q.payload }))
                                .collect::<Vec<_>>(),
                        })
                    })
                    .collect(),
            );
        }
        if let Some(menus) = self.persistent_menu.as_ref().filter(|m| kept(m.is_empty())) {
            properties.insert(
                "persistent_menu".into(),
                menus
                    .iter()
                    .map(|m| {
                        json!({
                            "locale": m.locale,
                            "composer_input_disabled": m.composer_input_disabled,
                            "call_to_actions": m.items.iter().map(menu_item_json).collect::<Vec<_>>(),
                        })
                    })
                    .collect(),
            );
        }
        properties
    }

    /// The properties the workspace asked to remove (an empty list).
    pub fn removed_properties(&self) -> Vec<&'static str> {
        let mut removed = Vec::new();
        if self.greeting.as_ref().is_some_and(Vec::is_empty) {
            removed.push("greeting");
        }
        if self.ice_breakers.as_ref().is_some_and(Vec::is_empty) {
            removed.push("ice_breakers");
        }
        if self.persistent_menu.as_ref().is_some_and(Vec::is_empty) {
            removed.push("persistent_menu");
        }
        removed
    }

    /// Reads Meta's JSON (what `GET /me/messenger_profile` answers, or what refhub stored),
    /// leniently: what refhub cannot show is left out rather than failing the read. A property
    /// given as an empty list is kept as one (a removal).
    pub fn from_meta(properties: &Map<String, Value>) -> Self {
        let list = |key: &str| properties.get(key).and_then(Value::as_array);
        let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
        Self {
            get_started_payload: properties
                .get("get_started")
                .and_then(|g| text(g, "payload")),
            greeting: list("greeting").map(|items| {
                items
                    .iter()
                    .filter_map(|g| {
                        Some(Greeting {
                            locale: text(g, "locale")?,
                            text: text(g, "text")?,
                        })
                    })
                    .collect()
            }),
            ice_breakers: list("ice_breakers").map(|items| ice_breaker_sets(items)),
            persistent_menu: list("persistent_menu").map(|items| {
                items
                    .iter()
                    .filter_map(|m| {
                        Some(MenuSet {
                            locale: text(m, "locale")?,
                            composer_input_disabled: m
                                .get("composer_input_disabled")
                                .and_then(Value::as_bool)
                                .unwrap_or(false),
                            items: m
                                .get("call_to_actions")
                                .and_then(Value::as_array)
                                .map(|items| items.iter().filter_map(menu_item).collect())
                                .unwrap_or_default(),
                        })
                    })
                    .collect()
            }),
        }
    }
}

/// Ice breakers in Meta's current format (per locale) or its older one (a flat list of
/// questions, read as the `default` locale's).
fn ice_breaker_sets(items: &[Value]) -> Vec<IceBreakerSet> {
    let question = |q: &Value| {
        Some(IceBreaker {
            question: q.get("question")?.as_str()?.to_owned(),
            payload: q.get("payload")?.as_str()?.to_owned(),
        })
    };
    if items.iter().all(|i| i.get("question").is_some()) && !items.is_empty() {
        return vec![IceBreakerSet {
            locale: "default".to_owned(),
            questions: items.iter().filter_map(question).collect(),
        }];
    }
    items
        .iter()
        .filter_map(|set| {
            Some(IceBreakerSet {
                locale: set.get("locale")?.as_str()?.to_owned(),
                questions: set
                    .get("call_to_actions")?
                    .as_array()?
                    .iter()
                    .filter_map(question)
                    .collect(),
            })
        })
        .collect()
}

fn menu_item_json(item: &MenuItem) -> Value {
    match &item.action {
        MenuAction::Postback(payload) => {
            json!({ "type": "postback", "title": item.title, "payload": payload })
        }
        MenuAction::WebUrl(url) => json!({ "type": "web_url", "title": item.title, "url": url }),
    }
}

fn menu_item(item: &Value) -> Option<MenuItem> {
    let title = item.get("title")?.as_str()?.to_owned();
    let action = match item.get("type")?.as_str()? {
        "postback" => MenuAction::Postback(item.get("payload")?.as_str()?.to_owned()),
        "web_url" => MenuAction::WebUrl(item.get("url")?.as_str()?.to_owned()),
        _ => return None,
    };
    Some(MenuItem { title, action })
}

/// `default` must be there, each locale once, each one `default` or shaped like Meta's
/// locales (`en_US`, `zh_CN`, `es_LA`: language, underscore, region).
fn check_locales<'a>(locales: impl Iterator<Item = &'a str>, field: &str) -> DomainResult<()> {
    let locales: Vec<&str> = locales.collect();
    if locales.is_empty() {
        return Ok(());
    }
    if locales.len() > MAX_LOCALES {
        return Err(DomainError::validation(
            field,
            format!("must hold at most {MAX_LOCALES} locales (more than Meta supports)"),
        ));
    }
    for (i, locale) in locales.iter().enumerate() {
        if !is_locale(locale) {
            return Err(DomainError::validation(
                format!("{field}[{i}].locale"),
                "must be `default` or one of Meta's locales, such as en_US",
            ));
        }
        if locales[..i].contains(locale) {
            return Err(DomainError::validation(
                format!("{field}[{i}].locale"),
                "is given twice",
            ));
        }
    }
    if !locales.contains(&"default") {
        return Err(DomainError::validation(
            field,
            "must include the `default` locale (Meta requires it)",
        ));
    }
    Ok(())
}

fn is_locale(locale: &str) -> bool {
    if locale == "default" {
        return true;
    }
    let Some((language, region)) = locale.split_once('_') else {
        return false;
    };
    (2..=3).contains(&language.len())
        && language.bytes().all(|b| b.is_ascii_lowercase())
        && region.len() == 2
        && region.bytes().all(|b| b.is_ascii_uppercase())
}

fn check_text(text: &str, field: &str, max: usize) -> DomainResult<()> {
    let chars = text.trim().chars().count();
    if chars == 0 || text.chars().count() > max {
        return Err(DomainError::validation(
            field,
            format!("must be 1 to {max} characters (Meta's limit)"),
        ));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(DomainError::validation(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

fn check_payload(payload: &str, field: &str) -> DomainResult<()> {
    if payload.is_empty() || payload.chars().count() > MAX_PAYLOAD_CHARS {
        return Err(DomainError::validation(
            field,
            format!("must be 1 to {MAX_PAYLOAD_CHARS} characters (Meta's limit)"),
        ));
    }
    Ok(())
}

fn check_url(url: &str, field: &str) -> DomainResult<()> {
    let ok = url.len() <= MAX_URL_CHARS
        && url::Url::parse(url)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if !ok {
        return Err(DomainError::validation(
            field,
            "must be an http or https URL",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn greeting(locale: &str, text: &str) -> Greeting {
        Greeting {
            locale: locale.into(),
            text: text.into(),
        }
    }

    fn field_of(settings: &MessengerProfileSettings) -> String {
        match settings.validate() {
            Err(DomainError::Validation { field, .. }) => field,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn errors_name_the_field() {
        let settings = MessengerProfileSettings {
            greeting: Some(vec![
                greeting("default", "Hi {{user_first_name}}"),
                greeting("fr_FR", &"x".repeat(161)),
            ]),
            ..Default::default()
        };
        assert_eq!(field_of(&settings), "greeting[1].text");
        let settings = MessengerProfileSettings {
            greeting: Some(vec![greeting("fr_FR", "Salut")]),
            ..Default::default()
        };
        assert_eq!(field_of(&settings), "greeting");
        let settings = MessengerProfileSettings {
            greeting: Some(vec![greeting("default", "Hi"), greeting("english", "Hi")]),
            ..Default::default()
        };
        assert_eq!(field_of(&settings), "greeting[1].locale");
    }

    #[test]
    fn round_trips_through_meta_json() {
        let settings = MessengerProfileSettings {
            get_started_payload: Some("GO".into()),
            greeting: Some(vec![greeting("default", "Hi")]),
            ice_breakers: Some(vec![IceBreakerSet {
                locale: "default".into(),
                questions: vec![IceBreaker {
                    question: "Prices?".into(),
                    payload: "PRICES".into(),
                }],
            }]),
            persistent_menu: Some(vec![MenuSet {
                locale: "default".into(),
                composer_input_disabled: false,
                items: vec![
                    MenuItem {
                        title: "Shop".into(),
                        action: MenuAction::WebUrl("https://example.com/".into()),
                    },
                    MenuItem {
                        title: "Help".into(),
                        action: MenuAction::Postback("HELP".into()),
                    },
                ],
            }]),
        };
        assert!(settings.validate().is_ok());
        assert_eq!(
            MessengerProfileSettings::from_meta(&settings.to_meta()),
            settings
        );
        let removals = MessengerProfileSettings {
            greeting: Some(vec![]),
            ..Default::default()
        };
        assert_eq!(
            MessengerProfileSettings::from_meta(&removals.to_stored()),
            removals
        );
        assert!(!removals.to_meta().contains_key("greeting"));
    }
}
