//! Root fields and the spec's null propagation: a missing single lookup is a `null` beside the
//! other fields, with `NOT_FOUND` in `errors`; a failing non-null root field (queries and
//! mutations, whatever the aliases) makes all of `data` null, never a `data` without its key.

use refhub_tests::{random_id, spawn_app};
use serde_json::{Value, json};

fn codes(response: &Value) -> Vec<(String, String)> {
    response["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    (
                        e["path"][0].as_str().unwrap_or("").to_owned(),
                        e["extensions"]["code"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_missing_lookup_is_null_beside_the_other_fields() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@roots.test", "Roots").await;
    let missing = random_id();
    for lookup in [
        "page",
        "customField",
        "tag",
        "refLink",
        "notificationTopic",
        "subscriber",
        "webhookEvent",
        "flow",
        "flowRun",
        "outboundMessage",
    ] {
        let query = format!("query($id: ID!) {{ me {{ id }} found: {lookup}(id: $id) {{ id }} }}");
        let response = app
            .graphql(&query, json!({ "id": missing }), owner.token())
            .await;
        let data = &response["data"];
        assert!(data["me"]["id"].is_string(), "{lookup}: {response}");
        assert!(
            data.as_object().is_some_and(|d| d.contains_key("found")) && data["found"].is_null(),
            "{lookup}: the alias must be present and null: {response}"
        );
        assert_eq!(
            codes(&response),
            vec![("found".to_owned(), "NOT_FOUND".to_owned())],
            "{lookup}"
        );
    }
}

#[tokio::test]
async fn a_failing_non_null_root_field_makes_data_null() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@roots.test", "Roots").await;
    // A query: the `tags` connection is non-null; `me` succeeded but `data` must be null.
    let response = app
        .graphql(
            "{ me { id } many: tags(first: 500) { totalCount } }",
            json!({}),
            owner.token(),
        )
        .await;
    assert_eq!(response["data"], Value::Null, "{response}");
    assert_eq!(
        codes(&response),
        vec![("many".to_owned(), "VALIDATION".to_owned())]
    );

    // Mutations with aliases: the second fails, so data is null (the first still happened).
    let response = app
        .graphql(
            r#"mutation { a: createTag(input: {name: "vip"}) { id } b: createTag(input: {name: "vip"}) { id } }"#,
            json!({}),
            owner.token(),
        )
        .await;
    assert_eq!(response["data"], Value::Null, "{response}");
    assert_eq!(
        codes(&response),
        vec![("b".to_owned(), "CONFLICT".to_owned())]
    );
    let tags = app
        .graphql_ok("{ tags { totalCount } }", json!({}), owner.token())
        .await;
    assert_eq!(tags["tags"]["totalCount"], 1);

    // Signed out, `me` fails: data is null, as before.
    let response = app.graphql("{ me { id } }", json!({}), None).await;
    assert_eq!(response["data"], Value::Null, "{response}");
}
