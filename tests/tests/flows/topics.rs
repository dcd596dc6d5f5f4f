//! Topic notifications: one message per opt-in of the topic, addressed by its token, at most
//! one per token per cadence period; stopped and expired opt-ins skipped and counted.

use refhub_tests::{TestApp, assert_error, data, random_id};
use serde_json::{Value, json};

use crate::fixtures::{OPTIN_NOTIFICATION_MESSAGES, OPTIN_STOP_NOTIFICATIONS};
use crate::support::{
    PAGE, Tenant, app_with, assert_addressed_to_the_page, body, connect_tenant, create_topic,
    deliver, deliver_json, graph_api, item_mut, messages, now_ms, opt_in, opt_in_status, pause,
    retimed, sends, settled_events, settled_messages, wait_for_sends,
};

/// The token of `optin_notification_messages.json`.
const FIXTURE_TOKEN: &str = "NMT-0000000000000001";
const DAY_MS: i64 = 86_400_000;

async fn notify(app: &TestApp, token: &str, topic: &str, message: Value) -> Value {
    app.mutate(
        "sendTopicNotification",
        json!({ "topicId": topic, "message": message }),
        "{ queued skipped skippedReasons { reason count } }",
        Some(token),
    )
    .await
}

/// The fixture opt-in, timed now, with a token valid for months.
async fn fixture_opt_in(app: &TestApp, tenant: &Tenant, at_ms: i64) {
    let mut delivery = retimed(OPTIN_NOTIFICATION_MESSAGES, at_ms);
    item_mut(&mut delivery)["optin"]["token_expiry_timestamp"] = json!(now_ms() + 180 * DAY_MS);
    deliver_json(app, tenant, &delivery).await;
}

fn notification(token: &str, message: Value) -> Value {
    json!({ "recipient": { "notification_messages_token": token }, "message": message })
}

#[tokio::test]
async fn a_notification_goes_to_the_opt_in_token_once_per_cadence_period() {
    let graph = graph_api().await;
    let app = app_with(&graph).await;
    let tenant = connect_tenant(&app, "owner@notify.test", "Notify", PAGE).await;
    let token = tenant.token();
    let topic = create_topic(&app, token, &tenant.page_id, "Weekly deals").await;
    fixture_opt_in(&app, &tenant, now_ms()).await;
    settled_events(&app, token, 1).await;

    let report = notify(&app, token, &topic, json!({ "text": "This week: 20% off" })).await;
    assert_eq!(
        data(&report)["sendTopicNotification"],
        json!({ "queued": 1, "skipped": 0, "skippedReasons": [] })
    );
    let calls = wait_for_sends(&graph, 1).await;
    assert_addressed_to_the_page(&calls);
    assert_eq!(
        calls[0].body,
        notification(FIXTURE_TOKEN, json!({ "text": "This week: 20% off" })),
        "addressed by the opt-in's token, without messaging_type"
    );
    let outbox = settled_messages(&app, token, json!({}), 1).await;
    let sent = &outbox[0];
    assert_eq!(sent["kind"], "TOPIC_NOTIFICATION", "{sent:#}");
    assert_eq!(sent["topicId"], json!(topic));
    assert_eq!(sent["runId"], Value::Null);
    assert_eq!(sent["messagingType"], Value::Null);
    assert_eq!(sent["status"], "SENT");
    assert_eq!(sent["attempts"], 1);
    assert_eq!(sent["message"], json!({ "text": "This week: 20% off" }));
    assert_eq!(sent["page"]["id"], json!(tenant.page_id));

    // Right after: the token had its notification for this (weekly) period.
    let again = notify(&app, token, &topic, json!({ "text": "One more deal" })).await;
    assert_eq!(
        data(&again)["sendTopicNotification"],
        json!({ "queued": 0, "skipped": 1, "skippedReasons": [{ "reason": "CADENCE_LIMIT", "count": 1 }] })
    );
    pause(1_000).await;
    assert_eq!(
        sends(&graph).await.len(),
        1,
        "no second notification within the period"
    );
    assert_eq!(
        messages(&app, token, json!({})).await.len(),
        1,
        "nothing queued"
    );
}

#[tokio::test]
async fn stopped_and_expired_opt_ins_are_skipped_and_counted_by_reason() {
    let graph = graph_api().await;
    let app = app_with(&graph).await;
    let tenant = connect_tenant(&app, "owner@skips.test", "Skips", PAGE).await;
    let token = tenant.token();
    let topic = create_topic(&app, token, &tenant.page_id, "Weekly deals").await;
    create_topic(&app, token, &tenant.page_id, "Daily news").await;
    let now = now_ms();
    let future = now + 180 * DAY_MS;
    fixture_opt_in(&app, &tenant, now - 5_000).await;
    let items = [
        opt_in(
            "6100000000000702",
            now - 4_000,
            "NMT-active-0702",
            "Weekly deals",
            future,
        ),
        opt_in(
            "6100000000000703",
            now - 3_000,
            "NMT-stopped-0703",
            "Weekly deals",
            future,
        ),
        opt_in_status(
            "6100000000000703",
            now - 2_000,
            "NMT-stopped-0703",
            "STOP NOTIFICATIONS",
        ),
        opt_in(
            "6100000000000704",
            now - 1_000,
            "NMT-expired-0704",
            "Weekly deals",
            now - 3_600_000,
        ),
        // Another topic's opt-in is not this topic's business.
        opt_in(
            "6100000000000705",
            now - 500,
            "NMT-other-0705",
            "Daily news",
            future,
        ),
    ];
    for item in &items {
        deliver(&app, &tenant, body(std::slice::from_ref(item))).await;
    }
    settled_events(&app, token, items.len() + 1).await;

    let message = json!({ "text": "Deals inside", "buttons": [{ "title": "Shop", "url": "https://example.com/deals" }] });
    let report = notify(&app, token, &topic, message).await;
    let report = data(&report)["sendTopicNotification"].clone();
    assert_eq!(report["queued"], 2, "{report:#}");
    assert_eq!(report["skipped"], 2, "{report:#}");
    let mut reasons = report["skippedReasons"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    reasons.sort_by_key(|r| r["reason"].to_string());
    assert_eq!(
        reasons,
        vec![
            json!({ "reason": "EXPIRED", "count": 1 }),
            json!({ "reason": "STOPPED", "count": 1 }),
        ],
        "{report:#}"
    );

    let expected_message = json!({
        "attachment": {
            "type": "template",
            "payload": {
                "template_type": "button",
                "text": "Deals inside",
                "buttons": [{ "type": "web_url", "title": "Shop", "url": "https://example.com/deals" }],
            }
        }
    });
    let calls = wait_for_sends(&graph, 2).await;
    assert_addressed_to_the_page(&calls);
    let mut bodies: Vec<Value> = calls.into_iter().map(|c| c.body).collect();
    bodies.sort_by_key(|b| b["recipient"]["notification_messages_token"].to_string());
    assert_eq!(
        bodies,
        vec![
            notification(FIXTURE_TOKEN, expected_message.clone()),
            notification("NMT-active-0702", expected_message),
        ]
    );
    let outbox = settled_messages(&app, token, json!({}), 2).await;
    assert!(
        outbox
            .iter()
            .all(|m| m["kind"] == "TOPIC_NOTIFICATION" && m["status"] == "SENT"),
        "{outbox:#?}"
    );
    pause(500).await;
    assert_eq!(sends(&graph).await.len(), 2);
}

#[tokio::test]
async fn the_stop_notifications_fixture_stops_the_fixture_opt_in() {
    let graph = graph_api().await;
    let app = app_with(&graph).await;
    let tenant = connect_tenant(&app, "owner@stop.test", "Stop", PAGE).await;
    let token = tenant.token();
    let topic = create_topic(&app, token, &tenant.page_id, "Weekly deals").await;
    let now = now_ms();
    fixture_opt_in(&app, &tenant, now - 1_000).await;
    deliver_json(&app, &tenant, &retimed(OPTIN_STOP_NOTIFICATIONS, now)).await;
    settled_events(&app, token, 2).await;

    let report = notify(&app, token, &topic, json!({ "text": "Anyone?" })).await;
    assert_eq!(
        data(&report)["sendTopicNotification"],
        json!({ "queued": 0, "skipped": 1, "skippedReasons": [{ "reason": "STOPPED", "count": 1 }] })
    );
    pause(500).await;
    assert!(sends(&graph).await.is_empty());
    assert!(messages(&app, token, json!({})).await.is_empty());

    // And bad inputs.
    let unknown = notify(&app, token, &random_id(), json!({ "text": "x" })).await;
    assert_error(&unknown, "NOT_FOUND");
    let blank = notify(&app, token, &topic, json!({ "text": "  " })).await;
    assert_error(&blank, "VALIDATION");
}
