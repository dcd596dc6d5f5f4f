//! Connecting, changing, listing and disconnecting Facebook Pages.

use refhub_tests::{assert_error, data, nodes, random_id, spawn_app, str_at};
use serde_json::{Value, json};

use crate::support::{
    Checks, LINK_FIELDS, TOPIC_FIELDS, connect_page, create_link, create_topic, expect_error,
    owner, page_token, without_timestamps,
};

const PAGE_FIELDS: &str = "{ id facebookPageId name username mmeUrl createdAt updatedAt }";

async fn read_page(app: &refhub_tests::TestApp, token: Option<&str>, id: &str) -> Value {
    app.graphql(
        &format!("query($id: ID!) {{ page(id: $id) {PAGE_FIELDS} }}"),
        json!({ "id": id }),
        token,
    )
    .await
}

#[tokio::test]
async fn a_connected_page_is_listed_and_read_back() {
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    app.meta.add_page(
        "104857600123",
        "Acme Shop",
        Some("acme.shop"),
        &page_token("104857600123"),
    );

    let response = app
        .mutate(
            "connectPage",
            json!({
                "facebookPageId": "104857600123",
                "accessToken": page_token("104857600123"),
            }),
            PAGE_FIELDS,
            token,
        )
        .await;
    let shop = data(&response)["connectPage"].clone();
    assert_eq!(shop["facebookPageId"], "104857600123");
    assert_eq!(shop["name"], "Acme Shop");
    assert_eq!(shop["username"], "acme.shop");
    assert_eq!(shop["mmeUrl"], "https://m.me/acme.shop");

    // Without a username, m.me links fall back to the page id.
    let blog_id = connect_page(&app, token.unwrap(), "200300400", "Acme Blog", None).await;
    let blog = read_page(&app, token, &blog_id).await;
    let blog = &data(&blog)["page"];
    assert!(blog["username"].is_null(), "{blog:#}");
    assert_eq!(blog["mmeUrl"], "https://m.me/200300400");

    let read = read_page(&app, token, &str_at(&shop, "/id")).await;
    assert_eq!(
        without_timestamps(&data(&read)["page"]),
        without_timestamps(&shop)
    );

    let list = app
        .graphql_ok(
            &format!("{{ pages(first: 10) {{ totalCount edges {{ node {PAGE_FIELDS} }} }} }}"),
            json!({}),
            token,
        )
        .await;
    assert_eq!(list["pages"]["totalCount"], 2);
    let listed: Vec<String> = nodes(&list["pages"])
        .iter()
        .map(|page| str_at(page, "/name"))
        .collect();
    assert_eq!(listed, ["Acme Shop", "Acme Blog"], "oldest first");
}

#[tokio::test]
async fn updating_a_page_changes_only_what_is_given() {
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    let id = connect_page(
        &app,
        token.unwrap(),
        "104857600123",
        "Acme Shop",
        Some("acme"),
    )
    .await;

    let renamed = app
        .mutate(
            "updatePage",
            json!({ "id": id, "name": "Acme Store" }),
            PAGE_FIELDS,
            token,
        )
        .await;
    let renamed = &data(&renamed)["updatePage"];
    assert_eq!(renamed["name"], "Acme Store");
    assert_eq!(renamed["username"], "acme", "an omitted username is kept");

    let new_handle = app
        .mutate(
            "updatePage",
            json!({ "id": id, "username": "acme.store" }),
            PAGE_FIELDS,
            token,
        )
        .await;
    let new_handle = &data(&new_handle)["updatePage"];
    assert_eq!(new_handle["name"], "Acme Store", "an omitted name is kept");
    assert_eq!(new_handle["mmeUrl"], "https://m.me/acme.store");

    let cleared = app
        .mutate(
            "updatePage",
            json!({ "id": id, "username": null }),
            PAGE_FIELDS,
            token,
        )
        .await;
    let cleared = &data(&cleared)["updatePage"];
    assert!(cleared["username"].is_null(), "null removes the username");
    assert_eq!(cleared["mmeUrl"], "https://m.me/104857600123");
    assert_eq!(cleared["facebookPageId"], "104857600123");
}

#[tokio::test]
async fn disconnecting_a_page_deletes_its_links_and_topics() {
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    let page = connect_page(&app, token.unwrap(), "104857600123", "Acme Shop", None).await;
    let kept = connect_page(&app, token.unwrap(), "555000111", "Acme Blog", None).await;
    let link = create_link(
        &app,
        token.unwrap(),
        json!({ "pageId": page, "ref": "summer" }),
    )
    .await;
    let topic = create_topic(
        &app,
        token.unwrap(),
        json!({ "pageId": page, "title": "Weekly deals" }),
    )
    .await;

    let response = app
        .mutate("disconnectPage", json!({ "id": page }), "", token)
        .await;
    assert_eq!(data(&response)["disconnectPage"], page.as_str());

    assert_error(&read_page(&app, token, &page).await, "NOT_FOUND");
    let link_after = app
        .graphql(
            &format!("query($id: ID!) {{ refLink(id: $id) {LINK_FIELDS} }}"),
            json!({ "id": str_at(&link, "/id") }),
            token,
        )
        .await;
    assert_error(&link_after, "NOT_FOUND");
    let topic_after = app
        .graphql(
            &format!("query($id: ID!) {{ notificationTopic(id: $id) {TOPIC_FIELDS} }}"),
            json!({ "id": str_at(&topic, "/id") }),
            token,
        )
        .await;
    assert_error(&topic_after, "NOT_FOUND");
    let topics = app
        .graphql_ok("{ notificationTopics { totalCount } }", json!({}), token)
        .await;
    assert_eq!(topics["notificationTopics"]["totalCount"], 0);

    let pages = app
        .graphql_ok("{ pages { totalCount nodes { id } } }", json!({}), token)
        .await;
    assert_eq!(pages["pages"]["totalCount"], 1);
    assert_eq!(pages["pages"]["nodes"][0]["id"], kept.as_str());

    // The same Facebook page can be connected again afterwards.
    connect_page(&app, token.unwrap(), "104857600123", "Acme Shop", None).await;
}

#[tokio::test]
async fn the_same_facebook_page_cannot_be_connected_twice() {
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    connect_page(&app, token.unwrap(), "104857600123", "Acme Shop", None).await;

    let again = app
        .mutate(
            "connectPage",
            json!({
                "facebookPageId": "104857600123",
                "accessToken": page_token("104857600123"),
            }),
            "{ id }",
            token,
        )
        .await;
    expect_error("duplicate page", &again, "CONFLICT", Some("facebookPageId"));
    let pages = app
        .graphql_ok("{ pages { totalCount } }", json!({}), token)
        .await;
    assert_eq!(pages["pages"]["totalCount"], 1);
}

#[tokio::test]
async fn malformed_page_input_names_its_field_and_stores_nothing() {
    let mut checks = Checks::default();
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    let valid = json!({
        "facebookPageId": "104857600123",
        "accessToken": page_token("104857600123"),
    });
    let cases: Vec<(&str, Value, &str)> = vec![
        ("facebookPageId", json!("12a"), "facebookPageId"),
        ("facebookPageId", json!(""), "facebookPageId"),
        ("facebookPageId", json!("   "), "facebookPageId"),
        ("facebookPageId", json!("acme.shop"), "facebookPageId"),
        ("facebookPageId", json!("-12"), "facebookPageId"),
        ("accessToken", json!(""), "accessToken"),
        ("accessToken", json!("   "), "accessToken"),
        ("accessToken", json!("x".repeat(3_000)), "accessToken"),
    ];
    for (key, value, field) in cases {
        let mut input = valid.clone();
        input[key] = value.clone();
        let response = app.mutate("connectPage", input, "{ id }", token).await;
        checks.error(
            &format!("connectPage {key} = {value}"),
            &response,
            "VALIDATION",
            Some(field),
        );
    }
    let pages = app
        .graphql_ok("{ pages { totalCount } }", json!({}), token)
        .await;
    assert_eq!(
        pages["pages"]["totalCount"], 0,
        "a rejected page was stored"
    );

    // The same rules on update; the page stays as it was.
    let id = connect_page(
        &app,
        token.unwrap(),
        "104857600123",
        "Acme Shop",
        Some("acme"),
    )
    .await;
    let before = data(&read_page(&app, token, &id).await)["page"].clone();
    let update_cases: Vec<(&str, Value, &str)> = vec![
        ("name", json!(""), "name"),
        ("name", json!("   "), "name"),
        ("name", json!("x".repeat(1_000)), "name"),
        ("username", json!("acme shop"), "username"),
        ("accessToken", json!(""), "accessToken"),
        ("accessToken", json!("   "), "accessToken"),
    ];
    for (key, value, field) in update_cases {
        let mut input = json!({ "id": id });
        input[key] = value.clone();
        let response = app.mutate("updatePage", input, "{ id }", token).await;
        checks.error(
            &format!("updatePage {key} = {value}"),
            &response,
            "VALIDATION",
            Some(field),
        );
    }
    assert_eq!(data(&read_page(&app, token, &id).await)["page"], before);

    // Ids that are not ids, and ids of nothing.
    for (case, response) in [
        ("page", read_page(&app, token, "not-a-uuid").await),
        (
            "updatePage",
            app.mutate(
                "updatePage",
                json!({ "id": "not-a-uuid", "name": "x" }),
                "{ id }",
                token,
            )
            .await,
        ),
        (
            "disconnectPage",
            app.mutate("disconnectPage", json!({ "id": "not-a-uuid" }), "", token)
                .await,
        ),
    ] {
        checks.error(case, &response, "VALIDATION", Some("id"));
    }
    let unknown = random_id();
    for (case, response) in [
        ("page", read_page(&app, token, &unknown).await),
        (
            "updatePage",
            app.mutate(
                "updatePage",
                json!({ "id": unknown, "name": "x" }),
                "{ id }",
                token,
            )
            .await,
        ),
        (
            "disconnectPage",
            app.mutate("disconnectPage", json!({ "id": unknown }), "", token)
                .await,
        ),
    ] {
        checks.error(case, &response, "NOT_FOUND", Some("id"));
    }
    checks.verify();
}
