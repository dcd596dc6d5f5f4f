//! End-to-end test harness for refhub: the real application on a random port, over HTTP, with a
//! fresh database for every test (SQLite by default, PostgreSQL when `TEST_DATABASE_URL` is set).

pub mod browser;
mod database;
pub mod fake_meta;
pub mod jwt;

use std::time::Duration;

use refhub_api::{Application, Config, MailSettings, MemoryOutbox};
use serde_json::{Value, json};

pub use crate::database::TEST_DATABASE_URL;
use crate::database::TestDatabase;
pub use crate::fake_meta::FakeMeta;

/// A password that satisfies the strength rules.
pub const PASSWORD: &str = "correct-Horse-battery-9";

/// The selection set of `AuthPayload` that [`Session`] is read from.
pub const AUTH_PAYLOAD_FIELDS: &str =
    "accessToken refreshToken expiresIn user { id email } tenant { id name slug status } role";

/// The selection set of `Invitation` the invitation helpers read.
pub const INVITATION_FIELDS: &str = "id email role status expiresAt createdAt respondedAt invitedBy { id email } tenant { id name }";

/// How long a test waits for the e-mail a mutation caused (it is delivered in the background).
const MAIL_PATIENCE: Duration = Duration::from_secs(10);

/// Words that betray database internals and must never reach a client.
const DATABASE_WORDS: [&str; 4] = ["sql", "sqlx", "database", "constraint"];

pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
    /// The URL the application connects with (on PostgreSQL: as the application role).
    pub database_url: String,
    /// PostgreSQL only: this test's database, as the admin user that owns the schema.
    pub admin_database_url: Option<String>,
    /// The application's database pool (its statement counter).
    pub store: refhub_persistence::Store,
    /// The e-mail the application sent (empty when a test configured another transport).
    pub outbox: MemoryOutbox,
    /// The stand-in Graph API the application talks to.
    pub meta: FakeMeta,
    // Last, so that the database outlives everything else in the struct.
    _database: TestDatabase,
}

/// The tokens and ids of one signed-in user.
#[derive(Debug, Clone)]
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
    pub user_id: String,
    pub email: String,
    /// `None` for a user without a current tenant (an operator, for instance).
    pub tenant_id: Option<String>,
}

impl Session {
    /// Reads an `AuthPayload` selected with [`AUTH_PAYLOAD_FIELDS`].
    pub fn from_payload(payload: &Value) -> Session {
        let text = |pointer: &str| {
            payload
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("AuthPayload lacks {pointer}: {payload:#}"))
                .to_owned()
        };
        Session {
            access_token: text("/accessToken"),
            refresh_token: text("/refreshToken"),
            user_id: text("/user/id"),
            email: text("/user/email"),
            tenant_id: payload
                .pointer("/tenant/id")
                .and_then(Value::as_str)
                .map(str::to_owned),
        }
    }

    /// The current tenant's id; panics when the session has none.
    pub fn tenant(&self) -> &str {
        self.tenant_id
            .as_deref()
            .expect("this session has no current tenant")
    }

    pub fn token(&self) -> Option<&str> {
        Some(&self.access_token)
    }
}

/// An HTTP client for talking to the app. reqwest is built without a bundled crypto provider
/// (the app installs ring); a test process that has not built an app yet installs it here.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("HTTP client")
}

/// Starts the application on a random port with a fresh database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like [`spawn_app`], letting the test adjust the configuration first. The application talks
/// to a fresh stand-in Graph API ([`FakeMeta`]), unless the test points it elsewhere.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    let meta = FakeMeta::start().await;
    spawn_app_on(meta, configure).await
}

/// Like [`spawn_app_with`], with the stand-in Graph API served from `server` behind the
/// test's own mocks there (a failing or recording Send API, for instance).
pub async fn spawn_app_on_graph(
    server: &wiremock::MockServer,
    configure: impl FnOnce(&mut Config),
) -> TestApp {
    let meta = FakeMeta::attach(server).await;
    spawn_app_on(meta, configure).await
}

async fn spawn_app_on(meta: FakeMeta, configure: impl FnOnce(&mut Config)) -> TestApp {
    let database = TestDatabase::create().await;
    let mut config = Config::for_tests(database.app_url());
    config.migrate_on_start = database.migrate_on_start();
    config.graph_api_base_url = meta.base_url();
    configure(&mut config);
    let outbox = match &config.mail {
        MailSettings::Memory(outbox) => outbox.clone(),
        _ => MemoryOutbox::default(),
    };
    let application = Application::build(config)
        .await
        .expect("the application failed to build");
    let port = application.port();
    let store = application.store();
    tokio::spawn(application.run_until_stopped());

    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        client: http_client(),
        database_url: database.app_url().to_owned(),
        admin_database_url: database.admin_url().map(str::to_owned),
        store,
        outbox,
        meta,
        _database: database,
    }
}

/// True when the tests run against PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var(TEST_DATABASE_URL).is_ok_and(|url| !url.trim().is_empty())
}

/// For tests only PostgreSQL can run. They are marked
/// `#[cfg_attr(not(refhub_postgres), ignore = …)]`, so a SQLite run lists them as ignored; one
/// run anyway (`--include-ignored`) fails here rather than passing without having run.
pub fn require_postgres() {
    assert!(
        on_postgres(),
        "this test needs PostgreSQL: set TEST_DATABASE_URL (see tests/README.md)"
    );
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// The test database as a connection that sees every tenant (PostgreSQL: the admin user,
    /// which owns the schema and is not subject to row-level security): for rows written as
    /// an older version or another path would have written them.
    pub async fn raw_database(&self) -> sea_orm::DatabaseConnection {
        let url = self
            .admin_database_url
            .clone()
            .unwrap_or_else(|| self.database_url.clone());
        sea_orm::Database::connect(url)
            .await
            .expect("connecting to the test database")
    }

    /// POSTs a GraphQL request, asserts HTTP 200 and returns the whole response body.
    pub async fn graphql(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("POST /graphql failed");
        let status = response.status();
        let body = response.text().await.expect("reading the response body");
        assert_eq!(
            status.as_u16(),
            200,
            "POST /graphql answered {status}: {body}\nquery: {query}"
        );
        serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("POST /graphql answered non-JSON ({e}): {body}"))
    }

    /// Like [`TestApp::graphql`] but fails the test on any GraphQL error; returns `data`.
    pub async fn graphql_ok(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        let response = self.graphql(query, variables, token).await;
        data(&response).clone()
    }

    /// Runs `mutation($input: <Name>Input!) { name(input: $input) { selection } }`.
    pub async fn mutate(
        &self,
        name: &str,
        input: Value,
        selection: &str,
        token: Option<&str>,
    ) -> Value {
        let input_type = format!("{}{}Input", name[..1].to_uppercase(), &name[1..]);
        let query =
            format!("mutation($input: {input_type}!) {{ {name}(input: $input) {selection} }}");
        self.graphql(&query, json!({ "input": input }), token).await
    }

    /// Signs up a new user with its own tenant, with [`PASSWORD`].
    pub async fn sign_up(&self, email: &str, tenant_name: &str) -> Session {
        let response = self
            .mutate(
                "signUp",
                json!({ "email": email, "password": PASSWORD, "tenantName": tenant_name }),
                &format!("{{ {AUTH_PAYLOAD_FIELDS} }}"),
                None,
            )
            .await;
        Session::from_payload(&data(&response)["signUp"])
    }

    /// Runs `logIn` with the given password and returns the whole response.
    pub async fn log_in_raw(&self, email: &str, password: &str, tenant_id: Option<&str>) -> Value {
        let mut input = json!({ "email": email, "password": password });
        if let Some(tenant_id) = tenant_id {
            input["tenantId"] = json!(tenant_id);
        }
        self.mutate(
            "logIn",
            input,
            &format!("{{ {AUTH_PAYLOAD_FIELDS} }}"),
            None,
        )
        .await
    }

    /// Logs in with [`PASSWORD`], into `tenant_id` when given.
    pub async fn log_in(&self, email: &str, tenant_id: Option<&str>) -> Session {
        let response = self.log_in_raw(email, PASSWORD, tenant_id).await;
        Session::from_payload(&data(&response)["logIn"])
    }

    /// Runs `refreshToken` and returns the whole response.
    pub async fn refresh(&self, refresh_token: &str) -> Value {
        self.mutate(
            "refreshToken",
            json!({ "refreshToken": refresh_token }),
            &format!("{{ {AUTH_PAYLOAD_FIELDS} }}"),
            None,
        )
        .await
    }

    /// `me { id email isOperator role tenant { id name status } }`, the whole response.
    pub async fn me(&self, token: Option<&str>) -> Value {
        self.graphql(
            "{ me { id email isOperator role tenant { id name status } } }",
            json!({}),
            token,
        )
        .await
    }

    /// Runs `inviteMember`; returns the whole response.
    pub async fn invite_member(&self, token: &str, email: &str, role: &str) -> Value {
        self.mutate(
            "inviteMember",
            json!({ "email": email, "role": role }),
            &format!("{{ {INVITATION_FIELDS} }}"),
            Some(token),
        )
        .await
    }

    /// The token of the `nth` (from 1) invitation e-mail sent to `email`, waiting for it.
    pub async fn invitation_token(&self, email: &str, nth: usize) -> String {
        let messages = self
            .outbox
            .wait_for(email, nth, MAIL_PATIENCE)
            .await
            .unwrap_or_else(|| panic!("no invitation e-mail number {nth} to {email}"));
        token_in_link(&messages[nth - 1].text)
    }

    /// Runs `acceptInvitation` as `token`'s user; returns the whole response.
    pub async fn accept_invitation(&self, token: Option<&str>, invitation_token: &str) -> Value {
        self.mutate(
            "acceptInvitation",
            json!({ "token": invitation_token }),
            &format!("{{ {INVITATION_FIELDS} }}"),
            token,
        )
        .await
    }

    /// Makes an existing user a member of the caller's tenant the way people join: invites
    /// them, then, signed in as them, accepts the mailed link. Returns the first failure's
    /// response, or the `acceptInvitation` response.
    pub async fn add_member(&self, token: &str, email: &str, role: &str) -> Value {
        let mailed = self.outbox.messages_to(email).len();
        let invited = self.invite_member(token, email, role).await;
        if invited.get("errors").is_some() {
            return invited;
        }
        let signed_in = self.log_in_raw(email, PASSWORD, None).await;
        if signed_in.get("errors").is_some() {
            return signed_in;
        }
        let invitee = Session::from_payload(&data(&signed_in)["logIn"]);
        let invitation = self.invitation_token(email, mailed + 1).await;
        self.accept_invitation(invitee.token(), &invitation).await
    }

    /// Signs `email` up (with a tenant of its own), has it join `owner`'s tenant with `role`
    /// (invited, then accepting), and logs it in to that tenant.
    pub async fn member_of(&self, owner: &Session, email: &str, role: &str) -> Session {
        self.sign_up(email, &format!("{email}'s own workspace"))
            .await;
        let added = self.add_member(&owner.access_token, email, role).await;
        data(&added);
        self.log_in(email, Some(owner.tenant())).await
    }

    /// Changes a member's role; returns the whole response.
    pub async fn update_member_role(&self, token: &str, user_id: &str, role: &str) -> Value {
        self.mutate(
            "updateMemberRole",
            json!({ "userId": user_id, "role": role }),
            "{ id role user { id email } }",
            Some(token),
        )
        .await
    }

    /// Removes a member; returns the whole response.
    pub async fn remove_member(&self, token: &str, user_id: &str) -> Value {
        self.mutate(
            "removeMember",
            json!({ "userId": user_id }),
            "",
            Some(token),
        )
        .await
    }

    /// All members of the token's tenant as `(user id, email, role)`, read in one page.
    pub async fn member_roles(&self, token: &str) -> Vec<(String, String, String)> {
        let data = self
            .graphql_ok(
                "{ members(first: 100) { edges { node { role user { id email } } } } }",
                json!({}),
                Some(token),
            )
            .await;
        nodes(&data["members"])
            .iter()
            .map(|node| {
                (
                    str_at(node, "/user/id"),
                    str_at(node, "/user/email"),
                    str_at(node, "/role"),
                )
            })
            .collect()
    }

    /// The role of `user_id` in the token's tenant, `None` when it is not a member.
    pub async fn role_of(&self, token: &str, user_id: &str) -> Option<String> {
        self.member_roles(token)
            .await
            .into_iter()
            .find(|(id, _, _)| id == user_id)
            .map(|(_, _, role)| role)
    }

    /// Runs `createApiKey`; returns the whole response.
    pub async fn create_api_key_raw(&self, token: &str, name: &str, role: &str) -> Value {
        self.mutate(
            "createApiKey",
            json!({ "name": name, "role": role }),
            "{ secret apiKey { id name prefix role createdAt lastUsedAt revokedAt } }",
            Some(token),
        )
        .await
    }

    /// Creates an API key and returns `(id, secret)`.
    pub async fn create_api_key(&self, token: &str, name: &str, role: &str) -> (String, String) {
        let response = self.create_api_key_raw(token, name, role).await;
        let payload = &data(&response)["createApiKey"];
        (str_at(payload, "/apiKey/id"), str_at(payload, "/secret"))
    }

    /// Runs `revokeApiKey`; returns the whole response.
    pub async fn revoke_api_key(&self, token: &str, id: &str) -> Value {
        self.mutate(
            "revokeApiKey",
            json!({ "id": id }),
            "{ id revokedAt }",
            Some(token),
        )
        .await
    }

    /// `apiKeys(first: 100)` nodes, the whole response.
    pub async fn api_keys(&self, token: &str) -> Value {
        self.graphql(
            "{ apiKeys(first: 100) { totalCount edges { node { id name prefix role createdAt lastUsedAt revokedAt } } } }",
            json!({}),
            Some(token),
        )
        .await
    }

    /// Creates an operator through the CLI entry point and logs it in.
    pub async fn operator(&self, email: &str) -> Session {
        refhub_api::cli::create_operator(&self.database_url, email, PASSWORD)
            .await
            .expect("create_operator failed");
        self.log_in(email, None).await
    }
}

/// `data` of a response; fails the test when the response carries errors.
#[track_caller]
pub fn data(response: &Value) -> &Value {
    if let Some(errors) = response.get("errors") {
        panic!("unexpected GraphQL errors: {errors:#}\nresponse: {response:#}");
    }
    response
        .get("data")
        .unwrap_or_else(|| panic!("response without data: {response:#}"))
}

/// `errors[0].extensions.code`
pub fn error_code(response: &Value) -> Option<String> {
    first_error_extension(response, "code")
}

/// `errors[0].extensions.field`
pub fn error_field(response: &Value) -> Option<String> {
    first_error_extension(response, "field")
}

/// `errors[0].extensions.reason`
pub fn error_reason(response: &Value) -> Option<String> {
    first_error_extension(response, "reason")
}

/// `errors[0].message`
pub fn error_message(response: &Value) -> Option<String> {
    response
        .pointer("/errors/0/message")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn first_error_extension(response: &Value, key: &str) -> Option<String> {
    response
        .pointer(&format!("/errors/0/extensions/{key}"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Asserts that the response failed with `code` and that no message leaks database text.
#[track_caller]
pub fn assert_error(response: &Value, code: &str) {
    assert_eq!(
        error_code(response).as_deref(),
        Some(code),
        "expected error code {code}, got: {response:#}"
    );
    assert_no_database_text(response);
}

/// Asserts a VALIDATION error on `field`.
#[track_caller]
pub fn assert_validation(response: &Value, field: &str) {
    assert_error(response, "VALIDATION");
    assert_eq!(
        error_field(response).as_deref(),
        Some(field),
        "expected a VALIDATION error on field {field}, got: {response:#}"
    );
}

/// Asserts that no error message mentions SQL, sqlx, the database or a constraint.
#[track_caller]
pub fn assert_no_database_text(response: &Value) {
    let Some(errors) = response.get("errors").and_then(Value::as_array) else {
        return;
    };
    for error in errors {
        let message = error["message"].as_str().unwrap_or_default().to_lowercase();
        for word in DATABASE_WORDS {
            assert!(
                !message.contains(word),
                "an error message leaks database text ({word:?}): {error:#}"
            );
        }
    }
}

/// The nodes of a Relay connection.
pub fn nodes(connection: &Value) -> Vec<Value> {
    connection["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("not a connection: {connection:#}"))
        .iter()
        .map(|edge| edge["node"].clone())
        .collect()
}

/// The string at a JSON pointer; panics with the value when absent.
#[track_caller]
pub fn str_at(value: &Value, pointer: &str) -> String {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {pointer} in {value:#}"))
        .to_owned()
}

/// The token of the invitation link in an e-mail's text (`…#token=<token>`).
#[track_caller]
pub fn token_in_link(text: &str) -> String {
    let (_, after) = text
        .split_once("#token=")
        .unwrap_or_else(|| panic!("no invitation link in {text:?}"));
    after
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect()
}

/// A fresh random UUID, as a stranger's id.
pub fn random_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
