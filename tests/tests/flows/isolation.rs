//! Tenant isolation: another tenant sees none of this tenant's flows, runs or outbound
//! messages, and cannot act on them or use this tenant's subscribers, pages and topics.

use refhub_tests::{TestApp, data};
use serde_json::{Value, json};

use crate::support::{
    Checks, Field, PAGE, app_with, cancel_run, connect_tenant, create_flow, create_topic,
    graph_api, known_subscriber, known_subscriber_on, messages_page, read_flow, read_run,
    runs_page, send_text, start_flow, start_flow_raw, wait_for_run, wait_step,
};

/// A list that is either empty or refused as NOT_FOUND.
fn empty_or_not_found(checks: &mut Checks, case: &str, response: &Value, list: &str) {
    if response.get("errors").is_some() {
        checks.error(case, response, "NOT_FOUND", Field::None);
    } else if response["data"][list]["totalCount"] != json!(0) {
        checks.fail(format!(
            "{case}: another tenant's items are listed: {response}"
        ));
    }
}

async fn count(app: &TestApp, token: &str) -> Value {
    app.graphql_ok(
        "{ flows { totalCount } flowRuns { totalCount } outboundMessages { totalCount } }",
        json!({}),
        Some(token),
    )
    .await
}

#[tokio::test]
async fn another_tenant_sees_and_touches_none_of_the_flows_runs_and_messages() {
    let graph = graph_api().await;
    let app = app_with(&graph).await;
    let acme = connect_tenant(&app, "owner@acme.test", "Acme", PAGE).await;
    let globex = connect_tenant(&app, "owner@globex.test", "Globex", "104857600000002").await;
    let a = acme.token();
    let g = globex.token();
    let flow = create_flow(
        &app,
        a,
        "Acme drip",
        json!([send_text("A"), wait_step(2), send_text("B")]),
    )
    .await;
    let topic = create_topic(&app, a, &acme.page_id, "Weekly deals").await;
    let person = known_subscriber(&app, &acme, "6100000000000801").await;
    let run = start_flow(&app, a, &flow, &person).await;
    wait_for_run(&app, a, &run, "WAITING").await;

    let theirs = create_flow(&app, g, "Globex's", json!([send_text("G")])).await;
    let their_person =
        known_subscriber_on(&app, &globex, "104857600000002", "6100000000000802").await;

    assert_eq!(
        count(&app, g).await,
        json!({ "flows": { "totalCount": 1 }, "flowRuns": { "totalCount": 0 }, "outboundMessages": { "totalCount": 0 } }),
        "Globex sees only its own flow"
    );
    let mut checks = Checks::default();
    checks.error(
        "flow",
        &read_flow(&app, g, &flow).await,
        "NOT_FOUND",
        Field::None,
    );
    checks.error(
        "flowRun",
        &read_run(&app, g, &run).await,
        "NOT_FOUND",
        Field::None,
    );
    checks.error(
        "cancelFlowRun",
        &cancel_run(&app, g, &run).await,
        "NOT_FOUND",
        Field::None,
    );
    checks.error(
        "startFlow with another tenant's subscriber",
        &start_flow_raw(&app, g, &theirs, &[&person]).await,
        "NOT_FOUND",
        Field::None,
    );
    checks.error(
        "startFlow of another tenant's flow for an own subscriber",
        &start_flow_raw(&app, g, &flow, &[&their_person]).await,
        "NOT_FOUND",
        Field::None,
    );
    for (case, rule, page) in [
        (
            "a trigger on another tenant's topic",
            json!({ "topicOptIn": { "topicId": topic } }),
            None,
        ),
        (
            "a trigger on another tenant's page",
            json!({ "postback": { "payload": "GO" } }),
            Some(&acme.page_id),
        ),
    ] {
        let response =
            crate::support::create_trigger_raw(&app, g, &theirs, page.map(String::as_str), rule)
                .await;
        checks.error(case, &response, "NOT_FOUND", Field::None);
    }
    let notify = app
        .mutate(
            "sendTopicNotification",
            json!({ "topicId": topic, "message": { "text": "hijack" } }),
            "{ queued }",
            Some(g),
        )
        .await;
    checks.error(
        "sendTopicNotification on another tenant's topic",
        &notify,
        "NOT_FOUND",
        Field::None,
    );
    empty_or_not_found(
        &mut checks,
        "flowRuns(flowId)",
        &runs_page(&app, g, json!({ "flowId": flow })).await,
        "flowRuns",
    );
    empty_or_not_found(
        &mut checks,
        "flowRuns(subscriberId)",
        &runs_page(&app, g, json!({ "subscriberId": person })).await,
        "flowRuns",
    );
    empty_or_not_found(
        &mut checks,
        "outboundMessages(runId)",
        &messages_page(&app, g, json!({ "runId": run })).await,
        "outboundMessages",
    );
    empty_or_not_found(
        &mut checks,
        "outboundMessages(subscriberId)",
        &messages_page(&app, g, json!({ "subscriberId": person })).await,
        "outboundMessages",
    );
    checks.verify();

    // Acme's run went on untouched.
    let done = wait_for_run(&app, a, &run, "COMPLETED").await;
    assert_eq!(done["currentStep"], 3);
    let acme_counts = count(&app, a).await;
    assert_eq!(acme_counts["flows"]["totalCount"], 1);
    assert_eq!(acme_counts["flowRuns"]["totalCount"], 1);
    assert_eq!(acme_counts["outboundMessages"]["totalCount"], 2);
    let outbox = data(&messages_page(&app, a, json!({ "runId": run })).await)["outboundMessages"]["totalCount"].clone();
    assert_eq!(outbox, 2);
}
