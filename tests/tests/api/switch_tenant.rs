use refhub_tests::{Session, assert_error, data, random_id, spawn_app, str_at};
use serde_json::json;

const SWITCH: &str = "mutation($input: SwitchTenantInput!) { switchTenant(input: $input) { accessToken refreshToken expiresIn user { id email } tenant { id name slug status } role } }";

#[tokio::test]
async fn a_member_of_two_tenants_switches_between_them() {
    let app = spawn_app().await;
    let agency = app.sign_up("owner@example.com", "Agency").await;
    let bob = app.sign_up("bob@example.com", "Bob's shop").await;
    data(
        &app.add_member(&agency.access_token, "bob@example.com", "EDITOR")
            .await,
    );

    let to_agency = app
        .graphql(
            SWITCH,
            json!({ "input": { "tenantId": agency.tenant() } }),
            bob.token(),
        )
        .await;

    let to_agency = Session::from_payload(&data(&to_agency)["switchTenant"]);
    assert_eq!(to_agency.tenant(), agency.tenant());
    let me = app.me(to_agency.token()).await;
    assert_eq!(str_at(data(&me), "/me/tenant/id"), agency.tenant());
    assert_eq!(data(&me)["me"]["role"], "EDITOR");
    let me = app
        .graphql_ok(
            "{ me { memberships { role tenant { id } } } }",
            json!({}),
            to_agency.token(),
        )
        .await;
    let mut memberships: Vec<(String, String)> = me["me"]["memberships"]
        .as_array()
        .expect("memberships")
        .iter()
        .map(|m| (str_at(m, "/tenant/id"), str_at(m, "/role")))
        .collect();
    memberships.sort();
    let mut expected = vec![
        (agency.tenant().to_owned(), "EDITOR".to_owned()),
        (bob.tenant().to_owned(), "OWNER".to_owned()),
    ];
    expected.sort();
    assert_eq!(memberships, expected);

    let back = app
        .graphql(
            SWITCH,
            json!({ "input": { "tenantId": bob.tenant() } }),
            to_agency.token(),
        )
        .await;

    let back = Session::from_payload(&data(&back)["switchTenant"]);
    let me = app.me(back.token()).await;
    assert_eq!(str_at(data(&me), "/me/tenant/id"), bob.tenant());
    assert_eq!(data(&me)["me"]["role"], "OWNER");
}

#[tokio::test]
async fn switching_to_a_foreign_or_unknown_tenant_is_not_found() {
    let app = spawn_app().await;
    let stranger = app.sign_up("stranger@example.com", "Elsewhere").await;
    let bob = app.sign_up("bob@example.com", "Bob's shop").await;

    let foreign = app
        .graphql(
            SWITCH,
            json!({ "input": { "tenantId": stranger.tenant() } }),
            bob.token(),
        )
        .await;
    let unknown = app
        .graphql(
            SWITCH,
            json!({ "input": { "tenantId": random_id() } }),
            bob.token(),
        )
        .await;

    assert_error(&foreign, "NOT_FOUND");
    assert_error(&unknown, "NOT_FOUND");
    // Still in the own tenant.
    let me = app.me(bob.token()).await;
    assert_eq!(str_at(data(&me), "/me/tenant/id"), bob.tenant());
}

#[tokio::test]
async fn switching_tenant_needs_authentication() {
    let app = spawn_app().await;
    let bob = app.sign_up("bob@example.com", "Bob's shop").await;

    let response = app
        .graphql(
            SWITCH,
            json!({ "input": { "tenantId": bob.tenant() } }),
            None,
        )
        .await;

    assert_error(&response, "UNAUTHENTICATED");
}
