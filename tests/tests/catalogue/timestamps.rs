//! A timestamp a mutation answers is the one every later read answers: clients compare
//! `updatedAt` to notice changes, so the same instant must not come back in two spellings.

use refhub_tests::{data, spawn_app_on_graph, str_at};
use serde_json::{Value, json};

use crate::support::{accepting_graph_api, owner};

#[tokio::test]
async fn timestamps_read_back_exactly_as_the_mutation_answered_them() {
    let graph = accepting_graph_api().await;
    let app = spawn_app_on_graph(&graph, |_| {}).await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    app.meta
        .add_page("104857600123", "Shop", None, "EAAGpagetoken0123456789");
    let mut written: Vec<(&str, Value)> = Vec::new();
    let mut mutate = async |name: &'static str, input: Value, selection: &str| {
        let response = app.mutate(name, input, selection, token).await;
        let answer = data(&response)[name].clone();
        written.push((name, answer.clone()));
        answer
    };

    mutate(
        "connectMessengerApp",
        json!({ "appId": "1234567890", "appSecret": "app-secret-0123456789", "verifyToken": "verify" }),
        "{ createdAt updatedAt }",
    )
    .await;
    let page = mutate(
        "connectPage",
        json!({ "facebookPageId": "104857600123", "accessToken": "EAAGpagetoken0123456789" }),
        "{ id createdAt updatedAt }",
    )
    .await;
    let page = str_at(&page, "/id");
    let field = mutate(
        "createCustomField",
        json!({ "name": "coupon", "type": "TEXT" }),
        "{ id createdAt updatedAt }",
    )
    .await;
    let field = str_at(&field, "/id");
    mutate(
        "updateCustomField",
        json!({ "id": field, "archived": true }),
        "{ createdAt updatedAt archivedAt }",
    )
    .await;
    let tag = mutate("createTag", json!({ "name": "VIP" }), "{ id createdAt }").await;
    let tag = str_at(&tag, "/id");
    let link = mutate(
        "createRefLink",
        json!({ "pageId": page, "ref": "summer" }),
        "{ id createdAt updatedAt }",
    )
    .await;
    let link = str_at(&link, "/id");
    let topic = mutate(
        "createNotificationTopic",
        json!({ "pageId": page, "title": "Deals" }),
        "{ id }",
    )
    .await;
    let topic = str_at(&topic, "/id");
    mutate(
        "registerNotificationTopic",
        json!({ "topicId": topic, "psid": "24681357" }),
        "{ createdAt updatedAt registration { attemptedAt } }",
    )
    .await;

    let read = app
        .graphql_ok(
            "query($page: ID!, $field: ID!, $tag: ID!, $link: ID!, $topic: ID!) { \
               messengerApp { createdAt updatedAt } \
               page(id: $page) { id createdAt updatedAt } \
               customField(id: $field) { createdAt updatedAt archivedAt } \
               tag(id: $tag) { id createdAt } \
               refLink(id: $link) { id createdAt updatedAt } \
               notificationTopic(id: $topic) { createdAt updatedAt registration { attemptedAt } } }",
            json!({ "page": page, "field": field, "tag": tag, "link": link, "topic": topic }),
            token,
        )
        .await;
    let reads = [
        ("connectMessengerApp", "messengerApp"),
        ("connectPage", "page"),
        ("updateCustomField", "customField"),
        ("createTag", "tag"),
        ("createRefLink", "refLink"),
        ("registerNotificationTopic", "notificationTopic"),
    ];
    let mismatches: Vec<String> = reads
        .iter()
        .filter_map(|(mutation, query)| {
            let answered = &written.iter().find(|(name, _)| name == mutation).unwrap().1;
            (read[query] != *answered).then(|| {
                format!(
                    "{mutation} answered {answered}, {query} reads {}",
                    read[query]
                )
            })
        })
        .collect();
    assert!(
        mismatches.is_empty(),
        "timestamps read back differently:\n{}",
        mismatches.join("\n")
    );
}
