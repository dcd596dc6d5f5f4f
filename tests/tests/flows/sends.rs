//! What Meta receives: a ref link's flow started by the signed `referral_shortlink` fixture sends
//! one request per send step, in order, with the exact bodies the Send API documents, and applies
//! its field and tag steps to the subscriber; one entry starts one run, however often it is
//! delivered or replayed.

use refhub_tests::{data, str_at};
use serde_json::{Value, json};

use crate::fixtures::REFERRAL_SHORTLINK;
use crate::support::{
    PAGE, WAIT, actions, app_with, assert_addressed_to_the_page, assert_history_in_order,
    connect_tenant, create_field, create_flow, create_flow_link, create_tag, deliver, deliver_json,
    eventually, field_value, graph_api, instant, messages, now_ms, pause, retimed, runs, send_text,
    sends, sent_bodies, settled_events, settled_messages, subscriber, tag_ids, text, the_run_of,
    to_psid, wait_for_sends, webhook_event,
};

/// The PSID of `referral_shortlink.json`.
const PSID: &str = "6100000000000001";

#[tokio::test]
async fn a_ref_link_flow_sends_each_step_type_exactly_as_meta_documents_it() {
    let graph = graph_api().await;
    let app = app_with(&graph).await;
    let tenant = connect_tenant(&app, "owner@bodies.test", "Bodies", PAGE).await;
    let token = tenant.token();
    let (age, _) = create_field(&app, token, "age", "NUMBER", None).await;
    let (member, _) = create_field(&app, token, "member", "BOOLEAN", None).await;
    let vip = create_tag(&app, token, "vip").await;
    let newbie = create_tag(&app, token, "newbie").await;
    let flow = create_flow(
        &app,
        token,
        "Summer",
        json!([
            { "sendText": { "text": "Welcome to summer! ☀️" } },
            { "setField": { "fieldId": age, "value": "007" } },
            { "addTag": { "tagId": vip } },
            { "removeTag": { "tagId": newbie } },
            { "sendQuickReplies": { "text": "Pick a size", "replies": [
                { "title": "Small", "payload": "SIZE_S" },
                { "title": "Medium", "payload": "SIZE_M" },
            ] } },
            { "sendButtons": { "text": "Ready to shop?", "buttons": [
                { "title": "Yes please", "payload": "SHOP_YES" },
                { "title": "Open the shop", "url": "https://example.com/shop?utm=summer" },
            ] } },
            { "setField": { "fieldId": member, "value": "YES" } },
        ]),
    )
    .await;
    // The link also tags arrivals `newbie`; the flow takes that tag off again.
    create_flow_link(&app, &tenant, "summer_coupon", &flow, &[&newbie]).await;

    deliver_json(&app, &tenant, &retimed(REFERRAL_SHORTLINK, now_ms())).await;
    let run = the_run_of(&app, token, &flow, "COMPLETED").await;

    // What Meta received, in order.
    let calls = sends(&graph).await;
    assert_addressed_to_the_page(&calls);
    let expected = vec![
        to_psid(PSID, "RESPONSE", text("Welcome to summer! ☀️")),
        to_psid(
            PSID,
            "RESPONSE",
            json!({
                "text": "Pick a size",
                "quick_replies": [
                    { "content_type": "text", "title": "Small", "payload": "SIZE_S" },
                    { "content_type": "text", "title": "Medium", "payload": "SIZE_M" },
                ]
            }),
        ),
        to_psid(
            PSID,
            "RESPONSE",
            json!({
                "attachment": {
                    "type": "template",
                    "payload": {
                        "template_type": "button",
                        "text": "Ready to shop?",
                        "buttons": [
                            { "type": "postback", "title": "Yes please", "payload": "SHOP_YES" },
                            { "type": "web_url", "title": "Open the shop", "url": "https://example.com/shop?utm=summer" },
                        ]
                    }
                }
            }),
        ),
    ];
    let bodies: Vec<Value> = calls.iter().map(|c| c.body.clone()).collect();
    assert_eq!(bodies, expected, "the Send API bodies, in order");

    // The run.
    assert_eq!(run["flowId"], json!(flow));
    assert_eq!(run["flow"]["id"], json!(flow));
    assert_eq!(run["subscriber"]["psid"], PSID);
    assert_eq!(run["trigger"]["kind"], "REF_LINK", "{run:#}");
    assert!(
        run["trigger"]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("summer_coupon")),
        "the trigger's detail names the ref: {run:#}"
    );
    assert_eq!(
        run["currentStep"], 7,
        "currentStep == steps count when done"
    );
    assert_eq!(run["error"], Value::Null);
    assert!(run["finishedAt"].is_string(), "{run:#}");
    assert!(instant(&run["finishedAt"]) >= instant(&run["startedAt"]));
    assert_eq!(
        actions(&run),
        [
            "started",
            "sendText",
            "sent",
            "setField",
            "addTag",
            "removeTag",
            "sendQuickReplies",
            "sent",
            "sendButtons",
            "sent",
            "setField",
            "completed"
        ],
        "history: {:#}",
        run["history"]
    );
    let history = run["history"].as_array().expect("history");
    let steps_of: Vec<(String, Value)> = history
        .iter()
        .filter(|e| e["action"] != "started" && e["action"] != "sent" && e["action"] != "completed")
        .map(|e| (str_at(e, "/action"), e["step"].clone()))
        .collect();
    assert_eq!(
        steps_of,
        vec![
            ("sendText".to_owned(), json!(0)),
            ("setField".to_owned(), json!(1)),
            ("addTag".to_owned(), json!(2)),
            ("removeTag".to_owned(), json!(3)),
            ("sendQuickReplies".to_owned(), json!(4)),
            ("sendButtons".to_owned(), json!(5)),
            ("setField".to_owned(), json!(6)),
        ],
        "each step's history entry names its step: {history:#?}"
    );
    assert!(history.iter().all(|e| e["error"].is_null()), "{history:#?}");
    assert_history_in_order(&run);

    // The outbox rows, newest first.
    let run_id = str_at(&run, "/id");
    let outbox = messages(&app, token, json!({ "runId": run_id })).await;
    assert_eq!(outbox.len(), 3, "{outbox:#?}");
    let oldest_first: Vec<&Value> = outbox.iter().rev().collect();
    for (message, body) in oldest_first.iter().zip(&expected) {
        assert_eq!(message["kind"], "FLOW", "{message:#}");
        assert_eq!(message["status"], "SENT", "{message:#}");
        assert_eq!(message["attempts"], 1, "{message:#}");
        assert_eq!(message["runId"], json!(run_id));
        assert_eq!(message["topicId"], Value::Null);
        assert_eq!(message["page"]["id"], json!(tenant.page_id));
        assert_eq!(message["subscriber"]["psid"], PSID);
        assert_eq!(message["messagingType"], "RESPONSE");
        assert_eq!(message["message"], body["message"], "the stored message");
        assert_eq!(message["errorCode"], Value::Null);
        assert_eq!(message["lastError"], Value::Null);
        assert!(message["sentAt"].is_string(), "{message:#}");
        assert!(
            message["metaMessageId"]
                .as_str()
                .is_some_and(|id| id.starts_with("m_sent")),
            "metaMessageId is Meta's message_id: {message:#}"
        );
    }
    let meta_ids: std::collections::BTreeSet<&str> = outbox
        .iter()
        .filter_map(|m| m["metaMessageId"].as_str())
        .collect();
    assert_eq!(meta_ids.len(), 3, "each message has its own Meta id");

    // The subscriber's fields and tags.
    let person = str_at(&run, "/subscriber/id");
    let response = subscriber(&app, token, &person).await;
    let person = &data(&response)["subscriber"];
    assert_eq!(
        field_value(person, &age).as_deref(),
        Some("7"),
        "{person:#}"
    );
    assert_eq!(
        field_value(person, &member).as_deref(),
        Some("true"),
        "{person:#}"
    );
    assert_eq!(
        tag_ids(person),
        vec![vip],
        "vip added, newbie removed: {person:#}"
    );
}

#[tokio::test]
async fn a_plugin_user_known_only_by_user_ref_is_addressed_by_it() {
    let graph = graph_api().await;
    let app = app_with(&graph).await;
    let tenant = connect_tenant(&app, "owner@userref.test", "User ref", PAGE).await;
    let token = tenant.token();
    let flow = create_flow(
        &app,
        token,
        "Checkbox",
        json!([send_text("Thanks for opting in")]),
    )
    .await;
    create_flow_link(&app, &tenant, "checkbox", &flow, &[]).await;
    let now = now_ms();
    let delivery = json!({ "object": "page", "entry": [{ "id": PAGE, "time": now, "messaging": [{
        "sender": { "user_ref": "UREF-plugin-42" },
        "recipient": { "id": PAGE },
        "timestamp": now,
        "referral": { "ref": "checkbox", "source": "SHORTLINK", "type": "OPEN_THREAD" },
    }] }] });
    deliver_json(&app, &tenant, &delivery).await;
    the_run_of(&app, token, &flow, "COMPLETED").await;
    assert_eq!(
        sent_bodies(&graph).await,
        vec![json!({
            "recipient": { "user_ref": "UREF-plugin-42" },
            "messaging_type": "RESPONSE",
            "message": { "text": "Thanks for opting in" },
        })]
    );
}

#[tokio::test]
async fn one_entry_starts_one_run_when_delivered_twice_and_when_replayed() {
    let graph = graph_api().await;
    let app = app_with(&graph).await;
    let tenant = connect_tenant(&app, "owner@once.test", "Once", PAGE).await;
    let token = tenant.token();
    let flow = create_flow(
        &app,
        token,
        "Once",
        json!([send_text("first"), send_text("second")]),
    )
    .await;
    create_flow_link(&app, &tenant, "summer_coupon", &flow, &[]).await;

    let delivery = retimed(REFERRAL_SHORTLINK, now_ms()).to_string();
    deliver(&app, &tenant, &delivery).await;
    deliver(&app, &tenant, &delivery).await;
    let events = settled_events(&app, token, 1).await;
    let run = the_run_of(&app, token, &flow, "COMPLETED").await;
    wait_for_sends(&graph, 2).await;

    // Replayed twice by an admin: applied again, but no second run.
    let event_id = str_at(&events[0], "/id");
    let mut processed_at = events[0]["processedAt"].clone();
    for _ in 0..2 {
        let replayed = app
            .mutate(
                "replayWebhookEvent",
                json!({ "id": event_id }),
                "{ id }",
                Some(token),
            )
            .await;
        data(&replayed);
        processed_at = eventually(
            "the replayed event to be processed again",
            WAIT,
            async || {
                let response = webhook_event(&app, token, &event_id).await;
                let event = &data(&response)["webhookEvent"];
                if event["status"] == "PROCESSED" && event["processedAt"] != processed_at {
                    Ok(event["processedAt"].clone())
                } else {
                    Err(format!("{event:#}"))
                }
            },
        )
        .await;
    }
    // Time for a wrongly started second run to show itself.
    pause(1_500).await;
    let all = runs(&app, token, json!({ "flowId": flow })).await;
    assert_eq!(all.len(), 1, "one entry, one run: {all:#?}");
    assert_eq!(all[0]["id"], run["id"]);
    let everything = runs(&app, token, json!({})).await;
    assert_eq!(everything.len(), 1, "{everything:#?}");
    let outbox = settled_messages(&app, token, json!({}), 2).await;
    assert!(outbox.iter().all(|m| m["status"] == "SENT"), "{outbox:#?}");
    assert_eq!(
        sent_bodies(&graph).await,
        vec![
            to_psid(PSID, "RESPONSE", text("first")),
            to_psid(PSID, "RESPONSE", text("second")),
        ],
        "one message per step"
    );
}
