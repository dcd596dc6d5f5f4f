//! Access tokens: the claims the API issues, and every forgery it must refuse.

use refhub_api::config::TEST_JWT_SECRET;
use refhub_tests::jwt::{self, now};
use refhub_tests::{Session, TestApp, assert_error, data, random_id, spawn_app, str_at};
use serde_json::{Value, json};

async fn signed_up(app: &TestApp) -> (Session, Value) {
    let alice = app.sign_up("alice@example.com", "Acme").await;
    let claims = jwt::decode(&alice.access_token).claims;
    (alice, claims)
}

async fn assert_unauthenticated(app: &TestApp, token: &str, what: &str) {
    let response = app.me(Some(token)).await;
    assert_eq!(
        refhub_tests::error_code(&response).as_deref(),
        Some("UNAUTHENTICATED"),
        "{what}: a forged token was not refused: {response:#}"
    );
    assert!(response["data"].is_null() || response["data"]["me"].is_null());
}

#[tokio::test]
async fn access_tokens_carry_the_documented_claims() {
    let app = spawn_app().await;
    let (alice, claims) = signed_up(&app).await;

    let token = jwt::decode(&alice.access_token);
    assert_eq!(token.header["alg"], "HS256");
    assert_eq!(claims["iss"], "refhub");
    let audience_ok = claims["aud"] == "refhub-api"
        || claims["aud"]
            .as_array()
            .is_some_and(|a| a.contains(&json!("refhub-api")));
    assert!(audience_ok, "aud: {}", claims["aud"]);
    assert_eq!(claims["sub"], alice.user_id.as_str());
    assert_eq!(claims["tid"], alice.tenant());
    assert!(claims["sid"].is_string(), "sid: {claims:#}");
    let iat = claims["iat"].as_i64().expect("iat");
    let exp = claims["exp"].as_i64().expect("exp");
    assert!((now() - 300..=now() + 5).contains(&iat), "iat: {iat}");
    assert!(exp > now(), "already expired: {exp}");
    assert!(
        exp - iat <= 15 * 60,
        "lives longer than 15 minutes: {}s",
        exp - iat
    );
}

#[tokio::test]
async fn a_token_forged_with_the_real_key_is_accepted() {
    // The control for the tests below: the hand-made tokens differ from a valid one only in
    // what each of them breaks.
    let app = spawn_app().await;
    let (alice, claims) = signed_up(&app).await;

    let token = jwt::sign_hs256(&claims, TEST_JWT_SECRET.as_bytes());

    let response = app.me(Some(&token)).await;
    assert_eq!(str_at(data(&response), "/me/id"), alice.user_id);
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let app = spawn_app().await;
    let (_, mut claims) = signed_up(&app).await;
    claims["iat"] = json!(now() - 2 * 3600);
    claims["exp"] = json!(now() - 3600);

    let token = jwt::sign_hs256(&claims, TEST_JWT_SECRET.as_bytes());

    assert_unauthenticated(&app, &token, "expired").await;
}

#[tokio::test]
async fn a_token_with_a_tampered_payload_is_refused() {
    let app = spawn_app().await;
    let (alice, claims) = signed_up(&app).await;
    let bob = app.sign_up("bob@example.com", "Bob's").await;

    let mut as_bob = claims.clone();
    as_bob["sub"] = json!(bob.user_id);
    let mut other_tenant = claims.clone();
    other_tenant["tid"] = json!(random_id());
    let mut longer = claims;
    longer["exp"] = json!(now() + 24 * 3600);

    for (what, claims) in [("sub", as_bob), ("tid", other_tenant), ("exp", longer)] {
        let token = jwt::with_claims_keeping_signature(&alice.access_token, &claims);
        assert_unauthenticated(&app, &token, what).await;
    }
}

#[tokio::test]
async fn an_unsigned_token_is_refused() {
    let app = spawn_app().await;
    let (alice, claims) = signed_up(&app).await;

    assert_unauthenticated(&app, &jwt::unsigned(&claims), "alg none").await;
    // The same with the original signature left on.
    let with_signature = format!(
        "{}.{}",
        jwt::signing_input(&json!({"alg": "none", "typ": "JWT"}), &claims),
        jwt::decode(&alice.access_token).signature
    );
    assert_unauthenticated(&app, &with_signature, "alg none with a signature").await;
}

#[tokio::test]
async fn a_token_signed_with_another_key_is_refused() {
    let app = spawn_app().await;
    let (_, claims) = signed_up(&app).await;

    let token = jwt::sign_hs256(&claims, b"another-secret-that-is-long-enough-for-hs256!!");

    assert_unauthenticated(&app, &token, "wrong key").await;
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused() {
    let app = spawn_app().await;
    let (_, mut claims) = signed_up(&app).await;
    claims["aud"] = json!("some-other-api");

    let token = jwt::sign_hs256(&claims, TEST_JWT_SECRET.as_bytes());

    assert_unauthenticated(&app, &token, "wrong audience").await;
}

#[tokio::test]
async fn a_token_from_another_issuer_is_refused() {
    let app = spawn_app().await;
    let (_, mut claims) = signed_up(&app).await;
    claims["iss"] = json!("someone-else");

    let token = jwt::sign_hs256(&claims, TEST_JWT_SECRET.as_bytes());

    assert_unauthenticated(&app, &token, "wrong issuer").await;
}

#[tokio::test]
async fn a_token_missing_a_required_claim_is_refused() {
    let app = spawn_app().await;
    let (_, claims) = signed_up(&app).await;

    for claim in ["aud", "iss", "exp"] {
        let mut without = claims.clone();
        without.as_object_mut().unwrap().remove(claim);
        let token = jwt::sign_hs256(&without, TEST_JWT_SECRET.as_bytes());
        assert_unauthenticated(&app, &token, &format!("without {claim}")).await;
    }
}

#[tokio::test]
async fn garbage_bearer_values_are_refused() {
    let app = spawn_app().await;
    signed_up(&app).await;

    for token in [
        "garbage",
        "a.b.c",
        "eyJhbGciOiJIUzI1NiJ9..",
        "rh_not_a_real_api_key",
    ] {
        assert_unauthenticated(&app, token, token).await;
    }
}

#[tokio::test]
async fn me_without_a_token_is_unauthenticated() {
    let app = spawn_app().await;

    assert_error(&app.me(None).await, "UNAUTHENTICATED");
}
