//! Shared steps of the flow tests: a recording Graph API (wiremock), building flows and
//! triggers, re-timing the fixtures, reading runs and outbound messages, and waiting for the
//! workers by polling.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use refhub_tests::{
    TestApp, data, error_code, error_field, error_message, nodes, spawn_app_on_graph, str_at,
};
use serde_json::{Value, json};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub use crate::hooks::{
    PAGE, PAGE_TOKEN, Tenant, WAIT, body, connect_tenant, create_field, create_tag, create_topic,
    deliver, eventually, field_value, instant, message, now_ms, opt_in, opt_in_status,
    settled_events, subscriber, subscriber_by_psid, tag_ids, wait_for_subscriber, webhook_event,
};

/// The selection of a `FlowStep`.
pub const STEP_FIELDS: &str = "sendText { text } \
     sendQuickReplies { text replies { title payload } } \
     sendButtons { text buttons { title payload url } } \
     setField { fieldId field { id } value } \
     addTag { tagId tag { id } } removeTag { tagId tag { id } } \
     wait { seconds }";

/// The selection of a `FlowTrigger`.
pub const TRIGGER_FIELDS: &str = "id flow { id } page { id } \
     rule { postback { payload } keyword { keyword match } topicOptIn { topic { id } } } createdAt";

/// The selection of a `FlowRun`.
pub const RUN_FIELDS: &str = "id flowId flow { id } subscriber { id psid } trigger { kind detail } \
     status currentStep nextStepAt error history { at step action detail error } \
     startedAt finishedAt";

/// The selection of an `OutboundMessage`.
pub const MESSAGE_FIELDS: &str = "id kind page { id } subscriber { id psid } runId topicId \
     messagingType message status attempts nextAttemptAt lastError errorCode metaMessageId \
     createdAt sentAt";

/// The selection of a `Flow`.
pub fn flow_fields() -> String {
    format!(
        "{{ id name steps {{ {STEP_FIELDS} }} triggers {{ {TRIGGER_FIELDS} }} createdAt updatedAt }}"
    )
}

/// Run statuses after which nothing more happens.
const FINISHED: [&str; 3] = ["COMPLETED", "FAILED", "CANCELLED"];

// ---------------------------------------------------------------------------------------------
// The Graph API.

/// Answers every Send API call as Meta does on success, with a fresh `m_…` id each time.
pub struct MetaAccepts {
    sent: Arc<AtomicUsize>,
}

impl Respond for MetaAccepts {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let n = self.sent.fetch_add(1, Ordering::SeqCst) + 1;
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let recipient = body["recipient"]["id"].as_str().unwrap_or("").to_owned();
        ResponseTemplate::new(200).set_body_json(
            json!({ "recipient_id": recipient, "message_id": format!("m_sent{n:04}") }),
        )
    }
}

/// The path of the Send API, `/{page id}/messages`.
pub fn send_api_path() -> wiremock::matchers::PathRegexMatcher {
    path_regex(r"^/v[0-9.]+/[0-9]+/messages$")
}

/// A Graph API that accepts every message (at the default priority, so that a test may mount
/// failures in front of it with `with_priority(1)`).
pub async fn graph_api() -> MockServer {
    let server = MockServer::start().await;
    accept_all(&server).await;
    server
}

/// Mounts the accepting Send API on `server`.
pub async fn accept_all(server: &MockServer) {
    Mock::given(method("POST"))
        .and(send_api_path())
        .respond_with(MetaAccepts {
            sent: Arc::new(AtomicUsize::new(0)),
        })
        .mount(server)
        .await;
}

/// Meta's error envelope with `status`.
pub fn meta_error(status: u16, code: i64, subcode: Option<i64>, message: &str) -> ResponseTemplate {
    let mut error = json!({
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbCdEfGh0123",
    });
    if let Some(subcode) = subcode {
        error["error_subcode"] = json!(subcode);
    }
    ResponseTemplate::new(status).set_body_json(json!({ "error": error }))
}

/// The app, in-process workers included, talking to `graph`.
pub async fn app_with(graph: &MockServer) -> TestApp {
    spawn_app_on_graph(graph, |_| {}).await
}

/// One call the Graph API received.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub path: String,
    pub access_token: Option<String>,
    pub body: Value,
}

/// Every Send API call received so far, in arrival order.
pub async fn sends(graph: &MockServer) -> Vec<Call> {
    graph
        .received_requests()
        .await
        .expect("request recording is on")
        .into_iter()
        // Connecting a page asks Meta about its token: not a send.
        .filter(|request| request.url.path().ends_with("/messages"))
        .map(|request| Call {
            method: request.method.to_string(),
            path: without_version(request.url.path()),
            access_token: request
                .url
                .query_pairs()
                .find(|(name, _)| name == "access_token")
                .map(|(_, value)| value.into_owned()),
            body: serde_json::from_slice(&request.body).unwrap_or_else(
                |_| json!({ "unreadable body": String::from_utf8_lossy(&request.body) }),
            ),
        })
        .filter(|call| call.path.ends_with("/messages"))
        .collect()
}

/// `/v26.0/123/messages` → `/123/messages`: refhub's Graph API version is configuration.
fn without_version(path: &str) -> String {
    match path
        .strip_prefix("/v")
        .and_then(|rest| rest.split_once('/'))
    {
        Some((version, rest)) if version.contains('.') => format!("/{rest}"),
        _ => path.to_owned(),
    }
}

/// The bodies of the Send API calls, in arrival order.
pub async fn sent_bodies(graph: &MockServer) -> Vec<Value> {
    sends(graph)
        .await
        .into_iter()
        .map(|call| call.body)
        .collect()
}

/// Asserts that every call went to the fixtures' page with its token, by POST.
#[track_caller]
pub fn assert_addressed_to_the_page(calls: &[Call]) {
    for call in calls {
        assert_eq!(call.method, "POST", "{call:#?}");
        assert_eq!(call.path, format!("/{PAGE}/messages"), "{call:#?}");
        assert_eq!(
            call.access_token.as_deref(),
            Some(PAGE_TOKEN),
            "the page token must be the access_token query parameter: {call:#?}"
        );
    }
}

/// Waits until the Graph API has received at least `count` Send API calls; returns them.
pub async fn wait_for_sends(graph: &MockServer, count: usize) -> Vec<Call> {
    eventually(&format!("{count} Send API call(s)"), WAIT, async || {
        let calls = sends(graph).await;
        if calls.len() >= count {
            Ok(calls)
        } else {
            Err(format!(
                "{:#?}",
                calls.iter().map(|c| &c.body).collect::<Vec<_>>()
            ))
        }
    })
    .await
}

/// The body Meta expects for a flow message to a PSID.
pub fn to_psid(psid: &str, messaging_type: &str, message: Value) -> Value {
    json!({ "recipient": { "id": psid }, "messaging_type": messaging_type, "message": message })
}

/// `{"text": …}`
pub fn text(text: &str) -> Value {
    json!({ "text": text })
}

// ---------------------------------------------------------------------------------------------
// Fixtures and deliveries.

/// `fixture` with every entry's `time` and every item's `timestamp` set to `at_ms`, so that the
/// person is inside the 24-hour window (the fixtures were recorded a year ago).
pub fn retimed(fixture: &str, at_ms: i64) -> Value {
    let mut body: Value = serde_json::from_str(fixture).expect("a fixture is JSON");
    for entry in body["entry"].as_array_mut().expect("entries") {
        entry["time"] = json!(at_ms);
        for item in entry["messaging"].as_array_mut().expect("messaging items") {
            item["timestamp"] = json!(at_ms);
        }
    }
    body
}

/// The first messaging item of a body.
pub fn item_mut(body: &mut Value) -> &mut Value {
    &mut body["entry"][0]["messaging"][0]
}

/// Signs and posts a JSON body.
pub async fn deliver_json(app: &TestApp, tenant: &Tenant, body: &Value) {
    deliver(app, tenant, body.to_string()).await;
}

/// A fresh text message from `psid` (it opens the window); waits until its subscriber exists
/// and returns the subscriber's id.
pub async fn known_subscriber(app: &TestApp, tenant: &Tenant, psid: &str) -> String {
    known_subscriber_on(app, tenant, PAGE, psid).await
}

/// Like [`known_subscriber`], on the tenant's page with Facebook id `facebook_page_id`.
pub async fn known_subscriber_on(
    app: &TestApp,
    tenant: &Tenant,
    facebook_page_id: &str,
    psid: &str,
) -> String {
    let mid = format!("m_hello_{psid}_{}", uuid::Uuid::new_v4().simple());
    let mut item = message(psid, now_ms(), &mid, "hello");
    item["recipient"]["id"] = json!(facebook_page_id);
    let delivery = json!({ "object": "page", "entry": [{ "id": facebook_page_id, "time": now_ms(), "messaging": [item] }] });
    deliver_json(app, tenant, &delivery).await;
    let found = wait_for_subscriber(app, tenant, psid, "exists", |_| true).await;
    str_at(&found, "/id")
}

// ---------------------------------------------------------------------------------------------
// Flows and triggers.

/// `{sendText: {text}}`
pub fn send_text(text: &str) -> Value {
    json!({ "sendText": { "text": text } })
}

/// `{wait: {seconds}}`
pub fn wait_step(seconds: i64) -> Value {
    json!({ "wait": { "seconds": seconds } })
}

/// Runs `createFlow`; returns the whole response.
pub async fn create_flow_raw(app: &TestApp, token: &str, name: &str, steps: Value) -> Value {
    app.mutate(
        "createFlow",
        json!({ "name": name, "steps": steps }),
        &flow_fields(),
        Some(token),
    )
    .await
}

/// Creates a flow; returns its id.
pub async fn create_flow(app: &TestApp, token: &str, name: &str, steps: Value) -> String {
    let response = create_flow_raw(app, token, name, steps).await;
    str_at(data(&response), "/createFlow/id")
}

/// `flow(id)`, the whole response.
pub async fn read_flow(app: &TestApp, token: &str, id: &str) -> Value {
    app.graphql(
        &format!("query($id: ID!) {{ flow(id: $id) {} }}", flow_fields()),
        json!({ "id": id }),
        Some(token),
    )
    .await
}

/// Runs `createFlowTrigger`; returns the whole response.
pub async fn create_trigger_raw(
    app: &TestApp,
    token: &str,
    flow_id: &str,
    page_id: Option<&str>,
    rule: Value,
) -> Value {
    let mut input = json!({ "flowId": flow_id, "rule": rule });
    if let Some(page_id) = page_id {
        input["pageId"] = json!(page_id);
    }
    app.mutate(
        "createFlowTrigger",
        input,
        &format!("{{ {TRIGGER_FIELDS} }}"),
        Some(token),
    )
    .await
}

/// Creates a trigger; returns its id.
pub async fn create_trigger(
    app: &TestApp,
    token: &str,
    flow_id: &str,
    page_id: Option<&str>,
    rule: Value,
) -> String {
    let response = create_trigger_raw(app, token, flow_id, page_id, rule).await;
    str_at(data(&response), "/createFlowTrigger/id")
}

/// Creates a ref link on the tenant's page that starts `flow_id`; returns its id.
pub async fn create_flow_link(
    app: &TestApp,
    tenant: &Tenant,
    reference: &str,
    flow_id: &str,
    tags: &[&str],
) -> String {
    let response = app
        .mutate(
            "createRefLink",
            json!({ "pageId": tenant.page_id, "ref": reference, "flowId": flow_id, "tagIds": tags }),
            "{ id flow { id } }",
            Some(tenant.token()),
        )
        .await;
    let link = &data(&response)["createRefLink"];
    assert_eq!(link["flow"]["id"], json!(flow_id), "RefLink.flow: {link:#}");
    str_at(link, "/id")
}

// ---------------------------------------------------------------------------------------------
// Runs.

/// Runs `startFlow`; returns the whole response.
pub async fn start_flow_raw(
    app: &TestApp,
    token: &str,
    flow_id: &str,
    subscriber_ids: &[&str],
) -> Value {
    app.mutate(
        "startFlow",
        json!({ "flowId": flow_id, "subscriberIds": subscriber_ids }),
        &format!("{{ runs {{ {RUN_FIELDS} }} }}"),
        Some(token),
    )
    .await
}

/// Starts `flow_id` for one subscriber by hand; returns the run's id.
pub async fn start_flow(app: &TestApp, token: &str, flow_id: &str, subscriber_id: &str) -> String {
    let response = start_flow_raw(app, token, flow_id, &[subscriber_id]).await;
    let runs = data(&response)["startFlow"]["runs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(runs.len(), 1, "startFlow for one subscriber: {response:#}");
    assert_eq!(runs[0]["trigger"]["kind"], "MANUAL", "{response:#}");
    assert_eq!(runs[0]["subscriber"]["id"], json!(subscriber_id));
    str_at(&runs[0], "/id")
}

/// `flowRun(id)`, the whole response.
pub async fn read_run(app: &TestApp, token: &str, id: &str) -> Value {
    app.graphql(
        &format!("query($id: ID!) {{ flowRun(id: $id) {{ {RUN_FIELDS} }} }}"),
        json!({ "id": id }),
        Some(token),
    )
    .await
}

/// `flowRuns(...)` with `filter` (flowId, subscriberId, status), the whole response.
pub async fn runs_page(app: &TestApp, token: &str, filter: Value) -> Value {
    app.graphql(
        &format!(
            "query($flowId: ID, $subscriberId: ID, $status: FlowRunStatus) {{ \
               flowRuns(flowId: $flowId, subscriberId: $subscriberId, status: $status, first: 100) {{ \
                 totalCount pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ {RUN_FIELDS} }} }} }} }}"
        ),
        filter,
        Some(token),
    )
    .await
}

/// Every run matching `filter` (one page of 100 is enough here), newest first.
pub async fn runs(app: &TestApp, token: &str, filter: Value) -> Vec<Value> {
    let response = runs_page(app, token, filter).await;
    let connection = &data(&response)["flowRuns"];
    let found = nodes(connection);
    assert_eq!(
        connection["totalCount"],
        json!(found.len()),
        "flowRuns totalCount: {connection:#}"
    );
    found
}

/// Polls `flowRun(id)` until its status is `status`; fails at once when it finished otherwise.
pub async fn wait_for_run(app: &TestApp, token: &str, id: &str, status: &str) -> Value {
    eventually(&format!("run {id} to be {status}"), WAIT, async || {
        let response = read_run(app, token, id).await;
        let run = data(&response)["flowRun"].clone();
        let now = run["status"].as_str().unwrap_or("?");
        if now == status {
            return Ok(run);
        }
        if FINISHED.contains(&now) {
            let messages = messages(app, token, json!({ "runId": id })).await;
            panic!("run {id} finished {now} where {status} was expected: {run:#}\nits messages: {messages:#?}");
        }
        Err(format!("{run:#}"))
    })
    .await
}

/// Waits until `flow_id` has exactly one run and it is `status`; returns it.
pub async fn the_run_of(app: &TestApp, token: &str, flow_id: &str, status: &str) -> Value {
    let id = eventually(&format!("a run of flow {flow_id}"), WAIT, async || {
        let found = runs(app, token, json!({ "flowId": flow_id })).await;
        match found.as_slice() {
            [run] => Ok(str_at(run, "/id")),
            [] => Err("no run yet".to_owned()),
            more => panic!(
                "flow {flow_id} has {} runs, one expected: {more:#?}",
                more.len()
            ),
        }
    })
    .await;
    wait_for_run(app, token, &id, status).await
}

/// The `action`s of a run's history, in order.
pub fn actions(run: &Value) -> Vec<String> {
    run["history"]
        .as_array()
        .unwrap_or_else(|| panic!("no history in {run:#}"))
        .iter()
        .map(|entry| entry["action"].as_str().unwrap_or("?").to_owned())
        .collect()
}

/// Asserts that the history's `at`s never go backwards.
#[track_caller]
pub fn assert_history_in_order(run: &Value) {
    let history = run["history"].as_array().expect("history");
    for pair in history.windows(2) {
        assert!(
            instant(&pair[0]["at"]) <= instant(&pair[1]["at"]),
            "history goes back in time: {history:#?}"
        );
    }
}

/// Runs `cancelFlowRun`; returns the whole response.
pub async fn cancel_run(app: &TestApp, token: &str, id: &str) -> Value {
    app.mutate(
        "cancelFlowRun",
        json!({ "id": id }),
        &format!("{{ {RUN_FIELDS} }}"),
        Some(token),
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Outbound messages.

/// `outboundMessages(...)` with `filter` (status, subscriberId, runId), the whole response.
pub async fn messages_page(app: &TestApp, token: &str, filter: Value) -> Value {
    app.graphql(
        &format!(
            "query($status: OutboundMessageStatus, $subscriberId: ID, $runId: ID) {{ \
               outboundMessages(status: $status, subscriberId: $subscriberId, runId: $runId, first: 100) {{ \
                 totalCount edges {{ node {{ {MESSAGE_FIELDS} }} }} }} }}"
        ),
        filter,
        Some(token),
    )
    .await
}

/// Every outbound message matching `filter`, newest first.
pub async fn messages(app: &TestApp, token: &str, filter: Value) -> Vec<Value> {
    let response = messages_page(app, token, filter).await;
    let connection = &data(&response)["outboundMessages"];
    let found = nodes(connection);
    assert_eq!(
        connection["totalCount"],
        json!(found.len()),
        "outboundMessages totalCount: {connection:#}"
    );
    found
}

/// Waits until the outbound messages matching `filter` are `count` and all settled (not
/// PENDING); returns them, newest first.
pub async fn settled_messages(
    app: &TestApp,
    token: &str,
    filter: Value,
    count: usize,
) -> Vec<Value> {
    eventually(
        &format!("{count} settled outbound message(s) for {filter}"),
        WAIT,
        async || {
            let found = messages(app, token, filter.clone()).await;
            let pending = found.iter().filter(|m| m["status"] == "PENDING").count();
            if found.len() == count && pending == 0 {
                Ok(found)
            } else {
                Err(format!("{found:#?}"))
            }
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Error tables.

/// How an error answer must look: its code, and its field exactly or by prefix.
pub enum Field<'a> {
    None,
    Exactly(&'a str),
    StartsWith(&'a str),
}

/// Collects failed expectations about error answers, so that one run over a table of bad
/// inputs reports every case that answered wrongly, not only the first.
#[derive(Default)]
pub struct Checks {
    failures: Vec<String>,
}

impl Checks {
    /// Expects the answer to `case` to fail with `code` on `field` without database text.
    pub fn error(&mut self, case: &str, response: &Value, code: &str, field: Field<'_>) {
        let got_code = error_code(response);
        let got_field = error_field(response);
        let field_ok = match (&field, got_field.as_deref()) {
            (Field::None, _) => true,
            (Field::Exactly(want), got) => got == Some(*want),
            (Field::StartsWith(prefix), Some(got)) => got.starts_with(prefix),
            (Field::StartsWith(_), None) => false,
        };
        if got_code.as_deref() != Some(code) || !field_ok {
            let want = match field {
                Field::None => String::new(),
                Field::Exactly(f) => format!(" on {f}"),
                Field::StartsWith(f) => format!(" on {f}*"),
            };
            self.failures.push(format!(
                "{case}: expected {code}{want}, got {got_code:?} on {got_field:?} ({:?})",
                error_message(response).unwrap_or_else(|| short(response))
            ));
        }
        if let Some(errors) = response.get("errors") {
            let text = errors.to_string().to_lowercase();
            for word in ["sql", "database", "constraint"] {
                if text.contains(word) {
                    self.failures
                        .push(format!("{case}: the error leaks database text: {errors}"));
                }
            }
        }
    }

    /// Expects the answer to `case` to have succeeded.
    pub fn ok(&mut self, case: &str, response: &Value) {
        if response.get("errors").is_some() {
            self.failures.push(format!(
                "{case}: expected success, got {}",
                response["errors"]
            ));
        }
    }

    /// Records a failure described by the caller.
    pub fn fail(&mut self, failure: String) {
        self.failures.push(failure);
    }

    /// Fails the test with every collected failure.
    #[track_caller]
    pub fn verify(self) {
        assert!(
            self.failures.is_empty(),
            "{} case(s) answered wrongly:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}

/// A value shortened for failure messages.
pub fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 300 {
        format!("{}…", text.chars().take(300).collect::<String>())
    } else {
        text
    }
}

/// Sleeps; used only to give something that must NOT happen a fair chance to happen.
pub async fn pause(millis: u64) {
    tokio::time::sleep(Duration::from_millis(millis)).await;
}
