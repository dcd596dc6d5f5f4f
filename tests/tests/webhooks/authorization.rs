//! Who sees what: webhook events (people's messages) are for owners and admins, subscribers
//! are read by every member and changed by editors and up, and nothing of one tenant is
//! visible, or changeable, from another.

use refhub_tests::{TestApp, assert_error, data, error_code, spawn_app, str_at};
use serde_json::{Value, json};

use crate::support::{
    EVENT_FIELDS, PAGE, Tenant, body, connect_tenant, create_field, create_tag, deliver,
    event_count, now_ms, referral, settled_events, subscriber, subscriber_by_psid,
    subscribers_page, webhook_event,
};

/// A tenant with one subscriber (from one processed referral); returns `(subscriber id,
/// event id, field id, tag id)`.
async fn with_one_subscriber(
    app: &TestApp,
    tenant: &Tenant,
    psid: &str,
) -> (String, String, String, String) {
    let token = tenant.token();
    let (field, _) = create_field(app, token, "score", "NUMBER", None).await;
    let tag = create_tag(app, token, "Known").await;
    deliver(
        app,
        tenant,
        body(&[referral(psid, now_ms() - 1_000, "hello")]),
    )
    .await;
    let events = settled_events(app, token, 1).await;
    let person = subscriber_by_psid(app, token, &tenant.page_id, psid)
        .await
        .expect("the subscriber");
    (
        str_at(&person, "/id"),
        str_at(&events[0], "/id"),
        field,
        tag,
    )
}

/// The four subscriber mutations, as `(name, input)`.
fn subscriber_mutations(subscriber: &str, field: &str, tag: &str) -> Vec<(&'static str, Value)> {
    vec![
        (
            "setSubscriberField",
            json!({ "subscriberId": subscriber, "fieldId": field, "value": "7" }),
        ),
        (
            "clearSubscriberField",
            json!({ "subscriberId": subscriber, "fieldId": field }),
        ),
        (
            "addSubscriberTag",
            json!({ "subscriberId": subscriber, "tagId": tag }),
        ),
        (
            "removeSubscriberTag",
            json!({ "subscriberId": subscriber, "tagId": tag }),
        ),
    ]
}

async fn read_events(app: &TestApp, token: &str, event: &str) -> Vec<(&'static str, Value)> {
    vec![
        (
            "webhookEvents",
            app.graphql(
                &format!("{{ webhookEvents {{ totalCount nodes {{ {EVENT_FIELDS} }} }} }}"),
                json!({}),
                Some(token),
            )
            .await,
        ),
        ("webhookEvent", webhook_event(app, token, event).await),
        (
            "replayWebhookEvent",
            app.mutate(
                "replayWebhookEvent",
                json!({ "id": event }),
                "{ id }",
                Some(token),
            )
            .await,
        ),
    ]
}

#[tokio::test]
async fn webhook_events_are_for_owners_and_admins_and_viewers_change_no_subscriber() {
    let app = spawn_app().await;
    let acme = connect_tenant(&app, "owner@acme.test", "Acme", PAGE).await;
    let (person, event, field, tag) = with_one_subscriber(&app, &acme, "9100000000000001").await;
    let admin = app
        .member_of(&acme.session, "admin@acme.test", "ADMIN")
        .await;
    let editor = app
        .member_of(&acme.session, "editor@acme.test", "EDITOR")
        .await;
    let viewer = app
        .member_of(&acme.session, "viewer@acme.test", "VIEWER")
        .await;
    let (_, viewer_key) = app
        .create_api_key(acme.token(), "read only", "VIEWER")
        .await;
    let (_, editor_key) = app.create_api_key(acme.token(), "editing", "EDITOR").await;

    for (who, token) in [
        ("an editor", editor.access_token.as_str()),
        ("a viewer", viewer.access_token.as_str()),
        ("an editor API key", editor_key.as_str()),
        ("a viewer API key", viewer_key.as_str()),
    ] {
        for (name, response) in read_events(&app, token, &event).await {
            assert_error(&response, "FORBIDDEN");
            assert!(
                response["data"].is_null() || response["data"][name].is_null(),
                "{who} got data from {name}: {response:#}"
            );
        }
    }
    for (who, token) in [
        ("the owner", acme.token()),
        ("an admin", admin.access_token.as_str()),
    ] {
        for (name, response) in read_events(&app, token, &event).await {
            assert!(
                response.get("errors").is_none(),
                "{who} {name}: {response:#}"
            );
        }
    }
    let anonymous = app
        .graphql("{ webhookEvents { totalCount } }", json!({}), None)
        .await;
    assert_error(&anonymous, "UNAUTHENTICATED");

    let before = data(&subscriber(&app, acme.token(), &person).await).clone();
    for (who, token) in [
        ("a viewer", viewer.access_token.as_str()),
        ("a viewer API key", viewer_key.as_str()),
    ] {
        // Viewers read…
        let read = subscriber(&app, token, &person).await;
        assert_eq!(data(&read)["subscriber"]["id"], json!(person), "{who}");
        let listed = subscribers_page(&app, token, &acme.page_id, Value::Null, None, None).await;
        assert_eq!(data(&listed)["subscribers"]["totalCount"], 1, "{who}");
        // …and change nothing.
        for (name, input) in subscriber_mutations(&person, &field, &tag) {
            let response = app.mutate(name, input, "{ id }", Some(token)).await;
            assert_eq!(
                error_code(&response).as_deref(),
                Some("FORBIDDEN"),
                "{who} ran {name}: {response:#}"
            );
        }
    }
    assert_eq!(
        data(&subscriber(&app, acme.token(), &person).await),
        &before
    );

    // Editors may change subscribers.
    for (name, input) in subscriber_mutations(&person, &field, &tag) {
        let response = app
            .mutate(name, input, "{ id }", Some(&editor.access_token))
            .await;
        assert_eq!(
            data(&response)[name]["id"],
            json!(person),
            "an editor ran {name}"
        );
    }
}

#[tokio::test]
async fn another_tenant_gets_not_found_for_everything_of_this_one() {
    let app = spawn_app().await;
    let acme = connect_tenant(&app, "owner@acme.test", "Acme", PAGE).await;
    let globex = connect_tenant(&app, "owner@globex.test", "Globex", "104857600000002").await;
    let (person, event, acme_field, acme_tag) =
        with_one_subscriber(&app, &acme, "9200000000000001").await;
    let (globex_field, _) = create_field(&app, globex.token(), "points", "NUMBER", None).await;
    let globex_tag = create_tag(&app, globex.token(), "Theirs").await;
    let before = data(&subscriber(&app, acme.token(), &person).await).clone();
    let g = globex.token();

    assert_error(&subscriber(&app, g, &person).await, "NOT_FOUND");
    assert_error(&webhook_event(&app, g, &event).await, "NOT_FOUND");
    assert_error(
        &app.mutate(
            "replayWebhookEvent",
            json!({ "id": event }),
            "{ id }",
            Some(g),
        )
        .await,
        "NOT_FOUND",
    );
    assert_error(
        &subscribers_page(&app, g, &acme.page_id, Value::Null, None, None).await,
        "NOT_FOUND",
    );
    // With Globex's own field and tag, and with Acme's.
    for (field, tag) in [(&globex_field, &globex_tag), (&acme_field, &acme_tag)] {
        for (name, input) in subscriber_mutations(&person, field, tag) {
            let response = app.mutate(name, input, "{ id }", Some(g)).await;
            assert_error(&response, "NOT_FOUND");
        }
    }
    assert_eq!(
        event_count(&app, g, None).await,
        0,
        "Globex sees Acme's events"
    );
    let own = subscribers_page(&app, g, &globex.page_id, Value::Null, None, None).await;
    assert_eq!(data(&own)["subscribers"]["totalCount"], 0);
    // Nothing of Acme's changed.
    assert_eq!(
        data(&subscriber(&app, acme.token(), &person).await),
        &before
    );
    let still = app
        .graphql(
            &format!("query($id: ID!) {{ webhookEvent(id: $id) {{ {EVENT_FIELDS} }} }}"),
            json!({ "id": event }),
            Some(acme.token()),
        )
        .await;
    assert_eq!(data(&still)["webhookEvent"]["status"], "PROCESSED");
}

#[tokio::test]
async fn a_delivery_naming_another_tenants_page_stays_in_the_tenant_whose_url_it_came_to() {
    let app = spawn_app().await;
    let acme = connect_tenant(&app, "owner@acme.test", "Acme", PAGE).await;
    let globex = connect_tenant(&app, "owner@globex.test", "Globex", "104857600000002").await;
    // Signed with Acme's secret, posted to Acme's URL, but about Globex's page.
    let mut item = referral("9300000000000001", now_ms(), "hello");
    item["recipient"]["id"] = json!("104857600000002");
    let delivery = json!({ "object": "page", "entry": [{ "id": "104857600000002", "time": now_ms(), "messaging": [item] }] });
    deliver(&app, &acme, delivery.to_string()).await;

    let events = settled_events(&app, acme.token(), 1).await;
    assert_eq!(events[0]["status"], "IGNORED", "{:#}", events[0]);
    assert_eq!(event_count(&app, globex.token(), None).await, 0);
    let theirs = subscribers_page(
        &app,
        globex.token(),
        &globex.page_id,
        Value::Null,
        None,
        None,
    )
    .await;
    assert_eq!(data(&theirs)["subscribers"]["totalCount"], 0, "{theirs:#}");
}
