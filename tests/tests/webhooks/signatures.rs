//! The request path's gatekeeping: the subscription handshake, `X-Hub-Signature-256` checked
//! over the raw bytes with the tenant's own app secret before anything is stored, unknown
//! keys, the 1 MiB cap and bodies that are not JSON.

use refhub_tests::{TestApp, data, random_id, spawn_app};
use serde_json::json;

use crate::support::{
    PAGE, Tenant, body, connect_tenant, event_count, now_ms, post_webhook, referral,
    settled_events, signature,
};

/// `GET` the handshake; returns `(status, body)`.
async fn handshake(
    app: &TestApp,
    path: &str,
    mode: &str,
    verify_token: &str,
    challenge: &str,
) -> (u16, String) {
    let response = app
        .client
        .get(app.url(path))
        .query(&[
            ("hub.mode", mode),
            ("hub.verify_token", verify_token),
            ("hub.challenge", challenge),
        ])
        .send()
        .await
        .expect("GET the webhook failed");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

async fn two_tenants(app: &TestApp) -> (Tenant, Tenant) {
    let acme = connect_tenant(app, "owner@acme.test", "Acme", PAGE).await;
    let globex = connect_tenant(app, "owner@globex.test", "Globex", "104857600000002").await;
    (acme, globex)
}

#[tokio::test]
async fn the_handshake_answers_the_challenge_only_to_the_right_verify_token() {
    let app = spawn_app().await;
    let (acme, globex) = two_tenants(&app).await;
    let path = &acme.webhook_path;

    assert_eq!(
        handshake(&app, path, "subscribe", &acme.verify_token, "1158201444").await,
        (200, "1158201444".to_owned())
    );
    for (case, mode, token) in [
        ("a wrong verify token", "subscribe", "not-the-token"),
        (
            "the other tenant's verify token",
            "subscribe",
            globex.verify_token.as_str(),
        ),
        ("an empty verify token", "subscribe", ""),
        ("another mode", "unsubscribe", acme.verify_token.as_str()),
    ] {
        let (status, text) = handshake(&app, path, mode, token, "1158201444").await;
        assert_eq!(status, 403, "{case}: {text}");
        assert!(!text.contains("1158201444"), "{case} echoed the challenge");
    }
    let no_token = app
        .client
        .get(app.url(&format!("{path}?hub.mode=subscribe&hub.challenge=42")))
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status().as_u16(), 403, "no verify token at all");

    let unknown = format!(
        "/webhooks/messenger/{}_{}",
        random_id().replace('-', ""),
        "abc123"
    );
    assert_eq!(
        handshake(&app, &unknown, "subscribe", &acme.verify_token, "7")
            .await
            .0,
        404
    );
    // A key naming Acme's tenant with another random part.
    let (tenant_part, _) = path.rsplit_once('_').expect("a key with a tenant part");
    let forged = format!("{tenant_part}_ForgedRandomPart123");
    assert_eq!(
        handshake(&app, &forged, "subscribe", &acme.verify_token, "7")
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn deliveries_without_the_tenants_own_signature_are_refused_and_store_nothing() {
    let app = spawn_app().await;
    let (acme, globex) = two_tenants(&app).await;
    let delivery = body(&[referral("8100000000000001", now_ms(), "promo")]);
    let bytes = delivery.as_bytes();
    let good = signature(&acme.app_secret, bytes);

    let cases: Vec<(&str, Option<String>)> = vec![
        ("no signature", None),
        ("an empty signature", Some(String::new())),
        (
            "a signature made with a wrong secret",
            Some(signature("not-the-app-secret", bytes)),
        ),
        (
            "a signature made with ANOTHER tenant's app secret",
            Some(signature(&globex.app_secret, bytes)),
        ),
        (
            "the signature of another body",
            Some(signature(
                &acme.app_secret,
                b"{\"object\":\"page\",\"entry\":[]}",
            )),
        ),
        ("a SHA-1 signature", Some(good.replace("sha256=", "sha1="))),
        (
            "a truncated signature",
            Some(good[..good.len() - 2].to_owned()),
        ),
        ("not hex", Some(format!("sha256={}", "zz".repeat(32)))),
        (
            "the bare digest",
            Some(good.trim_start_matches("sha256=").to_owned()),
        ),
    ];
    for (case, header) in &cases {
        let (status, text) = post_webhook(&app, &acme.webhook_path, bytes, header.as_deref()).await;
        assert_eq!(status, 401, "{case}: {text}");
        assert_ne!(text, "EVENT_RECEIVED", "{case}");
    }
    // A body tampered with after signing.
    let tampered = delivery.replace("promo", "prom0");
    let (status, _) =
        post_webhook(&app, &acme.webhook_path, tampered.as_bytes(), Some(&good)).await;
    assert_eq!(status, 401, "a tampered body");
    // Acme's correctly signed body at Globex's URL.
    let (status, _) = post_webhook(&app, &globex.webhook_path, bytes, Some(&good)).await;
    assert_eq!(status, 401, "Acme's signature at Globex's URL");

    assert_eq!(
        event_count(&app, acme.token(), None).await,
        0,
        "Acme stored something"
    );
    assert_eq!(
        event_count(&app, globex.token(), None).await,
        0,
        "Globex stored something"
    );

    // The control: the same body, correctly signed, is accepted and stored once.
    let (status, text) = post_webhook(&app, &acme.webhook_path, bytes, Some(&good)).await;
    assert_eq!((status, text.as_str()), (200, "EVENT_RECEIVED"));
    settled_events(&app, acme.token(), 1).await;
    assert_eq!(event_count(&app, globex.token(), None).await, 0);
}

#[tokio::test]
async fn unknown_keys_oversized_bodies_and_non_json_are_refused() {
    let app = spawn_app().await;
    let (acme, _) = two_tenants(&app).await;
    let delivery = body(&[referral("8200000000000001", now_ms(), "promo")]);
    let bytes = delivery.as_bytes();
    let signed = signature(&acme.app_secret, bytes);

    let unknown = format!(
        "/webhooks/messenger/{}_{}",
        random_id().replace('-', ""),
        "abc123"
    );
    assert_eq!(
        post_webhook(&app, &unknown, bytes, Some(&signed)).await.0,
        404
    );
    assert_eq!(
        post_webhook(&app, "/webhooks/messenger/nonsense", bytes, Some(&signed))
            .await
            .0,
        404
    );
    let (tenant_part, _) = acme.webhook_path.rsplit_once('_').unwrap();
    let forged = format!("{tenant_part}_ForgedRandomPart123");
    assert_eq!(
        post_webhook(&app, &forged, bytes, Some(&signed)).await.0,
        404
    );

    // Just over 1 MiB of valid, signed JSON.
    let limit = 1024 * 1024;
    let padded = |size: usize| {
        let mut text = json!({ "object": "page", "entry": [], "padding": "" }).to_string();
        let padding = size - text.len();
        text = text.replace(
            "\"padding\":\"\"",
            &format!("\"padding\":\"{}\"", "x".repeat(padding)),
        );
        assert_eq!(text.len(), size);
        text
    };
    let too_big = padded(limit + 1);
    let (status, _) = post_webhook(
        &app,
        &acme.webhook_path,
        too_big.as_bytes(),
        Some(&signature(&acme.app_secret, too_big.as_bytes())),
    )
    .await;
    assert_eq!(status, 413, "a body of 1 MiB + 1 byte");
    // Exactly 1 MiB is not over the cap.
    let at_limit = padded(limit);
    let (status, text) = post_webhook(
        &app,
        &acme.webhook_path,
        at_limit.as_bytes(),
        Some(&signature(&acme.app_secret, at_limit.as_bytes())),
    )
    .await;
    assert_eq!(
        (status, text.as_str()),
        (200, "EVENT_RECEIVED"),
        "a body of exactly 1 MiB"
    );

    for not_json in [&b"EVENT"[..], b"{\"object\":\"page\",", b""] {
        let (status, text) = post_webhook(
            &app,
            &acme.webhook_path,
            not_json,
            Some(&signature(&acme.app_secret, not_json)),
        )
        .await;
        assert_eq!(
            status,
            400,
            "{:?}: {text}",
            String::from_utf8_lossy(not_json)
        );
    }
    assert_eq!(event_count(&app, acme.token(), None).await, 0);
}

#[tokio::test]
async fn a_rotated_or_disconnected_webhook_url_stops_working() {
    let app = spawn_app().await;
    let (acme, _) = two_tenants(&app).await;
    let delivery = body(&[referral("8300000000000001", now_ms(), "promo")]);
    let signed = signature(&acme.app_secret, delivery.as_bytes());

    let rotated = app
        .mutate(
            "rotateWebhookKey",
            json!({}),
            "{ webhookUrl }",
            Some(acme.token()),
        )
        .await;
    let new_url = data(&rotated)["rotateWebhookKey"]["webhookUrl"]
        .as_str()
        .expect("a webhookUrl")
        .to_owned();
    let new_path = new_url
        .strip_prefix("http://refhub.test")
        .expect("the test base URL")
        .to_owned();
    assert_ne!(new_path, acme.webhook_path);
    assert_eq!(
        post_webhook(&app, &acme.webhook_path, delivery.as_bytes(), Some(&signed))
            .await
            .0,
        404,
        "the old URL still works"
    );
    assert_eq!(
        post_webhook(&app, &new_path, delivery.as_bytes(), Some(&signed))
            .await
            .0,
        200
    );

    let disconnected = app
        .mutate("disconnectMessengerApp", json!({}), "", Some(acme.token()))
        .await;
    data(&disconnected);
    assert_eq!(
        post_webhook(&app, &new_path, delivery.as_bytes(), Some(&signed))
            .await
            .0,
        404,
        "a disconnected app's URL still works"
    );
    assert_eq!(event_count(&app, acme.token(), None).await, 1);
}
