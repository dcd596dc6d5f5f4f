//! The outbox worker against a Graph API that fails some calls and is slow on others: retries
//! on 5xx, 429 and Meta's rate-limit codes until sent or 6 attempts; no retry on permanent
//! errors (recorded with Meta's code); nothing sent outside the 24-hour window; a per-page
//! throttle.

use std::time::Duration;

use refhub_tests::{TestApp, data, spawn_app_on_graph, str_at};
use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{
    PAGE, Tenant, accept_all, actions, app_with, assert_addressed_to_the_page, body,
    connect_tenant, create_flow, deliver, instant, known_subscriber, message, meta_error, now_ms,
    pause, send_api_path, send_text, sends, settled_events, settled_messages, start_flow,
    subscriber, text, to_psid, wait_for_run,
};

/// A tenant, a subscriber inside the window, and a two-message flow started by hand for them;
/// returns `(tenant, run id)`.
async fn two_messages(app: &TestApp, email: &str) -> (Tenant, String) {
    let tenant = connect_tenant(app, email, "Delivery", PAGE).await;
    let token = tenant.token();
    let flow = create_flow(
        app,
        token,
        "Two",
        json!([send_text("first"), send_text("second")]),
    )
    .await;
    let person = known_subscriber(app, &tenant, PSID).await;
    let run = start_flow(app, token, &flow, &person).await;
    (tenant, run)
}

const PSID: &str = "6100000000000301";

/// Mounts `template` in front of the accepting Graph API for the next `times` calls.
async fn first_answers(graph: &MockServer, template: ResponseTemplate, times: u64, priority: u8) {
    Mock::given(method("POST"))
        .and(send_api_path())
        .respond_with(template)
        .up_to_n_times(times)
        .with_priority(priority)
        .mount(graph)
        .await;
}

/// The run's messages, oldest first, once all are settled.
async fn run_messages(app: &TestApp, token: &str, run: &str, count: usize) -> Vec<Value> {
    let mut found = settled_messages(app, token, json!({ "runId": run }), count).await;
    found.reverse();
    found
}

#[tokio::test]
async fn a_message_answered_500_twice_is_retried_and_sent_on_the_third_attempt() {
    let graph = MockServer::start().await;
    first_answers(
        &graph,
        ResponseTemplate::new(500).set_body_string("Internal Server Error"),
        2,
        1,
    )
    .await;
    accept_all(&graph).await;
    let app = app_with(&graph).await;
    let (tenant, run) = two_messages(&app, "owner@retry.test").await;
    let token = tenant.token();

    let done = wait_for_run(&app, token, &run, "COMPLETED").await;
    assert_eq!(done["error"], Value::Null);
    let outbox = run_messages(&app, token, &run, 2).await;
    assert_eq!(outbox[0]["status"], "SENT", "{outbox:#?}");
    assert_eq!(
        outbox[0]["attempts"], 3,
        "two 500s then a success: {outbox:#?}"
    );
    assert!(outbox[0]["metaMessageId"].is_string(), "{outbox:#?}");
    assert_eq!(outbox[1]["status"], "SENT");
    assert_eq!(outbox[1]["attempts"], 1);

    let calls = sends(&graph).await;
    assert_addressed_to_the_page(&calls);
    let first = to_psid(PSID, "UPDATE", text("first"));
    let second = to_psid(PSID, "UPDATE", text("second"));
    assert_eq!(
        calls.into_iter().map(|c| c.body).collect::<Vec<_>>(),
        vec![first.clone(), first.clone(), first, second],
        "the same body on every attempt, the next step only after the success"
    );
}

#[tokio::test]
async fn rate_limit_answers_are_retried() {
    let graph = MockServer::start().await;
    first_answers(
        &graph,
        meta_error(
            400,
            613,
            None,
            "(#613) Calls to this api have exceeded the rate limit.",
        ),
        1,
        1,
    )
    .await;
    first_answers(&graph, ResponseTemplate::new(429), 1, 2).await;
    first_answers(
        &graph,
        meta_error(400, 4, None, "(#4) Application request limit reached"),
        1,
        3,
    )
    .await;
    accept_all(&graph).await;
    let app = app_with(&graph).await;
    let (tenant, run) = two_messages(&app, "owner@ratelimit.test").await;
    let token = tenant.token();

    wait_for_run(&app, token, &run, "COMPLETED").await;
    let outbox = run_messages(&app, token, &run, 2).await;
    assert_eq!(outbox[0]["status"], "SENT", "{outbox:#?}");
    assert_eq!(
        outbox[0]["attempts"], 4,
        "613, 429, 4, then sent: {outbox:#?}"
    );
    assert_eq!(outbox[1]["attempts"], 1, "{outbox:#?}");
    assert_eq!(sends(&graph).await.len(), 5);
}

#[tokio::test]
async fn a_slow_answer_still_counts_as_sent_once() {
    let graph = MockServer::start().await;
    first_answers(
        &graph,
        ResponseTemplate::new(200)
            .set_body_json(json!({ "recipient_id": PSID, "message_id": "m_slow" }))
            .set_delay(Duration::from_secs(2)),
        1,
        1,
    )
    .await;
    accept_all(&graph).await;
    let app = app_with(&graph).await;
    let (tenant, run) = two_messages(&app, "owner@slow.test").await;
    let token = tenant.token();

    wait_for_run(&app, token, &run, "COMPLETED").await;
    let outbox = run_messages(&app, token, &run, 2).await;
    assert_eq!(outbox[0]["status"], "SENT");
    assert_eq!(
        outbox[0]["attempts"], 1,
        "a 2-second answer is not a timeout: {outbox:#?}"
    );
    assert_eq!(outbox[0]["metaMessageId"], "m_slow");
    assert_eq!(
        sends(&graph)
            .await
            .into_iter()
            .map(|c| c.body)
            .collect::<Vec<_>>(),
        vec![
            to_psid(PSID, "UPDATE", text("first")),
            to_psid(PSID, "UPDATE", text("second")),
        ]
    );
}

#[tokio::test]
async fn a_message_that_keeps_failing_gives_up_after_six_attempts_and_fails_the_run() {
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .and(send_api_path())
        .respond_with(ResponseTemplate::new(503).set_body_string("Service Unavailable"))
        .mount(&graph)
        .await;
    let app = app_with(&graph).await;
    let (tenant, run) = two_messages(&app, "owner@giveup.test").await;
    let token = tenant.token();

    let failed = wait_for_run(&app, token, &run, "FAILED").await;
    assert!(
        failed["error"]
            .as_str()
            .is_some_and(|e| !e.trim().is_empty()),
        "a failed run says why: {failed:#}"
    );
    let outbox = settled_messages(&app, token, json!({ "runId": run }), 1).await;
    assert_eq!(outbox[0]["status"], "FAILED", "{outbox:#?}");
    assert_eq!(outbox[0]["attempts"], 6, "{outbox:#?}");
    assert!(outbox[0]["lastError"].is_string(), "{outbox:#?}");
    pause(1_000).await;
    let calls = sends(&graph).await;
    assert_eq!(calls.len(), 6, "six attempts, then no more");
    assert!(
        calls
            .iter()
            .all(|c| c.body == to_psid(PSID, "UPDATE", text("first")))
    );
}

#[tokio::test]
async fn a_permanent_error_fails_the_message_after_one_attempt_with_metas_code() {
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .and(send_api_path())
        .respond_with(meta_error(
            400,
            100,
            Some(2018001),
            "(#100) No matching user found",
        ))
        .mount(&graph)
        .await;
    let app = app_with(&graph).await;
    let (tenant, run) = two_messages(&app, "owner@permanent.test").await;
    let token = tenant.token();

    let failed = wait_for_run(&app, token, &run, "FAILED").await;
    let error = failed["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("100"),
        "the run's error mentions Meta's code: {failed:#}"
    );
    let failed_entry = failed["history"]
        .as_array()
        .and_then(|h| h.iter().find(|e| e["action"] == "failed"))
        .cloned()
        .unwrap_or_else(|| panic!("no failed entry in the history: {failed:#}"));
    assert_eq!(
        failed_entry["step"], 0,
        "the failed entry names the step: {failed:#}"
    );
    assert!(failed_entry["error"].is_string(), "{failed:#}");
    assert!(failed["finishedAt"].is_string(), "{failed:#}");
    assert_eq!(
        actions(&failed).last().map(String::as_str),
        Some("failed"),
        "{failed:#}"
    );
    let outbox = settled_messages(&app, token, json!({ "runId": run }), 1).await;
    let message = &outbox[0];
    assert_eq!(message["status"], "FAILED", "{message:#}");
    assert_eq!(
        message["attempts"], 1,
        "no retry on a permanent error: {message:#}"
    );
    assert_eq!(message["errorCode"], 100, "{message:#}");
    assert!(
        message["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("100") && e.contains("No matching user found")),
        "lastError: {message:#}"
    );
    assert_eq!(message["sentAt"], Value::Null);
    assert_eq!(message["metaMessageId"], Value::Null);
    // Long enough for several retries at a 100 ms base: none comes.
    pause(1_500).await;
    let calls = sends(&graph).await;
    assert_eq!(
        calls.into_iter().map(|c| c.body).collect::<Vec<_>>(),
        vec![to_psid(PSID, "UPDATE", text("first"))],
        "one attempt, and the second step never ran"
    );
    let status = app
        .graphql_ok(
            "query($id: ID!) { flowRun(id: $id) { status } }",
            json!({ "id": run }),
            Some(token),
        )
        .await;
    assert_eq!(status["flowRun"]["status"], "FAILED");
}

#[tokio::test]
async fn outside_the_24_hour_window_nothing_is_sent_and_the_run_fails_saying_so() {
    let graph = MockServer::start().await;
    accept_all(&graph).await;
    let app = app_with(&graph).await;
    let tenant = connect_tenant(&app, "owner@window.test", "Window", PAGE).await;
    let token = tenant.token();
    let flow = create_flow(
        &app,
        token,
        "Late",
        json!([send_text("are you there?"), send_text("never")]),
    )
    .await;

    // Someone whose only message is two days old, and someone who wrote just now.
    let two_days_ago = now_ms() - 2 * 86_400_000;
    deliver(
        &app,
        &tenant,
        body(&[message(
            "6100000000000401",
            two_days_ago,
            "m_Old0000000001",
            "hi",
        )]),
    )
    .await;
    let recent = known_subscriber(&app, &tenant, "6100000000000402").await;
    settled_events(&app, token, 2).await;
    let old = crate::support::subscriber_by_psid(&app, token, &tenant.page_id, "6100000000000401")
        .await
        .expect("the subscriber of the old message");
    assert_eq!(old["withinMessagingWindow"], false, "{old:#}");
    let old = str_at(&old, "/id");

    let late = start_flow(&app, token, &flow, &old).await;
    let fine = start_flow(&app, token, &flow, &recent).await;
    let failed = wait_for_run(&app, token, &late, "FAILED").await;
    assert!(
        failed["error"]
            .as_str()
            .is_some_and(|e| e.contains("24-hour")),
        "the run's error mentions the 24-hour window: {failed:#}"
    );
    wait_for_run(&app, token, &fine, "COMPLETED").await;

    let outbox = settled_messages(&app, token, json!({ "runId": late }), 1).await;
    assert_eq!(outbox[0]["status"], "OUTSIDE_WINDOW", "{outbox:#?}");
    assert_eq!(outbox[0]["sentAt"], Value::Null);
    let listed = settled_messages(&app, token, json!({ "status": "OUTSIDE_WINDOW" }), 1).await;
    assert_eq!(listed[0]["id"], outbox[0]["id"]);
    let by_person = settled_messages(&app, token, json!({ "subscriberId": old }), 1).await;
    assert_eq!(by_person[0]["id"], outbox[0]["id"]);
    pause(500).await;
    assert_eq!(
        sends(&graph)
            .await
            .into_iter()
            .map(|c| c.body)
            .collect::<Vec<_>>(),
        vec![
            to_psid("6100000000000402", "UPDATE", text("are you there?")),
            to_psid("6100000000000402", "UPDATE", text("never")),
        ],
        "nothing reached Meta for the person outside the window"
    );
    // The person is still as they were.
    let response = subscriber(&app, token, &old).await;
    assert_eq!(
        data(&response)["subscriber"]["withinMessagingWindow"],
        false
    );
}

#[tokio::test]
async fn sends_to_one_page_are_throttled() {
    // Lower bound only: at 2 a second, 7 messages cannot all go out in under 1.5 s.
    let graph = MockServer::start().await;
    accept_all(&graph).await;
    let app = spawn_app_on_graph(&graph, |config| {
        config.sends_per_page_per_second = 2;
    })
    .await;
    let tenant = connect_tenant(&app, "owner@throttle.test", "Throttle", PAGE).await;
    let token = tenant.token();
    let flow = create_flow(&app, token, "Blast", json!([send_text("news")])).await;
    let mut people = Vec::new();
    for i in 0..7 {
        people.push(known_subscriber(&app, &tenant, &format!("61000000000005{i:02}")).await);
    }
    let ids: Vec<&str> = people.iter().map(String::as_str).collect();
    let response = crate::support::start_flow_raw(&app, token, &flow, &ids).await;
    assert_eq!(
        data(&response)["startFlow"]["runs"]
            .as_array()
            .map(Vec::len),
        Some(7)
    );
    let outbox = settled_messages(&app, token, json!({ "status": "SENT" }), 7).await;
    let mut sent_at: Vec<_> = outbox.iter().map(|m| instant(&m["sentAt"])).collect();
    sent_at.sort();
    let span = sent_at[6] - sent_at[0];
    assert!(
        span >= chrono::Duration::milliseconds(1_500),
        "7 sends at 2 per second went out within {span:?}: {sent_at:?}"
    );
    assert_eq!(sends(&graph).await.len(), 7);
}
