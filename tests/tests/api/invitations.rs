//! People join a workspace by accepting an invitation mailed to them: the inviter learns
//! nothing about accounts, and nobody becomes a member without acting themselves.

use std::time::Duration;

use refhub_api::MailSettings;
use refhub_domain::identity::MAX_PENDING_INVITATIONS;
use refhub_tests::{
    INVITATION_FIELDS, assert_error, data, error_field, error_message, error_reason, nodes,
    random_id, spawn_app, spawn_app_with, str_at, token_in_link,
};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

const INVITATIONS: &str =
    "{ invitations(first: 100) { totalCount edges { node { id email role status } } } }";
const MY_INVITATIONS: &str = "{ myInvitations(first: 100) { totalCount edges { node { id email role status tenant { id name } invitedBy { email } } } } }";

/// An invitation's answer without what differs by address and instant.
fn shape(invitation: &Value) -> Value {
    let mut invitation = invitation.clone();
    for volatile in ["id", "email", "expiresAt", "createdAt"] {
        invitation[volatile] = Value::Null;
    }
    invitation
}

#[tokio::test]
async fn an_invitation_is_answered_alike_whether_or_not_an_account_exists() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.com", "Acme").await;
    app.sign_up("known@example.com", "Known's").await;

    let known = app
        .invite_member(&owner.access_token, "known@example.com", "EDITOR")
        .await;
    let unknown = app
        .invite_member(&owner.access_token, "nobody@example.com", "EDITOR")
        .await;

    let known = &data(&known)["inviteMember"];
    let unknown = &data(&unknown)["inviteMember"];
    assert_eq!(shape(known), shape(unknown));
    assert_eq!(known["status"], "PENDING");
    assert_eq!(known["invitedBy"]["email"], "owner@example.com");
    // Both addresses got their e-mail; neither joined.
    for email in ["known@example.com", "nobody@example.com"] {
        let token = app.invitation_token(email, 1).await;
        assert_eq!(token.len(), 43, "a 256-bit token");
    }
    let members = app.member_roles(&owner.access_token).await;
    assert_eq!(members.len(), 1, "{members:?}");
}

#[tokio::test]
async fn the_invitee_joins_by_accepting_with_the_invited_address() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.com", "Acme").await;
    let bob = app.sign_up("bob@example.com", "Bob's shop").await;
    let invited = app
        .invite_member(&owner.access_token, "Bob@Example.com", "ADMIN")
        .await;
    let id = str_at(&data(&invited)["inviteMember"], "/id");
    let token = app.invitation_token("bob@example.com", 1).await;
    let mail = &app.outbox.messages_to("bob@example.com")[0];
    assert!(mail.subject.contains("Acme"), "{}", mail.subject);
    assert!(
        mail.text
            .contains("http://refhub.test/invitations/accept#token="),
        "{}",
        mail.text
    );

    // Bob sees it waiting for him, from his own workspace.
    let mine = app.graphql_ok(MY_INVITATIONS, json!({}), bob.token()).await;
    let mine = nodes(&mine["myInvitations"]);
    assert_eq!(mine.len(), 1, "{mine:#?}");
    assert_eq!(mine[0]["id"], id.as_str());
    assert_eq!(mine[0]["tenant"]["name"], "Acme");
    assert_eq!(mine[0]["invitedBy"]["email"], "owner@example.com");

    let accepted = app.accept_invitation(bob.token(), &token).await;
    let accepted = &data(&accepted)["acceptInvitation"];
    assert_eq!(accepted["status"], "ACCEPTED");
    assert_eq!(accepted["role"], "ADMIN");
    assert_eq!(accepted["tenant"]["id"], owner.tenant());
    assert!(accepted["respondedAt"].is_string(), "{accepted:#}");
    assert_eq!(
        app.role_of(&owner.access_token, &bob.user_id)
            .await
            .as_deref(),
        Some("ADMIN")
    );
    let into_acme = app.log_in("bob@example.com", Some(owner.tenant())).await;
    assert_eq!(into_acme.tenant(), owner.tenant());

    // The link works once.
    let again = app.accept_invitation(bob.token(), &token).await;
    assert_error(&again, "CONFLICT");
    assert_eq!(error_field(&again).as_deref(), Some("token"));
    assert!(error_message(&again).unwrap().contains("already accepted"));
    let mine = app.graphql_ok(MY_INVITATIONS, json!({}), bob.token()).await;
    assert_eq!(mine["myInvitations"]["totalCount"], 0);
    let listed = app.graphql_ok(INVITATIONS, json!({}), owner.token()).await;
    assert_eq!(nodes(&listed["invitations"])[0]["status"], "ACCEPTED");

    // Inviting a member is a clash the inviter can see in the member list anyway.
    let member = app
        .invite_member(&owner.access_token, "bob@example.com", "VIEWER")
        .await;
    assert_error(&member, "CONFLICT");
}

#[tokio::test]
async fn nobody_else_can_accept_and_the_refusals_reveal_no_account() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.com", "Acme").await;
    let mallory = app.sign_up("mallory@example.com", "Mallory's").await;
    app.invite_member(&owner.access_token, "bob@example.com", "OWNER")
        .await;
    let token = app.invitation_token("bob@example.com", 1).await;

    let stolen = app.accept_invitation(mallory.token(), &token).await;
    assert_error(&stolen, "FORBIDDEN");
    assert_eq!(
        error_reason(&stolen).as_deref(),
        Some("INVITATION_FOR_ANOTHER_EMAIL")
    );
    assert!(
        !error_message(&stolen).unwrap().contains("bob@"),
        "{stolen:#}"
    );
    let signed_out = app.accept_invitation(None, &token).await;
    assert_error(&signed_out, "UNAUTHENTICATED");
    let unknown = app
        .accept_invitation(mallory.token(), "x".repeat(43).as_str())
        .await;
    assert_error(&unknown, "NOT_FOUND");
    assert_eq!(error_field(&unknown).as_deref(), Some("token"));

    let members = app.member_roles(&owner.access_token).await;
    assert_eq!(members.len(), 1, "{members:?}");
    // The invitation still waits for Bob, who has no account yet: he signs up and accepts.
    let bob = app.sign_up("bob@example.com", "Bob's").await;
    let accepted = app.accept_invitation(bob.token(), &token).await;
    assert_eq!(data(&accepted)["acceptInvitation"]["role"], "OWNER");
}

#[tokio::test]
async fn inviting_a_pending_address_again_refreshes_its_invitation() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.com", "Acme").await;
    let bob = app.sign_up("bob@example.com", "Bob's").await;
    let first = app
        .invite_member(&owner.access_token, "bob@example.com", "VIEWER")
        .await;
    let first_token = app.invitation_token("bob@example.com", 1).await;
    let second = app
        .invite_member(&owner.access_token, "bob@example.com", "EDITOR")
        .await;
    let second_token = app.invitation_token("bob@example.com", 2).await;

    assert_eq!(
        data(&first)["inviteMember"]["id"],
        data(&second)["inviteMember"]["id"]
    );
    assert_eq!(data(&second)["inviteMember"]["role"], "EDITOR");
    let listed = app.graphql_ok(INVITATIONS, json!({}), owner.token()).await;
    assert_eq!(listed["invitations"]["totalCount"], 1);
    assert_ne!(first_token, second_token);

    let old_link = app.accept_invitation(bob.token(), &first_token).await;
    assert_error(&old_link, "NOT_FOUND");
    let accepted = app.accept_invitation(bob.token(), &second_token).await;
    assert_eq!(data(&accepted)["acceptInvitation"]["role"], "EDITOR");
}

#[tokio::test]
async fn declined_and_revoked_invitations_cannot_be_accepted() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.com", "Acme").await;
    let viewer = app.member_of(&owner, "viewer@example.com", "VIEWER").await;
    let bob = app.sign_up("bob@example.com", "Bob's").await;
    let carol = app.sign_up("carol@example.com", "Carol's").await;
    let other = app.sign_up("other@example.com", "Other").await;

    // Declining needs only the link: no account, no sign-in.
    app.invite_member(&owner.access_token, "bob@example.com", "EDITOR")
        .await;
    let bob_token = app.invitation_token("bob@example.com", 1).await;
    let declined = app
        .mutate(
            "declineInvitation",
            json!({ "token": bob_token }),
            &format!("{{ {INVITATION_FIELDS} }}"),
            None,
        )
        .await;
    assert_eq!(data(&declined)["declineInvitation"]["status"], "DECLINED");
    let late = app.accept_invitation(bob.token(), &bob_token).await;
    assert_error(&late, "CONFLICT");
    assert!(error_message(&late).unwrap().contains("declined"));

    let invited = app
        .invite_member(&owner.access_token, "carol@example.com", "EDITOR")
        .await;
    let id = str_at(&data(&invited)["inviteMember"], "/id");
    let carol_token = app.invitation_token("carol@example.com", 1).await;
    let revoke = |token: String, id: String| {
        let app = &app;
        async move {
            app.mutate(
                "revokeInvitation",
                json!({ "id": id }),
                "{ id status }",
                Some(&token),
            )
            .await
        }
    };
    assert_error(
        &revoke(viewer.access_token.clone(), id.clone()).await,
        "FORBIDDEN",
    );
    assert_error(
        &revoke(other.access_token.clone(), id.clone()).await,
        "NOT_FOUND",
    );
    assert_error(
        &revoke(owner.access_token.clone(), random_id()).await,
        "NOT_FOUND",
    );
    let revoked = revoke(owner.access_token.clone(), id.clone()).await;
    assert_eq!(data(&revoked)["revokeInvitation"]["status"], "REVOKED");
    let late = app.accept_invitation(carol.token(), &carol_token).await;
    assert_error(&late, "CONFLICT");
    assert!(error_message(&late).unwrap().contains("revoked"));

    let members = app.member_roles(&owner.access_token).await;
    assert_eq!(members.len(), 2, "{members:?}");
    // Only owners and admins see the workspace's invitations.
    assert_error(
        &app.graphql(INVITATIONS, json!({}), viewer.token()).await,
        "FORBIDDEN",
    );
}

#[tokio::test]
async fn an_expired_invitation_cannot_be_accepted() {
    let app = spawn_app_with(|config| config.invitation_ttl = chrono::Duration::zero()).await;
    let owner = app.sign_up("owner@example.com", "Acme").await;
    let bob = app.sign_up("bob@example.com", "Bob's").await;
    app.invite_member(&owner.access_token, "bob@example.com", "EDITOR")
        .await;
    let token = app.invitation_token("bob@example.com", 1).await;

    let late = app.accept_invitation(bob.token(), &token).await;
    assert_error(&late, "CONFLICT");
    assert!(
        error_message(&late).unwrap().contains("expired"),
        "{late:#}"
    );
    let listed = app.graphql_ok(INVITATIONS, json!({}), owner.token()).await;
    assert_eq!(nodes(&listed["invitations"])[0]["status"], "EXPIRED");
    let mine = app.graphql_ok(MY_INVITATIONS, json!({}), bob.token()).await;
    assert_eq!(mine["myInvitations"]["totalCount"], 0);
}

#[tokio::test]
async fn a_person_without_a_workspace_accepts_and_can_then_act_there() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.com", "Acme").await;
    // Operators' accounts belong to no workspace: the one kind of account without one.
    let operator = app.operator("ops@example.com").await;
    assert!(operator.tenant_id.is_none());
    app.invite_member(&owner.access_token, "ops@example.com", "VIEWER")
        .await;
    let token = app.invitation_token("ops@example.com", 1).await;

    let mine = app
        .graphql_ok(MY_INVITATIONS, json!({}), operator.token())
        .await;
    assert_eq!(mine["myInvitations"]["totalCount"], 1);
    data(&app.accept_invitation(operator.token(), &token).await);

    let signed_in = app.log_in("ops@example.com", None).await;
    assert_eq!(signed_in.tenant(), owner.tenant());
    let me = app.me(signed_in.token()).await;
    assert_eq!(data(&me)["me"]["role"], "VIEWER");
}

#[tokio::test]
async fn invitation_mail_per_workspace_is_rate_limited() {
    let app = spawn_app_with(|config| config.invitations_per_workspace_per_hour = 2).await;
    let owner = app.sign_up("owner@example.com", "Acme").await;
    let other = app.sign_up("other@example.com", "Other").await;
    for n in 0..2 {
        let invited = app
            .invite_member(&owner.access_token, &format!("p{n}@example.com"), "VIEWER")
            .await;
        data(&invited);
    }

    let limited = app
        .invite_member(&owner.access_token, "p2@example.com", "VIEWER")
        .await;
    assert_error(&limited, "RATE_LIMITED");
    assert!(limited["errors"][0]["extensions"]["retryAfter"].as_u64() > Some(0));
    assert!(app.outbox.messages_to("p2@example.com").is_empty());
    // Another workspace has its own allowance.
    data(
        &app.invite_member(&other.access_token, "p2@example.com", "VIEWER")
            .await,
    );
}

#[tokio::test]
async fn a_workspace_has_a_bounded_number_of_invitations_waiting() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.com", "Acme").await;
    for n in 0..MAX_PENDING_INVITATIONS {
        data(
            &app.invite_member(&owner.access_token, &format!("p{n}@example.com"), "VIEWER")
                .await,
        );
    }

    let over = app
        .invite_member(&owner.access_token, "one-more@example.com", "VIEWER")
        .await;
    assert_error(&over, "CONFLICT");
    assert_eq!(error_field(&over).as_deref(), Some("email"));
    // Refreshing one already waiting adds none.
    data(
        &app.invite_member(&owner.access_token, "p0@example.com", "EDITOR")
            .await,
    );
}

#[tokio::test]
async fn an_unreachable_mail_server_does_not_fail_the_invitation() {
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let app = spawn_app_with(|config| {
        config.mail = MailSettings::Smtp {
            url: format!("smtp://127.0.0.1:{port}"),
            from: "refhub <no-reply@refhub.test>".into(),
        }
    })
    .await;
    let owner = app.sign_up("owner@example.com", "Acme").await;

    let invited = app
        .invite_member(&owner.access_token, "bob@example.com", "VIEWER")
        .await;
    assert_eq!(data(&invited)["inviteMember"]["status"], "PENDING");
}

#[tokio::test]
async fn invitations_go_out_through_smtp() {
    let server = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = server.local_addr().unwrap().port();
    let received = tokio::spawn(async move {
        let (socket, _) = server.accept().await.unwrap();
        tiny_smtp_session(socket).await
    });
    let app = spawn_app_with(|config| {
        config.mail = MailSettings::Smtp {
            url: format!("smtp://127.0.0.1:{port}"),
            from: "refhub <no-reply@refhub.test>".into(),
        }
    })
    .await;
    let owner = app.sign_up("owner@example.com", "Acme").await;
    let bob = app.sign_up("bob@example.com", "Bob's").await;
    app.invite_member(&owner.access_token, "bob@example.com", "EDITOR")
        .await;

    let (envelope, message) = tokio::time::timeout(Duration::from_secs(30), received)
        .await
        .expect("no mail reached the SMTP listener")
        .unwrap();
    assert!(
        envelope.contains(&"MAIL FROM:<no-reply@refhub.test>".to_owned()),
        "{envelope:?}"
    );
    assert!(
        envelope.contains(&"RCPT TO:<bob@example.com>".to_owned()),
        "{envelope:?}"
    );
    assert!(message.contains("Subject: "), "{message}");
    // The body may be quoted-printable: soft line breaks removed, `=3D` is `=`.
    let body = message.replace("=\r\n", "").replace("=3D", "=");
    let token = token_in_link(&body);
    let accepted = app.accept_invitation(bob.token(), &token).await;
    assert_eq!(data(&accepted)["acceptInvitation"]["status"], "ACCEPTED");
}

/// Plays an SMTP server for one message; returns the envelope commands and the message.
async fn tiny_smtp_session(socket: tokio::net::TcpStream) -> (Vec<String>, String) {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut envelope = Vec::new();
    let mut message = String::new();
    write.write_all(b"220 tiny ESMTP\r\n").await.unwrap();
    while let Some(line) = lines.next_line().await.unwrap() {
        let command = line.to_ascii_uppercase();
        let reply: &[u8] = if command.starts_with("EHLO") || command.starts_with("HELO") {
            b"250 tiny\r\n"
        } else if command.starts_with("MAIL FROM") || command.starts_with("RCPT TO") {
            envelope.push(line.clone());
            b"250 OK\r\n"
        } else if command == "DATA" {
            write.write_all(b"354 go on\r\n").await.unwrap();
            while let Some(data_line) = lines.next_line().await.unwrap() {
                if data_line == "." {
                    break;
                }
                message.push_str(&data_line);
                message.push_str("\r\n");
            }
            b"250 queued\r\n"
        } else if command == "QUIT" {
            write.write_all(b"221 bye\r\n").await.unwrap();
            break;
        } else {
            b"250 OK\r\n"
        };
        write.write_all(reply).await.unwrap();
        if command == "DATA" && !message.is_empty() {
            // lettre keeps the connection for a QUIT; the message is all this test needs.
            return (envelope, message);
        }
    }
    (envelope, message)
}
