//! The live activity subscription at `/graphql/ws` (issue #6): two tenants watch their feeds
//! side by side over real websockets (`graphql-transport-ws`), signed webhook deliveries are
//! processed, and each feed shows its own tenant's activity and nothing of the other's. The
//! socket's limits (issue 22): the initialisation timeout, sockets per workspace and
//! subscriptions per socket.

#[allow(dead_code)]
#[path = "webhooks/support.rs"]
mod hooks;

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use hooks::{
    Tenant, at_ms, body, connect_tenant, create_link, deliver, instant, message, now_ms, referral,
};
use refhub_tests::{TestApp, spawn_app};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

const SUBSCRIPTION: &str =
    "subscription { activity { kind at subscriberId pageId refLinkId topicId flowRunId } }";

/// Opens `/graphql/ws` with the `graphql-transport-ws` protocol and sends `init`.
async fn open(app: &TestApp, init: Value) -> Socket {
    let mut socket = connect(app).await;
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": init }),
    )
    .await;
    socket
}

/// Opens `/graphql/ws` with the `graphql-transport-ws` protocol, sending nothing.
async fn connect(app: &TestApp) -> Socket {
    let mut request = format!("ws://127.0.0.1:{}/graphql/ws", app.port)
        .into_client_request()
        .expect("a websocket request");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().expect("a header value"),
    );
    let (socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the websocket upgrade failed");
    assert_eq!(
        response
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok()),
        Some("graphql-transport-ws"),
        "the server agrees on the protocol"
    );
    socket
}

async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .expect("sending on the websocket");
}

/// The next protocol message, or `None` when nothing comes within `wait` (or the socket
/// closes: then `Some` of a `{"type": "closed", "code": …}` marker).
async fn next(socket: &mut Socket, wait: Duration) -> Option<Value> {
    loop {
        let message = tokio::time::timeout(wait, socket.next()).await.ok()?;
        match message {
            Some(Ok(Message::Text(text))) => {
                return Some(serde_json::from_str(&text).expect("a JSON message"));
            }
            Some(Ok(Message::Close(frame))) => {
                let code = frame.map(|f| u16::from(f.code)).unwrap_or_default();
                return Some(json!({ "type": "closed", "code": code }));
            }
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return Some(json!({ "type": "closed", "code": 0 })),
        }
    }
}

/// A socket subscribed to the tenant's activity.
async fn watch(app: &TestApp, tenant: &Tenant) -> Socket {
    let mut socket = open(
        app,
        json!({ "Authorization": format!("Bearer {}", tenant.token()) }),
    )
    .await;
    let ack = next(&mut socket, Duration::from_secs(10)).await;
    assert_eq!(
        ack.as_ref().map(|a| a["type"].clone()),
        Some(json!("connection_ack")),
        "{ack:?}"
    );
    send(
        &mut socket,
        json!({ "id": "feed", "type": "subscribe", "payload": { "query": SUBSCRIPTION } }),
    )
    .await;
    socket
}

/// Activity received until `wanted` kinds have all been seen (or the deadline passes).
async fn activity_until(socket: &mut Socket, wanted: &[&str]) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    while tokio::time::Instant::now() < deadline {
        let kinds: Vec<&str> = seen
            .iter()
            .filter_map(|a: &Value| a["kind"].as_str())
            .collect();
        if wanted.iter().all(|w| kinds.contains(w)) {
            break;
        }
        match next(socket, Duration::from_millis(500)).await {
            Some(message) if message["type"] == "next" => {
                seen.push(message["payload"]["data"]["activity"].clone());
            }
            Some(message) if message["type"] == "closed" || message["type"] == "error" => {
                panic!("the subscription ended: {message}")
            }
            _ => {}
        }
    }
    seen
}

/// Whatever arrives within `wait`.
async fn drain(socket: &mut Socket, wait: Duration) -> Vec<Value> {
    let mut seen = Vec::new();
    while let Some(message) = next(socket, wait).await {
        if message["type"] == "next" {
            seen.push(message["payload"]["data"]["activity"].clone());
        }
    }
    seen
}

#[tokio::test]
async fn two_tenants_each_see_their_own_activity_and_nothing_of_the_others() {
    let app = spawn_app().await;
    let a = connect_tenant(&app, "live-a@example.com", "Live A", hooks::PAGE).await;
    let b = connect_tenant(&app, "live-b@example.com", "Live B", hooks::PAGE).await;
    let link_a = create_link(&app, a.token(), &a.page_id, "spring-sale", None, &[]).await;
    let mut feed_a = watch(&app, &a).await;
    let mut feed_b = watch(&app, &b).await;

    deliver(&app, &a, body(&[referral("7001", now_ms(), "spring-sale")])).await;
    let seen_a = activity_until(&mut feed_a, &["NEW_SUBSCRIBER", "REF_LINK_ENTRY"]).await;
    let entry = seen_a
        .iter()
        .find(|x| x["kind"] == "REF_LINK_ENTRY")
        .unwrap_or_else(|| panic!("A saw no entry: {seen_a:?}"));
    assert_eq!(entry["refLinkId"], json!(link_a));
    assert_eq!(entry["pageId"], json!(a.page_id));
    assert!(
        seen_a
            .iter()
            .any(|x| x["kind"] == "NEW_SUBSCRIBER" && x["subscriberId"] == entry["subscriberId"]),
        "{seen_a:?}"
    );
    let leaked = drain(&mut feed_b, Duration::from_millis(1500)).await;
    assert!(leaked.is_empty(), "B saw A's activity: {leaked:?}");

    // Now B's turn: A must see nothing of it.
    deliver(&app, &b, body(&[referral("8001", now_ms(), "anything")])).await;
    let seen_b = activity_until(&mut feed_b, &["NEW_SUBSCRIBER"]).await;
    assert!(
        seen_b.iter().all(|x| x["pageId"] == json!(b.page_id)),
        "{seen_b:?}"
    );
    assert!(
        !seen_b.iter().any(|x| x["kind"] == "REF_LINK_ENTRY"),
        "B has no link with that ref: {seen_b:?}"
    );
    let leaked = drain(&mut feed_a, Duration::from_millis(1500)).await;
    assert!(leaked.is_empty(), "A saw B's activity: {leaked:?}");
}

#[tokio::test]
async fn a_redelivered_event_is_not_announced_twice() {
    let app = spawn_app().await;
    let a = connect_tenant(&app, "live-c@example.com", "Live C", hooks::PAGE).await;
    let mut feed = watch(&app, &a).await;
    let delivery = body(&[referral("7002", now_ms(), "nothing")]);
    deliver(&app, &a, &delivery).await;
    let first = activity_until(&mut feed, &["NEW_SUBSCRIBER"]).await;
    assert_eq!(
        first
            .iter()
            .filter(|x| x["kind"] == "NEW_SUBSCRIBER")
            .count(),
        1
    );
    deliver(&app, &a, &delivery).await;
    let again = drain(&mut feed, Duration::from_millis(2000)).await;
    assert!(again.is_empty(), "a duplicate was announced: {again:?}");
}

#[tokio::test]
async fn a_batch_of_a_new_persons_events_announces_one_new_subscriber_and_every_entry() {
    const N: i64 = 20;
    let app = spawn_app().await;
    let a = connect_tenant(&app, "live-d@example.com", "Live D", hooks::PAGE).await;
    let link = create_link(&app, a.token(), &a.page_id, "burst", None, &[]).await;
    let mut feed = watch(&app, &a).await;
    // One body (one batch) in shuffled time order; every third second a message.
    let base = now_ms() - 60_000;
    let slot = |i: i64| (i * 7 + 3) % N;
    let is_entry = |s: i64| s % 3 != 1;
    let items: Vec<Value> = (0..N)
        .map(|i| {
            let (s, at) = (slot(i), base + slot(i) * 1_000);
            if is_entry(s) {
                referral("7003", at, "burst")
            } else {
                message("7003", at, &format!("m_burst_{s}"), "hi")
            }
        })
        .collect();
    let entries = (0..N).filter(|&s| is_entry(s)).count();
    deliver(&app, &a, body(&items)).await;

    let mut seen = activity_until(&mut feed, &["NEW_SUBSCRIBER", "REF_LINK_ENTRY"]).await;
    seen.extend(drain(&mut feed, Duration::from_millis(1500)).await);
    let new: Vec<&Value> = seen
        .iter()
        .filter(|x| x["kind"] == "NEW_SUBSCRIBER")
        .collect();
    assert_eq!(new.len(), 1, "one person, one new subscriber: {seen:#?}");
    assert_eq!(
        instant(&new[0]["at"]),
        at_ms(base),
        "announced at the person's earliest event: {seen:#?}"
    );
    let announced: Vec<&Value> = seen
        .iter()
        .filter(|x| x["kind"] == "REF_LINK_ENTRY")
        .collect();
    assert_eq!(announced.len(), entries, "every entry once: {seen:#?}");
    assert!(
        announced
            .iter()
            .all(|x| x["refLinkId"] == json!(link) && x["subscriberId"] == new[0]["subscriberId"]),
        "{seen:#?}"
    );
}

#[tokio::test]
async fn a_connection_without_a_valid_token_is_refused() {
    let app = spawn_app().await;
    for init in [json!({}), json!({ "Authorization": "Bearer not-a-token" })] {
        let mut socket = open(&app, init.clone()).await;
        let answer = next(&mut socket, Duration::from_secs(10)).await;
        let answer = answer.unwrap_or_else(|| panic!("no answer to {init}"));
        assert_ne!(
            answer["type"], "connection_ack",
            "{init} was accepted: {answer}"
        );
        if answer["type"] == "closed" {
            assert!(
                answer["code"].as_u64().unwrap_or_default() >= 4400,
                "{init}: closed with {answer}"
            );
        }
    }
}

/// The answer to operation `id`: its errors' codes (from a `next` or an `error` message).
async fn error_codes_of(socket: &mut Socket, id: &str) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::time::Instant::now() < deadline {
        let Some(message) = next(socket, Duration::from_secs(1)).await else {
            continue;
        };
        if message["id"] != id {
            assert_ne!(message["type"], "closed", "the socket closed: {message}");
            continue;
        }
        let errors = match message["type"].as_str() {
            Some("error") => message["payload"].clone(),
            Some("next") => message["payload"]["errors"].clone(),
            _ => panic!("an unexpected answer: {message}"),
        };
        return errors
            .as_array()
            .unwrap_or_else(|| panic!("no errors in {message}"))
            .iter()
            .map(|e| {
                e["extensions"]["code"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect();
    }
    panic!("no answer to {id}");
}

#[tokio::test]
async fn queries_and_mutations_are_refused_on_the_socket_and_bad_documents_carry_a_code() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@ws-only-subscriptions.test", "WS", hooks::PAGE).await;
    let mut socket = open(
        &app,
        json!({ "Authorization": format!("Bearer {}", tenant.token()) }),
    )
    .await;
    let ack = next(&mut socket, Duration::from_secs(10)).await;
    assert_eq!(
        ack.map(|a| a["type"].clone()),
        Some(json!("connection_ack"))
    );
    let operations = [
        ("q", "{ tags(first: 1) { totalCount } }"),
        (
            "m",
            "mutation { createTag(input: { name: \"over-the-socket\" }) { id } }",
        ),
        ("unknown", "subscription { activity { noSuchField } }"),
        (
            "login",
            "mutation { logIn(input: { email: \"x@y.test\", password: \"guess-1-Aa\" }) { accessToken } }",
        ),
    ];
    for (id, query) in operations {
        send(
            &mut socket,
            json!({ "id": id, "type": "subscribe", "payload": { "query": query } }),
        )
        .await;
        assert_eq!(
            error_codes_of(&mut socket, id).await,
            ["VALIDATION"],
            "{query}"
        );
    }
    let tags = app
        .graphql(
            "{ tags(first: 1) { totalCount } }",
            json!({}),
            Some(tenant.token()),
        )
        .await;
    assert_eq!(
        refhub_tests::data(&tags)["tags"]["totalCount"],
        0,
        "the mutation did nothing"
    );
}

#[tokio::test]
async fn a_socket_closes_once_its_credential_is_revoked() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@ws-revoked.test", "WS revoked", hooks::PAGE).await;
    let created = app
        .create_api_key_raw(tenant.token(), "feed", "VIEWER")
        .await;
    let created = &refhub_tests::data(&created)["createApiKey"];
    let secret = created["secret"].as_str().expect("a secret").to_owned();
    let mut socket = open(&app, json!({ "Authorization": format!("Bearer {secret}") })).await;
    let ack = next(&mut socket, Duration::from_secs(10)).await;
    assert_eq!(
        ack.map(|a| a["type"].clone()),
        Some(json!("connection_ack"))
    );
    send(
        &mut socket,
        json!({ "id": "feed", "type": "subscribe", "payload": { "query": SUBSCRIPTION } }),
    )
    .await;
    let revoked = app
        .graphql(
            "mutation($id: ID!) { revokeApiKey(input: { id: $id }) { revokedAt } }",
            json!({ "id": created["apiKey"]["id"] }),
            Some(tenant.token()),
        )
        .await;
    assert!(refhub_tests::data(&revoked)["revokeApiKey"]["revokedAt"].is_string());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the socket of a revoked key stayed open"
        );
        if let Some(message) = next(&mut socket, Duration::from_secs(1)).await
            && message["type"] == "closed"
        {
            // Unauthorized: graphql-ws does not retry it with the same dead credential.
            assert_eq!(message["code"], 4401, "{message}");
            break;
        }
    }
}

/// A socket signed in as `session`, acknowledged.
async fn acknowledged(app: &TestApp, token: &str) -> Socket {
    let mut socket = open(app, json!({ "Authorization": format!("Bearer {token}") })).await;
    let ack = next(&mut socket, Duration::from_secs(10)).await;
    assert_eq!(
        ack.as_ref().map(|a| a["type"].clone()),
        Some(json!("connection_ack")),
        "{ack:?}"
    );
    socket
}

/// Waits for the socket to close; its close code.
async fn close_code(socket: &mut Socket) -> u64 {
    loop {
        match next(socket, Duration::from_secs(10)).await {
            Some(message) if message["type"] == "closed" => {
                return message["code"].as_u64().unwrap_or_default();
            }
            Some(_) => continue,
            None => panic!("the socket stayed open"),
        }
    }
}

#[tokio::test]
async fn a_socket_that_never_initialises_is_closed_with_4408() {
    let app = spawn_app().await;
    let mut socket = connect(&app).await;
    assert_eq!(close_code(&mut socket).await, 4408);
}

#[tokio::test]
async fn a_workspace_holds_at_most_its_sockets_and_gets_a_place_back_when_one_closes() {
    let app = refhub_tests::spawn_app_with(|config| config.ws_connections_per_tenant = 2).await;
    let ours = app.sign_up("sockets-a@example.com", "Sockets A").await;
    let theirs = app.sign_up("sockets-b@example.com", "Sockets B").await;
    let mut first = acknowledged(&app, &ours.access_token).await;
    let _second = acknowledged(&app, &ours.access_token).await;
    let mut third = open(
        &app,
        json!({ "Authorization": format!("Bearer {}", ours.access_token) }),
    )
    .await;
    assert_eq!(close_code(&mut third).await, 1013, "try again later");
    // Another workspace's allowance is its own.
    let _elsewhere = acknowledged(&app, &theirs.access_token).await;
    // A closed socket's place is free again (once the server has seen it close).
    first.close(None).await.expect("closing");
    close_code(&mut first).await;
    let mut admitted = false;
    for _ in 0..50 {
        let mut again = open(
            &app,
            json!({ "Authorization": format!("Bearer {}", ours.access_token) }),
        )
        .await;
        match next(&mut again, Duration::from_secs(10)).await {
            Some(message) if message["type"] == "connection_ack" => {
                admitted = true;
                break;
            }
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    assert!(admitted, "the place was never given back");
}

#[tokio::test]
async fn a_socket_runs_at_most_its_subscriptions_and_a_repeated_id_closes_it_with_4409() {
    let app = refhub_tests::spawn_app_with(|config| config.ws_subscriptions_per_socket = 2).await;
    let owner = app
        .sign_up("subscriptions@example.com", "Subscriptions")
        .await;
    let mut socket = acknowledged(&app, &owner.access_token).await;
    let subscribe =
        |id: &str| json!({ "id": id, "type": "subscribe", "payload": { "query": SUBSCRIPTION } });
    send(&mut socket, subscribe("a")).await;
    send(&mut socket, subscribe("b")).await;
    send(&mut socket, subscribe("c")).await;
    let refused = next(&mut socket, Duration::from_secs(10))
        .await
        .expect("an answer");
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["id"], "c", "{refused}");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "CONFLICT");
    // The socket goes on: completing one makes room for another, and only one.
    send(&mut socket, json!({ "id": "a", "type": "complete" })).await;
    send(&mut socket, subscribe("c")).await;
    send(&mut socket, subscribe("d")).await;
    let completed = next(&mut socket, Duration::from_secs(10))
        .await
        .expect("an answer");
    assert_eq!(completed, json!({ "id": "a", "type": "complete" }));
    let refused = next(&mut socket, Duration::from_secs(10))
        .await
        .expect("an answer");
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["id"], "d", "c took a's place: {refused}");
    // An id already running breaks the protocol.
    send(&mut socket, subscribe("b")).await;
    assert_eq!(close_code(&mut socket).await, 4409);
}

// ---------------------------------------------------------------------------------------------
// The socket's manners: close handshakes, pings, subprotocols, and tokens that expire.

#[tokio::test]
async fn the_clients_close_frame_is_answered_at_once() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@ws-close.test", "WS close", hooks::PAGE).await;
    let mut socket = watch(&app, &tenant).await;
    socket
        .send(Message::Close(Some(
            tokio_tungstenite::tungstenite::protocol::CloseFrame {
                code: 1000.into(),
                reason: "bye".into(),
            },
        )))
        .await
        .expect("sending a close frame");
    let started = tokio::time::Instant::now();
    let answer = next(&mut socket, Duration::from_secs(5)).await;
    assert_eq!(
        answer,
        Some(json!({ "type": "closed", "code": 1000 })),
        "the close was not answered in kind"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn pings_are_answered_with_their_payload() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@ws-ping.test", "WS ping", hooks::PAGE).await;
    let mut socket = watch(&app, &tenant).await;
    socket
        .send(Message::Ping(b"are you there".to_vec().into()))
        .await
        .expect("sending a ping");
    let pong = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Pong(payload))) => return payload.to_vec(),
                Some(Ok(_)) => continue,
                other => panic!("the socket ended without a pong: {other:?}"),
            }
        }
    })
    .await
    .expect("no pong within 5 s");
    assert_eq!(pong, b"are you there");
}

#[tokio::test]
async fn a_subprotocol_the_client_did_not_offer_is_never_named() {
    let app = spawn_app().await;
    let request = format!("ws://127.0.0.1:{}/graphql/ws", app.port)
        .into_client_request()
        .expect("a websocket request");
    let (_, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the websocket upgrade failed");
    assert_eq!(response.headers().get("sec-websocket-protocol"), None);
}

/// The session's access token, re-signed to expire in `seconds` (the session stays the same).
fn expiring_in(token: &str, seconds: i64) -> String {
    let mut claims = refhub_tests::jwt::decode(token).claims;
    claims["exp"] = json!(refhub_tests::jwt::now() + seconds);
    refhub_tests::jwt::sign_hs256(&claims, refhub_api::config::TEST_JWT_SECRET.as_bytes())
}

#[tokio::test]
async fn a_socket_outlives_its_access_token_and_ends_with_its_session() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@ws-expiry.test", "WS expiry", hooks::PAGE).await;
    let short = expiring_in(tenant.token(), 3);
    let mut socket = open(&app, json!({ "Authorization": format!("Bearer {short}") })).await;
    let ack = next(&mut socket, Duration::from_secs(10)).await;
    assert_eq!(
        ack.map(|a| a["type"].clone()),
        Some(json!("connection_ack"))
    );
    send(
        &mut socket,
        json!({ "id": "feed", "type": "subscribe", "payload": { "query": SUBSCRIPTION } }),
    )
    .await;

    // Past the token's expiry and a re-check of the socket, the feed still runs.
    tokio::time::sleep(Duration::from_secs(13)).await;
    deliver(&app, &tenant, body(&[referral("7301", now_ms(), "late")])).await;
    let seen = activity_until(&mut socket, &["NEW_SUBSCRIBER"]).await;
    assert!(
        seen.iter().any(|x| x["kind"] == "NEW_SUBSCRIBER"),
        "the socket stopped at its token's expiry: {seen:?}"
    );

    // An expired token opens no new socket, and says so in a way graphql-ws does not retry.
    let mut late = open(&app, json!({ "Authorization": format!("Bearer {short}") })).await;
    assert_eq!(close_code(&mut late).await, 4401);

    // Signing out ends the session, and the socket with it.
    let signed_out = app
        .graphql(
            "mutation { logOut { revokedSessions } }",
            json!({}),
            Some(tenant.token()),
        )
        .await;
    assert!(signed_out["errors"].is_null(), "{signed_out}");
    assert_eq!(close_code(&mut socket).await, 4401);
}
