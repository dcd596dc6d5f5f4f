//! Who may manage members and API keys, and the rules around the OWNER role.

use refhub_tests::{Session, TestApp, assert_error, data, error_code, nodes, spawn_app, str_at};
use serde_json::Value;

/// A tenant with an owner, a VIEWER member to act upon, an owner-made API key, a signed-up
/// outsider to add, and an actor holding `role` (the owner itself for OWNER).
struct Scene {
    app: TestApp,
    owner: Session,
    actor: Session,
    target: Session,
    owner_key_id: String,
}

async fn scene(actor_role: &str) -> Scene {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.com", "Acme").await;
    let target = app.member_of(&owner, "target@example.com", "VIEWER").await;
    app.sign_up("newcomer@example.com", "Newcomer's").await;
    let (owner_key_id, _) = app
        .create_api_key(&owner.access_token, "deploys", "VIEWER")
        .await;
    let actor = if actor_role == "OWNER" {
        owner.clone()
    } else {
        app.member_of(&owner, "actor@example.com", actor_role).await
    };
    Scene {
        app,
        owner,
        actor,
        target,
        owner_key_id,
    }
}

/// Runs every management operation as the actor; returns `(operation, response)`.
async fn manage(scene: &Scene) -> Vec<(&'static str, Value)> {
    let app = &scene.app;
    let token = &scene.actor.access_token;
    vec![
        ("apiKeys", app.api_keys(token).await),
        (
            "createApiKey",
            app.create_api_key_raw(token, "actor's key", "VIEWER").await,
        ),
        (
            "inviteMember",
            app.add_member(token, "newcomer@example.com", "VIEWER")
                .await,
        ),
        (
            "updateMemberRole",
            app.update_member_role(token, &scene.target.user_id, "EDITOR")
                .await,
        ),
        (
            "revokeApiKey",
            app.revoke_api_key(token, &scene.owner_key_id).await,
        ),
        (
            "removeMember",
            app.remove_member(token, &scene.target.user_id).await,
        ),
    ]
}

async fn assert_may_manage(role: &str) {
    let scene = scene(role).await;

    for (operation, response) in manage(&scene).await {
        assert!(
            response.get("errors").is_none(),
            "{role} must be allowed {operation}: {response:#}"
        );
    }

    let members = scene.app.member_roles(&scene.owner.access_token).await;
    assert!(
        members
            .iter()
            .any(|(_, email, _)| email == "newcomer@example.com")
    );
    assert!(!members.iter().any(|(id, _, _)| *id == scene.target.user_id));
}

async fn assert_may_not_manage(role: &str) {
    let scene = scene(role).await;
    let app = &scene.app;

    for (operation, response) in manage(&scene).await {
        assert_eq!(
            error_code(&response).as_deref(),
            Some("FORBIDDEN"),
            "{role} must be refused {operation}: {response:#}"
        );
    }

    // Nothing changed.
    let owner = &scene.owner.access_token;
    let members = app.member_roles(owner).await;
    assert!(
        !members
            .iter()
            .any(|(_, email, _)| email == "newcomer@example.com")
    );
    assert_eq!(
        app.role_of(owner, &scene.target.user_id).await.as_deref(),
        Some("VIEWER")
    );
    let keys = app.api_keys(owner).await;
    let keys = nodes(&data(&keys)["apiKeys"]);
    assert_eq!(keys.len(), 1, "{keys:#?}");
    assert!(keys[0]["revokedAt"].is_null(), "{keys:#?}");

    // Reading is still allowed: the refusals are about the role, not a broken token.
    let members = app
        .graphql_ok(
            "{ members(first: 10) { totalCount } }",
            serde_json::json!({}),
            scene.actor.token(),
        )
        .await;
    assert_eq!(members["members"]["totalCount"], 3);
}

#[tokio::test]
async fn owners_manage_members_and_api_keys() {
    assert_may_manage("OWNER").await;
}

#[tokio::test]
async fn admins_manage_members_and_api_keys() {
    assert_may_manage("ADMIN").await;
}

#[tokio::test]
async fn editors_may_not_manage_members_or_api_keys() {
    assert_may_not_manage("EDITOR").await;
}

#[tokio::test]
async fn viewers_may_not_manage_members_or_api_keys() {
    assert_may_not_manage("VIEWER").await;
}

#[tokio::test]
async fn the_last_owner_can_be_neither_removed_nor_demoted() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.com", "Acme").await;
    let token = &owner.access_token;

    assert_error(&app.remove_member(token, &owner.user_id).await, "CONFLICT");
    assert_error(
        &app.update_member_role(token, &owner.user_id, "ADMIN").await,
        "CONFLICT",
    );

    assert_eq!(
        app.role_of(token, &owner.user_id).await.as_deref(),
        Some("OWNER")
    );
}

#[tokio::test]
async fn an_owner_can_step_down_once_another_owner_exists() {
    let app = spawn_app().await;
    let first = app.sign_up("first@example.com", "Acme").await;
    let second = app.member_of(&first, "second@example.com", "ADMIN").await;

    let promoted = app
        .update_member_role(&first.access_token, &second.user_id, "OWNER")
        .await;
    assert_eq!(data(&promoted)["updateMemberRole"]["role"], "OWNER");

    let demoted = app
        .update_member_role(&first.access_token, &first.user_id, "ADMIN")
        .await;
    assert_eq!(data(&demoted)["updateMemberRole"]["role"], "ADMIN");

    // The second owner is now the last one: they can remove the first, not themselves.
    let removed = app
        .remove_member(&second.access_token, &first.user_id)
        .await;
    assert_eq!(str_at(data(&removed), "/removeMember"), first.user_id);
    assert_error(
        &app.remove_member(&second.access_token, &second.user_id)
            .await,
        "CONFLICT",
    );
    assert_error(
        &app.update_member_role(&second.access_token, &second.user_id, "EDITOR")
            .await,
        "CONFLICT",
    );
}

#[tokio::test]
async fn admins_cannot_grant_or_take_the_owner_role() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.com", "Acme").await;
    let admin = app.member_of(&owner, "admin@example.com", "ADMIN").await;
    let viewer = app.member_of(&owner, "viewer@example.com", "VIEWER").await;
    app.sign_up("newcomer@example.com", "Newcomer's").await;
    let token = &admin.access_token;

    assert_error(
        &app.add_member(token, "newcomer@example.com", "OWNER").await,
        "FORBIDDEN",
    );
    assert_error(
        &app.update_member_role(token, &viewer.user_id, "OWNER")
            .await,
        "FORBIDDEN",
    );
    assert_error(
        &app.update_member_role(token, &admin.user_id, "OWNER").await,
        "FORBIDDEN",
    );
    assert_error(
        &app.update_member_role(token, &owner.user_id, "ADMIN").await,
        "FORBIDDEN",
    );

    let roles = app.member_roles(&owner.access_token).await;
    let owners: Vec<_> = roles
        .iter()
        .filter(|(_, _, role)| role == "OWNER")
        .collect();
    assert_eq!(owners.len(), 1, "{roles:?}");
    assert!(
        !roles
            .iter()
            .any(|(_, email, _)| email == "newcomer@example.com")
    );

    // Roles up to their own remain theirs to give.
    let added = app.add_member(token, "newcomer@example.com", "ADMIN").await;
    assert_eq!(data(&added)["acceptInvitation"]["role"], "ADMIN");
}

#[tokio::test]
async fn an_api_key_cannot_get_a_higher_role_than_its_creator() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.com", "Acme").await;
    let admin = app.member_of(&owner, "admin@example.com", "ADMIN").await;

    let response = app
        .create_api_key_raw(&admin.access_token, "too strong", "OWNER")
        .await;

    // The contract leaves open whether this is a permission or an input error.
    let code = error_code(&response);
    assert!(
        matches!(code.as_deref(), Some("FORBIDDEN" | "VALIDATION")),
        "an ADMIN created an OWNER key: {response:#}"
    );
    let keys = app.api_keys(&owner.access_token).await;
    assert!(nodes(&data(&keys)["apiKeys"]).is_empty(), "{keys:#}");

    let (_, secret) = app
        .create_api_key(&admin.access_token, "as strong", "ADMIN")
        .await;
    let me = app
        .graphql_ok("{ me { role } }", serde_json::json!({}), Some(&secret))
        .await;
    assert_eq!(me["me"]["role"], "ADMIN");
}

#[tokio::test]
async fn a_role_change_applies_to_tokens_already_issued() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.com", "Acme").await;
    let admin = app.member_of(&owner, "admin@example.com", "ADMIN").await;
    data(&app.api_keys(&admin.access_token).await);

    data(
        &app.update_member_role(&owner.access_token, &admin.user_id, "VIEWER")
            .await,
    );

    // Same token, issued while an ADMIN.
    assert_error(&app.api_keys(&admin.access_token).await, "FORBIDDEN");
    let me = app.me(admin.token()).await;
    assert_eq!(data(&me)["me"]["role"], "VIEWER");
}

#[tokio::test]
async fn a_removed_member_loses_access_at_once() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.com", "Acme").await;
    let editor = app.member_of(&owner, "editor@example.com", "EDITOR").await;

    data(
        &app.remove_member(&owner.access_token, &editor.user_id)
            .await,
    );

    let response = app
        .graphql(
            "{ members(first: 10) { totalCount } }",
            serde_json::json!({}),
            editor.token(),
        )
        .await;
    assert!(
        response.get("errors").is_some() && response["data"].is_null(),
        "a removed member still reads the tenant: {response:#}"
    );
    // The refusal says why, so that a dashboard can send the person to sign in again.
    assert_error(&response, "UNAUTHENTICATED");
    assert!(
        response["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("no longer a member of this workspace")),
        "{response:#}"
    );
    // Logging in to that tenant is refused too.
    let again = app
        .log_in_raw(
            "editor@example.com",
            refhub_tests::PASSWORD,
            Some(owner.tenant()),
        )
        .await;
    assert_error(&again, "NOT_FOUND");
}
