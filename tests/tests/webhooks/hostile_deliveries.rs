//! Signed deliveries no real page would send, and what must still hold: a ref that repeats a
//! field thousands of times is noted briefly and costs no more than a real one; a timestamp in
//! the wrong unit does not hold a subscriber in the far future; an opt-in status we do not
//! know does not overwrite the opt-in; and a timeline delivered out of order reads newest first
//! in event time, page after page.

use refhub_tests::{TestApp, spawn_app};
use serde_json::{Value, json};

use crate::support::{
    PAGE, Tenant, all_events, at_ms, body, connect_tenant, create_field, create_link, create_topic,
    deliver, field_value, instant, now_ms, opt_in, opt_in_status, referral, settled_events,
    subscriber_by_psid, wait_for_subscriber,
};

const DAY_MS: i64 = 24 * 3_600_000;

/// A tenant whose page has the topic "Weekly deals".
async fn with_weekly_deals(app: &TestApp, email: &str, name: &str) -> Tenant {
    let tenant = connect_tenant(app, email, name, PAGE).await;
    create_topic(app, tenant.token(), &tenant.page_id, "Weekly deals").await;
    tenant
}

#[tokio::test]
async fn a_ref_repeating_fields_thousands_of_times_is_noted_briefly_and_the_rest_applies() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@hostile-refs.test", "Hostile refs", PAGE).await;
    let token = tenant.token();
    let (level, _) = create_field(&app, token, "level", "TEXT", None).await;
    let (city, _) = create_field(&app, token, "city", "TEXT", Some(738)).await;
    create_link(&app, token, &tenant.page_id, "quiz", Some(&level), &[]).await;

    // 20,000 repeats of one field (160 KB), and 300 different unknown field numbers.
    let repeated = format!("quiz--Alpha{}", "--738--Lyon".repeat(20_000));
    let many = format!(
        "quiz--Beta{}",
        (1..=300)
            .map(|n| format!("--{}--x", 10_000 + n))
            .collect::<String>()
    );
    let t = now_ms() - 60_000;
    deliver(
        &app,
        &tenant,
        body(&[
            referral("9710000000000001", t, &repeated),
            referral("9710000000000002", t + 1, &many),
        ]),
    )
    .await;
    let events = settled_events(&app, token, 2).await;
    assert!(
        events.iter().all(|e| e["status"] == "PROCESSED"),
        "{events:#?}"
    );

    let first = subscriber_by_psid(&app, token, &tenant.page_id, "9710000000000001")
        .await
        .expect("the first subscriber");
    assert_eq!(field_value(&first, &level).as_deref(), Some("Alpha"));
    assert_eq!(field_value(&first, &city).as_deref(), Some("Lyon"));
    let second = subscriber_by_psid(&app, token, &tenant.page_id, "9710000000000002")
        .await
        .expect("the second subscriber");
    assert_eq!(field_value(&second, &level).as_deref(), Some("Beta"));

    for event in &events {
        let outcome = &event["outcome"];
        let size = outcome.to_string().len();
        assert!(size < 16_000, "an outcome of {size} bytes: kept brief");
        let skipped = outcome["skipped"].as_array().expect("skipped notes");
        assert!(
            skipped.len() <= 21,
            "{} notes: twenty problems, then one counting the rest",
            skipped.len()
        );
    }
    let notes = |psid: &str| {
        events
            .iter()
            .find(|e| e["body"]["sender"]["id"] == json!(psid))
            .map(|e| e["outcome"]["skipped"].to_string())
            .unwrap_or_default()
    };
    assert!(
        notes("9710000000000001").contains("more problems, not listed"),
        "the repeats beyond the first are counted in one note: {}",
        notes("9710000000000001")
    );
    assert!(
        notes("9710000000000002").contains("81 more problems, not listed"),
        "unknown field numbers past the twentieth note are counted too: {}",
        notes("9710000000000002")
    );
    assert!(
        notes("9710000000000002").contains("more than 100 fields"),
        "fields beyond the bound are skipped in one note: {}",
        notes("9710000000000002")
    );
}

#[tokio::test]
async fn a_timestamp_in_microseconds_does_not_hold_the_subscriber_in_the_future() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@hostile-times.test", "Hostile times", PAGE).await;
    let token = tenant.token();
    let (level, _) = create_field(&app, token, "level", "TEXT", None).await;
    create_link(&app, token, &tenant.page_id, "quiz", Some(&level), &[]).await;

    let now = now_ms();
    // Microseconds read as milliseconds would be the year 57859.
    deliver(
        &app,
        &tenant,
        body(&[referral("9720000000000001", now * 1000, "quiz--first")]),
    )
    .await;
    settled_events(&app, token, 1).await;
    deliver(
        &app,
        &tenant,
        body(&[referral(
            "9720000000000001",
            now_ms() + 1_000,
            "quiz--second",
        )]),
    )
    .await;
    settled_events(&app, token, 2).await;

    let person = subscriber_by_psid(&app, token, &tenant.page_id, "9720000000000001")
        .await
        .expect("the subscriber");
    let last = instant(&person["lastInteractionAt"]);
    let limit = at_ms(now + DAY_MS);
    assert!(
        last < limit,
        "lastInteractionAt {last} is within a day of now, not in the far future"
    );
    assert_eq!(
        field_value(&person, &level).as_deref(),
        Some("second"),
        "the later event's value stands: {person:#}"
    );
}

#[tokio::test]
async fn an_opt_in_status_we_do_not_know_leaves_the_opt_in_alone() {
    let app = spawn_app().await;
    let tenant = with_weekly_deals(&app, "owner@hostile-optins.test", "Hostile opt-ins").await;
    let token = tenant.token();
    let t = now_ms() - 60_000;
    let expiry = now_ms() + 180 * DAY_MS;
    deliver(
        &app,
        &tenant,
        body(&[opt_in(
            "9730000000000001",
            t,
            "TOKEN-H-1",
            "Weekly deals",
            expiry,
        )]),
    )
    .await;
    let before = wait_for_subscriber(&app, &tenant, "9730000000000001", "one opt-in", |s| {
        s["optIns"].as_array().is_some_and(|o| o.len() == 1)
    })
    .await;
    for (i, status) in ["PAUSE", ""].into_iter().enumerate() {
        deliver(
            &app,
            &tenant,
            body(&[opt_in_status(
                "9730000000000001",
                t + 1_000 * (i as i64 + 1),
                "TOKEN-H-1",
                status,
            )]),
        )
        .await;
    }
    let events = settled_events(&app, token, 3).await;
    let after = subscriber_by_psid(&app, token, &tenant.page_id, "9730000000000001")
        .await
        .expect("the subscriber");
    assert_eq!(after["optIns"], before["optIns"], "unchanged: {after:#}");
    assert_eq!(after["optIns"][0]["frequency"], "WEEKLY");
    let ignored: Vec<&Value> = events
        .iter()
        .filter(|e| e["body"]["optin"]["notification_messages_status"].is_string())
        .collect();
    assert_eq!(ignored.len(), 2, "{events:#?}");
    assert!(
        ignored.iter().all(|e| e["status"] == "IGNORED"),
        "{ignored:#?}"
    );
}

#[tokio::test]
async fn a_timeline_delivered_out_of_order_reads_newest_first_in_event_time() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@hostile-timeline.test", "Timeline", PAGE).await;
    let token = tenant.token();
    create_link(&app, token, &tenant.page_id, "quiz", None, &[]).await;
    let t = now_ms() - 600_000;
    // Delivered latest first, one request each: processed in the opposite order of events.
    for (offset, reference) in [(3_000, "quiz--c"), (2_000, "quiz--b"), (1_000, "quiz--a")] {
        deliver(
            &app,
            &tenant,
            body(&[referral("9740000000000001", t + offset, reference)]),
        )
        .await;
        settled_events(&app, token, (4_000 - offset as usize) / 1_000).await;
    }
    assert_eq!(all_events(&app, token, None).await.len(), 3);
    let person = subscriber_by_psid(&app, token, &tenant.page_id, "9740000000000001")
        .await
        .expect("the subscriber");

    // One interaction per page, following the cursors.
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let response = app
            .graphql(
                "query($id: ID!, $after: String) { subscriber(id: $id) { \
                 interactions(first: 1, after: $after) { totalCount \
                 pageInfo { hasNextPage endCursor } nodes { detail occurredAt } } } }",
                json!({ "id": person["id"], "after": after }),
                Some(token),
            )
            .await;
        let page = &refhub_tests::data(&response)["subscriber"]["interactions"];
        assert_eq!(page["totalCount"], 3, "{response:#}");
        for node in page["nodes"].as_array().expect("nodes") {
            seen.push(node["detail"].as_str().unwrap_or_default().to_owned());
        }
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
        assert!(seen.len() < 10, "the pages do not end: {seen:?}");
    }
    assert_eq!(seen, ["quiz--c", "quiz--b", "quiz--a"], "newest first");
}

#[tokio::test]
async fn a_lone_surrogate_escape_costs_no_event_of_the_delivery() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@hostile-unicode.test", "Surrogates", PAGE).await;
    let token = tenant.token();
    let t = now_ms() - 60_000;
    // A text cut in the middle of an emoji: valid JSON syntax, but no Unicode text.
    let raw = format!(
        r#"{{"object":"page","entry":[{{"id":"{PAGE}","time":{t},"messaging":[
            {{"sender":{{"id":"9750000000000001"}},"recipient":{{"id":"{PAGE}"}},"timestamp":{t},"message":{{"mid":"m_cut","text":"half an emoji \ud83d"}}}},
            {{"sender":{{"id":"9750000000000002"}},"recipient":{{"id":"{PAGE}"}},"timestamp":{},"referral":{{"ref":"anything"}}}}]}}]}}"#,
        t + 1
    );
    deliver(&app, &tenant, raw).await;
    let events = settled_events(&app, token, 2).await;
    let text = events
        .iter()
        .find(|e| e["body"]["message"]["mid"] == "m_cut")
        .map(|e| e["body"]["message"]["text"].clone());
    assert_eq!(text, Some(json!("half an emoji \u{FFFD}")), "{events:#?}");
    for psid in ["9750000000000001", "9750000000000002"] {
        assert!(
            subscriber_by_psid(&app, token, &tenant.page_id, psid)
                .await
                .is_some(),
            "{psid} is a subscriber"
        );
    }
}

#[tokio::test]
async fn a_stop_naming_someone_elses_token_changes_nothing() {
    let app = spawn_app().await;
    let tenant = with_weekly_deals(&app, "owner@hostile-stops.test", "Stops").await;
    let token = tenant.token();
    let t = now_ms() - 60_000;
    let expiry = now_ms() + 180 * DAY_MS;
    deliver(
        &app,
        &tenant,
        body(&[
            opt_in("9760000000000001", t, "TOKEN-A", "Weekly deals", expiry),
            opt_in("9760000000000002", t + 1, "TOKEN-B", "Weekly deals", expiry),
        ]),
    )
    .await;
    settled_events(&app, token, 2).await;
    // B stops A's token (only a forged or mixed-up delivery would), then their own.
    deliver(
        &app,
        &tenant,
        body(&[opt_in_status(
            "9760000000000002",
            t + 1_000,
            "TOKEN-A",
            "STOP NOTIFICATIONS",
        )]),
    )
    .await;
    deliver(
        &app,
        &tenant,
        body(&[opt_in_status(
            "9760000000000002",
            t + 2_000,
            "TOKEN-B",
            "STOP NOTIFICATIONS",
        )]),
    )
    .await;
    let events = settled_events(&app, token, 4).await;
    // Each stop's outcome says whether it changed an opt-in.
    let stop_outcome = |at: i64| {
        events
            .iter()
            .find(|e| e["kind"] == "optin" && instant(&e["occurredAt"]) == at_ms(at))
            .map(|e| e["outcome"].clone())
            .expect("the stop's event")
    };
    let misdirected = stop_outcome(t + 1_000);
    assert_eq!(misdirected["applied"], json!([]), "{misdirected:#}");
    assert_eq!(
        misdirected["skipped"][0]["what"],
        json!({ "optInStatus": "stopped" }),
        "{misdirected:#}"
    );
    let own = stop_outcome(t + 2_000);
    assert_eq!(
        own["applied"],
        json!([{ "optInStatus": "stopped" }]),
        "{own:#}"
    );
    assert_eq!(own["skipped"], json!([]), "{own:#}");
    let status = |s: Option<Value>| s.expect("the subscriber")["optIns"][0]["status"].clone();
    assert_eq!(
        status(subscriber_by_psid(&app, token, &tenant.page_id, "9760000000000001").await),
        "ACTIVE",
        "A's opt-in is A's to stop"
    );
    assert_eq!(
        status(subscriber_by_psid(&app, token, &tenant.page_id, "9760000000000002").await),
        "STOPPED",
        "B stopped their own"
    );
}
