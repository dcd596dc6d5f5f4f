//! The parser is tolerant the way Meta's payloads require (DESIGN.md 6.4): every entry and
//! every item of `messaging` and `standby`; timestamps as numbers or strings, in milliseconds
//! or seconds; `sender.id` or `sender.user_ref`; unknown kinds stored and marked unhandled.
//! And what a store may choke on (U+0000, thousands of items) is still stored, without
//! failing anyone else's deliveries.

use refhub_tests::{spawn_app, spawn_app_with};
use serde_json::{Value, json};

use crate::support::{
    PAGE, all_subscribers, at_ms, body, connect_tenant, deliver, event_count, instant, message,
    now_ms, post_webhook, settled_events, signature, subscriber_by_psid,
};

#[tokio::test]
async fn odd_but_valid_shapes_are_all_stored_and_handled() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@tolerant.test", "Tolerant", PAGE).await;
    let token = tenant.token();
    // Whole seconds, so that the same instant can be written in seconds and in milliseconds.
    let t_ms = (now_ms() / 1_000 - 600) * 1_000;
    let t_s = t_ms / 1_000;
    let sender = |id: &str| json!({ "id": id });
    let recipient = json!({ "id": PAGE });
    let delivery = json!({
        "object": "page",
        "entry": [
            {
                "id": PAGE,
                "time": t_ms,
                "messaging": [
                    // A timestamp as a string of milliseconds, a lower-case source.
                    { "sender": sender("9800000000000001"), "recipient": recipient, "timestamp": t_ms.to_string(),
                      "referral": { "ref": "anything", "source": "short-url", "type": "OPEN_THREAD" } },
                    // A timestamp in seconds.
                    { "sender": sender("9800000000000002"), "recipient": recipient, "timestamp": t_s,
                      "message": { "mid": "m_seconds_0001", "text": "in seconds" } },
                    // A plugin user, known by user_ref only.
                    { "sender": { "user_ref": "plugin-user-42" }, "recipient": recipient, "timestamp": t_ms + 1,
                      "postback": { "title": "Start", "payload": "START" } },
                    // Kinds nobody acts on.
                    { "sender": sender("9800000000000001"), "recipient": recipient, "timestamp": t_ms + 2,
                      "read": { "watermark": t_ms } },
                    { "sender": sender("9800000000000001"), "recipient": recipient, "timestamp": t_ms + 3,
                      "something_new": { "a": 1 } },
                    // The page's own message, echoed.
                    { "sender": { "id": PAGE }, "recipient": sender("9800000000000001"), "timestamp": t_ms + 4,
                      "message": { "mid": "m_echo_0001", "is_echo": true, "text": "we said this" } },
                ]
            },
            {
                "id": PAGE,
                "time": t_ms + 5,
                // Another app owns the thread: the items arrive under `standby`.
                "standby": [
                    { "sender": sender("9800000000000003"), "recipient": recipient, "timestamp": t_ms + 5,
                      "message": { "mid": "m_standby_0001", "text": "while another app talks" } },
                ]
            }
        ]
    });
    deliver(&app, &tenant, delivery.to_string()).await;
    let events = settled_events(&app, token, 7).await;
    let by = |pick: &dyn Fn(&Value) -> bool| -> Value {
        events
            .iter()
            .find(|e| pick(e))
            .cloned()
            .unwrap_or_else(|| panic!("no such event among {events:#?}"))
    };

    let string_ts = by(&|e| e["kind"] == "referral");
    assert_eq!(string_ts["status"], "PROCESSED", "{string_ts:#}");
    assert_eq!(
        instant(&string_ts["occurredAt"]),
        at_ms(t_ms),
        "{string_ts:#}"
    );
    let seconds = by(&|e| e["body"]["message"]["mid"] == "m_seconds_0001");
    assert_eq!(instant(&seconds["occurredAt"]), at_ms(t_ms), "{seconds:#}");
    let plugin = by(&|e| e["kind"] == "postback");
    assert_eq!(plugin["sender"], "user_ref:plugin-user-42", "{plugin:#}");
    assert_eq!(plugin["status"], "PROCESSED", "{plugin:#}");
    for unhandled in [
        by(&|e| e["kind"] == "read"),
        by(&|e| e["body"].get("something_new").is_some()),
        by(&|e| e["body"]["message"]["mid"] == "m_echo_0001"),
    ] {
        assert_eq!(unhandled["status"], "IGNORED", "{unhandled:#}");
        assert!(unhandled["outcome"].is_object(), "{unhandled:#}");
    }
    let standby = by(&|e| e["body"]["message"]["mid"] == "m_standby_0001");
    assert_ne!(standby["status"], "FAILED", "{standby:#}");

    let one = subscriber_by_psid(&app, token, &tenant.page_id, "9800000000000001")
        .await
        .expect("the referred person");
    assert_eq!(one["sourceRef"], "anything");
    assert_eq!(one["entryCount"], 1);
    assert_eq!(instant(&one["firstSeenAt"]), at_ms(t_ms));
    assert_eq!(
        instant(&one["lastInteractionAt"]),
        at_ms(t_ms),
        "reads, unknown kinds and echoes are not the person acting: {one:#}"
    );
    assert_eq!(one["withinMessagingWindow"], true, "{one:#}");
    let two = subscriber_by_psid(&app, token, &tenant.page_id, "9800000000000002")
        .await
        .expect("the person who wrote");
    assert_eq!(instant(&two["lastInteractionAt"]), at_ms(t_ms), "{two:#}");

    let everyone = all_subscribers(&app, token, &tenant.page_id, Value::Null).await;
    let plugin_user = everyone
        .iter()
        .find(|s| s["userRef"] == "plugin-user-42")
        .unwrap_or_else(|| panic!("no subscriber for the plugin user: {everyone:#?}"));
    assert!(plugin_user["psid"].is_null(), "{plugin_user:#}");
    assert!(
        everyone.iter().all(|s| s["psid"] != PAGE),
        "the page's echo made the page a subscriber: {everyone:#?}"
    );
}

#[tokio::test]
async fn a_nul_character_in_a_message_is_stored_like_any_other_text() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@nul.test", "Nul", PAGE).await;
    let t = now_ms() - 1_000;
    // Valid JSON: U+0000 escaped, as a serializer writes it.
    let delivery = body(&[message(
        "9800000000000009",
        t,
        "m_nul_0001",
        "before\u{0}after",
    )]);
    assert!(delivery.contains(r"\u0000"), "{delivery}");
    let signed = signature(&tenant.app_secret, delivery.as_bytes());
    let (status, text) = post_webhook(
        &app,
        &tenant.webhook_path,
        delivery.as_bytes(),
        Some(&signed),
    )
    .await;
    assert_eq!((status, text.as_str()), (200, "EVENT_RECEIVED"));
    let events = settled_events(&app, tenant.token(), 1).await;
    // PostgreSQL's jsonb cannot hold U+0000, so it is stored as U+FFFD on both databases.
    assert_eq!(events[0]["body"]["message"]["text"], "before\u{FFFD}after");
}

#[tokio::test]
async fn a_delivery_the_store_chokes_on_does_not_fail_other_tenants_deliveries() {
    let app = spawn_app().await;
    let acme = connect_tenant(&app, "owner@acme.test", "Acme", PAGE).await;
    let globex = connect_tenant(&app, "owner@globex.test", "Globex", "104857600000002").await;
    let t = now_ms() - 60_000;
    let mut refused = Vec::new();
    for round in 0..50_i64 {
        // Acme's delivery carries U+0000 (valid JSON, which some stores refuse)…
        let odd = body(&[message(
            "9800000000000010",
            t + round,
            &format!("m_odd_{round}"),
            "nul\u{0}",
        )]);
        // …while Globex's, at the same moment, is as plain as can be.
        let mut plain_item = message(
            "9800000000000011",
            t + round,
            &format!("m_plain_{round}"),
            "hello",
        );
        plain_item["recipient"]["id"] = json!("104857600000002");
        let plain = json!({ "object": "page", "entry": [{ "id": "104857600000002", "time": t, "messaging": [plain_item] }] }).to_string();
        let odd_signed = signature(&acme.app_secret, odd.as_bytes());
        let plain_signed = signature(&globex.app_secret, plain.as_bytes());
        let (_, (status, text)) = futures::join!(
            post_webhook(&app, &acme.webhook_path, odd.as_bytes(), Some(&odd_signed)),
            post_webhook(
                &app,
                &globex.webhook_path,
                plain.as_bytes(),
                Some(&plain_signed)
            ),
        );
        if status != 200 {
            refused.push(format!("round {round}: {status} {text}"));
        }
    }
    assert!(
        refused.is_empty(),
        "Globex's plain deliveries failed because of Acme's: {refused:#?}"
    );
}

#[tokio::test]
async fn a_body_of_thousands_of_items_is_stored_whole() {
    const ITEMS: usize = 2_500;
    let app = spawn_app_with(|config| config.workers = 0).await;
    let tenant = connect_tenant(&app, "owner@bulk.test", "Bulk", PAGE).await;
    let t = now_ms() - 3_600_000;
    let items: Vec<Value> = (0..ITEMS)
        .map(|i| {
            message(
                &format!("98100000000{:05}", i % 250),
                t + i as i64,
                &format!("m_bulk_{i}"),
                "x",
            )
        })
        .collect();
    let delivery = body(&items);
    assert!(delivery.len() < 1024 * 1024, "{} bytes", delivery.len());
    deliver(&app, &tenant, &delivery).await;
    assert_eq!(
        event_count(&app, tenant.token(), Some("PENDING")).await,
        ITEMS as i64
    );
}

/// A question about a Shops product arrives as a message whose `referral` names only the
/// product: the person wrote (their window opens), but came through no link or ad.
#[tokio::test]
async fn a_message_about_a_shops_product_is_not_an_entry() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@shops.test", "Shops", PAGE).await;
    let mut item = message(
        "7300000000000001",
        now_ms(),
        "m-shops-1",
        "Is this in stock?",
    );
    item["message"]["referral"] = json!({ "product": { "id": "1234567890" } });
    deliver(&app, &tenant, body(&[item])).await;
    settled_events(&app, tenant.token(), 1).await;
    let person = subscriber_by_psid(&app, tenant.token(), &tenant.page_id, "7300000000000001")
        .await
        .expect("the person is a subscriber");
    assert_eq!(person["entryCount"], 0, "{person:#}");
    assert_eq!(person["sourceRef"], Value::Null, "{person:#}");
    assert_eq!(person["withinMessagingWindow"], true, "{person:#}");
}

/// The App Dashboard's test button, and Meta's webhook reference pages, write an item as a
/// change (`entry[].changes[] = {field, value: item}`): read like the same item under
/// `messaging`, and one event with it when Meta redelivers it in the other form.
#[tokio::test]
async fn an_item_written_as_a_change_is_read_as_a_messaging_item() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@changes.test", "Changes", PAGE).await;
    let psid = "7300000000000002";
    let t = now_ms();
    let item = json!({
        "sender": { "id": psid },
        "recipient": { "id": PAGE },
        "timestamp": (t / 1000).to_string(),
        "postback": { "mid": "m-change-1", "title": "Start", "payload": "GET_STARTED",
            "referral": { "ref": "spring", "source": "SHORT-URL", "type": "OPEN_THREAD" } },
    });
    let as_change = json!({ "object": "page", "entry": [{ "id": PAGE, "time": t,
        "changes": [{ "field": "messaging_postbacks", "value": item }] }] });
    deliver(&app, &tenant, as_change.to_string()).await;
    deliver(&app, &tenant, body(&[item])).await;
    let events = settled_events(&app, tenant.token(), 1).await;
    assert_eq!(events.len(), 1, "the two forms are one event: {events:#?}");
    assert_eq!(events[0]["kind"], "postback", "{events:#?}");
    assert_eq!(events[0]["status"], "PROCESSED", "{events:#?}");
    let person = subscriber_by_psid(&app, tenant.token(), &tenant.page_id, psid)
        .await
        .expect("the person is a subscriber");
    assert_eq!(person["sourceRef"], "spring", "{person:#}");
    assert_eq!(person["entryCount"], 1, "{person:#}");
}

/// Handover and message-request items are named, not `unknown`; a person accepting the page's
/// message request acted, so they are a subscriber whose window is open.
#[tokio::test]
async fn message_requests_and_handover_items_are_named_and_an_accepted_request_is_acting() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@requests.test", "Requests", PAGE).await;
    let psid = "7300000000000003";
    let t = now_ms();
    let item = |timestamp: i64, key: &str, value: Value| {
        let mut item = json!({ "sender": { "id": psid }, "recipient": { "id": PAGE },
            "timestamp": timestamp });
        item[key] = value;
        item
    };
    deliver(
        &app,
        &tenant,
        body(&[
            item(t, "message_request", json!("accept")),
            item(
                t + 1,
                "request_thread_control",
                json!({ "requested_owner_app_id": 123456789, "metadata": "help" }),
            ),
            item(
                t + 2,
                "response_feedback",
                json!({ "mid": "m-feedback", "feedback": "Good response" }),
            ),
        ]),
    )
    .await;
    let events = settled_events(&app, tenant.token(), 3).await;
    let status_of = |kind: &str| {
        events
            .iter()
            .find(|e| e["kind"] == kind)
            .map(|e| e["status"].clone())
            .unwrap_or_else(|| panic!("an event of kind {kind}: {events:#?}"))
    };
    assert_eq!(status_of("message_request"), "PROCESSED");
    assert_eq!(status_of("request_thread_control"), "IGNORED");
    assert_eq!(status_of("response_feedback"), "IGNORED");
    let person = subscriber_by_psid(&app, tenant.token(), &tenant.page_id, psid)
        .await
        .expect("accepting the request makes a subscriber");
    assert_eq!(person["withinMessagingWindow"], true, "{person:#}");
}
