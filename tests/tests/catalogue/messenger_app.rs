//! Connecting the tenant's Meta app, its webhook URL and key rotation.

use refhub_tests::{data, spawn_app, str_at};
use serde_json::{Value, json};

use crate::support::{Checks, owner, without_timestamps};

const APP_FIELDS: &str = "{ id appId webhookUrl createdAt updatedAt }";
const WEBHOOK_PREFIX: &str = "http://refhub.test/webhooks/messenger/";

fn connect_input(app_id: &str) -> Value {
    json!({
        "appId": app_id,
        "appSecret": "0123456789abcdef0123456789abcdef",
        "verifyToken": "my-verify-token-42",
    })
}

/// The key at the end of a webhook URL, checked to look unguessable: at least 128 bits'
/// worth of URL-safe characters.
#[track_caller]
fn webhook_key(url: &str) -> String {
    let key = url
        .strip_prefix(WEBHOOK_PREFIX)
        .unwrap_or_else(|| panic!("webhook URL {url} does not start with {WEBHOOK_PREFIX}"));
    assert!(
        key.len() >= 22,
        "the webhook key {key:?} is too short to be unguessable"
    );
    assert!(
        key.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "the webhook key {key:?} is not URL-safe"
    );
    key.to_owned()
}

#[tokio::test]
async fn connecting_the_app_gives_a_webhook_url_with_an_unguessable_key() {
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();

    let before = app
        .graphql_ok("{ messengerApp { id } }", json!({}), token)
        .await;
    assert!(before["messengerApp"].is_null(), "{before:#}");

    let response = app
        .mutate(
            "connectMessengerApp",
            connect_input("1234567890"),
            APP_FIELDS,
            token,
        )
        .await;
    let connection = &data(&response)["connectMessengerApp"];
    assert_eq!(connection["appId"], "1234567890");
    let key = webhook_key(&str_at(connection, "/webhookUrl"));
    assert!(
        !key.contains(acme.tenant()),
        "the key must not reveal the tenant"
    );

    let read = app
        .graphql_ok(
            &format!("{{ messengerApp {APP_FIELDS} }}"),
            json!({}),
            token,
        )
        .await;
    assert_eq!(
        without_timestamps(&read["messengerApp"]),
        without_timestamps(connection)
    );

    // Another tenant gets a key of its own.
    let globex = owner(&app, "owner@globex.test", "Globex").await;
    let other = app
        .mutate(
            "connectMessengerApp",
            connect_input("1234567890"),
            APP_FIELDS,
            globex.token(),
        )
        .await;
    let other_key = webhook_key(&str_at(&data(&other)["connectMessengerApp"], "/webhookUrl"));
    assert_ne!(key, other_key);
}

#[tokio::test]
async fn rotating_the_key_changes_the_url_and_reconnecting_keeps_it() {
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    let first = app
        .mutate(
            "connectMessengerApp",
            connect_input("1234567890"),
            APP_FIELDS,
            token,
        )
        .await;
    let first_url = str_at(&data(&first)["connectMessengerApp"], "/webhookUrl");

    let rotated = app
        .mutate("rotateWebhookKey", json!({}), APP_FIELDS, token)
        .await;
    let rotated_url = str_at(&data(&rotated)["rotateWebhookKey"], "/webhookUrl");
    webhook_key(&rotated_url);
    assert_ne!(rotated_url, first_url, "rotation must change the key");

    let read = app
        .graphql_ok("{ messengerApp { webhookUrl } }", json!({}), token)
        .await;
    assert_eq!(read["messengerApp"]["webhookUrl"], rotated_url.as_str());

    // Replacing the credentials keeps the URL the tenant has entered in Meta's dashboard.
    let replaced = app
        .mutate(
            "connectMessengerApp",
            connect_input("9876543210"),
            APP_FIELDS,
            token,
        )
        .await;
    let replaced = &data(&replaced)["connectMessengerApp"];
    assert_eq!(replaced["appId"], "9876543210");
    assert_eq!(replaced["webhookUrl"], rotated_url.as_str());
}

#[tokio::test]
async fn disconnecting_the_app_removes_it() {
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    app.mutate(
        "connectMessengerApp",
        connect_input("1234567890"),
        "{ id }",
        token,
    )
    .await;

    let response = app
        .mutate("disconnectMessengerApp", json!({}), "", token)
        .await;
    assert_eq!(data(&response)["disconnectMessengerApp"], true);

    let read = app
        .graphql_ok("{ messengerApp { id } }", json!({}), token)
        .await;
    assert!(read["messengerApp"].is_null(), "{read:#}");
}

#[tokio::test]
async fn malformed_app_credentials_name_their_field_and_change_nothing() {
    let mut checks = Checks::default();
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    let connected = app
        .mutate(
            "connectMessengerApp",
            connect_input("1234567890"),
            APP_FIELDS,
            token,
        )
        .await;
    let connected = data(&connected)["connectMessengerApp"].clone();

    let cases = [
        ("appId", json!(""), "appId"),
        ("appId", json!("   "), "appId"),
        ("appId", json!("12a"), "appId"),
        ("appId", json!("my app"), "appId"),
        ("appSecret", json!(""), "appSecret"),
        ("appSecret", json!("   "), "appSecret"),
        ("verifyToken", json!(""), "verifyToken"),
        ("verifyToken", json!("   "), "verifyToken"),
    ];
    for (key, value, field) in cases {
        let mut input = connect_input("5555555555");
        input[key] = value.clone();
        let response = app
            .mutate("connectMessengerApp", input, APP_FIELDS, token)
            .await;
        checks.error(
            &format!("{key} = {value}"),
            &response,
            "VALIDATION",
            Some(field),
        );
    }

    let read = app
        .graphql_ok(
            &format!("{{ messengerApp {APP_FIELDS} }}"),
            json!({}),
            token,
        )
        .await;
    assert_eq!(
        without_timestamps(&read["messengerApp"]),
        without_timestamps(&connected),
        "a failed connect changed the app"
    );
    checks.verify();
}
