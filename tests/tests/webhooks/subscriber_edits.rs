//! Changing a subscriber by hand: field values checked against the field's type and stored in
//! canonical form, cleared, tags added and removed.

use refhub_tests::{assert_error, assert_validation, data, random_id, spawn_app, str_at};
use serde_json::json;

use crate::support::{
    PAGE, SUBSCRIBER_FIELDS, all_subscribers, body, connect_tenant, create_field, create_tag,
    deliver, field_value, message, now_ms, settled_events, tag_ids,
};

#[tokio::test]
async fn field_values_are_checked_and_canonical_and_tags_come_and_go() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@edits.test", "Edits", PAGE).await;
    let token = tenant.token();
    let (score, _) = create_field(&app, token, "score", "NUMBER", None).await;
    let (email, _) = create_field(&app, token, "email", "EMAIL", None).await;
    let tag = create_tag(&app, token, "Hand-picked").await;
    deliver(
        &app,
        &tenant,
        body(&[message("9900000000000001", now_ms(), "m_edits_1", "hi")]),
    )
    .await;
    settled_events(&app, token, 1).await;
    let person = all_subscribers(&app, token, &tenant.page_id, serde_json::Value::Null).await;
    let id = str_at(&person[0], "/id");
    let selection = format!("{{ {SUBSCRIBER_FIELDS} }}");
    let set = async |field: &str, value: &str| {
        app.mutate(
            "setSubscriberField",
            json!({ "subscriberId": id, "fieldId": field, "value": value }),
            &selection,
            Some(token),
        )
        .await
    };

    for (field, value) in [(&score, "abc"), (&score, ""), (&email, "not an address")] {
        assert_validation(&set(field, value).await, "value");
    }
    let response = set(&score, " 42.0 ").await;
    let updated = &data(&response)["setSubscriberField"];
    assert_eq!(
        field_value(updated, &score).as_deref(),
        Some("42"),
        "{updated:#}"
    );
    let response = set(&email, "Someone@Example.COM").await;
    let updated = &data(&response)["setSubscriberField"];
    assert_eq!(
        field_value(updated, &email).as_deref(),
        Some("someone@example.com"),
        "{updated:#}"
    );
    assert_error(&set(&random_id(), "1").await, "NOT_FOUND");

    let cleared = app
        .mutate(
            "clearSubscriberField",
            json!({ "subscriberId": id, "fieldId": score }),
            &selection,
            Some(token),
        )
        .await;
    assert_eq!(
        field_value(&data(&cleared)["clearSubscriberField"], &score),
        None
    );

    let added = app
        .mutate(
            "addSubscriberTag",
            json!({ "subscriberId": id, "tagId": tag }),
            &selection,
            Some(token),
        )
        .await;
    assert_eq!(
        tag_ids(&data(&added)["addSubscriberTag"]),
        vec![tag.clone()]
    );
    let removed = app
        .mutate(
            "removeSubscriberTag",
            json!({ "subscriberId": id, "tagId": tag }),
            &selection,
            Some(token),
        )
        .await;
    assert!(tag_ids(&data(&removed)["removeSubscriberTag"]).is_empty());
}
