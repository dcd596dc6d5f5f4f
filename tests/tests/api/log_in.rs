use refhub_tests::{PASSWORD, assert_error, data, error_message, random_id, spawn_app, str_at};

#[tokio::test]
async fn log_in_with_the_right_password_returns_working_tokens() {
    let app = spawn_app().await;
    let alice = app.sign_up("alice@example.com", "Acme").await;

    let response = app.log_in_raw("alice@example.com", PASSWORD, None).await;

    let payload = &data(&response)["logIn"];
    assert_eq!(str_at(payload, "/user/id"), alice.user_id);
    let me = app.me(Some(&str_at(payload, "/accessToken"))).await;
    assert_eq!(str_at(data(&me), "/me/id"), alice.user_id);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_fail_alike() {
    let app = spawn_app().await;
    app.sign_up("alice@example.com", "Acme").await;

    let wrong_password = app
        .log_in_raw("alice@example.com", "correct-Horse-battery-8", None)
        .await;
    let unknown_email = app.log_in_raw("nobody@example.com", PASSWORD, None).await;

    assert_error(&wrong_password, "UNAUTHENTICATED");
    assert_error(&unknown_email, "UNAUTHENTICATED");
    assert_eq!(
        error_message(&wrong_password),
        error_message(&unknown_email),
        "the messages must not tell which of email and password was wrong"
    );
}

#[tokio::test]
async fn log_in_chooses_the_requested_tenant() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.com", "Agency").await;
    let bob = app.sign_up("bob@example.com", "Bob's shop").await;
    data(
        &app.add_member(&owner.access_token, "bob@example.com", "VIEWER")
            .await,
    );

    let into_agency = app
        .log_in_raw("bob@example.com", PASSWORD, owner.tenant_id.as_deref())
        .await;
    let into_own = app
        .log_in_raw("bob@example.com", PASSWORD, bob.tenant_id.as_deref())
        .await;

    let into_agency = &data(&into_agency)["logIn"];
    assert_eq!(str_at(into_agency, "/tenant/id"), owner.tenant());
    assert_eq!(into_agency["role"], "VIEWER");
    let me = app.me(Some(&str_at(into_agency, "/accessToken"))).await;
    assert_eq!(str_at(data(&me), "/me/tenant/id"), owner.tenant());
    assert_eq!(data(&me)["me"]["role"], "VIEWER");

    let into_own = &data(&into_own)["logIn"];
    assert_eq!(str_at(into_own, "/tenant/id"), bob.tenant());
    assert_eq!(into_own["role"], "OWNER");
}

#[tokio::test]
async fn log_in_to_a_tenant_the_user_does_not_belong_to_is_not_found() {
    let app = spawn_app().await;
    let stranger = app.sign_up("stranger@example.com", "Elsewhere").await;
    app.sign_up("alice@example.com", "Acme").await;

    let foreign = app
        .log_in_raw("alice@example.com", PASSWORD, stranger.tenant_id.as_deref())
        .await;
    let random = app
        .log_in_raw("alice@example.com", PASSWORD, Some(&random_id()))
        .await;

    assert_error(&foreign, "NOT_FOUND");
    assert_error(&random, "NOT_FOUND");
}
