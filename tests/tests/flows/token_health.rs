//! Token health (issue #23, item 5), against the stand-in Graph API: a page token revoked in the
//! middle of a run marks the page `NEEDS_RECONNECT`, tells live dashboards, and holds the page's
//! messages (pending, not failed, no try counted); reconnecting the page with a new token
//! (`updatePage`) sends them in their order. The periodic check catches a token that died
//! while nothing was sent, through `debug_token` (with the workspace's app) or a read with the
//! page token (when Meta refuses the app's credentials).

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use refhub_tests::{TestApp, data, spawn_app, spawn_app_with, str_at};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::hooks::{APP_ID, body, message, wait_for_subscriber};
use crate::support::{
    PAGE, PAGE_TOKEN, Tenant, WAIT, connect_tenant, create_flow, deliver, eventually, messages,
    now_ms, runs, start_flow_raw,
};

const PSID_A: &str = "6100000000000101";
const PSID_B: &str = "6100000000000102";
const NEW_TOKEN: &str = "EAAB-token-reconnected";

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A socket watching the tenant's live activity.
async fn watch_activity(app: &TestApp, tenant: &Tenant) -> Socket {
    let mut request = format!("ws://127.0.0.1:{}/graphql/ws", app.port)
        .into_client_request()
        .expect("a websocket request");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().expect("a header value"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the websocket upgrade");
    let init = json!({ "type": "connection_init",
        "payload": { "Authorization": format!("Bearer {}", tenant.token()) } });
    socket
        .send(Message::Text(init.to_string().into()))
        .await
        .expect("init");
    let ack = next_message(&mut socket, Duration::from_secs(10)).await;
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    let subscribe = json!({ "id": "feed", "type": "subscribe", "payload": {
        "query": "subscription { activity { kind at pageId subscriberId } }" } });
    socket
        .send(Message::Text(subscribe.to_string().into()))
        .await
        .expect("subscribe");
    socket
}

async fn next_message(socket: &mut Socket, wait: Duration) -> Value {
    loop {
        match tokio::time::timeout(wait, socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                return serde_json::from_str(&text).expect("a JSON message");
            }
            Ok(Some(Ok(_))) => continue,
            other => return json!({ "type": "nothing", "detail": format!("{other:?}") }),
        }
    }
}

/// Activity until one of `kind` arrives (or the deadline).
async fn activity_of_kind(socket: &mut Socket, kind: &str) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut seen = Vec::new();
    while tokio::time::Instant::now() < deadline {
        let message = next_message(socket, Duration::from_millis(500)).await;
        if message["type"] == "next" {
            let activity = message["payload"]["data"]["activity"].clone();
            let done = activity["kind"] == kind;
            seen.push(activity);
            if done {
                break;
            }
        }
    }
    seen
}

const PAGE_FIELDS: &str = "{ id status statusReason { code subcode message } statusChangedAt }";

async fn page(app: &TestApp, token: &str, id: &str) -> Value {
    let response = app
        .graphql(
            &format!("query($id: ID!) {{ page(id: $id) {PAGE_FIELDS} }}"),
            json!({ "id": id }),
            Some(token),
        )
        .await;
    data(&response)["page"].clone()
}

async fn page_with_status(app: &TestApp, tenant: &Tenant, status: &str) -> Value {
    eventually(&format!("the page {status}"), WAIT, async || {
        let page = page(app, tenant.token(), &tenant.page_id).await;
        if page["status"] == status {
            Ok(page)
        } else {
            Err(format!("{page}"))
        }
    })
    .await
}

/// The Send API calls Meta accepted (the stand-in answered 200), in arrival order, as
/// (recipient, text).
async fn accepted_sends(app: &TestApp) -> Vec<(String, String)> {
    let server = app.meta.server().expect("the stand-in's own server");
    let requests = server.received_requests().await.unwrap_or_default();
    let mut sends = Vec::new();
    for request in requests {
        if !(request.method.as_str() == "POST" && request.url.path().ends_with("/messages")) {
            continue;
        }
        let token = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "access_token")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        // Nothing was sent before the old token was revoked: only the new one's sends were
        // accepted.
        if token != NEW_TOKEN {
            continue;
        }
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        sends.push((
            body["recipient"]["id"].as_str().unwrap_or("").to_owned(),
            body["message"]["text"].as_str().unwrap_or("").to_owned(),
        ));
    }
    sends
}

async fn new_subscriber(app: &TestApp, tenant: &Tenant, psid: &str, mid: &str) -> String {
    deliver(app, tenant, body(&[message(psid, now_ms(), mid, "hello")])).await;
    let found = wait_for_subscriber(app, tenant, psid, "stored", |_| true).await;
    str_at(&found, "/id")
}

#[tokio::test]
async fn a_revoked_token_holds_the_pages_messages_until_it_is_reconnected_then_they_go_in_order() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@token-health.test", "Health", PAGE).await;
    let token = tenant.token();
    let mut feed = watch_activity(&app, &tenant).await;
    let a = new_subscriber(&app, &tenant, PSID_A, "mid.health.a").await;
    let b = new_subscriber(&app, &tenant, PSID_B, "mid.health.b").await;
    let flow = create_flow(
        &app,
        token,
        "Three steps",
        json!([
            { "sendText": { "text": "one" } },
            { "sendText": { "text": "two" } },
            { "sendText": { "text": "three" } },
        ]),
    )
    .await;
    let before = page(&app, token, &tenant.page_id).await;
    assert_eq!(before["status"], "ACTIVE", "{before}");
    assert_eq!(before["statusReason"], Value::Null, "{before}");

    // The person who manages the page changed their password: Meta refuses its token.
    app.meta.revoke_page(PAGE, 460);
    let started = start_flow_raw(&app, token, &flow, &[&a, &b]).await;
    assert_eq!(
        data(&started)["startFlow"]["runs"].as_array().map(Vec::len),
        Some(2),
        "{started:#}"
    );

    let marked = page_with_status(&app, &tenant, "NEEDS_RECONNECT").await;
    assert_eq!(marked["statusReason"]["code"], 190, "{marked}");
    assert_eq!(marked["statusReason"]["subcode"], 460, "{marked}");
    assert!(
        marked["statusReason"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("Error validating access token")),
        "Meta's message is kept: {marked}"
    );
    assert!(marked["statusChangedAt"].is_string(), "{marked}");
    let activity = activity_of_kind(&mut feed, "PAGE_NEEDS_RECONNECT").await;
    let announced: Vec<&Value> = activity
        .iter()
        .filter(|a| a["kind"] == "PAGE_NEEDS_RECONNECT")
        .collect();
    assert_eq!(announced.len(), 1, "one announcement: {activity:#?}");
    assert_eq!(announced[0]["pageId"], json!(tenant.page_id));

    // The messages wait: pending, no try counted, nothing failed, for as long as it takes.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let waiting = messages(&app, token, json!({})).await;
    assert_eq!(waiting.len(), 2, "each run's first message: {waiting:#?}");
    for message in &waiting {
        assert_eq!(message["status"], "PENDING", "{message:#}");
        assert_eq!(message["attempts"], 0, "no try counted: {message:#}");
        assert_eq!(message["metaMessageId"], Value::Null);
    }
    for run in runs(&app, token, json!({ "flowId": flow })).await {
        assert_eq!(run["status"], "SENDING", "the run waits: {run:#}");
    }
    assert!(accepted_sends(&app).await.is_empty());

    // Reconnecting with a new token resumes the page.
    app.meta.add_page(PAGE, "Health page", None, NEW_TOKEN);
    let updated = app
        .mutate(
            "updatePage",
            json!({ "id": tenant.page_id, "accessToken": NEW_TOKEN }),
            PAGE_FIELDS,
            Some(token),
        )
        .await;
    assert_eq!(
        data(&updated)["updatePage"]["status"],
        "ACTIVE",
        "{updated:#}"
    );
    assert_eq!(data(&updated)["updatePage"]["statusReason"], Value::Null);

    let finished = eventually("both runs completed", WAIT, async || {
        let all = runs(&app, token, json!({ "flowId": flow })).await;
        if all.iter().all(|r| r["status"] == "COMPLETED") {
            Ok(all)
        } else {
            Err(format!("{all:#?}"))
        }
    })
    .await;
    assert_eq!(finished.len(), 2);
    let sent = accepted_sends(&app).await;
    for psid in [PSID_A, PSID_B] {
        let texts: Vec<&str> = sent
            .iter()
            .filter(|(to, _)| to == psid)
            .map(|(_, text)| text.as_str())
            .collect();
        assert_eq!(
            texts,
            ["one", "two", "three"],
            "in order, once each: {sent:#?}"
        );
    }
    for message in messages(&app, token, json!({})).await {
        assert_eq!(message["status"], "SENT", "{message:#}");
        assert_eq!(message["attempts"], 1, "one try each: {message:#}");
    }
    app.meta.assert_only_documented_calls();
}

#[tokio::test]
async fn the_periodic_check_catches_a_dead_token_without_a_send() {
    let app = spawn_app_with(|config| {
        config.token_check_interval = Duration::from_secs(1);
    })
    .await;
    // One workspace whose app Meta knows (checked with `debug_token`), one whose app secret
    // Meta refuses (checked by reading `/me` with the page token).
    let known = connect_tenant(&app, "owner@check-known.test", "Known", PAGE).await;
    app.meta.add_app(APP_ID, &known.app_secret);
    const OTHER_PAGE: &str = "104857600000002";
    let other = connect_tenant(&app, "owner@check-other.test", "Other", OTHER_PAGE).await;
    app.meta
        .add_page(OTHER_PAGE, "Other page", None, "EAAB-token-other");
    app.mutate(
        "updatePage",
        json!({ "id": other.page_id, "accessToken": "EAAB-token-other" }),
        "{ id }",
        Some(other.token()),
    )
    .await;

    // Both stay active while their tokens work (a few checks pass).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    for tenant in [&known, &other] {
        let page = page(&app, tenant.token(), &tenant.page_id).await;
        assert_eq!(page["status"], "ACTIVE", "{page}");
    }

    // The tokens die while nothing is sent.
    app.meta.revoke_token(PAGE_TOKEN, 463);
    app.meta.revoke_token("EAAB-token-other", 458);
    let known_page = page_with_status(&app, &known, "NEEDS_RECONNECT").await;
    assert_eq!(known_page["statusReason"]["code"], 190, "{known_page}");
    assert_eq!(known_page["statusReason"]["subcode"], 463, "{known_page}");
    let other_page = page_with_status(&app, &other, "NEEDS_RECONNECT").await;
    assert_eq!(other_page["statusReason"]["subcode"], 458, "{other_page}");

    let server = app.meta.server().expect("the stand-in's own server");
    let requests = server.received_requests().await.unwrap_or_default();
    let paths: Vec<String> = requests.iter().map(|r| r.url.path().to_owned()).collect();
    assert!(
        paths.iter().any(|p| p.ends_with("/debug_token")),
        "{paths:#?}"
    );
    assert!(paths.iter().any(|p| p.ends_with("/me")), "{paths:#?}");
    assert!(
        !paths.iter().any(|p| p.ends_with("/messages")),
        "no send was needed: {paths:#?}"
    );
    app.meta.assert_only_documented_calls();
}
