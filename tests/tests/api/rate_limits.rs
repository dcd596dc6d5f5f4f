use refhub_tests::{PASSWORD, assert_error, data, spawn_app_with};

#[tokio::test]
async fn sign_in_attempts_from_one_address_are_limited() {
    let app = spawn_app_with(|config| config.sign_in_per_minute = 3).await;

    // Sign-up counts as an attempt too.
    app.sign_up("alice@example.com", "Acme").await;
    for _ in 0..2 {
        let refused = app
            .log_in_raw("alice@example.com", "wrong-Horse-battery-0", None)
            .await;
        assert_error(&refused, "UNAUTHENTICATED");
    }

    let limited = app.log_in_raw("alice@example.com", PASSWORD, None).await;
    assert_error(&limited, "RATE_LIMITED");
    let retry_after = limited["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .expect("retryAfter in seconds");
    assert!((1..=60).contains(&retry_after), "retryAfter {retry_after}");
}

#[tokio::test]
async fn probing_sign_up_for_taken_addresses_is_limited() {
    let app = spawn_app_with(|config| config.sign_in_per_minute = 3).await;
    app.sign_up("alice@example.com", "Acme").await;
    let sign_up = || {
        app.mutate(
            "signUp",
            serde_json::json!({
                "email": "alice@example.com", "password": PASSWORD, "tenantName": "Probe",
            }),
            "{ accessToken }",
            None,
        )
    };

    // A taken address answers CONFLICT (the documented trade-off), within the sign-in limit.
    for _ in 0..2 {
        assert_error(&sign_up().await, "CONFLICT");
    }
    let limited = sign_up().await;
    assert_error(&limited, "RATE_LIMITED");
}

#[tokio::test]
async fn the_limit_leaves_other_operations_alone() {
    let app = spawn_app_with(|config| config.sign_in_per_minute = 1).await;
    let alice = app.sign_up("alice@example.com", "Acme").await;

    let limited = app.log_in_raw("alice@example.com", PASSWORD, None).await;
    assert_error(&limited, "RATE_LIMITED");

    let me = app.me(Some(&alice.access_token)).await;
    assert_eq!(data(&me)["me"]["email"], "alice@example.com");
}
