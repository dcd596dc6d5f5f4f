//! Custom fields: typed, numbered per tenant, renamed, described, archived and deleted.

use refhub_tests::{TestApp, assert_error, data, nodes, random_id, spawn_app, str_at};
use serde_json::{Value, json};

use crate::support::{Checks, create_field, expect_error, owner, short, without_timestamps};

const FIELD_FIELDS: &str =
    "{ id number name type description archived archivedAt createdAt updatedAt }";
const TYPES: [&str; 8] = [
    "TEXT", "NUMBER", "BOOLEAN", "DATE", "DATETIME", "EMAIL", "PHONE", "URL",
];

async fn update_field(app: &TestApp, token: Option<&str>, input: Value) -> Value {
    app.mutate("updateCustomField", input, FIELD_FIELDS, token)
        .await
}

async fn read_field(app: &TestApp, token: Option<&str>, id: &str) -> Value {
    app.graphql(
        &format!("query($id: ID!) {{ customField(id: $id) {FIELD_FIELDS} }}"),
        json!({ "id": id }),
        token,
    )
    .await
}

/// `(name, number)` of the listed fields, in list order.
async fn listed(app: &TestApp, token: Option<&str>, include_archived: bool) -> Vec<(String, i64)> {
    let list = app
        .graphql_ok(
            "query($all: Boolean!) { customFields(first: 100, includeArchived: $all) \
             { totalCount edges { node { name number } } } }",
            json!({ "all": include_archived }),
            token,
        )
        .await;
    let fields: Vec<(String, i64)> = nodes(&list["customFields"])
        .iter()
        .map(|f| (str_at(f, "/name"), f["number"].as_i64().unwrap()))
        .collect();
    assert_eq!(list["customFields"]["totalCount"], fields.len());
    fields
}

#[tokio::test]
async fn every_type_is_accepted_and_numbers_count_up_per_tenant() {
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();

    for (index, kind) in TYPES.iter().enumerate() {
        let name = format!("{} field", kind.to_lowercase());
        let response = app
            .mutate(
                "createCustomField",
                json!({ "name": name, "type": kind, "description": format!("a {kind}") }),
                FIELD_FIELDS,
                token,
            )
            .await;
        let field = &data(&response)["createCustomField"];
        assert_eq!(
            field["number"],
            index + 1,
            "numbers are 1, 2, 3… per tenant"
        );
        assert_eq!(field["name"], name.as_str());
        assert_eq!(field["type"], *kind);
        assert_eq!(field["description"], format!("a {kind}").as_str());
        assert_eq!(field["archived"], false);
        assert!(field["archivedAt"].is_null());
        let read = read_field(&app, token, &str_at(field, "/id")).await;
        assert_eq!(
            without_timestamps(&data(&read)["customField"]),
            without_timestamps(field)
        );
    }

    // Another tenant counts from 1 on its own.
    let globex = owner(&app, "owner@globex.test", "Globex").await;
    let (_, number) = create_field(&app, &globex.access_token, "coupon", "TEXT").await;
    assert_eq!(number, 1);
    let (_, number) = create_field(&app, &acme.access_token, "coupon", "TEXT").await;
    assert_eq!(number, 9);
}

#[tokio::test]
async fn fields_created_at_the_same_time_get_different_numbers() {
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    let create = |name: &'static str| {
        app.mutate(
            "createCustomField",
            json!({ "name": name, "type": "TEXT" }),
            "{ number }",
            token,
        )
    };

    let answers = tokio::join!(
        create("one"),
        create("two"),
        create("three"),
        create("four"),
        create("five")
    );

    let mut numbers: Vec<i64> = [answers.0, answers.1, answers.2, answers.3, answers.4]
        .iter()
        .map(|r| data(r)["createCustomField"]["number"].as_i64().unwrap())
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, [1, 2, 3, 4, 5]);
}

#[tokio::test]
async fn a_field_is_renamed_described_retyped_archived_restored_and_deleted() {
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    let (coupon, _) = create_field(&app, &acme.access_token, "coupon", "TEXT").await;
    let (age, age_number) = create_field(&app, &acme.access_token, "age", "TEXT").await;

    let renamed = update_field(
        &app,
        token,
        json!({ "id": age, "name": "Age in years", "description": "Asked at sign-up" }),
    )
    .await;
    let renamed = &data(&renamed)["updateCustomField"];
    assert_eq!(renamed["name"], "Age in years");
    assert_eq!(renamed["description"], "Asked at sign-up");
    assert_eq!(renamed["number"], age_number, "renaming keeps the number");

    let retyped = update_field(&app, token, json!({ "id": age, "type": "NUMBER" })).await;
    let retyped = &data(&retyped)["updateCustomField"];
    assert_eq!(retyped["type"], "NUMBER");
    assert_eq!(retyped["name"], "Age in years", "an omitted name is kept");
    assert_eq!(retyped["description"], "Asked at sign-up");

    let undescribed = update_field(&app, token, json!({ "id": age, "description": null })).await;
    assert!(data(&undescribed)["updateCustomField"]["description"].is_null());

    let archived = update_field(&app, token, json!({ "id": age, "archived": true })).await;
    let archived = &data(&archived)["updateCustomField"];
    assert_eq!(archived["archived"], true);
    assert!(archived["archivedAt"].is_string(), "{archived:#}");
    assert_eq!(listed(&app, token, false).await, [("coupon".to_owned(), 1)]);
    assert_eq!(
        listed(&app, token, true).await,
        [("coupon".to_owned(), 1), ("Age in years".to_owned(), 2)]
    );

    let restored = update_field(&app, token, json!({ "id": age, "archived": false })).await;
    let restored = &data(&restored)["updateCustomField"];
    assert_eq!(restored["archived"], false);
    assert!(restored["archivedAt"].is_null());
    assert_eq!(listed(&app, token, false).await.len(), 2);

    let deleted = app
        .mutate("deleteCustomField", json!({ "id": coupon }), "", token)
        .await;
    assert_eq!(data(&deleted)["deleteCustomField"], coupon.as_str());
    assert_error(&read_field(&app, token, &coupon).await, "NOT_FOUND");
    assert_eq!(
        listed(&app, token, true).await,
        [("Age in years".to_owned(), 2)],
        "deleting keeps the other numbers"
    );
    let again = app
        .mutate("deleteCustomField", json!({ "id": coupon }), "", token)
        .await;
    assert_error(&again, "NOT_FOUND");

    // A new field never takes a number still in use.
    let (_, number) = create_field(&app, &acme.access_token, "city", "TEXT").await;
    assert_ne!(number, 2);
}

#[tokio::test]
async fn field_names_are_unique_in_the_tenant() {
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    create_field(&app, &acme.access_token, "coupon", "TEXT").await;
    let (city, _) = create_field(&app, &acme.access_token, "city", "TEXT").await;

    let duplicate = app
        .mutate(
            "createCustomField",
            json!({ "name": "coupon", "type": "NUMBER" }),
            "{ id }",
            token,
        )
        .await;
    expect_error("create a duplicate", &duplicate, "CONFLICT", Some("name"));
    let renamed = update_field(&app, token, json!({ "id": city, "name": "coupon" })).await;
    expect_error("rename onto another", &renamed, "CONFLICT", Some("name"));
    assert_eq!(listed(&app, token, true).await.len(), 2);

    // Another tenant may use the same name.
    let globex = owner(&app, "owner@globex.test", "Globex").await;
    create_field(&app, &globex.access_token, "coupon", "TEXT").await;
}

#[tokio::test]
async fn malformed_field_input_names_its_field_and_stores_nothing() {
    let mut checks = Checks::default();
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    let valid = json!({ "name": "coupon", "type": "TEXT", "description": "A code" });
    let cases: Vec<(&str, Value, &str)> = vec![
        ("name", json!(""), "name"),
        ("name", json!("   "), "name"),
        ("name", json!("\t\n"), "name"),
        ("name", json!("x".repeat(1_000)), "name"),
        ("description", json!("x".repeat(10_000)), "description"),
    ];
    for (key, value, field) in &cases {
        let mut input = valid.clone();
        input[key] = value.clone();
        let response = app
            .mutate("createCustomField", input, "{ id }", token)
            .await;
        let case = format!("createCustomField {key} = {}", short(value));
        checks.error(&case, &response, "VALIDATION", Some(field));
    }
    assert!(
        listed(&app, token, true).await.is_empty(),
        "a rejected field was stored"
    );

    let (id, _) = create_field(&app, &acme.access_token, "coupon", "TEXT").await;
    let before = data(&read_field(&app, token, &id).await)["customField"].clone();
    for (key, value, field) in &cases {
        let mut input = json!({ "id": id });
        input[key] = value.clone();
        let response = update_field(&app, token, input).await;
        let case = format!("updateCustomField {key} = {}", short(value));
        checks.error(&case, &response, "VALIDATION", Some(field));
    }
    assert_eq!(
        data(&read_field(&app, token, &id).await)["customField"],
        before
    );

    for (case, response) in [
        ("customField", read_field(&app, token, "not-a-uuid").await),
        (
            "updateCustomField",
            update_field(&app, token, json!({ "id": "not-a-uuid", "name": "x" })).await,
        ),
        (
            "deleteCustomField",
            app.mutate(
                "deleteCustomField",
                json!({ "id": "not-a-uuid" }),
                "",
                token,
            )
            .await,
        ),
    ] {
        checks.error(case, &response, "VALIDATION", Some("id"));
    }
    let unknown = random_id();
    for (case, response) in [
        ("customField", read_field(&app, token, &unknown).await),
        (
            "updateCustomField",
            update_field(&app, token, json!({ "id": unknown, "name": "x" })).await,
        ),
        (
            "deleteCustomField",
            app.mutate("deleteCustomField", json!({ "id": unknown }), "", token)
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
async fn an_unknown_type_is_a_validation_error_on_its_field() {
    let mut checks = Checks::default();
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    let (id, _) = create_field(&app, &acme.access_token, "coupon", "TEXT").await;

    for kind in ["COLOR", "text", "STRING", ""] {
        let created = app
            .mutate(
                "createCustomField",
                json!({ "name": "colour", "type": kind }),
                "{ id }",
                token,
            )
            .await;
        checks.error(
            &format!("createCustomField type {kind:?}"),
            &created,
            "VALIDATION",
            Some("type"),
        );
        let updated = update_field(&app, token, json!({ "id": id, "type": kind })).await;
        checks.error(
            &format!("updateCustomField type {kind:?}"),
            &updated,
            "VALIDATION",
            Some("type"),
        );
    }
    assert_eq!(listed(&app, token, true).await, [("coupon".to_owned(), 1)]);
    checks.verify();
}
