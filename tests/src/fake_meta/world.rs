//! What the stand-in Meta knows: apps, people who log in, pages, their tokens and settings, and
//! the people who message them.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

/// A Meta app (a workspace's `appId` and `appSecret`).
#[derive(Debug, Clone)]
pub struct FakeApp {
    pub id: String,
    pub secret: String,
}

/// A Facebook Page as Meta holds it.
#[derive(Debug, Clone)]
pub struct FakePage {
    pub id: String,
    pub name: String,
    pub username: Option<String>,
    /// The page token a pasted-token connection uses (also valid for every call).
    pub token: String,
    /// `subscribed_fields` per app id (`POST /{page-id}/subscribed_apps`).
    pub subscriptions: BTreeMap<String, Vec<String>>,
    /// The Messenger Profile properties set on the page (`/me/messenger_profile`).
    pub messenger_profile: Map<String, Value>,
    /// People who have messaged the page: PSID → profile fields.
    pub people: HashMap<String, Map<String, Value>>,
}

impl FakePage {
    pub fn new(id: &str, name: &str, username: Option<&str>, token: &str) -> Self {
        Self {
            id: id.to_owned(),
            name: name.to_owned(),
            username: username.map(str::to_owned),
            token: token.to_owned(),
            subscriptions: BTreeMap::new(),
            messenger_profile: Map::new(),
            people: HashMap::new(),
        }
    }
}

/// A person who logs in with Facebook and manages pages.
#[derive(Debug, Clone)]
pub struct FakeUser {
    pub id: String,
    /// The short-lived token Facebook Login hands the browser.
    pub short_token: String,
    /// Page id → the tasks the person holds on it (`MESSAGING`, `MANAGE`, ...).
    pub pages: Vec<(String, Vec<String>)>,
}

/// What a token stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// A person's token (short- or long-lived); `long_lived` after the exchange.
    User { user_id: String, long_lived: bool },
    /// A page token.
    Page { page_id: String },
}

/// The state behind the stand-in.
#[derive(Debug, Default)]
pub struct World {
    pub apps: Vec<FakeApp>,
    pub pages: BTreeMap<String, FakePage>,
    pub users: Vec<FakeUser>,
    /// Every token Meta has issued, with what it grants.
    pub tokens: HashMap<String, Grant>,
    /// Tokens Meta now refuses, with the `error_subcode` it gives (460: password changed,
    /// 463: expired, ...).
    pub revoked: HashMap<String, i64>,
    /// App-scoped user id → (page id, PSID) pairs (`/{asid}/ids_for_pages`).
    pub ids_for_pages: HashMap<String, Vec<(String, String)>>,
    /// When set, every call fails as Meta does when it is down (HTTP 500, code 2).
    pub down: bool,
    /// Path segments (`subscribed_apps`, `messenger_profile`) whose calls fail as if Meta
    /// were down, while the rest answer: one API out, as happens.
    pub down_for: Vec<String>,
    /// Calls answered with "undocumented request": each is a refhub bug.
    pub refused: Vec<String>,
    /// A counter for issued tokens and message ids.
    pub serial: u64,
    /// Page id → the User Profile fields the app may read on it (absent: all of them). Asking
    /// for another fails the call as Meta does (code 100, subcode 2018247).
    pub profile_fields_allowed: HashMap<String, Vec<String>>,
    /// PSIDs whose Messenger account has no profile (made with a phone number): 2018218.
    pub without_profile: std::collections::HashSet<String>,
}

impl World {
    pub fn next_serial(&mut self) -> u64 {
        self.serial += 1;
        self.serial
    }

    /// The page a page token opens, if it is one and alive.
    pub fn page_of_token(&self, token: &str) -> Option<&FakePage> {
        match self.tokens.get(token)? {
            Grant::Page { page_id } => self.pages.get(page_id),
            Grant::User { .. } => None,
        }
    }

    /// The person a user token belongs to.
    pub fn user_of_token(&self, token: &str) -> Option<&FakeUser> {
        match self.tokens.get(token)? {
            Grant::User { user_id, .. } => self.users.iter().find(|u| &u.id == user_id),
            Grant::Page { .. } => None,
        }
    }

    /// The app an app access token (`{app-id}|{app-secret}`) names, if its secret is right.
    pub fn app_of_token(&self, token: &str) -> Option<&FakeApp> {
        let (id, secret) = token.split_once('|')?;
        self.apps.iter().find(|a| a.id == id && a.secret == secret)
    }
}
