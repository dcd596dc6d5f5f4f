use refhub_tests::{
    TestApp, assert_error, data, error_code, error_reason, nodes, spawn_app, str_at,
};
use serde_json::{Value, json};

const TENANTS: &str = "query($status: TenantStatus) { tenants(first: 100, status: $status) {
    totalCount edges { node { id name slug status } } } }";

async fn set_status(app: &TestApp, operator: &str, mutation: &str, tenant_id: &str) -> Value {
    app.mutate(
        mutation,
        json!({ "tenantId": tenant_id }),
        "{ id name status }",
        Some(operator),
    )
    .await
}

/// A tenant-data read; the members list is open to every role.
async fn read_members(app: &TestApp, token: &str) -> Value {
    app.graphql(
        "{ members(first: 10) { totalCount } }",
        json!({}),
        Some(token),
    )
    .await
}

#[track_caller]
fn assert_suspended(response: &Value) {
    assert_error(response, "FORBIDDEN");
    assert_eq!(
        error_reason(response).as_deref(),
        Some("TENANT_SUSPENDED"),
        "{response:#}"
    );
}

#[tokio::test]
async fn an_operator_lists_tenants() {
    let app = spawn_app().await;
    let a = app.sign_up("owner-a@example.com", "Tenant A").await;
    let b = app.sign_up("owner-b@example.com", "Tenant B").await;

    let operator = app.operator("ops@example.com").await;

    let me = app.me(operator.token()).await;
    assert_eq!(data(&me)["me"]["isOperator"], true);
    let listed = app.graphql_ok(TENANTS, json!({}), operator.token()).await;
    let tenants = nodes(&listed["tenants"]);
    for (session, name) in [(&a, "Tenant A"), (&b, "Tenant B")] {
        let tenant = tenants
            .iter()
            .find(|t| t["id"] == session.tenant())
            .unwrap_or_else(|| panic!("{name} is not listed: {tenants:#?}"));
        assert_eq!(tenant["name"], name);
        assert_eq!(tenant["status"], "ACTIVE");
    }
    assert_eq!(listed["tenants"]["totalCount"], tenants.len());
}

#[tokio::test]
async fn a_suspended_tenant_is_locked_out_until_reactivated() {
    let app = spawn_app().await;
    let a = app.sign_up("owner-a@example.com", "Tenant A").await;
    let (_, key_a) = app
        .create_api_key(&a.access_token, "a's key", "ADMIN")
        .await;
    let b = app.sign_up("owner-b@example.com", "Tenant B").await;
    let operator = app.operator("ops@example.com").await;
    let ops = &operator.access_token;

    let suspended = set_status(&app, ops, "suspendTenant", a.tenant()).await;

    assert_eq!(data(&suspended)["suspendTenant"]["status"], "SUSPENDED");
    assert_suspended(&read_members(&app, &a.access_token).await);
    assert_suspended(&read_members(&app, &key_a).await);
    assert_suspended(
        &app.create_api_key_raw(&a.access_token, "sneaky", "VIEWER")
            .await,
    );
    data(&read_members(&app, &b.access_token).await);
    let only_suspended = app
        .graphql_ok(TENANTS, json!({ "status": "SUSPENDED" }), Some(ops))
        .await;
    let only_suspended = nodes(&only_suspended["tenants"]);
    assert_eq!(only_suspended.len(), 1, "{only_suspended:#?}");
    assert_eq!(str_at(&only_suspended[0], "/id"), a.tenant());

    // No new way in while suspended.
    let log_in = app
        .log_in_raw(
            "owner-a@example.com",
            refhub_tests::PASSWORD,
            Some(a.tenant()),
        )
        .await;
    assert_suspended(&log_in);

    let reactivated = set_status(&app, ops, "reactivateTenant", a.tenant()).await;

    assert_eq!(data(&reactivated)["reactivateTenant"]["status"], "ACTIVE");
    data(&read_members(&app, &a.access_token).await);
    data(&read_members(&app, &key_a).await);
}

#[tokio::test]
async fn tenant_administration_is_for_operators_only() {
    let app = spawn_app().await;
    let a = app.sign_up("owner-a@example.com", "Tenant A").await;
    let b = app.sign_up("owner-b@example.com", "Tenant B").await;
    let (_, key_a) = app
        .create_api_key(&a.access_token, "a's key", "OWNER")
        .await;

    for token in [a.access_token.as_str(), key_a.as_str()] {
        assert_error(
            &app.graphql(TENANTS, json!({}), Some(token)).await,
            "FORBIDDEN",
        );
        assert_error(
            &set_status(&app, token, "suspendTenant", b.tenant()).await,
            "FORBIDDEN",
        );
        assert_error(
            &set_status(&app, token, "suspendTenant", a.tenant()).await,
            "FORBIDDEN",
        );
    }
    assert_eq!(
        error_code(&app.graphql(TENANTS, json!({}), None).await).as_deref(),
        Some("UNAUTHENTICATED")
    );

    // Nobody was suspended.
    data(&read_members(&app, &a.access_token).await);
    data(&read_members(&app, &b.access_token).await);
    assert_eq!(data(&app.me(b.token()).await)["me"]["isOperator"], false);
}

#[tokio::test]
async fn suspending_an_unknown_tenant_is_not_found() {
    let app = spawn_app().await;
    let operator = app.operator("ops@example.com").await;

    let response = set_status(
        &app,
        &operator.access_token,
        "suspendTenant",
        &refhub_tests::random_id(),
    )
    .await;

    assert_error(&response, "NOT_FOUND");
}
