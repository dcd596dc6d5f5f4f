//! Output types of page set-up and Messenger Profile settings.

use async_graphql::{Enum, SimpleObject};
use chrono::{DateTime, Utc};
use refhub_domain::catalogue::messenger_profile::{self as profile, MenuAction};
use refhub_domain::catalogue::{MessengerProfileSettings, SetupStepState};

/// Where one set-up step stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub(crate) enum PageSetupStepState {
    /// Not done yet: waiting for its turn, or for a retry after a passing failure (see
    /// `lastError` and `nextAttemptAt`).
    Pending,
    /// Done.
    Done,
    /// Get Started only: the page already had a button with another payload, which refhub
    /// kept (`refreshPageSetup` or `setPageMessengerProfile` with `replaceGetStarted` replaces it).
    Kept,
    /// Meta refused, or it kept failing: see `lastError`; `refreshPageSetup` tries again.
    Failed,
}

impl From<SetupStepState> for PageSetupStepState {
    fn from(state: SetupStepState) -> Self {
        match state {
            SetupStepState::Pending => Self::Pending,
            SetupStepState::Done => Self::Done,
            SetupStepState::Kept => Self::Kept,
            SetupStepState::Failed => Self::Failed,
        }
    }
}

/// What Meta answered to a failed call.
#[derive(SimpleObject)]
pub(crate) struct MetaError {
    /// Meta's error code (190: the page token is no longer valid; 2: Meta is unavailable).
    pub code: Option<i64>,
    /// Meta's `error_subcode`.
    pub subcode: Option<i64>,
    /// Meta's message (or why Meta could not be reached).
    pub message: String,
}

/// A page's set-up with Meta, done in the background after it is connected.
#[derive(SimpleObject)]
pub(crate) struct PageSetup {
    /// The app's webhook subscription on the page.
    pub subscribed: PageSetupStepState,
    /// The webhook fields subscribed to (see the README).
    #[graphql(
        complexity = "crate::cost::whole_list_cost(crate::cost::SUBSCRIBED_FIELDS, child_complexity)"
    )]
    pub subscribed_fields: Vec<String>,
    /// The page's Get Started button.
    pub get_started: PageSetupStepState,
    /// The other Messenger Profile settings (greeting, ice breakers, persistent menu).
    pub profile: PageSetupStepState,
    /// Whether the next run replaces a Get Started button refhub did not set.
    pub replace_get_started: bool,
    /// The last failure, until a run succeeds.
    pub last_error: Option<MetaError>,
    /// When refhub last talked to Meta about the page.
    pub checked_at: Option<DateTime<Utc>>,
    /// When the next try is due (null: nothing to do).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Tries of the current run so far.
    pub attempts: i32,
}

impl From<refhub_domain::catalogue::PageSetup> for PageSetup {
    fn from(setup: refhub_domain::catalogue::PageSetup) -> Self {
        Self {
            subscribed: setup.subscribed.into(),
            subscribed_fields: setup.subscribed_fields,
            get_started: setup.get_started.into(),
            profile: setup.profile.into(),
            replace_get_started: setup.replace_get_started,
            last_error: setup.last_error.map(|e| MetaError {
                code: e.code,
                subcode: e.subcode,
                message: e.message,
            }),
            checked_at: setup.checked_at,
            next_attempt_at: setup.next_attempt_at,
            attempts: setup.attempts,
        }
    }
}

/// A greeting in one locale.
#[derive(SimpleObject)]
pub(crate) struct Greeting {
    /// `default` or one of Meta's locales (`en_US`, …).
    pub locale: String,
    /// The text.
    pub text: String,
}

/// One ice breaker question.
#[derive(SimpleObject)]
pub(crate) struct IceBreaker {
    /// The question.
    pub question: String,
    /// The postback payload it sends.
    pub payload: String,
}

/// The ice breakers of one locale.
#[derive(SimpleObject)]
pub(crate) struct IceBreakerSet {
    /// `default` or one of Meta's locales.
    pub locale: String,
    /// The questions.
    #[graphql(
        complexity = "crate::cost::whole_list_cost(crate::cost::ICE_BREAKERS, child_complexity)"
    )]
    pub questions: Vec<IceBreaker>,
}

/// What a persistent menu item does.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub(crate) enum MenuItemType {
    /// Sends a postback with `payload`.
    Postback,
    /// Opens `url`.
    WebUrl,
}

/// A persistent menu item.
#[derive(SimpleObject)]
pub(crate) struct MenuItem {
    /// What it does.
    #[graphql(name = "type")]
    pub kind: MenuItemType,
    /// Its title.
    pub title: String,
    /// The postback payload (`POSTBACK`).
    pub payload: Option<String>,
    /// The URL (`WEB_URL`).
    pub url: Option<String>,
}

/// The persistent menu of one locale.
#[derive(SimpleObject)]
pub(crate) struct PersistentMenu {
    /// `default` or one of Meta's locales.
    pub locale: String,
    /// Whether typing is disabled (menu and buttons only).
    pub composer_input_disabled: bool,
    /// The items.
    #[graphql(
        complexity = "crate::cost::whole_list_cost(crate::cost::MENU_ITEMS, child_complexity)"
    )]
    pub items: Vec<MenuItem>,
}

/// Messenger Profile settings. A list that is null is not managed by refhub (the page keeps
/// whatever it has); an empty list is removed from the page.
#[derive(SimpleObject)]
pub(crate) struct MessengerProfile {
    /// The Get Started button's payload.
    pub get_started_payload: Option<String>,
    /// Greetings per locale.
    #[graphql(
        complexity = "crate::cost::whole_list_cost(crate::cost::PROFILE_LOCALES, child_complexity)"
    )]
    pub greeting: Option<Vec<Greeting>>,
    /// Ice breakers per locale.
    #[graphql(
        complexity = "crate::cost::whole_list_cost(crate::cost::PROFILE_LOCALES, child_complexity)"
    )]
    pub ice_breakers: Option<Vec<IceBreakerSet>>,
    /// Persistent menus per locale.
    #[graphql(
        complexity = "crate::cost::whole_list_cost(crate::cost::PROFILE_LOCALES, child_complexity)"
    )]
    pub persistent_menu: Option<Vec<PersistentMenu>>,
}

impl MessengerProfile {
    /// The settings, with the Get Started payload refhub actually uses.
    pub(crate) fn wanted(settings: MessengerProfileSettings) -> Self {
        let payload = settings.get_started().to_owned();
        Self {
            get_started_payload: Some(payload),
            ..Self::from(settings)
        }
    }
}

impl From<MessengerProfileSettings> for MessengerProfile {
    fn from(settings: MessengerProfileSettings) -> Self {
        Self {
            get_started_payload: settings.get_started_payload,
            greeting: settings.greeting.map(|g| {
                g.into_iter()
                    .map(|g| Greeting {
                        locale: g.locale,
                        text: g.text,
                    })
                    .collect()
            }),
            ice_breakers: settings.ice_breakers.map(|sets| {
                sets.into_iter()
                    .map(|s| IceBreakerSet {
                        locale: s.locale,
                        questions: s
                            .questions
                            .into_iter()
                            .map(|q| IceBreaker {
                                question: q.question,
                                payload: q.payload,
                            })
                            .collect(),
                    })
                    .collect()
            }),
            persistent_menu: settings.persistent_menu.map(|menus| {
                menus
                    .into_iter()
                    .map(|m| PersistentMenu {
                        locale: m.locale,
                        composer_input_disabled: m.composer_input_disabled,
                        items: m.items.into_iter().map(menu_item).collect(),
                    })
                    .collect()
            }),
        }
    }
}

fn menu_item(item: profile::MenuItem) -> MenuItem {
    match item.action {
        MenuAction::Postback(payload) => MenuItem {
            kind: MenuItemType::Postback,
            title: item.title,
            payload: Some(payload),
            url: None,
        },
        MenuAction::WebUrl(url) => MenuItem {
            kind: MenuItemType::WebUrl,
            title: item.title,
            payload: None,
            url: Some(url),
        },
    }
}
