//! A dashboard on its own origin, in a real browser (headless Chromium, see
//! `refhub_tests::browser`): two small pages are served from two other local origins (other
//! ports), one named in `CORS_ALLOWED_ORIGINS` and one not. From each, the page calls
//! `POST /graphql` with `fetch`, JSON and `Authorization: Bearer …` (which makes Chromium ask
//! with a preflight first), reads a CSV export under `/api/…`, and opens `/graphql/ws`.
//! The allowed page gets its answers and its socket; the other is blocked by the browser, and
//! its mutation never runs.

use std::time::Duration;

use refhub_api::config::AllowedOrigins;
use refhub_tests::browser::Browser;
use refhub_tests::{TestApp, spawn_app_with};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A local origin serving one small page at every address (plain HTTP/1.1 over TCP).
async fn page_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port for the page");
    let origin = format!(
        "http://127.0.0.1:{}",
        listener.local_addr().expect("an address").port()
    );
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                // Reads the request head (the page ignores what was asked), then answers.
                let mut head = Vec::new();
                let mut buffer = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buffer[..n]),
                    }
                }
                let page = "<!doctype html><html><head><title>dashboard</title></head>\
                            <body>a dashboard</body></html>";
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{page}",
                    page.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    origin
}

/// What the page's calls to the API came to, as the page's script saw them.
async fn call_from_page(browser: &Browser, app: &TestApp, token: &str, tag: &str) -> Value {
    browser
        .script(
            "const [api, ws, token, tag] = arguments;
             window.outcome = null;
             const result = {};
             const fetched = (request) => request.then(
               async (response) => ({ status: response.status, body: await response.text() }),
               (error) => ({ blocked: String(error) }));
             const headers = { 'Content-Type': 'application/json', Authorization: 'Bearer ' + token };
             const socket = new Promise((resolve) => {
               const socket = new WebSocket(ws, 'graphql-transport-ws');
               socket.onopen = () => socket.send(JSON.stringify({
                 type: 'connection_init', payload: { Authorization: 'Bearer ' + token } }));
               socket.onmessage = (message) => { resolve(JSON.parse(message.data).type); socket.close(); };
               socket.onclose = (event) => resolve('closed ' + event.code);
             });
             (async () => {
               result.me = await fetched(fetch(api + '/graphql', { method: 'POST', headers,
                 body: JSON.stringify({ query: '{ me { email } }' }) }));
               result.mutation = await fetched(fetch(api + '/graphql', { method: 'POST', headers,
                 body: JSON.stringify({
                   query: 'mutation($input: CreateTagInput!) { createTag(input: $input) { name } }',
                   variables: { input: { name: tag } } }) }));
               result.csv = await fetched(fetch(
                 api + '/api/pages/0190d7a8-0000-7000-8000-000000000000/subscribers.csv',
                 { headers: { Authorization: 'Bearer ' + token } }));
               result.socket = await socket;
               window.outcome = result;
             })();
             return true;",
            json!([
                app.address,
                format!("ws://127.0.0.1:{}/graphql/ws", app.port),
                token,
                tag
            ]),
        )
        .await;
    browser
        .wait_for(
            "the page's calls to the API to settle",
            "return window.outcome || false;",
            json!([]),
        )
        .await
}

#[tokio::test]
async fn a_page_on_an_allowed_origin_calls_the_api_and_another_is_blocked_in_chromium() {
    let dashboard = page_server().await;
    let elsewhere = page_server().await;
    let allowed = dashboard.clone();
    let app = spawn_app_with(move |config| {
        config.cors_allowed_origins = AllowedOrigins::parse(&allowed).expect("an origin");
    })
    .await;
    let owner = app.sign_up("owner@dashboard.test", "Dashboard").await;
    let browser = Browser::launch().await;

    browser.goto(&format!("{dashboard}/")).await;
    let outcome = call_from_page(&browser, &app, &owner.access_token, "from-dashboard").await;
    assert_eq!(outcome["me"]["status"], 200, "{outcome:#}");
    let me: Value = serde_json::from_str(outcome["me"]["body"].as_str().unwrap_or_default())
        .expect("a JSON answer the page could read");
    assert_eq!(me["data"]["me"]["email"], "owner@dashboard.test");
    assert_eq!(outcome["mutation"]["status"], 200, "{outcome:#}");
    assert!(
        outcome["mutation"]["body"]
            .as_str()
            .is_some_and(|body| body.contains("from-dashboard")),
        "{outcome:#}"
    );
    // Not found, but readable: the page learns why.
    assert_eq!(outcome["csv"]["status"], 404, "{outcome:#}");
    assert_eq!(outcome["socket"], "connection_ack", "{outcome:#}");

    browser.goto(&format!("{elsewhere}/")).await;
    let outcome = call_from_page(&browser, &app, &owner.access_token, "from-elsewhere").await;
    for call in ["me", "mutation", "csv"] {
        assert!(
            outcome[call]["blocked"]
                .as_str()
                .is_some_and(|error| error.contains("TypeError")),
            "{call} from {elsewhere} was not blocked: {outcome:#}"
        );
    }
    assert!(
        outcome["socket"]
            .as_str()
            .is_some_and(|socket| socket.starts_with("closed")),
        "the socket from {elsewhere} was opened: {outcome:#}"
    );

    // The blocked mutation never ran: its preflight was refused, so it was never sent.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let tags = app
        .graphql_ok(
            "{ tags { totalCount edges { node { name } } } }",
            json!({}),
            owner.token(),
        )
        .await;
    assert_eq!(tags["tags"]["totalCount"], 1, "{tags}");
    assert_eq!(tags["tags"]["edges"][0]["node"]["name"], "from-dashboard");
}
