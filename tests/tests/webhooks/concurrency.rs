//! Many events for one person, delivered at once and out of order: every entry counts once,
//! first touch and last values go by the events' own timestamps, not by arrival.

use futures::future::join_all;
use refhub_tests::spawn_app;
use serde_json::Value;

use crate::support::{
    PAGE, at_ms, body, connect_tenant, create_field, create_link, create_tag, deliver, entry_count,
    field_value, instant, now_ms, referral, settled_events, subscriber_by_psid, tag_ids,
};

#[tokio::test]
async fn forty_concurrent_referrals_for_one_person_apply_by_event_time() {
    const N: i64 = 40;
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@rush.test", "Rush", PAGE).await;
    let token = tenant.token();
    let (variant, _) = create_field(&app, token, "variant", "TEXT", None).await;
    let tag = create_tag(&app, token, "Rushed").await;
    let link = create_link(
        &app,
        token,
        &tenant.page_id,
        "rush",
        Some(&variant),
        &[&tag],
    )
    .await;
    let psid = "8500000000000001";
    // Fresh timestamps (the last ten minutes), so the messaging window is open. Delivery i
    // carries the (i*17+11 mod 40)-th timestamp: neither the earliest nor the latest event is
    // delivered first or last.
    let base = now_ms() - 600_000;
    let slot = |i: i64| (i * 17 + 11) % N;
    let deliveries: Vec<(i64, String)> = (0..N)
        .map(|i| {
            let timestamp = base + slot(i) * 1_000;
            (
                timestamp,
                body(&[referral(psid, timestamp, &format!("rush--v{}", slot(i)))]),
            )
        })
        .collect();
    join_all(deliveries.iter().map(|(_, d)| deliver(&app, &tenant, d))).await;

    let events = settled_events(&app, token, N as usize).await;
    let statuses: Vec<&Value> = events.iter().map(|e| &e["status"]).collect();
    assert!(statuses.iter().all(|s| *s == "PROCESSED"), "{statuses:?}");
    let person = subscriber_by_psid(&app, token, &tenant.page_id, psid)
        .await
        .expect("the subscriber");
    let earliest = base;
    let latest = base + (N - 1) * 1_000;
    assert_eq!(entry_count(&person), N, "{person:#}");
    assert_eq!(
        person["sourceRef"], "rush--v0",
        "first touch by event time: {person:#}"
    );
    assert_eq!(person["sourceRefLink"]["id"], serde_json::json!(link));
    assert_eq!(
        instant(&person["firstSeenAt"]),
        at_ms(earliest),
        "{person:#}"
    );
    assert_eq!(
        instant(&person["lastInteractionAt"]),
        at_ms(latest),
        "{person:#}"
    );
    assert_eq!(
        field_value(&person, &variant),
        Some(format!("v{}", N - 1)),
        "the value of the latest event wins: {person:#}"
    );
    assert_eq!(tag_ids(&person), vec![tag]);
    assert_eq!(person["withinMessagingWindow"], true, "{person:#}");
    let all = crate::support::all_subscribers(&app, token, &tenant.page_id, Value::Null).await;
    assert_eq!(all.len(), 1, "one person, one subscriber: {all:#?}");
}

#[tokio::test]
async fn concurrent_first_contacts_of_many_people_create_one_subscriber_each() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@crowd.test", "Crowd", PAGE).await;
    let token = tenant.token();
    create_link(&app, token, &tenant.page_id, "crowd", None, &[]).await;
    let base = now_ms() - 60_000;
    // 10 people, 4 events each, every event in its own delivery, all at once.
    let deliveries: Vec<String> = (0..40)
        .map(|i| {
            let psid = format!("85100000000000{:02}", i % 10);
            body(&[referral(&psid, base + i * 10, "crowd")])
        })
        .collect();
    join_all(deliveries.iter().map(|d| deliver(&app, &tenant, d))).await;
    settled_events(&app, token, 40).await;
    let all = crate::support::all_subscribers(&app, token, &tenant.page_id, Value::Null).await;
    assert_eq!(all.len(), 10, "{all:#?}");
    for person in &all {
        assert_eq!(entry_count(person), 4, "{person:#}");
    }
}
