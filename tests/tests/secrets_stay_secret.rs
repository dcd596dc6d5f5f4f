//! Secrets stay secret (issue #7, item 5).
//!
//! The real server runs as a child process with `RUST_LOG=debug` (trace for refhub's crates),
//! its stdout and stderr captured to a file, and serves a session of the suite's traffic with
//! known secret values: passwords (sign-up, log-in, a wrong one, a weak one), the Meta app
//! secret and verify token (connecting the app, the webhook handshake with the right and a
//! wrong token, signed deliveries and badly signed ones), page access tokens (connectPage,
//! updatePage), notification tokens (opt-ins; sendTopicNotification to a fake Graph API that
//! accepts one token and refuses another), refresh tokens (rotation, reuse of a used one), API
//! keys (created, used, revoked, used again) and access tokens (used, logged out, used again).
//!
//! None of them may appear in the logs, in any answer the test received (bodies and headers,
//! errors included) or, in plain text, in the database. The only exceptions are the answers
//! that hand a secret to its owner on purpose, and there only in the field that carries it:
//! `accessToken`/`refreshToken` of `signUp`, `logIn` and `refreshToken`, and `secret` of
//! `createApiKey`. What the fake Graph API receives is not checked: it must get the page and
//! notification tokens, and the test asserts that it did.
//!
//! The server process is this test binary run again with `SECRETS_CHILD_SERVER=1` (the
//! ignored test `child_server`), which starts the app exactly as `refhub serve` does:
//! `Config::from_env`, `telemetry::init`, `Application::build`. (The `refhub_server` helper
//! binary neither installs the log subscriber nor reads `GRAPH_API_BASE_URL`, so its logs would
//! be empty and prove nothing.)

#[allow(dead_code)]
#[path = "webhooks/support.rs"]
mod hooks;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use refhub_api::config::{TEST_ENCRYPTION_KEY, TEST_JWT_SECRET};
use refhub_tests::{AUTH_PAYLOAD_FIELDS, TestApp, spawn_app_with};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use serde_json::{Value, json};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use hooks::{PAGE, eventually, signature};

/// Set in the child process's environment.
const CHILD: &str = "SECRETS_CHILD_SERVER";

const EMAIL: &str = "owner@secret.test";
const PASSWORD: &str = "Sekret-Owner-Pa55phrase-7731";
const WRONG_PASSWORD: &str = "Wrong-Guess-Pa55phrase-0042";
const WEAK_PASSWORD: &str = "aaaaaaaaaa1x";
const APP_SECRET: &str = "appsecret0c8f1e2d3b4a59687766554433221100";
const BAD_APP_SECRET: &str = "forgedsecret99887766554433221100ffeeddcc";
const VERIFY_TOKEN: &str = "verifytoken-Hq7RzK2wLm9";
const WRONG_VERIFY_TOKEN: &str = "verifyguess-Pp3XcV8nBt1";
const PAGE_TOKEN: &str = "EAAPageTokenFirst5f4e3d2c1b0aZDZD";
const PAGE_TOKEN_2: &str = "EAAPageTokenSecond9a8b7c6d5e4fZDZD";
const NOTIFICATION_TOKEN: &str = "notiftokenAccepted7f3a9c2e1b5d";
const REFUSED_NOTIFICATION_TOKEN: &str = "notiftokenRefused4e8b2d6f0a1c";
const FORGED_NOTIFICATION_TOKEN: &str = "notiftokenForged1a2b3c4d5e6f";
const PSID: &str = "6100000000000901";
const PSID_2: &str = "6100000000000902";
const TOPIC: &str = "Deals";

// ---------------------------------------------------------------------------------------------
// The server process.

/// The child: the app as `refhub serve` starts it, configured by the environment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the server process of `secrets_never_reach_logs_answers_or_the_database`"]
async fn child_server() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let config = refhub_api::Config::from_env().expect("configuration from the environment");
    refhub_api::telemetry::init(&config);
    config.log_warnings();
    let app = refhub_api::Application::build(config)
        .await
        .expect("the application builds");
    println!("listening on {}", app.port());
    app.run_until_stopped().await.expect("the server runs");
    println!("stopped");
}

struct Server {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Server {
    async fn start(database_url: &str, graph: &str, dir: &Path) -> Server {
        let log = dir.join("server.log");
        let out = File::create(&log).expect("the log file");
        let err = out.try_clone().expect("the log file, again");
        let child = Command::new(std::env::current_exe().expect("this test binary"))
            .args(["child_server", "--exact", "--ignored", "--nocapture"])
            .args(["--test-threads", "1"])
            .env(CHILD, "1")
            .env("APP_ENV", "development")
            .env("DATABASE_URL", database_url)
            .env("MIGRATE_ON_START", "false")
            .env("BIND_ADDR", "127.0.0.1:0")
            .env("PUBLIC_BASE_URL", "http://refhub.test")
            .env("JWT_SECRET", TEST_JWT_SECRET)
            .env("ENCRYPTION_KEY", hex::encode(TEST_ENCRYPTION_KEY))
            .env("GRAPH_API_BASE_URL", graph)
            .env("WORKERS", "1")
            .env("OUTBOX_RETRY_BASE_MS", "50")
            .env("SIGN_IN_PER_MINUTE", "1000")
            .env("DATA_DIR", dir.join("data"))
            .env(
                "RUST_LOG",
                "debug,refhub_api=trace,refhub_domain=trace,refhub_persistence=trace,refhub_graphql=trace",
            )
            .env_remove("RUST_LOG_STYLE")
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .expect("the server process starts");
        let port = eventually(
            "the server to print its port",
            Duration::from_secs(60),
            async || {
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                text.lines()
                    .find_map(|line| line.strip_prefix("listening on "))
                    .map(|port| port.trim().to_owned())
                    .ok_or_else(|| text.chars().rev().take(2000).collect::<String>())
            },
        )
        .await;
        Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    /// SIGTERM, then the whole log once the process has exited.
    async fn stop(mut self) -> String {
        let signalled = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(signalled.success());
        let mut child = std::mem::replace(
            &mut self.child,
            Command::new("true").spawn().expect("a placeholder process"),
        );
        let status = tokio::task::spawn_blocking(move || child.wait())
            .await
            .expect("task")
            .expect("the server exits");
        let log = std::fs::read_to_string(&self.log).expect("the log");
        assert!(status.success(), "the server exited with {status}: {log}");
        log
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// A fake Graph API.

/// Accepts the registration to `PSID` and notifications with `NOTIFICATION_TOKEN`; refuses
/// `REFUSED_NOTIFICATION_TOKEN` for good; answers every flow message with a transient 500 (so
/// that it is retried, then given up); refuses everything else.
struct FakeMeta;

impl Respond for FakeMeta {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let error = |status: u16, code: i64, message: &str| {
            ResponseTemplate::new(status).set_body_json(json!({ "error": {
                "message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbC123",
            } }))
        };
        let token = body["recipient"]["notification_messages_token"].as_str();
        if token == Some(NOTIFICATION_TOKEN)
            || (body["recipient"]["id"] == PSID && body["messaging_type"].is_null())
        {
            return ResponseTemplate::new(200)
                .set_body_json(json!({ "recipient_id": PSID, "message_id": "m_accepted" }));
        }
        if token == Some(REFUSED_NOTIFICATION_TOKEN) {
            return error(400, 100, "(#100) Invalid notification messages token");
        }
        if !body["messaging_type"].is_null() {
            return error(
                500,
                2,
                "An unexpected error has occurred. Please retry later.",
            );
        }
        error(400, 100, "(#100) No matching user found")
    }
}

// ---------------------------------------------------------------------------------------------
// A client that keeps every answer.

struct Exchange {
    label: String,
    /// Status, headers and body, with what was handed over on purpose blanked out.
    text: String,
}

struct Client {
    base: String,
    http: reqwest::Client,
    exchanges: Vec<Exchange>,
    /// Secrets the server issued: access tokens, refresh tokens, API keys.
    issued: Vec<(String, String)>,
}

impl Client {
    /// Sends a request, records its answer and returns `(status, body)`.
    async fn send(
        &mut self,
        label: &str,
        request: reqwest::RequestBuilder,
        handed_over: &[&str],
    ) -> (u16, String) {
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let headers = format!("{:?}", response.headers());
        let body = response.text().await.unwrap_or_default();
        let mut recorded = body.clone();
        if !handed_over.is_empty() {
            let mut value: Value = serde_json::from_str(&body).expect("a JSON answer");
            for pointer in handed_over {
                let Some(field) = value.pointer_mut(pointer) else {
                    panic!("{label}: nothing at {pointer} in {body}");
                };
                let secret = field.as_str().expect("a secret string").to_owned();
                self.issued.push((format!("{label} {pointer}"), secret));
                *field = json!("<handed to its owner>");
            }
            recorded = value.to_string();
        }
        self.exchanges.push(Exchange {
            label: label.to_owned(),
            text: format!("{status}\n{headers}\n{recorded}"),
        });
        (status, body)
    }

    /// POSTs a GraphQL request; returns the answer.
    async fn graphql(
        &mut self,
        label: &str,
        query: &str,
        variables: Value,
        bearer: Option<&str>,
        handed_over: &[&str],
    ) -> Value {
        let mut request = self
            .http
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        let (status, body) = self.send(label, request, handed_over).await;
        assert_eq!(status, 200, "{label}: {body}");
        serde_json::from_str(&body).expect("a JSON answer")
    }

    async fn mutate(
        &mut self,
        name: &str,
        input: Value,
        selection: &str,
        bearer: Option<&str>,
    ) -> Value {
        let input_type = format!("{}{}Input", name[..1].to_uppercase(), &name[1..]);
        let query =
            format!("mutation($input: {input_type}!) {{ {name}(input: $input) {selection} }}");
        self.graphql(name, &query, json!({ "input": input }), bearer, &[])
            .await
    }

    /// A mutation answering an `AuthPayload`, whose tokens are handed to their owner.
    async fn auth(&mut self, name: &str, input: Value, bearer: Option<&str>) -> Value {
        let input_type = format!("{}{}Input", name[..1].to_uppercase(), &name[1..]);
        let query = format!(
            "mutation($input: {input_type}!) {{ {name}(input: $input) {{ {AUTH_PAYLOAD_FIELDS} }} }}"
        );
        let access = format!("/data/{name}/accessToken");
        let refresh = format!("/data/{name}/refreshToken");
        let first = self
            .graphql(name, &query, json!({ "input": input }), bearer, &[])
            .await;
        if first.get("errors").is_some() {
            return first;
        }
        // The answer was recorded whole above: take it back and record it with the tokens
        // blanked out, as an answer that hands them over on purpose.
        let recorded = self.exchanges.pop().expect("just recorded");
        let mut value = first.clone();
        for pointer in [&access, &refresh] {
            let field = value.pointer_mut(pointer).expect("a token");
            self.issued.push((
                format!("{name} {pointer}"),
                field.as_str().expect("a token").to_owned(),
            ));
            *field = json!("<handed to its owner>");
        }
        let head: Vec<&str> = recorded.text.splitn(3, '\n').take(2).collect();
        self.exchanges.push(Exchange {
            label: recorded.label,
            text: format!("{}\n{}\n{value}", head[0], head[1]),
        });
        first
    }
}

#[track_caller]
fn ok(response: &Value) -> &Value {
    assert!(
        response.get("errors").is_none(),
        "unexpected errors: {response:#}"
    );
    &response["data"]
}

#[track_caller]
fn code(response: &Value) -> String {
    response
        .pointer("/errors/0/extensions/code")
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("expected an error: {response:#}"))
        .to_owned()
}

// ---------------------------------------------------------------------------------------------
// Where secrets could hide.

/// The ways a secret could sit somewhere unprotected: as is, as hex or base64 of its bytes.
fn plaintext_forms(secret: &str) -> Vec<String> {
    let hex = hex::encode(secret.as_bytes());
    vec![
        secret.to_owned(),
        hex.clone(),
        hex.to_uppercase(),
        base64::engine::general_purpose::STANDARD.encode(secret),
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(secret),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret),
    ]
}

/// Every row of every table, as text.
async fn database_dump(app: &TestApp) -> String {
    let (url, backend) = match &app.admin_database_url {
        Some(admin) => (admin.clone(), DbBackend::Postgres),
        None => (app.database_url.clone(), DbBackend::Sqlite),
    };
    let db = Database::connect(&url).await.expect("the test database");
    let list = match backend {
        DbBackend::Postgres => {
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        }
        _ => "SELECT name FROM sqlite_master WHERE type = 'table'",
    };
    let tables: Vec<String> = db
        .query_all_raw(Statement::from_string(backend, list))
        .await
        .expect("listing tables")
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).expect("a table name"))
        .collect();
    let mut dump = String::new();
    for table in tables {
        let rows = match backend {
            DbBackend::Postgres => format!(r#"SELECT row_to_json(t)::text FROM "{table}" t"#),
            _ => {
                let columns: Vec<String> = db
                    .query_all_raw(Statement::from_string(
                        backend,
                        format!("SELECT name FROM pragma_table_info('{table}')"),
                    ))
                    .await
                    .expect("listing columns")
                    .iter()
                    .map(|row| row.try_get_by_index::<String>(0).expect("a column name"))
                    .collect();
                if columns.is_empty() {
                    continue;
                }
                let row = columns
                    .iter()
                    .map(|c| format!(r#"quote("{c}")"#))
                    .collect::<Vec<_>>()
                    .join(" || '|' || ");
                format!(r#"SELECT {row} FROM "{table}""#)
            }
        };
        for row in db
            .query_all_raw(Statement::from_string(backend, rows))
            .await
            .unwrap_or_else(|e| panic!("reading {table}: {e}"))
        {
            let text: String = row.try_get_by_index(0).unwrap_or_default();
            dump.push_str(&format!("{table}: {text}\n"));
        }
    }
    db.close().await.ok();
    dump
}

/// Where `needle` sits in `text` (its first two places, with some context), for failure
/// messages.
fn places(text: &str, needle: &str) -> String {
    text.match_indices(needle)
        .take(2)
        .map(|(at, _)| {
            let start = text[..at]
                .char_indices()
                .rev()
                .nth(160)
                .map_or(0, |(i, _)| i);
            let end = text[at..]
                .char_indices()
                .nth(needle.len() + 80)
                .map_or(text.len(), |(i, _)| at + i);
            format!("    …{}…", text[start..end].replace('\n', " "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

// ---------------------------------------------------------------------------------------------
// The test.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_logs_answers_or_the_database() {
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/v[0-9.]+/[0-9]+/messages$"))
        .respond_with(FakeMeta)
        .mount(&graph)
        .await;
    // A fresh database (on PostgreSQL: migrated, reached as the application role). The app
    // that made it runs no workers and serves nothing here: all traffic goes to the child.
    let app = spawn_app_with(|config| config.workers = 0).await;
    let dir = tempfile::tempdir().expect("temp dir");
    // The child talks to the stand-in Meta, behind the Send API mock above.
    let meta = refhub_tests::FakeMeta::attach(&graph).await;
    let server = Server::start(&app.database_url, &meta.base_url(), dir.path()).await;
    let mut c = Client {
        base: server.base.clone(),
        http: refhub_tests::http_client(),
        exchanges: Vec::new(),
        issued: Vec::new(),
    };

    // Passwords: sign up (a weak password first), log in, a wrong password.
    let weak = c
        .mutate(
            "signUp",
            json!({ "email": EMAIL, "password": WEAK_PASSWORD, "tenantName": "Secretive" }),
            "{ accessToken }",
            None,
        )
        .await;
    assert_eq!(code(&weak), "VALIDATION");
    let signed_up = c
        .auth(
            "signUp",
            json!({ "email": EMAIL, "password": PASSWORD, "tenantName": "Secretive" }),
            None,
        )
        .await;
    let first_refresh = ok(&signed_up)["signUp"]["refreshToken"]
        .as_str()
        .expect("a refresh token")
        .to_owned();
    let logged_in = c
        .auth(
            "logIn",
            json!({ "email": EMAIL, "password": PASSWORD }),
            None,
        )
        .await;
    let token = ok(&logged_in)["logIn"]["accessToken"]
        .as_str()
        .expect("an access token")
        .to_owned();
    let t = Some(token.as_str());
    let wrong = c
        .auth(
            "logIn",
            json!({ "email": EMAIL, "password": WRONG_PASSWORD }),
            None,
        )
        .await;
    assert_eq!(code(&wrong), "UNAUTHENTICATED");
    let duplicate = c
        .auth(
            "signUp",
            json!({ "email": EMAIL, "password": WRONG_PASSWORD, "tenantName": "Again" }),
            None,
        )
        .await;
    assert!(duplicate.get("errors").is_some(), "{duplicate}");

    // The Meta app and the webhook handshake, with the right and a wrong verify token.
    let connected = c
        .mutate(
            "connectMessengerApp",
            json!({ "appId": "1234567", "appSecret": APP_SECRET, "verifyToken": VERIFY_TOKEN }),
            "{ id appId webhookUrl }",
            t,
        )
        .await;
    let webhook_url = ok(&connected)["connectMessengerApp"]["webhookUrl"]
        .as_str()
        .expect("a webhook URL")
        .to_owned();
    let webhook = format!(
        "{}{}",
        server.base,
        webhook_url
            .strip_prefix("http://refhub.test")
            .expect("PUBLIC_BASE_URL")
    );
    let refused = c
        .mutate(
            "connectMessengerApp",
            json!({ "appId": "not digits", "appSecret": APP_SECRET, "verifyToken": VERIFY_TOKEN }),
            "{ id }",
            t,
        )
        .await;
    assert_eq!(code(&refused), "VALIDATION");
    for (verify, expected) in [(VERIFY_TOKEN, 200), (WRONG_VERIFY_TOKEN, 403)] {
        let request = c.http.get(&webhook).query(&[
            ("hub.mode", "subscribe"),
            ("hub.verify_token", verify),
            ("hub.challenge", "challenge-1158"),
        ]);
        let (status, body) = c.send("webhook handshake", request, &[]).await;
        assert_eq!(status, expected, "handshake with {verify}: {body}");
    }

    // Page tokens (Meta knows the page and both: its profile fetches and token checks work).
    meta.add_page(PAGE, "Shop", None, PAGE_TOKEN);
    meta.add_page(PAGE, "Shop", None, PAGE_TOKEN_2);
    let page = c
        .mutate(
            "connectPage",
            json!({ "facebookPageId": PAGE, "name": "Shop", "accessToken": PAGE_TOKEN }),
            "{ id facebookPageId name }",
            t,
        )
        .await;
    let page = ok(&page)["connectPage"]["id"]
        .as_str()
        .expect("a page id")
        .to_owned();
    let invalid = c
        .mutate(
            "updatePage",
            json!({ "id": page, "name": "", "accessToken": PAGE_TOKEN_2 }),
            "{ id }",
            t,
        )
        .await;
    assert_eq!(code(&invalid), "VALIDATION");
    ok(&c
        .mutate(
            "updatePage",
            json!({ "id": page, "accessToken": PAGE_TOKEN_2 }),
            "{ id name updatedAt }",
            t,
        )
        .await);
    let topic = c
        .mutate(
            "createNotificationTopic",
            json!({ "pageId": page, "title": TOPIC }),
            "{ id }",
            t,
        )
        .await;
    let topic = ok(&topic)["createNotificationTopic"]["id"]
        .as_str()
        .expect("a topic id")
        .to_owned();
    for psid in [PSID, "999"] {
        ok(&c
            .mutate(
                "registerNotificationTopic",
                json!({ "topicId": topic, "psid": psid }),
                "{ id registration { status messageId error } }",
                t,
            )
            .await);
    }

    // Signed deliveries: a message, two opt-ins with notification tokens; then a forged one
    // carrying a third token, and one without a signature.
    let now = hooks::now_ms();
    let expiry = now + 30 * 86_400_000;
    let deliveries = [
        hooks::body(&[hooks::message(PSID, now, "m_secret_1", "hello")]),
        hooks::body(&[hooks::opt_in(
            PSID,
            now + 1,
            NOTIFICATION_TOKEN,
            TOPIC,
            expiry,
        )]),
        hooks::body(&[hooks::opt_in(
            PSID_2,
            now + 2,
            REFUSED_NOTIFICATION_TOKEN,
            TOPIC,
            expiry,
        )]),
    ];
    for body in &deliveries {
        let request = c
            .http
            .post(&webhook)
            .header("Content-Type", "application/json")
            .header(
                "X-Hub-Signature-256",
                signature(APP_SECRET, body.as_bytes()),
            )
            .body(body.clone());
        let (status, answer) = c.send("signed delivery", request, &[]).await;
        assert_eq!(status, 200, "{answer}");
    }
    let forged = hooks::body(&[hooks::opt_in(
        PSID,
        now + 3,
        FORGED_NOTIFICATION_TOKEN,
        TOPIC,
        expiry,
    )]);
    for signed in [Some(signature(BAD_APP_SECRET, forged.as_bytes())), None] {
        let mut request = c
            .http
            .post(&webhook)
            .header("Content-Type", "application/json")
            .body(forged.clone());
        if let Some(signed) = signed {
            request = request.header("X-Hub-Signature-256", signed);
        }
        let (status, answer) = c.send("forged delivery", request, &[]).await;
        assert_eq!(status, 401, "{answer}");
    }
    let events_query = "{ webhookEvents(first: 50) { totalCount nodes { id kind status sender body outcome error } } }";
    let mut reader = Client {
        base: c.base.clone(),
        http: c.http.clone(),
        exchanges: Vec::new(),
        issued: Vec::new(),
    };
    eventually(
        "three processed events",
        Duration::from_secs(20),
        async || {
            let events = reader
                .graphql("webhookEvents", events_query, json!({}), t, &[])
                .await;
            let nodes = ok(&events)["webhookEvents"]["nodes"].clone();
            let done = nodes
                .as_array()
                .is_some_and(|n| n.len() == 3 && n.iter().all(|e| e["status"] == "PROCESSED"));
            if done { Ok(()) } else { Err(nodes.to_string()) }
        },
    )
    .await;
    c.exchanges.append(&mut reader.exchanges);
    let subscribers_query = "query($p: ID!) { subscribers(pageId: $p, first: 50) { nodes { id psid \
         optIns { id topicTitle status frequency expiresAt lastSentAt } } } }";
    let subscribers = c
        .graphql(
            "subscribers",
            subscribers_query,
            json!({ "p": page }),
            t,
            &[],
        )
        .await;
    let subscriber = ok(&subscribers)["subscribers"]["nodes"]
        .as_array()
        .expect("subscribers")
        .iter()
        .find(|s| s["psid"] == PSID)
        .expect("the subscriber of the message")["id"]
        .as_str()
        .expect("an id")
        .to_owned();

    // Notifications (one accepted, one refused) and a flow message the Graph API keeps failing.
    let sent = c
        .mutate(
            "sendTopicNotification",
            json!({ "topicId": topic, "message": { "text": "Half price today" } }),
            "{ queued skipped }",
            t,
        )
        .await;
    assert_eq!(ok(&sent)["sendTopicNotification"]["queued"], 2, "{sent}");
    let flow = c
        .mutate(
            "createFlow",
            json!({ "name": "Hello", "steps": [{ "sendText": { "text": "Hello there" } }] }),
            "{ id }",
            t,
        )
        .await;
    let flow = ok(&flow)["createFlow"]["id"]
        .as_str()
        .expect("a flow id")
        .to_owned();
    ok(&c
        .mutate(
            "startFlow",
            json!({ "flowId": flow, "subscriberIds": [subscriber] }),
            "{ runs { id status } }",
            t,
        )
        .await);
    let outbox_query = "{ outboundMessages(first: 50) { nodes { id kind status attempts \
         messagingType message lastError errorCode metaMessageId } } }";
    let mut reader = Client {
        base: c.base.clone(),
        http: c.http.clone(),
        exchanges: Vec::new(),
        issued: Vec::new(),
    };
    eventually(
        "three settled outbound messages",
        Duration::from_secs(30),
        async || {
            let messages = reader
                .graphql("outboundMessages", outbox_query, json!({}), t, &[])
                .await;
            let nodes = ok(&messages)["outboundMessages"]["nodes"].clone();
            let statuses: Vec<&str> = nodes
                .as_array()
                .map(|n| n.iter().filter_map(|m| m["status"].as_str()).collect())
                .unwrap_or_default();
            let mut sorted = statuses.clone();
            sorted.sort_unstable();
            if sorted == ["FAILED", "FAILED", "SENT"] {
                Ok(())
            } else {
                Err(nodes.to_string())
            }
        },
    )
    .await;
    c.exchanges.append(&mut reader.exchanges);
    ok(&c
        .graphql(
            "flowRuns",
            "{ flowRuns(first: 10) { nodes { id status error history { action detail error } } } }",
            json!({}),
            t,
            &[],
        )
        .await);
    ok(&c
        .graphql(
            "everything",
            "query($p: ID!) { me { id email role } messengerApp { id appId webhookUrl } \
             page(id: $p) { id name facebookPageId } \
             notificationTopics { nodes { id title registration { status error messageId } } } }",
            json!({ "p": page }),
            t,
            &[],
        )
        .await);

    // Refresh tokens: rotate, then present the used one again (which ends the session).
    let refreshed = c
        .auth(
            "refreshToken",
            json!({ "refreshToken": first_refresh }),
            None,
        )
        .await;
    let second_refresh = ok(&refreshed)["refreshToken"]["refreshToken"]
        .as_str()
        .expect("a refresh token")
        .to_owned();
    let reused = c
        .auth(
            "refreshToken",
            json!({ "refreshToken": first_refresh }),
            None,
        )
        .await;
    assert_eq!(code(&reused), "UNAUTHENTICATED");
    let revoked = c
        .auth(
            "refreshToken",
            json!({ "refreshToken": second_refresh }),
            None,
        )
        .await;
    assert_eq!(code(&revoked), "UNAUTHENTICATED");

    // API keys: create, use (GraphQL and CSV), revoke, use again.
    let key = c
        .graphql(
            "createApiKey",
            "mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id name prefix role } } }",
            json!({ "input": { "name": "CI", "role": "ADMIN" } }),
            t,
            &["/data/createApiKey/secret"],
        )
        .await;
    let key_id = ok(&key)["createApiKey"]["apiKey"]["id"]
        .as_str()
        .expect("a key id")
        .to_owned();
    let secret = c.issued.last().expect("the key").1.clone();
    ok(&c
        .graphql(
            "as the API key",
            "{ me { id kind role } pages { nodes { id name } } apiKeys { nodes { id prefix lastUsedAt } } }",
            json!({}),
            Some(&secret),
            &[],
        )
        .await);
    let csv = c
        .http
        .get(format!("{}/api/pages/{page}/subscribers.csv", c.base))
        .bearer_auth(&secret);
    let (status, _) = c.send("CSV with the API key", csv, &[]).await;
    assert_eq!(status, 200);
    ok(&c
        .mutate(
            "revokeApiKey",
            json!({ "id": key_id }),
            "{ id revokedAt }",
            t,
        )
        .await);
    let refused = c
        .graphql(
            "revoked API key",
            "{ me { id } }",
            json!({}),
            Some(&secret),
            &[],
        )
        .await;
    assert_eq!(code(&refused), "UNAUTHENTICATED");
    let csv = c
        .http
        .get(format!("{}/api/pages/{page}/subscribers.csv", c.base))
        .bearer_auth(&secret);
    let (status, _) = c.send("CSV with a revoked key", csv, &[]).await;
    assert_eq!(status, 401);

    // Access tokens: log out, then use the token again.
    ok(&c
        .graphql(
            "logOut",
            "mutation { logOut { revokedSessions } }",
            json!({}),
            t,
            &[],
        )
        .await);
    let after = c
        .graphql("logged-out token", "{ me { id } }", json!({}), t, &[])
        .await;
    assert_eq!(code(&after), "UNAUTHENTICATED");
    let forged = format!("{token}x");
    let after = c
        .graphql(
            "tampered token",
            "{ me { id } }",
            json!({}),
            Some(&forged),
            &[],
        )
        .await;
    assert_eq!(code(&after), "UNAUTHENTICATED");

    let log = server.stop().await;

    // The fake Graph API did receive the secrets it must receive.
    let received = graph.received_requests().await.expect("recording");
    let seen: String = received
        .iter()
        .map(|r| format!("{} {}\n", r.url, String::from_utf8_lossy(&r.body)))
        .collect();
    for needed in [PAGE_TOKEN_2, NOTIFICATION_TOKEN, REFUSED_NOTIFICATION_TOKEN] {
        assert!(
            seen.contains(needed),
            "the Graph API never received {needed:?}: the test proves nothing\n{seen}"
        );
    }
    // The log is a real debug log of this traffic, not an empty file.
    assert!(
        log.contains("DEBUG") && log.contains("HTTP request") && log.lines().count() > 40,
        "the server logged too little to prove anything:\n{log}"
    );

    // The secrets: fixed ones, and those the server issued.
    let mut secrets: Vec<(String, String)> = [
        ("the password", PASSWORD),
        ("a wrong password", WRONG_PASSWORD),
        ("a weak password", WEAK_PASSWORD),
        ("the app secret", APP_SECRET),
        ("a forger's app secret", BAD_APP_SECRET),
        ("the verify token", VERIFY_TOKEN),
        ("a wrong verify token", WRONG_VERIFY_TOKEN),
        ("the first page token", PAGE_TOKEN),
        ("the second page token", PAGE_TOKEN_2),
        ("a notification token", NOTIFICATION_TOKEN),
        ("a refused notification token", REFUSED_NOTIFICATION_TOKEN),
        (
            "a forged delivery's notification token",
            FORGED_NOTIFICATION_TOKEN,
        ),
        ("the JWT secret", TEST_JWT_SECRET),
    ]
    .iter()
    .map(|(what, value)| ((*what).to_owned(), (*value).to_owned()))
    .collect();
    secrets.push((
        "the encryption key (hex)".to_owned(),
        hex::encode(TEST_ENCRYPTION_KEY),
    ));
    secrets.push((
        "the encryption key (base64)".to_owned(),
        base64::engine::general_purpose::STANDARD.encode(TEST_ENCRYPTION_KEY),
    ));
    assert!(
        c.issued.len() >= 7,
        "expected access and refresh tokens and an API key: {:?}",
        c.issued.iter().map(|(what, _)| what).collect::<Vec<_>>()
    );
    secrets.extend(
        c.issued
            .iter()
            .map(|(what, value)| (format!("issued by {what}"), value.clone())),
    );
    secrets.push(("a tampered access token".to_owned(), forged));

    let mut failures = Vec::new();
    for (what, secret) in &secrets {
        for form in plaintext_forms(secret) {
            if log.contains(&form) {
                failures.push(format!(
                    "the log holds {what} ({form:?}):\n{}",
                    places(&log, &form)
                ));
            }
        }
        let mut reported = std::collections::BTreeSet::new();
        for exchange in &c.exchanges {
            if exchange.text.contains(secret.as_str()) && reported.insert(&exchange.label) {
                failures.push(format!(
                    "the answer to {} holds {what} ({secret:?}):\n{}",
                    exchange.label,
                    places(&exchange.text, secret)
                ));
            }
        }
    }

    // Bonus: nothing in plain text in the database (fingerprints and ciphertexts only).
    let dump = database_dump(&app).await;
    assert!(dump.contains(PSID), "the dump reads the data");
    for (what, secret) in &secrets {
        for form in plaintext_forms(secret) {
            if dump.contains(&form) {
                failures.push(format!(
                    "the database holds {what} in plain text ({form:?}):\n{}",
                    places(&dump, &form)
                ));
            }
        }
    }
    assert!(
        c.exchanges.len() > 40,
        "{} answers recorded",
        c.exchanges.len()
    );
    assert!(
        failures.is_empty(),
        "{} leaks of secrets ({} answers, {} log lines checked):\n\n{}",
        failures.len(),
        c.exchanges.len(),
        log.lines().count(),
        failures.join("\n\n")
    );
}
