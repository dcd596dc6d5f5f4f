//! Another tenant's ids answer NOT_FOUND, exactly like ids that do not exist.

use refhub_tests::{assert_error, data, error_message, nodes, random_id, spawn_app};
use serde_json::{Value, json};

/// The first error's code and message with the requested id blanked out.
fn shape(response: &Value, id: &str) -> (Option<String>, Option<String>) {
    (
        refhub_tests::error_code(response),
        error_message(response).map(|m| m.replace(id, "<id>")),
    )
}

#[tokio::test]
async fn another_tenants_members_and_keys_are_not_found() {
    let app = spawn_app().await;
    let owner_a = app.sign_up("owner-a@example.com", "Tenant A").await;
    let member_a = app
        .member_of(&owner_a, "member-a@example.com", "EDITOR")
        .await;
    let (key_a, secret_a) = app
        .create_api_key(&owner_a.access_token, "a's key", "EDITOR")
        .await;
    let owner_b = app.sign_up("owner-b@example.com", "Tenant B").await;
    let b = &owner_b.access_token;
    let unknown = random_id();

    let update = app.update_member_role(b, &member_a.user_id, "VIEWER").await;
    let update_unknown = app.update_member_role(b, &unknown, "VIEWER").await;
    let remove = app.remove_member(b, &member_a.user_id).await;
    let remove_unknown = app.remove_member(b, &unknown).await;
    let remove_owner = app.remove_member(b, &owner_a.user_id).await;
    let revoke = app.revoke_api_key(b, &key_a).await;
    let revoke_unknown = app.revoke_api_key(b, &unknown).await;

    for response in [&update, &remove, &remove_owner, &revoke] {
        assert_error(response, "NOT_FOUND");
    }
    assert_eq!(
        shape(&update, &member_a.user_id),
        shape(&update_unknown, &unknown)
    );
    assert_eq!(
        shape(&remove, &member_a.user_id),
        shape(&remove_unknown, &unknown)
    );
    assert_eq!(shape(&revoke, &key_a), shape(&revoke_unknown, &unknown));

    // Tenant A is untouched.
    let a = &owner_a.access_token;
    assert_eq!(
        app.role_of(a, &member_a.user_id).await.as_deref(),
        Some("EDITOR")
    );
    assert_eq!(
        app.role_of(a, &owner_a.user_id).await.as_deref(),
        Some("OWNER")
    );
    let keys = app.api_keys(a).await;
    let keys = nodes(&data(&keys)["apiKeys"]);
    assert!(keys[0]["revokedAt"].is_null(), "{keys:#?}");
    let seen = app
        .graphql_ok("{ tenant { id } }", json!({}), Some(&secret_a))
        .await;
    assert_eq!(seen["tenant"]["id"], owner_a.tenant());
}

#[tokio::test]
async fn lists_show_only_the_own_tenants_rows() {
    let app = spawn_app().await;
    let owner_a = app.sign_up("owner-a@example.com", "Tenant A").await;
    app.member_of(&owner_a, "member-a@example.com", "EDITOR")
        .await;
    app.create_api_key(&owner_a.access_token, "a's key", "EDITOR")
        .await;
    let owner_b = app.sign_up("owner-b@example.com", "Tenant B").await;
    let (key_b, _) = app
        .create_api_key(&owner_b.access_token, "b's key", "VIEWER")
        .await;

    let members_b = app.member_roles(&owner_b.access_token).await;
    let keys_b = app.api_keys(&owner_b.access_token).await;

    let emails: Vec<_> = members_b
        .iter()
        .map(|(_, email, _)| email.as_str())
        .collect();
    assert_eq!(emails, ["owner-b@example.com"]);
    let keys_b = nodes(&data(&keys_b)["apiKeys"]);
    assert_eq!(keys_b.len(), 1, "{keys_b:#?}");
    assert_eq!(keys_b[0]["id"], key_b.as_str());
    let tenant = app
        .graphql_ok("{ tenant { id name } }", json!({}), owner_b.token())
        .await;
    assert_eq!(tenant["tenant"]["name"], "Tenant B");
}

#[tokio::test]
async fn an_api_key_acts_only_inside_its_tenant() {
    let app = spawn_app().await;
    let owner_a = app.sign_up("owner-a@example.com", "Tenant A").await;
    let member_a = app
        .member_of(&owner_a, "member-a@example.com", "EDITOR")
        .await;
    let owner_b = app.sign_up("owner-b@example.com", "Tenant B").await;
    let (_, secret_b) = app
        .create_api_key(&owner_b.access_token, "b admin", "ADMIN")
        .await;

    let response = app.remove_member(&secret_b, &member_a.user_id).await;

    assert_error(&response, "NOT_FOUND");
    assert_eq!(
        app.role_of(&owner_a.access_token, &member_a.user_id)
            .await
            .as_deref(),
        Some("EDITOR")
    );
}
