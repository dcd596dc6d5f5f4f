//! Inputs of page set-up and Messenger Profile settings.

use async_graphql::{ID, InputObject};
use refhub_domain::catalogue::MessengerProfileSettings;
use refhub_domain::catalogue::messenger_profile::{
    Greeting, IceBreaker, IceBreakerSet, MenuAction, MenuItem, MenuSet,
};

use super::types::MenuItemType;

/// Runs a page's set-up with Meta again.
#[derive(InputObject)]
pub(crate) struct RefreshPageSetupInput {
    /// The page.
    pub id: ID,
    /// Replace a Get Started button refhub did not set (default: keep it).
    #[graphql(default)]
    pub replace_get_started: bool,
}

/// A greeting in one locale.
#[derive(InputObject)]
pub(crate) struct GreetingInput {
    /// `default` (required once) or one of Meta's locales (`en_US`, …).
    pub locale: String,
    /// 1 to 160 characters; may use `{{user_first_name}}`, `{{user_last_name}}`,
    /// `{{user_full_name}}`.
    pub text: String,
}

/// One ice breaker question.
#[derive(InputObject)]
pub(crate) struct IceBreakerInput {
    /// 1 to 80 characters.
    pub question: String,
    /// The postback payload, 1 to 1,000 characters.
    pub payload: String,
}

/// The ice breakers of one locale.
#[derive(InputObject)]
pub(crate) struct IceBreakerSetInput {
    /// `default` (required once) or one of Meta's locales.
    pub locale: String,
    /// 1 to 4 questions.
    pub questions: Vec<IceBreakerInput>,
}

/// A persistent menu item.
#[derive(InputObject)]
pub(crate) struct MenuItemInput {
    /// What it does.
    #[graphql(name = "type")]
    pub kind: MenuItemType,
    /// 1 to 30 characters.
    pub title: String,
    /// The postback payload (`POSTBACK`), 1 to 1,000 characters.
    pub payload: Option<String>,
    /// The URL (`WEB_URL`), http or https.
    pub url: Option<String>,
}

/// The persistent menu of one locale.
#[derive(InputObject)]
pub(crate) struct PersistentMenuInput {
    /// `default` (required once) or one of Meta's locales.
    pub locale: String,
    /// Disable typing (menu and buttons only).
    #[graphql(default)]
    pub composer_input_disabled: bool,
    /// 1 to 20 items.
    pub items: Vec<MenuItemInput>,
}

/// A page's Messenger Profile settings, replacing the stored ones. A list left out (or null)
/// is not managed: the page keeps what it has. An empty list removes the property from the
/// page. Meta's limits are checked; errors name the field (`greeting[1].text`).
#[derive(InputObject)]
pub(crate) struct SetPageMessengerProfileInput {
    /// The page.
    pub page_id: ID,
    /// The Get Started payload (default `REFHUB_GET_STARTED`), 1 to 1,000 characters.
    pub get_started_payload: Option<String>,
    /// Greetings per locale.
    pub greeting: Option<Vec<GreetingInput>>,
    /// Ice breakers per locale.
    pub ice_breakers: Option<Vec<IceBreakerSetInput>>,
    /// Persistent menus per locale (Meta shows them only with a Get Started button, which
    /// refhub sets).
    pub persistent_menu: Option<Vec<PersistentMenuInput>>,
    /// Replace a Get Started button refhub did not set (default: keep it).
    #[graphql(default)]
    pub replace_get_started: bool,
}

impl SetPageMessengerProfileInput {
    /// The settings, for the domain to check.
    pub(crate) fn settings(&self) -> MessengerProfileSettings {
        MessengerProfileSettings {
            get_started_payload: self.get_started_payload.clone(),
            greeting: self.greeting.as_ref().map(|g| {
                g.iter()
                    .map(|g| Greeting {
                        locale: g.locale.clone(),
                        text: g.text.clone(),
                    })
                    .collect()
            }),
            ice_breakers: self.ice_breakers.as_ref().map(|sets| {
                sets.iter()
                    .map(|s| IceBreakerSet {
                        locale: s.locale.clone(),
                        questions: s
                            .questions
                            .iter()
                            .map(|q| IceBreaker {
                                question: q.question.clone(),
                                payload: q.payload.clone(),
                            })
                            .collect(),
                    })
                    .collect()
            }),
            persistent_menu: self.persistent_menu.as_ref().map(|menus| {
                menus
                    .iter()
                    .map(|m| MenuSet {
                        locale: m.locale.clone(),
                        composer_input_disabled: m.composer_input_disabled,
                        items: m
                            .items
                            .iter()
                            .map(|item| MenuItem {
                                title: item.title.clone(),
                                // A missing payload or URL is refused by the domain's check,
                                // naming the field.
                                action: match item.kind {
                                    MenuItemType::Postback => MenuAction::Postback(
                                        item.payload.clone().unwrap_or_default(),
                                    ),
                                    MenuItemType::WebUrl => {
                                        MenuAction::WebUrl(item.url.clone().unwrap_or_default())
                                    }
                                },
                            })
                            .collect(),
                    })
                    .collect()
            }),
        }
    }
}
