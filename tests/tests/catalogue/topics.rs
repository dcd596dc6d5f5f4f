//! Notification topics: their `m.me/rn` links, and registration through the Graph API (a
//! wiremock server that checks the exact request).

use refhub_tests::{
    TestApp, assert_error, data, nodes, random_id, spawn_app, spawn_app_on_graph, str_at,
};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{
    Checks, TOPIC_FIELDS, connect_page, create_topic, owner, page_token, short, without_timestamps,
};

async fn read_topic(app: &TestApp, token: Option<&str>, id: &str) -> Value {
    app.graphql(
        &format!("query($id: ID!) {{ notificationTopic(id: $id) {TOPIC_FIELDS} }}"),
        json!({ "id": id }),
        token,
    )
    .await
}

async fn register(app: &TestApp, token: Option<&str>, topic: &str, psid: &str) -> Value {
    app.mutate(
        "registerNotificationTopic",
        json!({ "topicId": topic, "psid": psid }),
        TOPIC_FIELDS,
        token,
    )
    .await
}

/// The registration message Meta expects, exactly.
fn registration_body(psid: &str, title: &str, frequency: &str) -> Value {
    json!({
        "recipient": { "id": psid },
        "message": {
            "attachment": {
                "type": "template",
                "payload": {
                    "template_type": "notification_messages",
                    "title": title,
                    "payload": format!("Registering a new topic: {title}"),
                    "notification_messages_frequency": frequency,
                }
            }
        }
    })
}

/// Meta's answer to a registration message it refused.
fn meta_refusal() -> ResponseTemplate {
    ResponseTemplate::new(400).set_body_json(json!({
        "error": {
            "message": "(#100) No matching user found",
            "type": "OAuthException",
            "code": 100,
            "error_subcode": 2018001,
            "fbtrace_id": "AbCdEfGh"
        }
    }))
}

#[tokio::test]
async fn a_topic_renders_its_rn_link_for_each_cadence() {
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    let shop = connect_page(
        &app,
        &acme.access_token,
        "104857600123",
        "Shop",
        Some("acme.shop"),
    )
    .await;
    let blog = connect_page(&app, &acme.access_token, "200300400", "Blog", None).await;

    let deals = create_topic(
        &app,
        &acme.access_token,
        json!({ "pageId": shop, "title": "Weekly deals 2026" }),
    )
    .await;
    assert_eq!(deals["title"], "Weekly deals 2026");
    assert_eq!(deals["defaultCadence"], "DAILY", "the default cadence");
    assert_eq!(
        deals["rnUrl"],
        "https://m.me/rn/acme.shop?topic=Weekly%20deals%202026&cadence=daily"
    );
    assert_eq!(deals["page"]["id"], shop.as_str());
    assert_eq!(
        deals["registration"],
        json!({ "status": "UNREGISTERED", "attemptedAt": null, "messageId": null, "error": null })
    );

    let id = str_at(&deals, "/id");
    let cadences = app
        .graphql_ok(
            "query($id: ID!) { notificationTopic(id: $id) { \
             default: rnUrl daily: rnUrl(cadence: DAILY) weekly: rnUrl(cadence: WEEKLY) \
             monthly: rnUrl(cadence: MONTHLY) } }",
            json!({ "id": id }),
            token,
        )
        .await;
    let base = "https://m.me/rn/acme.shop?topic=Weekly%20deals%202026&cadence=";
    assert_eq!(
        cadences["notificationTopic"],
        json!({
            "default": format!("{base}daily"),
            "daily": format!("{base}daily"),
            "weekly": format!("{base}weekly"),
            "monthly": format!("{base}monthly"),
        })
    );

    let news = create_topic(
        &app,
        &acme.access_token,
        json!({ "pageId": blog, "title": "News", "defaultCadence": "MONTHLY" }),
    )
    .await;
    assert_eq!(news["defaultCadence"], "MONTHLY");
    assert_eq!(
        news["rnUrl"],
        "https://m.me/rn/200300400?topic=News&cadence=monthly"
    );

    let read = read_topic(&app, token, &id).await;
    assert_eq!(data(&read)["notificationTopic"], deals);
}

#[tokio::test]
async fn topics_are_listed_changed_and_deleted() {
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    let shop = connect_page(
        &app,
        &acme.access_token,
        "104857600123",
        "Shop",
        Some("acme"),
    )
    .await;
    let blog = connect_page(&app, &acme.access_token, "200300400", "Blog", None).await;
    let deals = create_topic(
        &app,
        &acme.access_token,
        json!({ "pageId": shop, "title": "Deals" }),
    )
    .await;
    create_topic(
        &app,
        &acme.access_token,
        json!({ "pageId": shop, "title": "Events" }),
    )
    .await;
    create_topic(
        &app,
        &acme.access_token,
        json!({ "pageId": blog, "title": "News" }),
    )
    .await;

    let titles =
        |list: &Value| -> Vec<String> { nodes(list).iter().map(|t| str_at(t, "/title")).collect() };
    let all = app
        .graphql_ok(
            "{ notificationTopics(first: 100) { totalCount edges { node { title } } } }",
            json!({}),
            token,
        )
        .await;
    assert_eq!(all["notificationTopics"]["totalCount"], 3);
    assert_eq!(
        titles(&all["notificationTopics"]),
        ["Deals", "Events", "News"]
    );
    let on_shop = app
        .graphql_ok(
            "query($page: ID!) { notificationTopics(pageId: $page) { totalCount edges { node { title } } } \
             page(id: $page) { notificationTopics { edges { node { title } } } } }",
            json!({ "page": shop }),
            token,
        )
        .await;
    assert_eq!(titles(&on_shop["notificationTopics"]), ["Deals", "Events"]);
    assert_eq!(
        titles(&on_shop["page"]["notificationTopics"]),
        ["Deals", "Events"]
    );

    let id = str_at(&deals, "/id");
    let changed = app
        .mutate(
            "updateNotificationTopic",
            json!({ "id": id, "title": "Flash deals", "defaultCadence": "WEEKLY" }),
            TOPIC_FIELDS,
            token,
        )
        .await;
    let changed = &data(&changed)["updateNotificationTopic"];
    assert_eq!(changed["title"], "Flash deals");
    assert_eq!(changed["defaultCadence"], "WEEKLY");
    assert_eq!(
        changed["rnUrl"],
        "https://m.me/rn/acme?topic=Flash%20deals&cadence=weekly"
    );
    let cadence_only = app
        .mutate(
            "updateNotificationTopic",
            json!({ "id": id, "defaultCadence": "MONTHLY" }),
            "{ title defaultCadence }",
            token,
        )
        .await;
    assert_eq!(
        data(&cadence_only)["updateNotificationTopic"],
        json!({ "title": "Flash deals", "defaultCadence": "MONTHLY" })
    );

    let deleted = app
        .mutate("deleteNotificationTopic", json!({ "id": id }), "", token)
        .await;
    assert_eq!(data(&deleted)["deleteNotificationTopic"], id.as_str());
    assert_error(&read_topic(&app, token, &id).await, "NOT_FOUND");
    let all = app
        .graphql_ok("{ notificationTopics { totalCount } }", json!({}), token)
        .await;
    assert_eq!(all["notificationTopics"]["totalCount"], 2);
}

#[tokio::test]
async fn registering_sends_the_exact_message_and_records_meta_s_message_id() {
    let graph = MockServer::start().await;
    let app = spawn_app_on_graph(&graph, |_| {}).await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    let page = connect_page(
        &app,
        &acme.access_token,
        "104857600123",
        "Shop",
        Some("acme"),
    )
    .await;
    let topic = create_topic(
        &app,
        &acme.access_token,
        json!({ "pageId": page, "title": "Weekly deals", "defaultCadence": "WEEKLY" }),
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/v26.0/104857600123/messages"))
        .and(query_param("access_token", page_token("104857600123")))
        .and(body_json(registration_body(
            "24681357",
            "Weekly deals",
            "WEEKLY",
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "recipient_id": "24681357",
            "message_id": "m_AbC123registration",
        })))
        .expect(1)
        .mount(&graph)
        .await;

    let response = register(&app, token, &str_at(&topic, "/id"), "24681357").await;

    let registered = &data(&response)["registerNotificationTopic"];
    let registration = &registered["registration"];
    assert_eq!(registration["status"], "REGISTERED", "{registered:#}");
    assert_eq!(registration["messageId"], "m_AbC123registration");
    assert!(registration["attemptedAt"].is_string(), "{registration:#}");
    assert!(registration["error"].is_null(), "{registration:#}");
    let read = read_topic(&app, token, &str_at(&topic, "/id")).await;
    assert_eq!(
        without_timestamps(&data(&read)["notificationTopic"]["registration"]),
        without_timestamps(registration)
    );
    graph.verify().await;

    // A new title must be registered again.
    let renamed = app
        .mutate(
            "updateNotificationTopic",
            json!({ "id": str_at(&topic, "/id"), "title": "Daily deals" }),
            TOPIC_FIELDS,
            token,
        )
        .await;
    assert_eq!(
        data(&renamed)["updateNotificationTopic"]["registration"]["status"],
        "UNREGISTERED"
    );
}

#[tokio::test]
async fn the_frequency_follows_the_default_cadence_and_the_current_page_token() {
    let graph = MockServer::start().await;
    let app = spawn_app_on_graph(&graph, |_| {}).await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    let page = connect_page(&app, &acme.access_token, "104857600123", "Shop", None).await;
    let daily = create_topic(
        &app,
        &acme.access_token,
        json!({ "pageId": page, "title": "Tips" }),
    )
    .await;
    let monthly = create_topic(
        &app,
        &acme.access_token,
        json!({ "pageId": page, "title": "Digest", "defaultCadence": "MONTHLY" }),
    )
    .await;
    let new_token = "EAAGrotatedPageToken0987654321";
    data(
        &app.mutate(
            "updatePage",
            json!({ "id": page, "accessToken": new_token }),
            "{ id }",
            token,
        )
        .await,
    );
    for (title, frequency) in [("Tips", "DAILY"), ("Digest", "MONTHLY")] {
        Mock::given(method("POST"))
            .and(path("/v26.0/104857600123/messages"))
            .and(query_param("access_token", new_token))
            .and(body_json(registration_body("13572468", title, frequency)))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "recipient_id": "13572468",
                "message_id": format!("m_{title}"),
            })))
            .expect(1)
            .mount(&graph)
            .await;
    }

    for (topic, message_id) in [(&daily, "m_Tips"), (&monthly, "m_Digest")] {
        let response = register(&app, token, &str_at(topic, "/id"), "13572468").await;
        let registration = &data(&response)["registerNotificationTopic"]["registration"];
        assert_eq!(registration["status"], "REGISTERED", "{registration:#}");
        assert_eq!(registration["messageId"], message_id);
    }
    graph.verify().await;
}

#[tokio::test]
async fn meta_s_refusal_is_recorded_on_the_topic_without_the_token() {
    let graph = MockServer::start().await;
    let app = spawn_app_on_graph(&graph, |_| {}).await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    let page = connect_page(&app, &acme.access_token, "104857600123", "Shop", None).await;
    let topic = create_topic(
        &app,
        &acme.access_token,
        json!({ "pageId": page, "title": "Deals" }),
    )
    .await;
    let id = str_at(&topic, "/id");
    Mock::given(method("POST"))
        .and(path("/v26.0/104857600123/messages"))
        .and(query_param("access_token", page_token("104857600123")))
        .and(body_json(registration_body("999", "Deals", "DAILY")))
        .respond_with(meta_refusal())
        .expect(1)
        .mount(&graph)
        .await;

    let response = register(&app, token, &id, "999").await;

    let registration = &data(&response)["registerNotificationTopic"]["registration"];
    assert_eq!(registration["status"], "FAILED", "{registration:#}");
    assert!(registration["attemptedAt"].is_string(), "{registration:#}");
    assert!(registration["messageId"].is_null(), "{registration:#}");
    let error = str_at(registration, "/error");
    assert!(
        error.contains("(#100) No matching user found"),
        "the error should carry Meta's message: {error}"
    );
    assert!(
        !response.to_string().contains(&page_token("104857600123")),
        "the page token leaked: {response:#}"
    );
    let read = read_topic(&app, token, &id).await;
    assert_eq!(
        without_timestamps(&data(&read)["notificationTopic"]["registration"]),
        without_timestamps(registration)
    );
    graph.verify().await;
}

#[tokio::test]
async fn malformed_topic_input_names_its_field_and_sends_nothing() {
    let mut checks = Checks::default();
    let graph = MockServer::start().await;
    let app = spawn_app_on_graph(&graph, |_| {}).await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    let page = connect_page(&app, &acme.access_token, "104857600123", "Shop", None).await;
    let unknown = random_id();
    let valid = json!({ "pageId": page, "title": "Deals", "defaultCadence": "WEEKLY" });
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        ("title", json!(""), "VALIDATION", "title"),
        ("title", json!("   "), "VALIDATION", "title"),
        ("title", json!("Deals!"), "VALIDATION", "title"),
        ("title", json!("Deals & offers"), "VALIDATION", "title"),
        ("title", json!("x".repeat(1_000)), "VALIDATION", "title"),
        ("pageId", json!("not-a-uuid"), "VALIDATION", "pageId"),
        ("pageId", json!(unknown), "NOT_FOUND", "pageId"),
    ];
    for (key, value, code, field) in &cases {
        let mut input = valid.clone();
        input[key] = value.clone();
        let response = app
            .mutate("createNotificationTopic", input, "{ id }", token)
            .await;
        let case = format!("createNotificationTopic {key} = {}", short(value));
        checks.error(&case, &response, code, Some(field));
    }
    let all = app
        .graphql_ok("{ notificationTopics { totalCount } }", json!({}), token)
        .await;
    assert_eq!(
        all["notificationTopics"]["totalCount"], 0,
        "a rejected topic was stored"
    );

    let topic = create_topic(&app, &acme.access_token, valid).await;
    let id = str_at(&topic, "/id");
    for (key, value, code, field) in cases.iter().filter(|(key, ..)| *key != "pageId") {
        let mut input = json!({ "id": id });
        input[key] = value.clone();
        let response = app
            .mutate("updateNotificationTopic", input, "{ id }", token)
            .await;
        let case = format!("updateNotificationTopic {key} = {}", short(value));
        checks.error(&case, &response, code, Some(field));
    }
    assert_eq!(
        data(&read_topic(&app, token, &id).await)["notificationTopic"],
        topic
    );

    let registrations = [
        ("psid empty", id.as_str(), "", "VALIDATION", "psid"),
        ("psid blank", id.as_str(), "   ", "VALIDATION", "psid"),
        (
            "psid with spaces",
            id.as_str(),
            "123 456",
            "VALIDATION",
            "psid",
        ),
        (
            "topicId not an id",
            "not-a-uuid",
            "24681357",
            "VALIDATION",
            "topicId",
        ),
        (
            "topicId unknown",
            unknown.as_str(),
            "24681357",
            "NOT_FOUND",
            "topicId",
        ),
    ];
    for (case, topic_id, psid, code, field) in registrations {
        let response = register(&app, token, topic_id, psid).await;
        checks.error(case, &response, code, Some(field));
    }
    assert!(
        crate::support::send_api_calls(&graph).await.is_empty(),
        "a rejected registration reached the Graph API"
    );

    for (case, response) in [
        (
            "notificationTopic",
            read_topic(&app, token, "not-a-uuid").await,
        ),
        (
            "deleteNotificationTopic",
            app.mutate(
                "deleteNotificationTopic",
                json!({ "id": "not-a-uuid" }),
                "",
                token,
            )
            .await,
        ),
    ] {
        checks.error(case, &response, "VALIDATION", Some("id"));
    }
    for (case, response) in [
        ("notificationTopic", read_topic(&app, token, &unknown).await),
        (
            "deleteNotificationTopic",
            app.mutate(
                "deleteNotificationTopic",
                json!({ "id": unknown }),
                "",
                token,
            )
            .await,
        ),
    ] {
        checks.error(case, &response, "NOT_FOUND", Some("id"));
    }
    checks.verify();
}

/// Enum values are checked by the GraphQL engine before any resolver runs; the answer must
/// still name the input field, like every other validation error.
#[tokio::test]
async fn an_unknown_cadence_is_a_validation_error_on_its_field() {
    let mut checks = Checks::default();
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    let page = connect_page(&app, &acme.access_token, "104857600123", "Shop", None).await;
    let topic = create_topic(
        &app,
        &acme.access_token,
        json!({ "pageId": page, "title": "Deals" }),
    )
    .await;

    for cadence in ["HOURLY", "daily", ""] {
        let created = app
            .mutate(
                "createNotificationTopic",
                json!({ "pageId": page, "title": "Tips", "defaultCadence": cadence }),
                "{ id }",
                token,
            )
            .await;
        checks.error(
            &format!("createNotificationTopic defaultCadence {cadence:?}"),
            &created,
            "VALIDATION",
            Some("defaultCadence"),
        );
        let updated = app
            .mutate(
                "updateNotificationTopic",
                json!({ "id": topic["id"], "defaultCadence": cadence }),
                "{ id }",
                token,
            )
            .await;
        checks.error(
            &format!("updateNotificationTopic defaultCadence {cadence:?}"),
            &updated,
            "VALIDATION",
            Some("defaultCadence"),
        );
        let link = app
            .graphql(
                "query($id: ID!, $cadence: Cadence) { notificationTopic(id: $id) { rnUrl(cadence: $cadence) } }",
                json!({ "id": topic["id"], "cadence": cadence }),
                token,
            )
            .await;
        checks.error(
            &format!("rnUrl(cadence: {cadence:?})"),
            &link,
            "VALIDATION",
            Some("cadence"),
        );
    }
    checks.verify();
}
