//! Shared steps of the webhook tests: connecting a tenant's Meta app and page, signing and
//! posting deliveries the way Meta does, building messaging items, reading subscribers and
//! webhook events through GraphQL, waiting (by polling) for the workers, and running workers
//! in processes of their own.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone as _, Utc};
use hmac::{Hmac, Mac as _};
use refhub_tests::{Session, TestApp, data, str_at};
use serde_json::{Value, json};
use sha2::Sha256;

/// The page of the fixtures.
pub const PAGE: &str = "104857600000001";
/// The page access token the tests connect pages with.
pub const PAGE_TOKEN: &str = "EAAB-token-0001";
/// The Meta app id the tests connect.
pub const APP_ID: &str = "1234567";
/// What the webhook URLs of the tests start with (`PUBLIC_BASE_URL` of `Config::for_tests`).
pub const PUBLIC_WEBHOOK_PREFIX: &str = "http://refhub.test/webhooks/messenger/";

/// How long the in-process workers get to reach an expected state.
pub const WAIT: Duration = Duration::from_secs(15);

/// The selection of a `Subscriber` the tests read.
pub const SUBSCRIBER_FIELDS: &str = "id psid userRef sourceRef sourceRefLink { id ref } \
     entryCount firstSeenAt lastInteractionAt withinMessagingWindow \
     fields { field { id number } value setAt } tags { id name } \
     optIns { topic { id title } topicTitle status frequency timezone expiresAt }";

/// The selection of a `WebhookEvent` the tests read.
pub const EVENT_FIELDS: &str = "id kind status pageFacebookId sender body outcome error attempts \
     occurredAt receivedAt processedAt";

/// A tenant with its Meta app and one page connected.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub session: Session,
    pub app_secret: String,
    pub verify_token: String,
    /// `/webhooks/messenger/{key}`, the path part of the `webhookUrl`.
    pub webhook_path: String,
    /// The connected page's id (not Facebook's).
    pub page_id: String,
}

impl Tenant {
    /// The owner's access token.
    pub fn token(&self) -> &str {
        &self.session.access_token
    }
}

/// Signs up `email` with a tenant `name`, connects a Meta app with fresh secrets, and connects
/// the page `facebook_page_id`.
pub async fn connect_tenant(
    app: &TestApp,
    email: &str,
    name: &str,
    facebook_page_id: &str,
) -> Tenant {
    let session = app.sign_up(email, name).await;
    let app_secret = format!("app-secret-{}", uuid::Uuid::new_v4().simple());
    let verify_token = format!("verify-{}", uuid::Uuid::new_v4().simple());
    let connected = app
        .mutate(
            "connectMessengerApp",
            json!({ "appId": APP_ID, "appSecret": app_secret, "verifyToken": verify_token }),
            "{ id appId webhookUrl }",
            Some(&session.access_token),
        )
        .await;
    let url = str_at(data(&connected), "/connectMessengerApp/webhookUrl");
    let key = url
        .strip_prefix(PUBLIC_WEBHOOK_PREFIX)
        .unwrap_or_else(|| panic!("webhookUrl {url} does not start with {PUBLIC_WEBHOOK_PREFIX}"));
    assert!(
        !key.is_empty() && !key.contains('/'),
        "webhookUrl {url} does not end with a key"
    );
    // The stand-in Meta knows the page and its token (profile fetches, token checks and sends
    // that reach it are answered as Meta would).
    app.meta
        .add_page(facebook_page_id, &format!("{name} page"), None, PAGE_TOKEN);
    let page = app
        .mutate(
            "connectPage",
            json!({ "facebookPageId": facebook_page_id, "name": format!("{name} page"), "accessToken": PAGE_TOKEN }),
            "{ id }",
            Some(&session.access_token),
        )
        .await;
    Tenant {
        page_id: str_at(data(&page), "/connectPage/id"),
        webhook_path: format!("/webhooks/messenger/{key}"),
        session,
        app_secret,
        verify_token,
    }
}

/// `sha256=<hex HMAC-SHA256(secret, body)>`, as Meta signs a delivery.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// POSTs `body` to `path` with an optional `X-Hub-Signature-256`; returns `(status, body)`.
pub async fn post_webhook(
    app: &TestApp,
    path: &str,
    body: &[u8],
    signature: Option<&str>,
) -> (u16, String) {
    let mut request = app
        .client
        .post(app.url(path))
        .header("Content-Type", "application/json")
        .body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header("X-Hub-Signature-256", signature);
    }
    let response = request.send().await.expect("POST to the webhook failed");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

/// Signs `body` with the tenant's app secret and posts it to the tenant's URL; asserts that
/// the answer is `200 EVENT_RECEIVED`.
pub async fn deliver(app: &TestApp, tenant: &Tenant, body: impl AsRef<[u8]>) {
    let body = body.as_ref();
    let signed = signature(&tenant.app_secret, body);
    let (status, text) = post_webhook(app, &tenant.webhook_path, body, Some(&signed)).await;
    assert_eq!(
        (status, text.as_str()),
        (200, "EVENT_RECEIVED"),
        "a signed delivery was refused; body: {}",
        String::from_utf8_lossy(&body[..body.len().min(300)])
    );
}

// ---------------------------------------------------------------------------------------------
// The catalogue, as a dashboard would set it up.

/// Creates a custom field (with `number` when given); returns `(id, number)`.
pub async fn create_field(
    app: &TestApp,
    token: &str,
    name: &str,
    kind: &str,
    number: Option<i64>,
) -> (String, i64) {
    let mut input = json!({ "name": name, "type": kind });
    if let Some(number) = number {
        input["number"] = json!(number);
    }
    let response = app
        .mutate("createCustomField", input, "{ id number }", Some(token))
        .await;
    let field = &data(&response)["createCustomField"];
    let got = field["number"].as_i64().expect("a field number");
    if let Some(number) = number {
        assert_eq!(
            got, number,
            "createCustomField ignored the number asked for"
        );
    }
    (str_at(field, "/id"), got)
}

/// Creates a tag; returns its id.
pub async fn create_tag(app: &TestApp, token: &str, name: &str) -> String {
    let response = app
        .mutate("createTag", json!({ "name": name }), "{ id }", Some(token))
        .await;
    str_at(data(&response), "/createTag/id")
}

/// Creates a ref link; returns its id.
pub async fn create_link(
    app: &TestApp,
    token: &str,
    page_id: &str,
    reference: &str,
    default_field: Option<&str>,
    tags: &[&str],
) -> String {
    let response = app
        .mutate(
            "createRefLink",
            json!({ "pageId": page_id, "ref": reference, "defaultFieldId": default_field, "tagIds": tags }),
            "{ id }",
            Some(token),
        )
        .await;
    str_at(data(&response), "/createRefLink/id")
}

/// Creates a notification topic; returns its id.
pub async fn create_topic(app: &TestApp, token: &str, page_id: &str, title: &str) -> String {
    let response = app
        .mutate(
            "createNotificationTopic",
            json!({ "pageId": page_id, "title": title }),
            "{ id }",
            Some(token),
        )
        .await;
    str_at(data(&response), "/createNotificationTopic/id")
}

// ---------------------------------------------------------------------------------------------
// Messaging items and bodies.

/// Now, in epoch milliseconds.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// An instant from epoch milliseconds.
pub fn at_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .expect("a valid instant")
}

/// A `messaging_referrals` item: `psid` followed an m.me link with `reference`.
pub fn referral(psid: &str, timestamp: i64, reference: &str) -> Value {
    json!({
        "sender": { "id": psid },
        "recipient": { "id": PAGE },
        "timestamp": timestamp,
        "referral": { "ref": reference, "source": "SHORTLINK", "type": "OPEN_THREAD" },
    })
}

/// A text message from `psid`.
pub fn message(psid: &str, timestamp: i64, mid: &str, text: &str) -> Value {
    json!({
        "sender": { "id": psid },
        "recipient": { "id": PAGE },
        "timestamp": timestamp,
        "message": { "mid": mid, "text": text },
    })
}

/// A recurring-notification opt-in to `topic` with `token`, expiring at `expiry_ms`.
pub fn opt_in(psid: &str, timestamp: i64, token: &str, topic: &str, expiry_ms: i64) -> Value {
    json!({
        "sender": { "id": psid },
        "recipient": { "id": PAGE },
        "timestamp": timestamp,
        "optin": {
            "type": "notification_messages",
            "title": topic,
            "payload": "",
            "notification_messages_token": token,
            "notification_messages_topic": topic,
            "notification_messages_frequency": "WEEKLY",
            "notification_messages_timezone": "Europe/Berlin",
            "token_expiry_timestamp": expiry_ms,
            "user_token_status": "NOT_REFRESHED",
        },
    })
}

/// An opt-in status change (`STOP NOTIFICATIONS`, `RESUME NOTIFICATIONS`, …) for `token`.
pub fn opt_in_status(psid: &str, timestamp: i64, token: &str, status: &str) -> Value {
    json!({
        "sender": { "id": psid },
        "recipient": { "id": PAGE },
        "timestamp": timestamp,
        "optin": {
            "type": "notification_messages",
            "payload": "",
            "notification_messages_token": token,
            "notification_messages_status": status,
            "notification_messages_timezone": "Europe/Berlin",
        },
    })
}

/// A body with one entry holding every item in `messaging`.
pub fn body(items: &[Value]) -> String {
    let time = items
        .first()
        .and_then(|item| item["timestamp"].as_i64())
        .unwrap_or_else(now_ms);
    json!({ "object": "page", "entry": [{ "id": PAGE, "time": time, "messaging": items }] })
        .to_string()
}

/// A body with one entry per item.
pub fn body_of_entries(items: &[Value]) -> String {
    let entries: Vec<Value> = items
        .iter()
        .map(|item| json!({ "id": PAGE, "time": item["timestamp"], "messaging": [item] }))
        .collect();
    json!({ "object": "page", "entry": entries }).to_string()
}

// ---------------------------------------------------------------------------------------------
// Reading subscribers and events.

/// One page of `subscribers`, the whole response (errors included).
pub async fn subscribers_page(
    app: &TestApp,
    token: &str,
    page_id: &str,
    filter: Value,
    first: Option<i64>,
    after: Option<&str>,
) -> Value {
    app.graphql(
        &format!(
            "query($page: ID!, $filter: SubscriberFilterInput, $first: Int, $after: String) {{ \
               subscribers(pageId: $page, filter: $filter, first: $first, after: $after) {{ \
                 totalCount pageInfo {{ hasNextPage endCursor }} nodes {{ {SUBSCRIBER_FIELDS} }} }} }}"
        ),
        json!({ "page": page_id, "filter": filter, "first": first, "after": after }),
        Some(token),
    )
    .await
}

/// Every subscriber of a page matching `filter`, following the pages.
pub async fn all_subscribers(
    app: &TestApp,
    token: &str,
    page_id: &str,
    filter: Value,
) -> Vec<Value> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let response = subscribers_page(
            app,
            token,
            page_id,
            filter.clone(),
            Some(100),
            after.as_deref(),
        )
        .await;
        let connection = &data(&response)["subscribers"];
        all.extend(connection["nodes"].as_array().cloned().unwrap_or_default());
        if connection["pageInfo"]["hasNextPage"] != json!(true) {
            return all;
        }
        after = Some(str_at(connection, "/pageInfo/endCursor"));
    }
}

/// The page's subscriber with this PSID, if there is one (found by listing, not by search).
pub async fn subscriber_by_psid(
    app: &TestApp,
    token: &str,
    page_id: &str,
    psid: &str,
) -> Option<Value> {
    all_subscribers(app, token, page_id, Value::Null)
        .await
        .into_iter()
        .find(|s| s["psid"] == json!(psid))
}

/// `subscriber(id)`, the whole response.
pub async fn subscriber(app: &TestApp, token: &str, id: &str) -> Value {
    app.graphql(
        &format!("query($id: ID!) {{ subscriber(id: $id) {{ {SUBSCRIBER_FIELDS} }} }}"),
        json!({ "id": id }),
        Some(token),
    )
    .await
}

/// `webhookEvents(status)` in full (newest first), following the pages.
pub async fn all_events(app: &TestApp, token: &str, status: Option<&str>) -> Vec<Value> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let response = app
            .graphql(
                &format!(
                    "query($status: WebhookEventStatus, $after: String) {{ \
                       webhookEvents(status: $status, first: 100, after: $after) {{ \
                         pageInfo {{ hasNextPage endCursor }} nodes {{ {EVENT_FIELDS} }} }} }}"
                ),
                json!({ "status": status, "after": after }),
                Some(token),
            )
            .await;
        let connection = &data(&response)["webhookEvents"];
        all.extend(connection["nodes"].as_array().cloned().unwrap_or_default());
        if connection["pageInfo"]["hasNextPage"] != json!(true) {
            return all;
        }
        after = Some(str_at(connection, "/pageInfo/endCursor"));
    }
}

/// `webhookEvents(status).totalCount`.
pub async fn event_count(app: &TestApp, token: &str, status: Option<&str>) -> i64 {
    let response = app
        .graphql(
            "query($status: WebhookEventStatus) { webhookEvents(status: $status, first: 0) { totalCount } }",
            json!({ "status": status }),
            Some(token),
        )
        .await;
    data(&response)["webhookEvents"]["totalCount"]
        .as_i64()
        .expect("a totalCount")
}

/// `webhookEvent(id)`, the whole response.
pub async fn webhook_event(app: &TestApp, token: &str, id: &str) -> Value {
    app.graphql(
        &format!("query($id: ID!) {{ webhookEvent(id: $id) {{ {EVENT_FIELDS} }} }}"),
        json!({ "id": id }),
        Some(token),
    )
    .await
}

/// The number of events in each status, as `"STATUS=n"` words, for failure messages.
pub fn status_summary(events: &[Value]) -> String {
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for event in events {
        *counts
            .entry(event["status"].as_str().unwrap_or("?").to_owned())
            .or_default() += 1;
    }
    counts
        .iter()
        .map(|(status, n)| format!("{status}={n}"))
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------------------------------------
// Waiting for the workers.

/// Polls `probe` every 50 ms until it returns `Ok`, for at most `timeout`; on timeout fails
/// with `what` and the last `Err` the probe described.
pub async fn eventually<T>(
    what: &str,
    timeout: Duration,
    mut probe: impl AsyncFnMut() -> Result<T, String>,
) -> T {
    let started = Instant::now();
    loop {
        match probe().await {
            Ok(value) => return value,
            Err(last) if started.elapsed() >= timeout => {
                panic!("timed out after {timeout:?} waiting for {what}; last seen: {last}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// Waits until the tenant has exactly `expected` events, all settled (PROCESSED or IGNORED);
/// returns them, newest first. FAILED or DEAD events fail the test at once, with their errors.
pub async fn settled_events(app: &TestApp, token: &str, expected: usize) -> Vec<Value> {
    eventually(
        &format!("{expected} settled webhook events"),
        WAIT,
        async || {
            let events = all_events(app, token, None).await;
            let broken: Vec<&Value> = events
                .iter()
                .filter(|e| matches!(e["status"].as_str(), Some("FAILED" | "DEAD")))
                .collect();
            assert!(broken.is_empty(), "events failed: {broken:#?}");
            // Every delivery was answered only once stored: more events than expected is final.
            assert!(
                events.len() <= expected,
                "{} events stored where {expected} were expected: {events:#?}",
                events.len()
            );
            let settled = events
                .iter()
                .filter(|e| matches!(e["status"].as_str(), Some("PROCESSED" | "IGNORED")))
                .count();
            if events.len() == expected && settled == expected {
                Ok(events)
            } else {
                Err(format!(
                    "{} events: {}",
                    events.len(),
                    status_summary(&events)
                ))
            }
        },
    )
    .await
}

/// Waits until the page has a subscriber with `psid` for which `ready` holds; returns it.
pub async fn wait_for_subscriber(
    app: &TestApp,
    tenant: &Tenant,
    psid: &str,
    what: &str,
    ready: impl Fn(&Value) -> bool,
) -> Value {
    eventually(
        &format!("subscriber {psid}: {what}"),
        WAIT,
        async || match subscriber_by_psid(app, tenant.token(), &tenant.page_id, psid).await {
            Some(found) if ready(&found) => Ok(found),
            Some(found) => Err(format!("{found:#}")),
            None => Err("no such subscriber yet".to_owned()),
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Reading values.

/// An RFC 3339 instant from a response.
#[track_caller]
pub fn instant(value: &Value) -> DateTime<Utc> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not an instant: {value}"));
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text:?} is not RFC 3339: {e}"))
        .with_timezone(&Utc)
}

/// A subscriber's value for the field `field_id`, if set.
pub fn field_value(subscriber: &Value, field_id: &str) -> Option<String> {
    subscriber["fields"]
        .as_array()?
        .iter()
        .find(|value| value["field"]["id"] == json!(field_id))
        .and_then(|value| value["value"].as_str().map(str::to_owned))
}

/// The ids of a subscriber's tags, sorted.
pub fn tag_ids(subscriber: &Value) -> Vec<String> {
    let mut ids: Vec<String> = subscriber["tags"]
        .as_array()
        .map(|tags| {
            tags.iter()
                .filter_map(|tag| tag["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

/// A subscriber's `entryCount`.
#[track_caller]
pub fn entry_count(subscriber: &Value) -> i64 {
    subscriber["entryCount"]
        .as_i64()
        .unwrap_or_else(|| panic!("no entryCount in {subscriber:#}"))
}

/// The PSIDs of a list of subscribers, sorted.
pub fn psids(subscribers: &[Value]) -> Vec<String> {
    let mut psids: Vec<String> = subscribers
        .iter()
        .filter_map(|s| s["psid"].as_str().map(str::to_owned))
        .collect();
    psids.sort();
    psids
}

// ---------------------------------------------------------------------------------------------
// Worker processes.

/// A worker process (`src/bin/refhub_worker.rs`, i.e. `run_workers`) over an app's database,
/// and the file its output goes to.
pub struct WorkerProcess {
    child: tokio::process::Child,
    log: std::path::PathBuf,
}

impl WorkerProcess {
    /// Starts `refhub_worker` over the app's database with `workers` tasks and 2-second leases.
    pub fn start(app: &TestApp, workers: usize, logs: &std::path::Path, name: &str) -> Self {
        Self::start_with(app, workers, logs, name, &[])
    }

    /// Like [`WorkerProcess::start`], with more environment (`WORKER_BATCH_SIZE`, say).
    pub fn start_with(
        app: &TestApp,
        workers: usize,
        logs: &std::path::Path,
        name: &str,
        env: &[(&str, &str)],
    ) -> Self {
        let log = logs.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).expect("creating the worker log");
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_refhub_worker"));
        command
            .env("DATABASE_URL", &app.database_url)
            .env("WORKERS", workers.to_string())
            .env("WORKER_LEASE_SECS", "2")
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".to_owned()),
            );
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command
            .stdin(std::process::Stdio::null())
            .stdout(file.try_clone().expect("cloning the log handle"))
            .stderr(file)
            .kill_on_drop(true)
            .spawn()
            .expect("starting the refhub_worker binary");
        WorkerProcess { child, log }
    }

    fn pid(&self) -> u32 {
        self.child.id().expect("the worker is running")
    }

    /// Whether the worker's output so far contains `text`.
    pub fn logged(&self, text: &str) -> bool {
        std::fs::read_to_string(&self.log).is_ok_and(|log| log.contains(text))
    }

    /// The end of the worker's output, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let start = text.len().saturating_sub(3_000);
        let start = (start..text.len())
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(text.len());
        text[start..].to_owned()
    }

    /// SIGKILL, as a crash would.
    pub async fn crash(&mut self) {
        self.child.kill().await.expect("SIGKILL the worker");
    }

    /// SIGTERM, then waits for the exit; asserts it exits 0 within 20 s.
    pub async fn terminate(mut self) {
        let pid = self.pid();
        let sent = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .expect("running kill");
        assert!(sent.success(), "kill -TERM {pid} failed");
        let status = tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "the worker did not stop within 20 s of SIGTERM; its log:\n{}",
                    self.log_tail()
                )
            })
            .expect("waiting for the worker");
        assert!(
            status.success(),
            "the worker exited with {status} after SIGTERM; its log:\n{}",
            self.log_tail()
        );
    }

    /// Fails when the process has already died on its own.
    pub fn assert_alive(&mut self) {
        if let Some(status) = self.child.try_wait().expect("polling the worker") {
            panic!(
                "the worker exited by itself ({status}); its log:\n{}",
                self.log_tail()
            );
        }
    }
}
