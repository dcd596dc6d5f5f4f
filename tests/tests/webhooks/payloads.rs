//! Ref payloads (`REF--default--NUM--value…`, also with en dashes): values checked against
//! their field's type, unusable parts skipped and recorded on the event, the rest applied.

use refhub_tests::spawn_app;
use serde_json::{Value, json};

use crate::support::{
    PAGE, body, connect_tenant, create_field, create_link, create_tag, deliver, field_value,
    now_ms, referral, settled_events, subscriber_by_psid, tag_ids,
};

/// The `outcome` of the event whose referral ref is `reference`.
fn outcome_of(events: &[Value], reference: &str) -> Value {
    events
        .iter()
        .find(|e| e["body"]["referral"]["ref"] == json!(reference))
        .unwrap_or_else(|| panic!("no event for {reference}: {events:#?}"))["outcome"]
        .clone()
}

#[tokio::test]
async fn a_number_longer_than_a_number_field_keeps_is_skipped_not_rounded() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@digits.test", "Digits", PAGE).await;
    let token = tenant.token();
    let (order, _) = create_field(&app, token, "order", "NUMBER", Some(514)).await;
    create_link(&app, token, &tenant.page_id, "shop", None, &[]).await;
    let t = now_ms() - 60_000;
    let long = "shop--514--12345678901234567";
    let fits = "shop--514--123456789012345";
    deliver(
        &app,
        &tenant,
        body(&[
            referral("9700000000000101", t, long),
            referral("9700000000000102", t + 1, fits),
        ]),
    )
    .await;
    let events = settled_events(&app, token, 2).await;
    let rounded = subscriber_by_psid(&app, token, &tenant.page_id, "9700000000000101")
        .await
        .expect("the first subscriber");
    assert_eq!(field_value(&rounded, &order), None, "{rounded:#}");
    let outcome = outcome_of(&events, long);
    assert!(
        outcome["skipped"]
            .to_string()
            .contains("15 significant digits"),
        "{outcome:#}"
    );
    let kept = subscriber_by_psid(&app, token, &tenant.page_id, "9700000000000102")
        .await
        .expect("the second subscriber");
    assert_eq!(
        field_value(&kept, &order).as_deref(),
        Some("123456789012345"),
        "{kept:#}"
    );

    // Set by hand, the same value is refused with the field named.
    let response = app
        .mutate(
            "setSubscriberField",
            json!({ "subscriberId": kept["id"], "fieldId": order, "value": "12345678901234567" }),
            "{ id }",
            Some(token),
        )
        .await;
    let error = &response["errors"][0];
    assert_eq!(error["extensions"]["code"], "VALIDATION", "{response:#}");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("15 significant digits")),
        "{response:#}"
    );
}

#[tokio::test]
async fn values_that_do_not_fit_and_unknown_field_numbers_are_skipped_and_recorded() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@payloads.test", "Payloads", PAGE).await;
    let token = tenant.token();
    let (level, _) = create_field(&app, token, "level", "TEXT", None).await;
    let (age, _) = create_field(&app, token, "age", "NUMBER", Some(514)).await;
    let (city, _) = create_field(&app, token, "city", "TEXT", Some(738)).await;
    let (joined, _) = create_field(&app, token, "joined", "DATE", Some(901)).await;
    let tag = create_tag(&app, token, "Quiz").await;
    let quiz = create_link(&app, token, &tenant.page_id, "quiz", Some(&level), &[&tag]).await;
    let t = now_ms() - 60_000;

    let mixed = "quiz--beginner--514--abc--999--zzz--738--Lyon--901--2025-02-30";
    let dashes = "quiz\u{2013}advanced--738\u{2013}Nice\u{2013}514\u{2013}31.50";
    deliver(
        &app,
        &tenant,
        body(&[
            referral("9700000000000001", t, mixed),
            referral("9700000000000002", t + 1, dashes),
        ]),
    )
    .await;
    let events = settled_events(&app, token, 2).await;
    assert!(
        events.iter().all(|e| e["status"] == "PROCESSED"),
        "{events:#?}"
    );

    let first = subscriber_by_psid(&app, token, &tenant.page_id, "9700000000000001")
        .await
        .expect("the first subscriber");
    assert_eq!(
        field_value(&first, &level).as_deref(),
        Some("beginner"),
        "{first:#}"
    );
    assert_eq!(
        field_value(&first, &city).as_deref(),
        Some("Lyon"),
        "{first:#}"
    );
    assert_eq!(
        field_value(&first, &age),
        None,
        "\"abc\" is no NUMBER: {first:#}"
    );
    assert_eq!(
        field_value(&first, &joined),
        None,
        "Feb 30 is no DATE: {first:#}"
    );
    assert_eq!(first["sourceRefLink"]["id"], json!(quiz));
    assert_eq!(tag_ids(&first), vec![tag.clone()]);
    let outcome = outcome_of(&events, mixed);
    let skipped = outcome["skipped"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        skipped.len(),
        3,
        "514, 999 and 901 were skipped: {outcome:#}"
    );
    let text = Value::Array(skipped).to_string();
    for part in ["514", "abc", "999", "901"] {
        assert!(
            text.contains(part),
            "the skips do not mention {part}: {outcome:#}"
        );
    }

    let second = subscriber_by_psid(&app, token, &tenant.page_id, "9700000000000002")
        .await
        .expect("the second subscriber");
    assert_eq!(
        field_value(&second, &level).as_deref(),
        Some("advanced"),
        "{second:#}"
    );
    assert_eq!(
        field_value(&second, &city).as_deref(),
        Some("Nice"),
        "{second:#}"
    );
    assert_eq!(
        field_value(&second, &age).as_deref(),
        Some("31.5"),
        "canonical: {second:#}"
    );
    assert_eq!(second["sourceRef"], dashes, "the ref as received");
    let outcome = outcome_of(&events, dashes);
    assert_eq!(outcome["skipped"], json!([]), "{outcome:#}");
}

#[tokio::test]
async fn an_unknown_ref_is_recorded_and_counts_as_an_entry() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@unknown-ref.test", "Unknown ref", PAGE).await;
    let token = tenant.token();
    let psid = "9700000000000003";
    deliver(
        &app,
        &tenant,
        body(&[referral(psid, now_ms() - 1_000, "nobody_made_this--738--x")]),
    )
    .await;
    let events = settled_events(&app, token, 1).await;
    let outcome = &events[0]["outcome"];
    assert_eq!(events[0]["status"], "PROCESSED");
    assert_eq!(
        outcome["attribution"]["unknownRef"], "nobody_made_this",
        "{outcome:#}"
    );
    let person = subscriber_by_psid(&app, token, &tenant.page_id, psid)
        .await
        .expect("the subscriber");
    assert_eq!(person["sourceRef"], "nobody_made_this--738--x");
    assert!(person["sourceRefLink"].is_null());
    assert_eq!(person["entryCount"], 1);
}
