//! Meta delivers at least once: redeliveries, sequential or concurrent, store one event and
//! count one entry; replaying an event changes nothing it already changed.

use futures::future::join_all;
use refhub_tests::{data, spawn_app, str_at};
use serde_json::json;

use crate::support::{
    PAGE, WAIT, body, connect_tenant, create_field, create_link, create_tag, deliver, entry_count,
    eventually, field_value, message, now_ms, post_webhook, referral, settled_events, signature,
    subscriber_by_psid, tag_ids, webhook_event,
};

#[tokio::test]
async fn a_delivery_posted_three_times_in_a_row_and_three_times_at_once_is_stored_once() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@dup.test", "Dup", PAGE).await;
    let token = tenant.token();
    let tag = create_tag(&app, token, "Promo").await;
    create_link(&app, token, &tenant.page_id, "promo", None, &[&tag]).await;
    let now = now_ms();

    // In a row.
    let sequential = body(&[referral("7100000000000001", now - 5_000, "promo")]);
    for _ in 0..3 {
        deliver(&app, &tenant, &sequential).await;
    }
    // At once.
    let concurrent = body(&[referral("7100000000000002", now - 4_000, "promo")]);
    join_all((0..3).map(|_| deliver(&app, &tenant, &concurrent))).await;
    // A message redelivered in another envelope (another entry time): same mid, one event.
    let hello = message("7100000000000002", now - 3_000, "m_dup_hello_1", "hello");
    deliver(&app, &tenant, body(std::slice::from_ref(&hello))).await;
    let mut again = serde_json::from_str::<serde_json::Value>(&body(&[hello])).unwrap();
    again["entry"][0]["time"] = json!(now);
    join_all((0..3).map(|_| deliver(&app, &tenant, again.to_string()))).await;

    let events = settled_events(&app, token, 3).await;
    assert!(
        events.iter().all(|e| e["status"] == "PROCESSED"),
        "{events:#?}"
    );
    for psid in ["7100000000000001", "7100000000000002"] {
        let person = subscriber_by_psid(&app, token, &tenant.page_id, psid)
            .await
            .unwrap_or_else(|| panic!("no subscriber {psid}"));
        assert_eq!(entry_count(&person), 1, "{person:#}");
        assert_eq!(tag_ids(&person), vec![tag.clone()], "{person:#}");
    }
}

#[tokio::test]
async fn replaying_an_event_changes_nothing_it_already_changed() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@replay.test", "Replay", PAGE).await;
    let token = tenant.token();
    let tag = create_tag(&app, token, "Replayed").await;
    let (coupon, _) = create_field(&app, token, "coupon", "TEXT", None).await;
    create_link(
        &app,
        token,
        &tenant.page_id,
        "spring",
        Some(&coupon),
        &[&tag],
    )
    .await;
    let psid = "7200000000000001";
    let now = now_ms();
    deliver(
        &app,
        &tenant,
        body(&[referral(psid, now - 60_000, "spring--SAVE10")]),
    )
    .await;
    let events = settled_events(&app, token, 1).await;
    let event_id = str_at(&events[0], "/id");
    let first_processed_at = events[0]["processedAt"].clone();
    let before = subscriber_by_psid(&app, token, &tenant.page_id, psid)
        .await
        .expect("the subscriber");
    assert_eq!(entry_count(&before), 1, "{before:#}");
    assert_eq!(field_value(&before, &coupon).as_deref(), Some("SAVE10"));

    // The person changes the coupon by hand later; a replay must not put the old one back.
    let edited = app
        .mutate(
            "setSubscriberField",
            json!({ "subscriberId": before["id"], "fieldId": coupon, "value": "MANUAL" }),
            "{ id }",
            Some(token),
        )
        .await;
    data(&edited);
    let before = subscriber_by_psid(&app, token, &tenant.page_id, psid)
        .await
        .expect("the subscriber");

    for _ in 0..2 {
        let replayed = app
            .mutate(
                "replayWebhookEvent",
                json!({ "id": event_id }),
                "{ id status }",
                Some(token),
            )
            .await;
        assert_eq!(data(&replayed)["replayWebhookEvent"]["id"], json!(event_id));
        eventually(
            "the replayed event to be processed again",
            WAIT,
            async || {
                let response = webhook_event(&app, token, &event_id).await;
                let event = &data(&response)["webhookEvent"];
                if event["status"] == "PROCESSED" && event["processedAt"] != first_processed_at {
                    Ok(())
                } else {
                    Err(format!("{event:#}"))
                }
            },
        )
        .await;
    }
    let after = subscriber_by_psid(&app, token, &tenant.page_id, psid)
        .await
        .expect("the subscriber");
    assert_eq!(after, before, "a replay changed the subscriber");
    assert_eq!(field_value(&after, &coupon).as_deref(), Some("MANUAL"));
    assert_eq!(entry_count(&after), 1);
}

#[tokio::test]
async fn a_redelivery_after_processing_is_not_applied_again() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@late-dup.test", "Late dup", PAGE).await;
    let token = tenant.token();
    let delivery = body(&[referral("7300000000000001", now_ms() - 1_000, "anything")]);
    deliver(&app, &tenant, &delivery).await;
    settled_events(&app, token, 1).await;
    // Meta retries a delivery it thinks failed, long after we processed it.
    let signed = signature(&tenant.app_secret, delivery.as_bytes());
    let (status, _) = post_webhook(
        &app,
        &tenant.webhook_path,
        delivery.as_bytes(),
        Some(&signed),
    )
    .await;
    assert_eq!(status, 200);
    let events = settled_events(&app, token, 1).await;
    assert_eq!(events[0]["attempts"], 1, "{events:#?}");
    let person = subscriber_by_psid(&app, token, &tenant.page_id, "7300000000000001")
        .await
        .expect("the subscriber");
    assert_eq!(entry_count(&person), 1, "{person:#}");
}

#[tokio::test]
async fn the_same_body_delivered_to_two_tenants_is_stored_by_each() {
    let app = spawn_app().await;
    let acme = connect_tenant(&app, "owner@acme.test", "Acme", PAGE).await;
    let globex = connect_tenant(&app, "owner@globex.test", "Globex", PAGE).await;
    // Both tenants connected the same Facebook page (two tools on one page, say).
    let delivery = crate::fixtures::REFERRAL_SHORTLINK;
    deliver(&app, &acme, delivery).await;
    deliver(&app, &globex, delivery).await;
    for tenant in [&acme, &globex] {
        let events = settled_events(&app, tenant.token(), 1).await;
        assert_eq!(events[0]["status"], "PROCESSED", "{:#}", events[0]);
        let person = subscriber_by_psid(&app, tenant.token(), &tenant.page_id, "6100000000000001")
            .await
            .expect("each tenant has its subscriber");
        assert_eq!(entry_count(&person), 1);
    }
}
