//! Races the database must settle: uniqueness and refresh-token rotation under concurrent
//! requests.

use futures::future::join_all;
use refhub_tests::{PASSWORD, assert_error, error_code, spawn_app};
use serde_json::json;

#[tokio::test]
async fn concurrent_sign_ups_with_one_email_create_one_account() {
    let app = spawn_app().await;

    let responses = join_all((0..6).map(|n| {
        app.mutate(
            "signUp",
            json!({ "email": "race@example.com", "password": PASSWORD, "tenantName": format!("Race {n}") }),
            "{ user { id } }",
            None,
        )
    }))
    .await;

    let succeeded = responses
        .iter()
        .filter(|r| r.get("errors").is_none())
        .count();
    assert_eq!(succeeded, 1, "{responses:#?}");
    for response in responses.iter().filter(|r| r.get("errors").is_some()) {
        assert_error(response, "CONFLICT");
    }
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_let_at_most_one_through() {
    let app = spawn_app().await;
    let alice = app.sign_up("alice@example.com", "Acme").await;

    let responses = join_all((0..6).map(|_| app.refresh(&alice.refresh_token))).await;

    let winners: Vec<_> = responses
        .iter()
        .filter(|r| r.get("errors").is_none())
        .collect();
    assert!(
        winners.len() <= 1,
        "one refresh token was rotated twice: {winners:#?}"
    );
    for response in responses.iter().filter(|r| r.get("errors").is_some()) {
        assert_eq!(
            error_code(response).as_deref(),
            Some("UNAUTHENTICATED"),
            "{response:#}"
        );
    }
    // The losers presented a used token: the family is gone, the winner's token included.
    if let Some(winner) = winners.first() {
        let next = refhub_tests::str_at(winner, "/data/refreshToken/refreshToken");
        assert_error(&app.refresh(&next).await, "UNAUTHENTICATED");
    }
}
