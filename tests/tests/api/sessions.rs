//! Refresh-token rotation and log-out.

use refhub_tests::{Session, TestApp, assert_error, data, spawn_app, str_at};
use serde_json::json;

async fn refreshed(app: &TestApp, refresh_token: &str) -> Session {
    let response = app.refresh(refresh_token).await;
    Session::from_payload(&data(&response)["refreshToken"])
}

async fn log_out(app: &TestApp, token: &str, input: Option<serde_json::Value>) -> i64 {
    let response = match input {
        Some(input) => {
            app.mutate("logOut", input, "{ revokedSessions }", Some(token))
                .await
        }
        None => {
            app.graphql(
                "mutation { logOut { revokedSessions } }",
                json!({}),
                Some(token),
            )
            .await
        }
    };
    data(&response)["logOut"]["revokedSessions"]
        .as_i64()
        .unwrap_or_else(|| panic!("no revokedSessions: {response:#}"))
}

#[tokio::test]
async fn refresh_returns_new_working_tokens() {
    let app = spawn_app().await;
    let alice = app.sign_up("alice@example.com", "Acme").await;

    let next = refreshed(&app, &alice.refresh_token).await;

    assert_ne!(next.refresh_token, alice.refresh_token);
    assert_eq!(next.user_id, alice.user_id);
    assert_eq!(next.tenant_id, alice.tenant_id);
    let me = app.me(next.token()).await;
    assert_eq!(str_at(data(&me), "/me/id"), alice.user_id);
    // The rotated token is good for one more round.
    refreshed(&app, &next.refresh_token).await;
}

#[tokio::test]
async fn a_garbage_refresh_token_is_unauthenticated() {
    let app = spawn_app().await;
    app.sign_up("alice@example.com", "Acme").await;

    assert_error(&app.refresh("not-a-refresh-token").await, "UNAUTHENTICATED");
    assert_error(&app.refresh("").await, "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_reused_refresh_token_revokes_its_whole_family() {
    let app = spawn_app().await;
    let alice = app.sign_up("alice@example.com", "Acme").await;
    let other_device = app.log_in("alice@example.com", None).await;
    let rotated = refreshed(&app, &alice.refresh_token).await;

    let reuse = app.refresh(&alice.refresh_token).await;

    assert_error(&reuse, "UNAUTHENTICATED");
    // The newest token of the family was revoked with it...
    assert_error(
        &app.refresh(&rotated.refresh_token).await,
        "UNAUTHENTICATED",
    );
    // ...but another session of the same user lives on.
    refreshed(&app, &other_device.refresh_token).await;
}

#[tokio::test]
async fn log_out_without_input_revokes_the_current_session_only() {
    let app = spawn_app().await;
    let alice = app.sign_up("alice@example.com", "Acme").await;
    let other_device = app.log_in("alice@example.com", None).await;

    let revoked = log_out(&app, &alice.access_token, None).await;

    assert_eq!(revoked, 1);
    assert_error(&app.refresh(&alice.refresh_token).await, "UNAUTHENTICATED");
    refreshed(&app, &other_device.refresh_token).await;
}

#[tokio::test]
async fn log_out_with_a_refresh_token_revokes_that_session() {
    let app = spawn_app().await;
    let alice = app.sign_up("alice@example.com", "Acme").await;
    let other_device = app.log_in("alice@example.com", None).await;

    let revoked = log_out(
        &app,
        &alice.access_token,
        Some(json!({ "refreshToken": other_device.refresh_token })),
    )
    .await;

    assert_eq!(revoked, 1);
    assert_error(
        &app.refresh(&other_device.refresh_token).await,
        "UNAUTHENTICATED",
    );
    refreshed(&app, &alice.refresh_token).await;
}

#[tokio::test]
async fn log_out_everywhere_revokes_every_session_of_the_user() {
    let app = spawn_app().await;
    let alice = app.sign_up("alice@example.com", "Acme").await;
    let second = app.log_in("alice@example.com", None).await;
    let third = app.log_in("alice@example.com", None).await;
    let bob = app.sign_up("bob@example.com", "Bob's").await;

    let revoked = log_out(
        &app,
        &alice.access_token,
        Some(json!({ "everywhere": true })),
    )
    .await;

    assert_eq!(revoked, 3);
    for session in [&alice, &second, &third] {
        assert_error(
            &app.refresh(&session.refresh_token).await,
            "UNAUTHENTICATED",
        );
    }
    // Another user's session is untouched.
    refreshed(&app, &bob.refresh_token).await;
}

#[tokio::test]
async fn an_access_token_dies_with_its_session() {
    let app = spawn_app().await;
    let alice = app.sign_up("alice@example.com", "Acme").await;
    let other_device = app.log_in("alice@example.com", None).await;

    log_out(&app, &alice.access_token, None).await;

    assert_error(&app.me(alice.token()).await, "UNAUTHENTICATED");
    data(&app.me(other_device.token()).await);
}

#[tokio::test]
async fn a_reused_refresh_token_also_ends_the_familys_access_token() {
    let app = spawn_app().await;
    let alice = app.sign_up("alice@example.com", "Acme").await;
    let rotated = refreshed(&app, &alice.refresh_token).await;
    data(&app.me(rotated.token()).await);

    assert_error(&app.refresh(&alice.refresh_token).await, "UNAUTHENTICATED");

    assert_error(&app.me(rotated.token()).await, "UNAUTHENTICATED");
}
