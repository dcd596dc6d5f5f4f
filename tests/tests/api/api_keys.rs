use refhub_tests::{TestApp, assert_error, data, nodes, spawn_app, str_at};
use serde_json::{Value, json};

/// What a key sees of itself: `me { role tenant { id } }` and `tenant { id }`.
async fn seen_by_key(app: &TestApp, secret: &str) -> Value {
    app.graphql(
        "{ me { role tenant { id } } tenant { id name } }",
        json!({}),
        Some(secret),
    )
    .await
}

#[tokio::test]
async fn a_new_api_key_authenticates_with_its_role() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.com", "Acme").await;

    let response = app
        .create_api_key_raw(&owner.access_token, "ci", "EDITOR")
        .await;

    let payload = &data(&response)["createApiKey"];
    let secret = str_at(payload, "/secret");
    let prefix = str_at(payload, "/apiKey/prefix");
    assert!(!prefix.is_empty());
    assert!(
        secret.starts_with(&prefix),
        "secret does not start with prefix {prefix}"
    );
    assert!(
        secret.len() > prefix.len() + 16,
        "the secret is too short to be one"
    );
    assert_eq!(payload["apiKey"]["name"], "ci");
    assert_eq!(payload["apiKey"]["role"], "EDITOR");
    assert!(payload["apiKey"]["revokedAt"].is_null());

    let seen = seen_by_key(&app, &secret).await;
    let seen = data(&seen);
    assert_eq!(seen["me"]["role"], "EDITOR");
    assert_eq!(str_at(seen, "/me/tenant/id"), owner.tenant());
    assert_eq!(str_at(seen, "/tenant/id"), owner.tenant());
    assert_eq!(seen["tenant"]["name"], "Acme");
}

#[tokio::test]
async fn the_key_list_shows_the_prefix_but_never_the_secret() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.com", "Acme").await;
    let (id, secret) = app
        .create_api_key(&owner.access_token, "ci", "VIEWER")
        .await;

    let listed = app.api_keys(&owner.access_token).await;

    let keys = nodes(&data(&listed)["apiKeys"]);
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["id"], id.as_str());
    assert_eq!(keys[0]["name"], "ci");
    assert_eq!(keys[0]["role"], "VIEWER");
    assert!(secret.starts_with(str_at(&keys[0], "/prefix").as_str()));
    assert!(
        !listed.to_string().contains(&secret),
        "the list reveals the secret"
    );
}

#[tokio::test]
async fn a_viewer_key_reads_but_cannot_mutate() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.com", "Acme").await;
    app.sign_up("newcomer@example.com", "Newcomer's").await;
    let (_, secret) = app
        .create_api_key(&owner.access_token, "dashboard", "VIEWER")
        .await;

    let members = app
        .graphql_ok(
            "{ members(first: 10) { totalCount } }",
            json!({}),
            Some(&secret),
        )
        .await;
    assert_eq!(members["members"]["totalCount"], 1);

    assert_error(
        &app.add_member(&secret, "newcomer@example.com", "VIEWER")
            .await,
        "FORBIDDEN",
    );
    assert_error(
        &app.create_api_key_raw(&secret, "more", "VIEWER").await,
        "FORBIDDEN",
    );
    assert_error(
        &app.update_member_role(&secret, &owner.user_id, "VIEWER")
            .await,
        "FORBIDDEN",
    );
    assert_eq!(app.member_roles(&owner.access_token).await.len(), 1);
}

#[tokio::test]
async fn a_revoked_key_stops_working() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.com", "Acme").await;
    let (id, secret) = app
        .create_api_key(&owner.access_token, "ci", "EDITOR")
        .await;
    let (_, other_secret) = app
        .create_api_key(&owner.access_token, "other", "EDITOR")
        .await;
    data(&seen_by_key(&app, &secret).await);

    let revoked = app.revoke_api_key(&owner.access_token, &id).await;

    let revoked = &data(&revoked)["revokeApiKey"];
    assert_eq!(revoked["id"], id.as_str());
    assert!(revoked["revokedAt"].is_string(), "{revoked:#}");
    assert_error(&seen_by_key(&app, &secret).await, "UNAUTHENTICATED");
    // Only that key.
    data(&seen_by_key(&app, &other_secret).await);
    let keys = app.api_keys(&owner.access_token).await;
    let listed = nodes(&data(&keys)["apiKeys"]);
    let listed = listed
        .iter()
        .find(|k| k["id"] == id.as_str())
        .expect("still listed");
    assert!(listed["revokedAt"].is_string(), "{listed:#}");
}

#[tokio::test]
async fn an_unknown_key_id_is_not_found() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.com", "Acme").await;

    let response = app
        .revoke_api_key(&owner.access_token, &refhub_tests::random_id())
        .await;

    assert_error(&response, "NOT_FOUND");
}

#[tokio::test]
async fn a_secret_with_a_valid_prefix_but_wrong_rest_is_refused() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.com", "Acme").await;
    let (_, secret) = app
        .create_api_key(&owner.access_token, "ci", "EDITOR")
        .await;

    let mut forged = secret.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });

    assert_error(&seen_by_key(&app, &forged).await, "UNAUTHENTICATED");
    data(&seen_by_key(&app, &secret).await);
}

#[tokio::test]
async fn a_key_does_no_more_than_its_creator_may_now() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@creators.test", "Acme").await;
    let admin = app.member_of(&owner, "admin@creators.test", "ADMIN").await;
    let created = app
        .create_api_key_raw(&admin.access_token, "admin's", "ADMIN")
        .await;
    let secret = str_at(&data(&created)["createApiKey"], "/secret");
    assert_eq!(
        data(&seen_by_key(&app, &secret).await)["me"]["role"],
        "ADMIN"
    );

    // Demoted, the creator drags the key down with them.
    let demoted = app
        .update_member_role(&owner.access_token, &admin.user_id, "VIEWER")
        .await;
    assert_eq!(data(&demoted)["updateMemberRole"]["role"], "VIEWER");
    assert_eq!(
        data(&seen_by_key(&app, &secret).await)["me"]["role"],
        "VIEWER"
    );
    assert_error(
        &app.create_api_key_raw(&secret, "escalated", "ADMIN").await,
        "FORBIDDEN",
    );

    // Removed, the creator's keys stop working.
    app.remove_member(&owner.access_token, &admin.user_id).await;
    assert_error(&seen_by_key(&app, &secret).await, "UNAUTHENTICATED");
    // The owner's own keys are untouched.
    let own = app
        .create_api_key_raw(&owner.access_token, "owner's", "ADMIN")
        .await;
    let own = str_at(&data(&own)["createApiKey"], "/secret");
    assert_eq!(data(&seen_by_key(&app, &own).await)["me"]["role"], "ADMIN");
}
