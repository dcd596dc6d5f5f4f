//! Who may change the catalogue: viewers read only, editors manage pages, fields, tags, links
//! and topics, and only owners and admins touch the Meta app connection.

use refhub_tests::{TestApp, assert_error, data, error_code, spawn_app, spawn_app_on_graph};
use serde_json::{Value, json};

use crate::support::{
    APP_MUTATIONS, Catalogue, accepting_graph_api, every_mutation, owner, seed, snapshot,
};

/// Runs [`every_mutation`] with `token`; returns `(name, response)`.
async fn run_every_mutation(
    app: &TestApp,
    ids: &Catalogue,
    token: &str,
) -> Vec<(&'static str, Value)> {
    let mut answers = Vec::new();
    for (name, input, selection) in every_mutation(ids) {
        answers.push((name, app.mutate(name, input, selection, Some(token)).await));
    }
    answers
}

/// Every catalogue query, reading `ids`.
async fn read_everything(app: &TestApp, ids: &Catalogue, token: Option<&str>) -> Value {
    app.graphql(
        "query($page: ID!, $field: ID!, $tag: ID!, $link: ID!, $topic: ID!) { \
           messengerApp { id webhookUrl } \
           pages { totalCount } page(id: $page) { id mmeUrl } \
           customFields { totalCount } customField(id: $field) { id number } \
           tags { totalCount } tag(id: $tag) { id } \
           refLinks(pageId: $page) { totalCount } \
           refLink(id: $link) { id url qrCodeSvg payloadUrl(defaultValue: \"X1\") } \
           notificationTopics { totalCount } \
           notificationTopic(id: $topic) { id rnUrl registration { status } } }",
        json!({
            "page": ids.page, "field": ids.field, "tag": ids.tag,
            "link": ids.link, "topic": ids.topic,
        }),
        token,
    )
    .await
}

#[tokio::test]
async fn viewers_read_everything_and_change_nothing() {
    let graph = accepting_graph_api().await;
    let app = spawn_app_on_graph(&graph, |_| {}).await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let ids = seed(&app, &acme.access_token).await;
    let viewer = app.member_of(&acme, "viewer@acme.test", "VIEWER").await;
    let (_, viewer_key) = app
        .create_api_key(&acme.access_token, "read only", "VIEWER")
        .await;
    let before = snapshot(&app, &acme.access_token).await;

    for token in [&viewer.access_token, &viewer_key] {
        let read = read_everything(&app, &ids, Some(token)).await;
        let read = data(&read);
        assert_eq!(read["refLink"]["url"], "https://m.me/acme?ref=summer");
        assert_eq!(
            read["refLink"]["payloadUrl"],
            "https://m.me/acme?ref=summer--X1"
        );

        for (name, response) in run_every_mutation(&app, &ids, token).await {
            assert_eq!(
                error_code(&response).as_deref(),
                Some("FORBIDDEN"),
                "a viewer ran {name}: {response:#}"
            );
        }
    }

    assert_eq!(snapshot(&app, &acme.access_token).await, before);
    assert!(
        crate::support::send_api_calls(&graph).await.is_empty(),
        "a viewer's registration reached the Graph API"
    );
}

#[tokio::test]
async fn editors_manage_the_catalogue_but_not_the_meta_app() {
    for through_api_key in [false, true] {
        let graph = accepting_graph_api().await;
        let app = spawn_app_on_graph(&graph, |_| {}).await;
        let acme = owner(&app, "owner@acme.test", "Acme").await;
        let ids = seed(&app, &acme.access_token).await;
        let editor = if through_api_key {
            app.create_api_key(&acme.access_token, "automation", "EDITOR")
                .await
                .1
        } else {
            app.member_of(&acme, "editor@acme.test", "EDITOR")
                .await
                .access_token
        };
        let meta_app = "{ messengerApp { appId webhookUrl updatedAt } }";
        let app_before = app
            .graphql_ok(meta_app, json!({}), Some(&acme.access_token))
            .await;

        for (name, response) in run_every_mutation(&app, &ids, &editor).await {
            if APP_MUTATIONS.contains(&name) {
                assert_eq!(
                    error_code(&response).as_deref(),
                    Some("FORBIDDEN"),
                    "an editor (API key: {through_api_key}) ran {name}: {response:#}"
                );
            } else {
                assert!(
                    response.get("errors").is_none(),
                    "an editor (API key: {through_api_key}) could not run {name}: {response:#}"
                );
            }
        }

        let app_after = app
            .graphql_ok(meta_app, json!({}), Some(&acme.access_token))
            .await;
        assert_eq!(app_after, app_before, "an editor changed the Meta app");
        assert_eq!(
            crate::support::send_api_calls(&graph).await.len(),
            1,
            "the editor's registration reaches the Graph API once"
        );
    }
}

#[tokio::test]
async fn owners_and_admins_connect_the_app_and_rotate_its_key() {
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let admin = app.member_of(&acme, "admin@acme.test", "ADMIN").await;

    for token in [&acme.access_token, &admin.access_token] {
        let connected = app
            .mutate(
                "connectMessengerApp",
                json!({ "appId": "1234567890", "appSecret": "app-secret-0123456789", "verifyToken": "verify-me" }),
                "{ webhookUrl }",
                Some(token),
            )
            .await;
        let before = data(&connected)["connectMessengerApp"]["webhookUrl"].clone();
        let rotated = app
            .mutate("rotateWebhookKey", json!({}), "{ webhookUrl }", Some(token))
            .await;
        assert_ne!(data(&rotated)["rotateWebhookKey"]["webhookUrl"], before);
        let disconnected = app
            .mutate("disconnectMessengerApp", json!({}), "", Some(token))
            .await;
        assert_eq!(data(&disconnected)["disconnectMessengerApp"], true);
    }
}

#[tokio::test]
async fn nothing_is_read_or_changed_without_a_credential() {
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let ids = seed(&app, &acme.access_token).await;
    let before = snapshot(&app, &acme.access_token).await;

    assert_error(&read_everything(&app, &ids, None).await, "UNAUTHENTICATED");
    assert_error(
        &read_everything(&app, &ids, Some("not-a-real-token")).await,
        "UNAUTHENTICATED",
    );
    for (name, input, selection) in every_mutation(&ids) {
        let response = app.mutate(name, input, selection, None).await;
        assert_eq!(
            error_code(&response).as_deref(),
            Some("UNAUTHENTICATED"),
            "{name} without a credential: {response:#}"
        );
    }
    assert_eq!(snapshot(&app, &acme.access_token).await, before);
}
