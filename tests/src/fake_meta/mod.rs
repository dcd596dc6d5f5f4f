//! A stand-in for Meta's Graph API: a local HTTP server that answers the requests Meta documents
//! (see `routes`) from a small in-memory world of apps, people, pages and tokens, and refuses
//! the rest. Every test app talks to one; tests shape its world (pages, people who log in,
//! revoked tokens, an outage) and read what refhub left in it (subscriptions, Messenger
//! Profile settings).
//!
//! It is mounted at a low priority, so a test may still put its own wiremock answers in front
//! of it (a failing Send API, a slow one).

mod routes;
mod world;

use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Map, Value};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer};

pub use routes::PAGE_WEBHOOK_FIELDS;
pub use world::{FakeApp, FakePage, FakeUser, Grant, World};

/// Below wiremock's default priority (5), so that a test's own mocks answer first.
const FALLBACK_PRIORITY: u8 = 200;

/// A handle on a stand-in Graph API.
#[derive(Clone)]
pub struct FakeMeta {
    world: Arc<Mutex<World>>,
    uri: String,
    server: Option<Arc<MockServer>>,
}

impl FakeMeta {
    /// Starts a stand-in on its own server.
    pub async fn start() -> Self {
        let server = MockServer::start().await;
        let mut meta = Self::attach(&server).await;
        meta.server = Some(Arc::new(server));
        meta
    }

    /// Serves the stand-in from `server`, behind whatever the test mounted there.
    pub async fn attach(server: &MockServer) -> Self {
        let world = Arc::new(Mutex::new(World::default()));
        Mock::given(any())
            .respond_with(routes::FakeMetaResponder {
                world: world.clone(),
            })
            .with_priority(FALLBACK_PRIORITY)
            .mount(server)
            .await;
        Self {
            world,
            uri: server.uri(),
            server: None,
        }
    }

    /// The base URL refhub is configured with (`graph_api_base_url`), with a version, as
    /// refhub's default has one.
    pub fn base_url(&self) -> String {
        format!("{}/v26.0", self.uri)
    }

    /// The server, when the stand-in started its own (for `received_requests`).
    pub fn server(&self) -> Option<&MockServer> {
        self.server.as_deref()
    }

    /// The world, to shape or read.
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().expect("the fake Meta's state")
    }

    /// Registers a Meta app (a workspace's `appId` and `appSecret`).
    pub fn add_app(&self, id: &str, secret: &str) {
        let mut world = self.world();
        world.apps.retain(|a| a.id != id);
        world.apps.push(FakeApp {
            id: id.to_owned(),
            secret: secret.to_owned(),
        });
    }

    /// Registers a page whose token is `token` (what a pasted-token connection sends). A page
    /// registered again keeps its settings and gains the new token.
    pub fn add_page(&self, id: &str, name: &str, username: Option<&str>, token: &str) {
        let mut world = self.world();
        let page = world
            .pages
            .entry(id.to_owned())
            .or_insert_with(|| FakePage::new(id, name, username, token));
        page.name = name.to_owned();
        page.username = username.map(str::to_owned);
        page.token = token.to_owned();
        world.revoked.remove(token);
        world.tokens.insert(
            token.to_owned(),
            Grant::Page {
                page_id: id.to_owned(),
            },
        );
    }

    /// Registers a person who logs in with Facebook, with the pages they manage and their
    /// tasks on each (`["MESSAGING", "MANAGE", ...]`). Returns nothing; the short-lived token
    /// is `short_token`.
    pub fn add_user(&self, id: &str, short_token: &str, pages: &[(&str, &[&str])]) {
        let mut world = self.world();
        world.users.retain(|u| u.id != id);
        world.users.push(FakeUser {
            id: id.to_owned(),
            short_token: short_token.to_owned(),
            pages: pages
                .iter()
                .map(|(p, tasks)| {
                    (
                        (*p).to_owned(),
                        tasks.iter().map(|t| (*t).to_owned()).collect(),
                    )
                })
                .collect(),
        });
        world.tokens.insert(
            short_token.to_owned(),
            Grant::User {
                user_id: id.to_owned(),
                long_lived: false,
            },
        );
    }

    /// Registers a person who messaged `page_id`, with their User Profile fields
    /// (`first_name`, `last_name`, `profile_pic`, `locale`, `timezone`).
    pub fn add_person(&self, page_id: &str, psid: &str, profile: Value) {
        let mut world = self.world();
        let page = world
            .pages
            .get_mut(page_id)
            .unwrap_or_else(|| panic!("add_person: page {page_id} is not registered"));
        let profile = profile.as_object().cloned().unwrap_or_default();
        page.people.insert(psid.to_owned(), profile);
    }

    /// Lets the app read only `fields` of people's profiles on `page_id` (Meta grants `locale`
    /// and `timezone` only with the `pages_user_locale` and `pages_user_timezone`
    /// permissions; `[]`: no profile access at all).
    pub fn allow_profile_fields(&self, page_id: &str, fields: &[&str]) {
        self.world().profile_fields_allowed.insert(
            page_id.to_owned(),
            fields.iter().map(|f| (*f).to_owned()).collect(),
        );
    }

    /// Makes `psid` a person without a profile (a Messenger account made with a phone number).
    pub fn without_profile(&self, psid: &str) {
        self.world().without_profile.insert(psid.to_owned());
    }

    /// Links an app-scoped user id to a PSID on a page (`/{asid}/ids_for_pages`).
    pub fn link_ids(&self, app_scoped_id: &str, page_id: &str, psid: &str) {
        self.world()
            .ids_for_pages
            .entry(app_scoped_id.to_owned())
            .or_default()
            .push((page_id.to_owned(), psid.to_owned()));
    }

    /// Makes Meta refuse `token` from now on with error 190 and `subcode` (460: the person
    /// changed their password; 463: expired; 458: the app was removed).
    pub fn revoke_token(&self, token: &str, subcode: i64) {
        self.world().revoked.insert(token.to_owned(), subcode);
    }

    /// Every page token issued for `page_id` (the pasted one and those from `/me/accounts`).
    pub fn tokens_of_page(&self, page_id: &str) -> Vec<String> {
        self.world()
            .tokens
            .iter()
            .filter(|(_, grant)| matches!(grant, Grant::Page { page_id: p } if p == page_id))
            .map(|(token, _)| token.clone())
            .collect()
    }

    /// Revokes every token of `page_id`.
    pub fn revoke_page(&self, page_id: &str, subcode: i64) {
        for token in self.tokens_of_page(page_id) {
            self.revoke_token(&token, subcode);
        }
    }

    /// Takes Meta down (every call answers 500, code 2) or brings all of it back.
    pub fn set_down(&self, down: bool) {
        let mut world = self.world();
        world.down = down;
        if !down {
            world.down_for.clear();
        }
    }

    /// Takes some of Meta's APIs down, by a segment of their paths (`subscribed_apps`,
    /// `messenger_profile`), while the rest answer; `set_down(false)` brings them back.
    pub fn set_down_for(&self, segments: &[&str]) {
        self.world().down_for = segments.iter().map(|s| (*s).to_owned()).collect();
    }

    /// The fields the app is subscribed to on `page_id`, if it is subscribed.
    pub fn subscribed_fields(&self, page_id: &str) -> Option<Vec<String>> {
        self.world()
            .pages
            .get(page_id)
            .and_then(|p| p.subscriptions.values().next().cloned())
    }

    /// The Messenger Profile properties set on `page_id`.
    pub fn messenger_profile(&self, page_id: &str) -> Map<String, Value> {
        self.world()
            .pages
            .get(page_id)
            .map(|p| p.messenger_profile.clone())
            .unwrap_or_default()
    }

    /// Sets Messenger Profile properties on `page_id` as if another tool had.
    pub fn set_messenger_profile(&self, page_id: &str, properties: Value) {
        let mut world = self.world();
        let page = world.pages.get_mut(page_id).expect("a registered page");
        for (k, v) in properties.as_object().cloned().unwrap_or_default() {
            page.messenger_profile.insert(k, v);
        }
    }

    /// Requests the stand-in refused as undocumented: each is a wrong call by refhub.
    pub fn refused(&self) -> Vec<String> {
        self.world().refused.clone()
    }

    /// Fails the test if refhub made any call Meta does not document.
    #[track_caller]
    pub fn assert_only_documented_calls(&self) {
        let refused = self.refused();
        assert!(
            refused.is_empty(),
            "refhub made calls Meta does not document: {refused:#?}"
        );
    }
}
