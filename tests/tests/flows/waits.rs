//! Wait steps: a run waits (WAITING with `nextStepAt`) and resumes when due; it runs the steps
//! it started with; cancelling a waiting run, or deleting its flow, stops it for good; a tag
//! deleted under a waiting run fails it with a reason.

use refhub_tests::{TestApp, assert_error, data};
use serde_json::{Value, json};

use crate::support::{
    PAGE, Tenant, actions, app_with, assert_history_in_order, cancel_run, connect_tenant,
    create_flow, create_tag, graph_api, instant, known_subscriber, messages, pause, read_run,
    send_text, sent_bodies, start_flow, text, to_psid, wait_for_run, wait_step,
};

const PSID: &str = "6100000000000601";

/// A tenant with one subscriber inside the window; returns `(tenant, subscriber id)`.
async fn tenant_with_person(app: &TestApp, email: &str) -> (Tenant, String) {
    let tenant = connect_tenant(app, email, "Waits", PAGE).await;
    let person = known_subscriber(app, &tenant, PSID).await;
    (tenant, person)
}

fn to_person(words: &str) -> Value {
    to_psid(PSID, "UPDATE", text(words))
}

#[tokio::test]
async fn a_run_waits_then_resumes_when_due_and_completes() {
    let graph = graph_api().await;
    let app = app_with(&graph).await;
    let (tenant, person) = tenant_with_person(&app, "owner@wait.test").await;
    let token = tenant.token();
    let flow = create_flow(
        &app,
        token,
        "Drip",
        json!([send_text("A"), wait_step(2), send_text("B")]),
    )
    .await;
    let run = start_flow(&app, token, &flow, &person).await;

    let waiting = wait_for_run(&app, token, &run, "WAITING").await;
    let next_step_at = instant(&waiting["nextStepAt"]);
    assert!(
        next_step_at >= instant(&waiting["startedAt"]) + chrono::Duration::seconds(2),
        "nextStepAt is at least the wait after the start: {waiting:#}"
    );
    assert!(
        actions(&waiting).contains(&"wait".to_owned()),
        "{waiting:#}"
    );
    assert_eq!(waiting["finishedAt"], Value::Null);
    assert_eq!(
        sent_bodies(&graph).await,
        vec![to_person("A")],
        "only A before the wait ends"
    );
    let listed = crate::support::runs(&app, token, json!({ "status": "WAITING" })).await;
    assert_eq!(listed.len(), 1, "flowRuns(status: WAITING)");

    let done = wait_for_run(&app, token, &run, "COMPLETED").await;
    assert_eq!(done["currentStep"], 3);
    assert_eq!(done["nextStepAt"], Value::Null, "{done:#}");
    let history = actions(&done);
    let wait_at = history
        .iter()
        .position(|a| a == "wait")
        .expect("a wait entry");
    let resumed_at = history
        .iter()
        .position(|a| a == "resumed")
        .expect("a resumed entry");
    assert!(wait_at < resumed_at, "{history:?}");
    assert_eq!(history.last().map(String::as_str), Some("completed"));
    assert_history_in_order(&done);
    assert_eq!(
        sent_bodies(&graph).await,
        vec![to_person("A"), to_person("B")]
    );
    // B was queued no earlier than the wait allowed.
    let outbox = messages(&app, token, json!({ "runId": run })).await;
    let b = outbox
        .iter()
        .find(|m| m["message"] == json!({ "text": "B" }))
        .expect("B's outbound message");
    assert!(
        instant(&b["createdAt"]) >= next_step_at,
        "B was queued at {} before the wait ended at {next_step_at}",
        b["createdAt"]
    );
}

#[tokio::test]
async fn a_run_keeps_the_steps_it_started_with_when_its_flow_changes() {
    let graph = graph_api().await;
    let app = app_with(&graph).await;
    let (tenant, person) = tenant_with_person(&app, "owner@snapshot.test").await;
    let token = tenant.token();
    let flow = create_flow(
        &app,
        token,
        "Snapshot",
        json!([send_text("A"), wait_step(2), send_text("B")]),
    )
    .await;
    let run = start_flow(&app, token, &flow, &person).await;
    wait_for_run(&app, token, &run, "WAITING").await;
    let changed = app
        .mutate(
            "updateFlow",
            json!({ "id": flow, "steps": [send_text("X"), send_text("Y"), send_text("Z")] }),
            "{ id }",
            Some(token),
        )
        .await;
    data(&changed);
    wait_for_run(&app, token, &run, "COMPLETED").await;
    assert_eq!(
        sent_bodies(&graph).await,
        vec![to_person("A"), to_person("B")],
        "the run sends the steps as they were when it started"
    );
}

#[tokio::test]
async fn a_cancelled_waiting_run_never_sends_its_next_message() {
    let graph = graph_api().await;
    let app = app_with(&graph).await;
    let (tenant, person) = tenant_with_person(&app, "owner@cancel.test").await;
    let token = tenant.token();
    let viewer = app
        .member_of(&tenant.session, "viewer@cancel.test", "VIEWER")
        .await;
    let flow = create_flow(
        &app,
        token,
        "Cancel me",
        json!([send_text("A"), wait_step(2), send_text("B")]),
    )
    .await;
    let run = start_flow(&app, token, &flow, &person).await;
    let waiting = wait_for_run(&app, token, &run, "WAITING").await;
    let due = instant(&waiting["nextStepAt"]);

    assert_error(
        &cancel_run(&app, &viewer.access_token, &run).await,
        "FORBIDDEN",
    );
    let cancelled = cancel_run(&app, token, &run).await;
    let cancelled = data(&cancelled)["cancelFlowRun"].clone();
    assert_eq!(cancelled["status"], "CANCELLED", "{cancelled:#}");
    assert!(cancelled["finishedAt"].is_string(), "{cancelled:#}");
    assert_eq!(
        actions(&cancelled).last().map(String::as_str),
        Some("cancelled")
    );

    // Past the time B was due, and then some.
    let until_due = (due - chrono::Utc::now()).num_milliseconds().max(0) as u64;
    pause(until_due + 1_500).await;
    let read = read_run(&app, token, &run).await;
    assert_eq!(data(&read)["flowRun"]["status"], "CANCELLED");
    assert_eq!(
        sent_bodies(&graph).await,
        vec![to_person("A")],
        "B was never sent"
    );

    // A finished run cannot be cancelled.
    let again = cancel_run(&app, token, &run).await;
    assert_error(&again, "VALIDATION");
    let other = create_flow(&app, token, "Quick", json!([send_text("C")])).await;
    let quick = start_flow(&app, token, &other, &person).await;
    wait_for_run(&app, token, &quick, "COMPLETED").await;
    assert_error(&cancel_run(&app, token, &quick).await, "VALIDATION");
    assert_error(
        &cancel_run(&app, token, &refhub_tests::random_id()).await,
        "NOT_FOUND",
    );
}

#[tokio::test]
async fn deleting_a_flow_cancels_its_waiting_runs() {
    let graph = graph_api().await;
    let app = app_with(&graph).await;
    let (tenant, person) = tenant_with_person(&app, "owner@delete.test").await;
    let token = tenant.token();
    let flow = create_flow(
        &app,
        token,
        "Doomed",
        json!([send_text("A"), wait_step(2), send_text("B")]),
    )
    .await;
    let run = start_flow(&app, token, &flow, &person).await;
    let waiting = wait_for_run(&app, token, &run, "WAITING").await;
    let due = instant(&waiting["nextStepAt"]);

    let deleted = app
        .mutate("deleteFlow", json!({ "id": flow }), "", Some(token))
        .await;
    data(&deleted);
    let read = read_run(&app, token, &run).await;
    let after = &data(&read)["flowRun"];
    assert_eq!(after["status"], "CANCELLED", "{after:#}");
    assert_eq!(after["flowId"], json!(flow), "the run still names its flow");
    assert_eq!(after["flow"], Value::Null, "a deleted flow reads as null");

    let until_due = (due - chrono::Utc::now()).num_milliseconds().max(0) as u64;
    pause(until_due + 1_500).await;
    assert_eq!(
        sent_bodies(&graph).await,
        vec![to_person("A")],
        "B was never sent"
    );
}

#[tokio::test]
async fn a_tag_deleted_under_a_waiting_run_fails_it_with_a_reason() {
    let graph = graph_api().await;
    let app = app_with(&graph).await;
    let (tenant, person) = tenant_with_person(&app, "owner@gone.test").await;
    let token = tenant.token();
    let tag = create_tag(&app, token, "soon gone").await;
    let flow = create_flow(
        &app,
        token,
        "Tagger",
        json!([send_text("A"), wait_step(2), { "addTag": { "tagId": tag } }, send_text("B")]),
    )
    .await;
    let run = start_flow(&app, token, &flow, &person).await;
    wait_for_run(&app, token, &run, "WAITING").await;
    let deleted = app
        .mutate("deleteTag", json!({ "id": tag }), "", Some(token))
        .await;
    data(&deleted);

    let failed = wait_for_run(&app, token, &run, "FAILED").await;
    assert!(
        failed["error"]
            .as_str()
            .is_some_and(|e| !e.trim().is_empty()),
        "{failed:#}"
    );
    let history = failed["history"].as_array().expect("history");
    let failed_entry = history
        .iter()
        .find(|e| e["action"] == "failed")
        .unwrap_or_else(|| panic!("no failed entry: {history:#?}"));
    assert_eq!(
        failed_entry["step"], 2,
        "it failed at the addTag step: {history:#?}"
    );
    assert_eq!(
        sent_bodies(&graph).await,
        vec![to_person("A")],
        "nothing after the failure"
    );
}

#[tokio::test]
async fn cancelling_a_run_whose_message_is_being_retried_stops_the_retries() {
    let graph = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .and(crate::support::send_api_path())
        .respond_with(wiremock::ResponseTemplate::new(503))
        .mount(&graph)
        .await;
    let app = app_with(&graph).await;
    let (tenant, person) = tenant_with_person(&app, "owner@stop-retries.test").await;
    let token = tenant.token();
    let flow = create_flow(
        &app,
        token,
        "Stuck",
        json!([send_text("A"), send_text("B")]),
    )
    .await;
    let run = start_flow(&app, token, &flow, &person).await;
    crate::support::wait_for_sends(&graph, 1).await;

    let cancelled = cancel_run(&app, token, &run).await;
    assert_eq!(
        data(&cancelled)["cancelFlowRun"]["status"],
        "CANCELLED",
        "{cancelled:#}"
    );
    let at_cancel = crate::support::sends(&graph).await.len();
    // Six attempts at a 100 ms base would take about 3 s: wait longer than that.
    pause(4_000).await;
    let calls = crate::support::sends(&graph).await;
    assert!(
        calls.len() <= at_cancel + 1,
        "the message was retried after its run was cancelled: {} calls at cancel, {} later",
        at_cancel,
        calls.len()
    );
    assert!(
        calls.iter().all(|c| c.body == to_person("A")),
        "B was never sent"
    );
    let outbox = messages(&app, token, json!({ "runId": run })).await;
    assert_eq!(outbox.len(), 1, "{outbox:#?}");
    assert!(
        matches!(outbox[0]["status"].as_str(), Some("SKIPPED" | "FAILED")),
        "the message is settled, not left to retry: {outbox:#?}"
    );
    let read = read_run(&app, token, &run).await;
    assert_eq!(data(&read)["flowRun"]["status"], "CANCELLED");
}
