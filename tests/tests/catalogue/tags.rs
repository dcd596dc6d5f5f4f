//! Tags: created, renamed, listed and deleted; names unique case-insensitively.

use refhub_tests::{TestApp, assert_error, data, nodes, random_id, spawn_app, str_at};
use serde_json::{Value, json};

use crate::support::{Checks, create_tag, expect_error, owner, short};

async fn tag_names(app: &TestApp, token: Option<&str>) -> Vec<String> {
    let list = app
        .graphql_ok(
            "{ tags(first: 100) { totalCount edges { node { id name createdAt } } } }",
            json!({}),
            token,
        )
        .await;
    let names: Vec<String> = nodes(&list["tags"])
        .iter()
        .map(|tag| str_at(tag, "/name"))
        .collect();
    assert_eq!(list["tags"]["totalCount"], names.len());
    names
}

async fn rename(app: &TestApp, token: Option<&str>, id: &str, name: &str) -> Value {
    app.mutate(
        "renameTag",
        json!({ "id": id, "name": name }),
        "{ id name }",
        token,
    )
    .await
}

async fn read_tag(app: &TestApp, token: Option<&str>, id: &str) -> Value {
    app.graphql(
        "query($id: ID!) { tag(id: $id) { id name } }",
        json!({ "id": id }),
        token,
    )
    .await
}

#[tokio::test]
async fn tags_are_created_renamed_listed_and_deleted() {
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();

    let response = app
        .mutate(
            "createTag",
            json!({ "name": "VIP customer" }),
            "{ id name createdAt }",
            token,
        )
        .await;
    let vip = data(&response)["createTag"].clone();
    assert_eq!(vip["name"], "VIP customer");
    let vip = str_at(&vip, "/id");
    let lead = create_tag(&app, &acme.access_token, "Lead 🔥").await;
    create_tag(&app, &acme.access_token, "Newsletter").await;
    assert_eq!(
        tag_names(&app, token).await,
        ["VIP customer", "Lead 🔥", "Newsletter"],
        "oldest first"
    );

    let renamed = rename(&app, token, &vip, "VIP").await;
    assert_eq!(data(&renamed)["renameTag"]["name"], "VIP");
    let read = read_tag(&app, token, &vip).await;
    assert_eq!(data(&read)["tag"]["name"], "VIP");

    let deleted = app
        .mutate("deleteTag", json!({ "id": lead }), "", token)
        .await;
    assert_eq!(data(&deleted)["deleteTag"], lead.as_str());
    assert_error(&read_tag(&app, token, &lead).await, "NOT_FOUND");
    assert_eq!(tag_names(&app, token).await, ["VIP", "Newsletter"]);

    // A deleted tag's name is free again.
    create_tag(&app, &acme.access_token, "Lead 🔥").await;
}

#[tokio::test]
async fn tag_names_are_unique_case_insensitively() {
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    let vip = create_tag(&app, &acme.access_token, "VIP").await;
    let lead = create_tag(&app, &acme.access_token, "lead").await;

    for name in ["VIP", "vip", "Vip", "  vip  "] {
        let response = app
            .mutate("createTag", json!({ "name": name }), "{ id }", token)
            .await;
        expect_error(
            &format!("createTag {name:?}"),
            &response,
            "CONFLICT",
            Some("name"),
        );
    }
    let response = rename(&app, token, &lead, "vIP").await;
    expect_error("renameTag onto VIP", &response, "CONFLICT", Some("name"));
    assert_eq!(tag_names(&app, token).await, ["VIP", "lead"]);

    // A tag may change the case of its own name.
    let response = rename(&app, token, &vip, "Vip").await;
    assert_eq!(data(&response)["renameTag"]["name"], "Vip");

    // Another tenant has names of its own.
    let globex = owner(&app, "owner@globex.test", "Globex").await;
    create_tag(&app, &globex.access_token, "VIP").await;
}

#[tokio::test]
async fn malformed_tag_input_names_its_field_and_stores_nothing() {
    let mut checks = Checks::default();
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    let names = [
        json!(""),
        json!("   "),
        json!("\n"),
        json!("x".repeat(1_000)),
    ];
    for name in &names {
        let response = app
            .mutate("createTag", json!({ "name": name }), "{ id }", token)
            .await;
        let case = format!("createTag {}", short(name));
        checks.error(&case, &response, "VALIDATION", Some("name"));
    }
    assert!(
        tag_names(&app, token).await.is_empty(),
        "a rejected tag was stored"
    );

    let id = create_tag(&app, &acme.access_token, "VIP").await;
    for name in &names {
        let response = app
            .mutate(
                "renameTag",
                json!({ "id": id, "name": name }),
                "{ id }",
                token,
            )
            .await;
        let case = format!("renameTag {}", short(name));
        checks.error(&case, &response, "VALIDATION", Some("name"));
    }
    assert_eq!(tag_names(&app, token).await, ["VIP"]);

    for (case, response) in [
        ("tag", read_tag(&app, token, "not-a-uuid").await),
        ("renameTag", rename(&app, token, "not-a-uuid", "x").await),
        (
            "deleteTag",
            app.mutate("deleteTag", json!({ "id": "not-a-uuid" }), "", token)
                .await,
        ),
    ] {
        checks.error(case, &response, "VALIDATION", Some("id"));
    }
    let unknown = random_id();
    for (case, response) in [
        ("tag", read_tag(&app, token, &unknown).await),
        ("renameTag", rename(&app, token, &unknown, "x").await),
        (
            "deleteTag",
            app.mutate("deleteTag", json!({ "id": unknown }), "", token)
                .await,
        ),
    ] {
        checks.error(case, &response, "NOT_FOUND", Some("id"));
    }
    checks.verify();
}
