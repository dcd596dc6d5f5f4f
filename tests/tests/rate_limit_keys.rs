//! Whom a rate limit counts a request against (issue #22, item 7): the TCP peer unless it is a
//! trusted proxy, then the client the proxy names; IPv6 clients by /64; a webhook key's
//! allowance only by deliveries that present the real key; REST routes by workspace, out of
//! the same allowance as `/graphql`.

#[allow(dead_code)]
#[path = "webhooks/support.rs"]
mod hooks;

use hooks::{body, connect_tenant, message, now_ms, signature};
use refhub_api::config::{ForwardingHeader, TrustedProxies};
use refhub_tests::{TestApp, error_code, spawn_app_with};
use serde_json::json;

/// Anonymous `{ __typename }` requests from `client` (as the balancer says) until one is
/// refused; how many got through, or `None` when none of `attempts` was.
async fn anonymous_until_refused(
    app: &TestApp,
    forwarded_for: &str,
    attempts: usize,
) -> Option<usize> {
    for sent in 0..attempts {
        let status = app
            .client
            .post(app.url("/graphql"))
            .header("X-Forwarded-For", forwarded_for)
            .json(&json!({ "query": "{ __typename }" }))
            .send()
            .await
            .expect("POST /graphql")
            .status()
            .as_u16();
        if status == 429 {
            return Some(sent);
        }
        assert_eq!(status, 200);
    }
    None
}

/// 1 request a second, bursts of 4, for signed-out callers.
async fn app_behind(proxies: &str) -> TestApp {
    let proxies = TrustedProxies::parse(proxies, ForwardingHeader::XForwardedFor).unwrap();
    spawn_app_with(move |config| {
        config.graphql_per_tenant_per_second = 1;
        config.trusted_proxies = proxies;
    })
    .await
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_allowance() {
    let app = app_behind("127.0.0.1").await;
    assert_eq!(
        anonymous_until_refused(&app, "198.51.100.1", 20).await,
        Some(4),
        "the first client uses up its burst"
    );
    // A client that writes the first one's address into the header itself is still itself:
    // the balancer appends the peer it saw, and the rightmost untrusted hop is the client.
    assert_eq!(
        anonymous_until_refused(&app, "198.51.100.1, 198.51.100.2", 20).await,
        Some(4),
        "another client is not limited by the first one's use"
    );
}

#[tokio::test]
async fn without_trusted_proxies_a_forwarding_header_changes_nothing() {
    let app = app_behind("").await;
    assert_eq!(
        anonymous_until_refused(&app, "198.51.100.1", 20).await,
        Some(4)
    );
    assert_eq!(
        anonymous_until_refused(&app, "198.51.100.2", 20).await,
        Some(0),
        "a forged header does not buy a fresh allowance"
    );
}

#[tokio::test]
async fn ipv6_clients_are_limited_per_64() {
    let app = app_behind("127.0.0.1").await;
    assert_eq!(
        anonymous_until_refused(&app, "2001:db8:1:2::1", 20).await,
        Some(4)
    );
    assert_eq!(
        anonymous_until_refused(&app, "2001:db8:1:2:ffff::9", 20).await,
        Some(0),
        "another address of the same /64 shares the allowance"
    );
    assert_eq!(
        anonymous_until_refused(&app, "2001:db8:1:3::1", 20).await,
        Some(4),
        "the next /64 has its own"
    );
}

#[tokio::test]
async fn forged_webhook_keys_do_not_use_up_the_real_keys_allowance() {
    // The real key: 3 deliveries a second; unknown keys: 5 a minute per address.
    let app = spawn_app_with(|config| {
        config.webhook_per_key_per_second = 3;
        config.webhook_misses_per_minute = 5;
    })
    .await;
    let tenant = connect_tenant(&app, "forged@example.com", "Forged", hooks::PAGE).await;
    let delivery = body(&[message("9001", now_ms(), "m-forged", "hi")]);
    let signed = signature(&tenant.app_secret, delivery.as_bytes());
    let (tenant_part, _) = tenant
        .webhook_path
        .rsplit_once('/')
        .map(|(_, key)| key.split_once('_').unwrap())
        .unwrap();
    let mut statuses = Vec::new();
    for n in 0..30 {
        let response = app
            .client
            .post(app.url(&format!("/webhooks/messenger/{tenant_part}_junk{n}")))
            .header("Content-Type", "application/json")
            .header("X-Hub-Signature-256", &signed)
            .body(delivery.clone())
            .send()
            .await
            .expect("POST");
        statuses.push(response.status().as_u16());
    }
    assert_eq!(&statuses[..5], &[404; 5], "{statuses:?}");
    assert!(
        statuses[5..].iter().all(|status| *status == 429),
        "past the misses' allowance the prober is slowed down: {statuses:?}"
    );
    let real = app
        .client
        .post(app.url(&tenant.webhook_path))
        .header("Content-Type", "application/json")
        .header("X-Hub-Signature-256", &signed)
        .body(delivery)
        .send()
        .await
        .expect("POST");
    assert_eq!(real.status().as_u16(), 200, "the real key still delivers");
}

#[tokio::test]
async fn rest_routes_take_from_the_workspaces_allowance() {
    // 1 a second, bursts of 4, per workspace.
    let app = spawn_app_with(|config| config.graphql_per_tenant_per_second = 1).await;
    let busy = connect_tenant(&app, "rest-busy@example.com", "Busy", hooks::PAGE).await;
    let calm = connect_tenant(&app, "rest-calm@example.com", "Calm", hooks::PAGE).await;
    let export = |tenant: &hooks::Tenant| {
        app.client
            .get(app.url(&format!("/api/pages/{}/subscribers.csv", tenant.page_id)))
            .bearer_auth(tenant.token())
            .send()
    };
    let mut refused = None;
    for sent in 0..20 {
        let response = export(&busy).await.expect("GET");
        if response.status().as_u16() == 429 {
            let retry_after = response.headers().get("retry-after").cloned();
            refused = Some((
                sent,
                retry_after,
                response.json::<serde_json::Value>().await,
            ));
            break;
        }
        assert_eq!(response.status().as_u16(), 200);
    }
    let (sent, retry_after, answer) = refused.expect("the busy workspace was never limited");
    assert!(sent <= 4, "at most the burst got through: {sent}");
    assert!(retry_after.is_some(), "429 says when to retry");
    assert_eq!(answer.unwrap()["code"], "RATE_LIMITED");
    // The same allowance covers /graphql.
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(busy.token())
        .json(&json!({ "query": "{ tenant { id } }" }))
        .send()
        .await
        .expect("POST /graphql");
    assert_eq!(response.status().as_u16(), 429);
    let response: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error_code(&response).as_deref(), Some("RATE_LIMITED"));
    assert_eq!(
        export(&calm).await.expect("GET").status().as_u16(),
        200,
        "another workspace is not limited"
    );
}
