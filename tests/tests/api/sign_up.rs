use refhub_tests::{
    AUTH_PAYLOAD_FIELDS, PASSWORD, assert_error, assert_validation, data, spawn_app, str_at,
};
use serde_json::{Value, json};

fn payload_fields() -> String {
    format!("{{ {AUTH_PAYLOAD_FIELDS} }}")
}

async fn sign_up_with(
    app: &refhub_tests::TestApp,
    email: &str,
    password: &str,
    tenant: &str,
) -> Value {
    app.mutate(
        "signUp",
        json!({ "email": email, "password": password, "tenantName": tenant }),
        &payload_fields(),
        None,
    )
    .await
}

#[tokio::test]
async fn sign_up_creates_a_user_owning_a_new_active_tenant() {
    let app = spawn_app().await;

    let response = sign_up_with(&app, "alice@example.com", PASSWORD, "Acme Agency").await;

    let payload = &data(&response)["signUp"];
    assert_eq!(payload["user"]["email"], "alice@example.com");
    assert_eq!(payload["tenant"]["name"], "Acme Agency");
    assert_eq!(payload["tenant"]["status"], "ACTIVE");
    assert!(!str_at(payload, "/tenant/slug").is_empty(), "{payload:#}");
    assert_eq!(payload["role"], "OWNER");
    let expires_in = payload["expiresIn"].as_i64().expect("expiresIn");
    assert!((1..=900).contains(&expires_in), "expiresIn = {expires_in}");
    assert_ne!(payload["accessToken"], payload["refreshToken"]);

    // The access token works straight away.
    let me = app.me(Some(&str_at(payload, "/accessToken"))).await;
    let me = &data(&me)["me"];
    assert_eq!(me["id"], payload["user"]["id"]);
    assert_eq!(me["email"], "alice@example.com");
    assert_eq!(me["tenant"]["id"], payload["tenant"]["id"]);
    assert_eq!(me["role"], "OWNER");
    assert_eq!(me["isOperator"], false);
}

#[tokio::test]
async fn the_new_user_can_log_in_with_the_password() {
    let app = spawn_app().await;
    let signed_up = app.sign_up("alice@example.com", "Acme").await;

    let logged_in = app.log_in("alice@example.com", None).await;

    assert_eq!(logged_in.user_id, signed_up.user_id);
    assert_eq!(logged_in.tenant_id, signed_up.tenant_id);
}

#[tokio::test]
async fn a_duplicate_email_is_a_conflict() {
    let app = spawn_app().await;
    app.sign_up("alice@example.com", "Acme").await;

    let response = sign_up_with(&app, "alice@example.com", PASSWORD, "Another").await;

    assert_error(&response, "CONFLICT");
}

#[tokio::test]
async fn a_malformed_email_is_rejected_on_field_email() {
    let app = spawn_app().await;

    for email in ["not-an-email", "", "alice@", "@example.com"] {
        let response = sign_up_with(&app, email, PASSWORD, "Acme").await;
        assert_validation(&response, "email");
    }
}

#[tokio::test]
async fn a_weak_or_short_password_is_rejected_on_field_password() {
    let app = spawn_app().await;

    for password in ["password123", "short", "aaaaaaaaaaaa"] {
        let response = sign_up_with(&app, "alice@example.com", password, "Acme").await;
        assert_validation(&response, "password");
    }
    // Nothing was created by the failed attempts.
    let response = app
        .log_in_raw("alice@example.com", "password123", None)
        .await;
    assert_error(&response, "UNAUTHENTICATED");
}

#[tokio::test]
async fn an_empty_tenant_name_is_rejected_on_field_tenant_name() {
    let app = spawn_app().await;

    for name in ["", "   "] {
        let response = sign_up_with(&app, "alice@example.com", PASSWORD, name).await;
        assert_validation(&response, "tenantName");
    }
}
