//! Errors carry stable codes and never leak database internals.

use refhub_tests::{
    PASSWORD, assert_error, assert_no_database_text, assert_validation, error_code, spawn_app,
};
use serde_json::json;

#[tokio::test]
async fn failures_near_the_database_do_not_leak_its_text() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.com", "Acme").await;
    let member = app.member_of(&owner, "member@example.com", "VIEWER").await;
    let token = &owner.access_token;

    // A unique constraint, hit through sign-up and through membership.
    let duplicate_user = app
        .mutate(
            "signUp",
            json!({ "email": "owner@example.com", "password": PASSWORD, "tenantName": "Again" }),
            "{ accessToken }",
            None,
        )
        .await;
    assert_error(&duplicate_user, "CONFLICT");
    let duplicate_member = app.add_member(token, "member@example.com", "EDITOR").await;
    assert_no_database_text(&duplicate_member);
    let code = error_code(&duplicate_member);
    assert!(
        code.is_some() && code.as_deref() != Some("INTERNAL"),
        "adding a member twice must be a client error: {duplicate_member:#}"
    );
    assert_eq!(
        app.role_of(token, &member.user_id).await.as_deref(),
        Some("VIEWER")
    );

    // Ids that are not UUIDs never reach the database as such.
    for id in ["not-a-uuid", "'; DROP TABLE users; --", ""] {
        let response = app.update_member_role(token, id, "EDITOR").await;
        assert_no_database_text(&response);
        let code = error_code(&response);
        assert!(
            matches!(code.as_deref(), Some("VALIDATION" | "NOT_FOUND")),
            "id {id:?}: {response:#}"
        );
    }

    // A malformed address (one nobody signed up with is invited like any other: see
    // `invitations.rs`).
    let malformed = app.invite_member(token, "ghost@", "VIEWER").await;
    assert_validation(&malformed, "email");

    // Overlong input.
    let long_name = "x".repeat(10_000);
    let response = app.create_api_key_raw(token, &long_name, "VIEWER").await;
    assert_no_database_text(&response);
    assert_ne!(
        error_code(&response).as_deref(),
        Some("INTERNAL"),
        "{response:#}"
    );
}

#[tokio::test]
async fn a_query_the_schema_does_not_know_is_a_clear_error() {
    let app = spawn_app().await;

    let response = app.graphql("{ noSuchField }", json!({}), None).await;

    assert!(response["errors"][0]["message"].is_string(), "{response:#}");
    assert_no_database_text(&response);
}
