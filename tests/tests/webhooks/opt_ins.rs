//! Recurring-notification opt-ins: stored per person and topic (matched by title), stopped and
//! resumed by the person, whatever order Meta delivers the changes in.

use refhub_tests::spawn_app;
use serde_json::{Value, json};

use crate::support::{
    PAGE, Tenant, all_subscribers, at_ms, body, connect_tenant, create_topic, deliver, instant,
    now_ms, opt_in, opt_in_status, psids, settled_events, wait_for_subscriber,
};

const DAY_MS: i64 = 24 * 3_600_000;

/// Waits until the person's only opt-in has `status`; returns it.
async fn opt_in_with_status(
    app: &refhub_tests::TestApp,
    tenant: &Tenant,
    psid: &str,
    status: &str,
) -> Value {
    let person = wait_for_subscriber(app, tenant, psid, &format!("one opt-in, {status}"), |s| {
        s["optIns"].as_array().is_some_and(|o| o.len() == 1) && s["optIns"][0]["status"] == status
    })
    .await;
    person["optIns"][0].clone()
}

async fn opted_in_to(app: &refhub_tests::TestApp, tenant: &Tenant, topic: &str) -> Vec<String> {
    psids(
        &all_subscribers(
            app,
            tenant.token(),
            &tenant.page_id,
            json!({ "optedInTopicId": topic }),
        )
        .await,
    )
}

#[tokio::test]
async fn an_opt_in_is_active_until_stopped_and_active_again_when_resumed() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@optin.test", "Opt-in", PAGE).await;
    let topic = create_topic(&app, tenant.token(), &tenant.page_id, "Flash Sales").await;
    let psid = "9600000000000001";
    let t = now_ms() - 60_000;
    let expiry = now_ms() + 180 * DAY_MS;

    deliver(
        &app,
        &tenant,
        body(&[opt_in(psid, t, "TOKEN-FLASH", "flash sales", expiry)]),
    )
    .await;
    let active = opt_in_with_status(&app, &tenant, psid, "ACTIVE").await;
    assert_eq!(active["topic"]["id"], json!(topic), "{active:#}");
    assert_eq!(active["topic"]["title"], "Flash Sales");
    assert_eq!(
        active["topicTitle"], "flash sales",
        "the title as Meta sent it"
    );
    assert_eq!(active["frequency"], "WEEKLY");
    assert_eq!(instant(&active["expiresAt"]), at_ms(expiry));
    assert_eq!(
        opted_in_to(&app, &tenant, &topic).await,
        vec![psid.to_owned()]
    );

    deliver(
        &app,
        &tenant,
        body(&[opt_in_status(
            psid,
            t + 1_000,
            "TOKEN-FLASH",
            "STOP_NOTIFICATIONS",
        )]),
    )
    .await;
    opt_in_with_status(&app, &tenant, psid, "STOPPED").await;
    assert!(opted_in_to(&app, &tenant, &topic).await.is_empty());

    deliver(
        &app,
        &tenant,
        body(&[opt_in_status(
            psid,
            t + 2_000,
            "TOKEN-FLASH",
            "RESUME NOTIFICATIONS",
        )]),
    )
    .await;
    let resumed = opt_in_with_status(&app, &tenant, psid, "ACTIVE").await;
    assert_eq!(resumed["topic"]["id"], json!(topic));
    assert_eq!(
        opted_in_to(&app, &tenant, &topic).await,
        vec![psid.to_owned()]
    );
    let events = settled_events(&app, tenant.token(), 3).await;
    assert!(
        events.iter().all(|e| e["status"] == "PROCESSED"),
        "{events:#?}"
    );
}

#[tokio::test]
async fn an_opt_in_to_a_title_no_topic_has_is_kept_without_a_topic() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@mystery.test", "Mystery", PAGE).await;
    create_topic(&app, tenant.token(), &tenant.page_id, "News").await;
    let psid = "9600000000000002";
    deliver(
        &app,
        &tenant,
        body(&[opt_in(
            psid,
            now_ms() - 1_000,
            "TOKEN-MYSTERY",
            "Mystery",
            now_ms() + 30 * DAY_MS,
        )]),
    )
    .await;
    let kept = opt_in_with_status(&app, &tenant, psid, "ACTIVE").await;
    assert!(kept["topic"].is_null(), "{kept:#}");
    assert_eq!(kept["topicTitle"], "Mystery");
    let events = settled_events(&app, tenant.token(), 1).await;
    let skipped = events[0]["outcome"]["skipped"].to_string();
    assert!(
        skipped.contains("Mystery"),
        "the missing topic is recorded: {:#}",
        events[0]
    );
}

#[tokio::test]
async fn an_opt_in_and_its_stop_in_one_delivery_end_stopped() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@same-body.test", "Same body", PAGE).await;
    create_topic(&app, tenant.token(), &tenant.page_id, "News").await;
    let psid = "9600000000000003";
    let t = now_ms() - 60_000;
    deliver(
        &app,
        &tenant,
        body(&[
            opt_in(psid, t, "TOKEN-SAME", "News", now_ms() + 30 * DAY_MS),
            opt_in_status(psid, t + 1_000, "TOKEN-SAME", "STOP NOTIFICATIONS"),
        ]),
    )
    .await;
    settled_events(&app, tenant.token(), 2).await;
    opt_in_with_status(&app, &tenant, psid, "STOPPED").await;
}

#[tokio::test]
async fn a_stop_delivered_before_its_opt_in_still_wins_by_event_time() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@late-optin.test", "Late opt-in", PAGE).await;
    create_topic(&app, tenant.token(), &tenant.page_id, "News").await;
    let psid = "9600000000000004";
    let t = now_ms() - 60_000;
    // Meta does not promise delivery order: the stop (later event) arrives and is processed
    // before the opt-in (earlier event) it stops.
    deliver(
        &app,
        &tenant,
        body(&[opt_in_status(
            psid,
            t + 1_000,
            "TOKEN-LATE",
            "STOP NOTIFICATIONS",
        )]),
    )
    .await;
    settled_events(&app, tenant.token(), 1).await;
    deliver(
        &app,
        &tenant,
        body(&[opt_in(
            psid,
            t,
            "TOKEN-LATE",
            "News",
            now_ms() + 30 * DAY_MS,
        )]),
    )
    .await;
    settled_events(&app, tenant.token(), 2).await;
    let person = wait_for_subscriber(&app, &tenant, psid, "one opt-in", |s| {
        s["optIns"].as_array().is_some_and(|o| o.len() == 1)
    })
    .await;
    assert_eq!(
        person["optIns"][0]["status"], "STOPPED",
        "the person's last word (by event time) was STOP: {person:#}"
    );
}

#[tokio::test]
async fn an_opt_in_finds_its_topic_once_the_page_has_one_with_that_title() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@topic-later.test", "Topic later", PAGE).await;
    let psid = "9600000000000005";
    deliver(
        &app,
        &tenant,
        body(&[opt_in(
            psid,
            now_ms() - 1_000,
            "TOKEN-EARLY",
            "Early Birds",
            now_ms() + 30 * DAY_MS,
        )]),
    )
    .await;
    let kept = opt_in_with_status(&app, &tenant, psid, "ACTIVE").await;
    assert!(kept["topic"].is_null(), "no topic yet: {kept:#}");
    // The schema: `topic` is "the topic, when the page has one with this title".
    let topic = create_topic(&app, tenant.token(), &tenant.page_id, "early birds").await;
    let person = crate::support::subscriber_by_psid(&app, tenant.token(), &tenant.page_id, psid)
        .await
        .expect("the subscriber");
    assert_eq!(
        person["optIns"][0]["topic"]["id"],
        json!(topic),
        "the page now has a topic with this title: {person:#}"
    );
    assert_eq!(
        opted_in_to(&app, &tenant, &topic).await,
        vec![psid.to_owned()]
    );
}

#[tokio::test]
async fn a_new_token_holds_the_topic_whatever_order_a_stop_of_the_old_one_arrives_in() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@new-token.test", "New token", PAGE).await;
    create_topic(&app, tenant.token(), &tenant.page_id, "Weekly deals").await;
    let t = now_ms() - 60_000;
    let expiry = now_ms() + 180 * DAY_MS;
    // a: opt-in with token A; b: a second opt-in to the topic, with token B and another
    // frequency; c: a stop of token A, after b. In event time A was already replaced when
    // it was stopped: B holds the topic, active.
    let items = |psid: &str| {
        let a = opt_in(psid, t, &format!("{psid}-A"), "Weekly deals", expiry);
        let mut b = opt_in(
            psid,
            t + 1_000,
            &format!("{psid}-B"),
            "Weekly deals",
            expiry,
        );
        b["optin"]["notification_messages_frequency"] = json!("MONTHLY");
        let c = opt_in_status(psid, t + 2_000, &format!("{psid}-A"), "STOP NOTIFICATIONS");
        [a, b, c]
    };
    // Each scenario: the groups delivered one after another, each processed before the next.
    let scenarios: [(&str, &[&[usize]]); 5] = [
        ("9600000000000101", &[&[0], &[1], &[2]]),
        ("9600000000000102", &[&[0], &[2], &[1]]),
        ("9600000000000103", &[&[2], &[1], &[0]]),
        ("9600000000000104", &[&[0, 1, 2]]),
        ("9600000000000105", &[&[2, 1, 0]]),
    ];
    let mut delivered = 0;
    for (psid, groups) in scenarios {
        let [a, b, c] = items(psid);
        let all = [a, b, c];
        for group in groups {
            let picked: Vec<Value> = group.iter().map(|&i| all[i].clone()).collect();
            deliver(&app, &tenant, body(&picked)).await;
            delivered += group.len();
            settled_events(&app, tenant.token(), delivered).await;
        }
        let person = wait_for_subscriber(&app, &tenant, psid, "one opt-in", |s| {
            s["optIns"].as_array().is_some_and(|o| o.len() == 1)
        })
        .await;
        let opt_in = &person["optIns"][0];
        assert_eq!(opt_in["status"], "ACTIVE", "{psid} {groups:?}: {person:#}");
        assert_eq!(
            opt_in["frequency"], "MONTHLY",
            "{psid} {groups:?}: {person:#}"
        );
        // And it is token B that the topic holds: stopping B stops it.
        let stop_b = opt_in_status(psid, t + 3_000, &format!("{psid}-B"), "STOP NOTIFICATIONS");
        deliver(&app, &tenant, body(&[stop_b])).await;
        delivered += 1;
        settled_events(&app, tenant.token(), delivered).await;
        opt_in_with_status(&app, &tenant, psid, "STOPPED").await;
    }
}

#[tokio::test]
async fn resuming_an_expired_token_says_it_stays_expired() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@expired.test", "Expired", PAGE).await;
    create_topic(&app, tenant.token(), &tenant.page_id, "Deals").await;
    let psid = "9600000000000201";
    let t = now_ms() - 120_000;
    // The token expired a minute ago; the person resumes after that.
    let expired_at = now_ms() - 60_000;
    deliver(
        &app,
        &tenant,
        body(&[
            opt_in(psid, t, "TOKEN-OLD", "Deals", expired_at),
            opt_in_status(psid, t + 1_000, "TOKEN-OLD", "STOP NOTIFICATIONS"),
        ]),
    )
    .await;
    settled_events(&app, tenant.token(), 2).await;
    deliver(
        &app,
        &tenant,
        body(&[opt_in_status(
            psid,
            now_ms() - 5_000,
            "TOKEN-OLD",
            "RESUME NOTIFICATIONS",
        )]),
    )
    .await;
    let events = settled_events(&app, tenant.token(), 3).await;
    let resume = events
        .iter()
        .find(|e| e["outcome"]["interaction"] == "resume")
        .expect("the resume's event");
    assert_eq!(resume["outcome"]["applied"], json!([]), "{resume:#}");
    let skipped = &resume["outcome"]["skipped"][0];
    assert_eq!(
        skipped["what"],
        json!({ "optInStatus": "active" }),
        "{resume:#}"
    );
    assert!(
        skipped["reason"]
            .as_str()
            .is_some_and(|r| r.contains("expired")),
        "{resume:#}"
    );
    opt_in_with_status(&app, &tenant, psid, "EXPIRED").await;
}

/// Meta: opting in to notifications does not open the standard messaging window, and neither
/// does a STOP or a RESUME (a `startFlow` right after a STOP used to message the person who had
/// just tapped it).
#[tokio::test]
async fn opt_ins_stops_and_resumes_leave_the_messaging_window_as_it_was() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@window.test", "Window", PAGE).await;
    create_topic(&app, tenant.token(), &tenant.page_id, "Deals").await;
    let expiry = now_ms() + 180 * DAY_MS;
    // One person wrote 30 hours ago, then opted in, stopped and resumed just now; the other
    // has only opted in and stopped.
    let wrote = "9600000000000101";
    let silent = "9600000000000102";
    let long_ago = now_ms() - 30 * 3_600_000;
    let t = now_ms() - 60_000;
    deliver(
        &app,
        &tenant,
        body(&[
            crate::support::message(wrote, long_ago, "m-window-1", "hello"),
            opt_in(wrote, t, "TOKEN-W1", "deals", expiry),
            opt_in_status(wrote, t + 1_000, "TOKEN-W1", "STOP_NOTIFICATIONS"),
            opt_in_status(wrote, t + 2_000, "TOKEN-W1", "RESUME_NOTIFICATIONS"),
            opt_in(silent, t, "TOKEN-W2", "deals", expiry),
            opt_in_status(silent, t + 1_000, "TOKEN-W2", "STOP_NOTIFICATIONS"),
        ]),
    )
    .await;
    settled_events(&app, tenant.token(), 6).await;
    let people = all_subscribers(&app, tenant.token(), &tenant.page_id, json!({})).await;
    let person = |psid: &str| {
        people
            .iter()
            .find(|p| p["psid"] == psid)
            .cloned()
            .unwrap_or_else(|| panic!("{psid} is a subscriber: {people:#?}"))
    };
    let wrote = person(wrote);
    assert_eq!(
        instant(&wrote["lastInteractionAt"]),
        at_ms(long_ago),
        "{wrote:#}"
    );
    assert_eq!(wrote["withinMessagingWindow"], false, "{wrote:#}");
    let silent = person(silent);
    assert_eq!(silent["lastInteractionAt"], Value::Null, "{silent:#}");
    assert_eq!(silent["withinMessagingWindow"], false, "{silent:#}");
}
