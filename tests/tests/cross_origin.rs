//! Cross-origin access (`CORS_ALLOWED_ORIGINS`) as the HTTP exchange a browser makes: the
//! preflight and the request of an allowed origin, the same refused for any other, the
//! service's own origin always served, and the websocket's `Origin` check. The same in a real
//! browser: `cors_browser.rs`.

use refhub_api::config::AllowedOrigins;
use refhub_tests::{TestApp, spawn_app_with};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const DASHBOARD: &str = "https://dash.example.com";
const ELSEWHERE: &str = "https://evil.example.net";

async fn app() -> TestApp {
    spawn_app_with(|config| {
        config.cors_allowed_origins =
            AllowedOrigins::parse(&format!("{DASHBOARD}, http://localhost:5173")).unwrap();
    })
    .await
}

async fn preflight(app: &TestApp, path: &str, origin: &str, method: &str) -> reqwest::Response {
    app.client
        .request(reqwest::Method::OPTIONS, app.url(path))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", method)
        .header(
            "Access-Control-Request-Headers",
            "authorization,content-type",
        )
        .send()
        .await
        .expect("OPTIONS")
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

#[tokio::test]
async fn an_allowed_origin_is_granted_the_preflight_and_reads_the_answer() {
    let app = app().await;
    let owner = app.sign_up("owner@cors.test", "Cors").await;
    for (path, method) in [
        ("/graphql", "POST"),
        ("/graphql", "GET"),
        (
            "/api/pages/0190d7a8-0000-7000-8000-000000000000/subscribers.csv",
            "GET",
        ),
        (
            "/api/pages/0190d7a8-0000-7000-8000-000000000000/subscribers/import",
            "POST",
        ),
        (
            "/api/ref-links/0190d7a8-0000-7000-8000-000000000000/qr.png",
            "GET",
        ),
    ] {
        let granted = preflight(&app, path, DASHBOARD, method).await;
        assert_eq!(granted.status().as_u16(), 200, "{method} {path}");
        assert_eq!(
            header(&granted, "access-control-allow-origin").as_deref(),
            Some(DASHBOARD)
        );
        let headers = header(&granted, "access-control-allow-headers")
            .unwrap_or_default()
            .to_ascii_lowercase();
        assert!(
            headers.contains("authorization") && headers.contains("content-type"),
            "{headers}"
        );
        assert!(
            header(&granted, "access-control-allow-methods")
                .unwrap_or_default()
                .contains(method)
        );
        assert_eq!(
            header(&granted, "access-control-max-age").as_deref(),
            Some("7200"),
            "the preflight is kept, not repeated before every call"
        );
        assert!(
            header(&granted, "access-control-allow-credentials").is_none(),
            "tokens ride in Authorization, never cookies"
        );
    }

    let response = app
        .client
        .post(app.url("/graphql"))
        .header("Origin", DASHBOARD)
        .bearer_auth(&owner.access_token)
        .json(&json!({ "query": "{ me { email } }" }))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        header(&response, "access-control-allow-origin").as_deref(),
        Some(DASHBOARD)
    );
    let exposed = header(&response, "access-control-expose-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(exposed.contains("retry-after"), "{exposed}");
    assert!(
        header(&response, "vary")
            .unwrap_or_default()
            .to_ascii_lowercase()
            .contains("origin")
    );
    let answer: Value = response.json().await.expect("JSON");
    assert_eq!(answer["data"]["me"]["email"], "owner@cors.test");

    // /api answers carry it too, errors included.
    let response = app
        .client
        .get(app.url("/api/pages/0190d7a8-0000-7000-8000-000000000000/subscribers.csv"))
        .header("Origin", "http://localhost:5173")
        .bearer_auth(&owner.access_token)
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(
        header(&response, "access-control-allow-origin").as_deref(),
        Some("http://localhost:5173")
    );
}

#[tokio::test]
async fn any_other_origin_is_refused_before_anything_runs() {
    let app = app().await;
    for (path, method) in [
        ("/graphql", "POST"),
        (
            "/api/ref-links/0190d7a8-0000-7000-8000-000000000000/qr.png",
            "GET",
        ),
    ] {
        for origin in [
            ELSEWHERE,
            "https://dash.example.com:8443",
            "http://dash.example.com",
            "null",
        ] {
            let refused = preflight(&app, path, origin, method).await;
            assert_eq!(refused.status().as_u16(), 403, "{origin} {path}");
            assert!(header(&refused, "access-control-allow-origin").is_none());
            let answer: Value = refused.json().await.expect("a JSON refusal");
            assert_eq!(answer["code"], "FORBIDDEN", "{answer}");
            assert_eq!(answer["field"], "Origin", "{answer}");
        }
    }
    // A header beyond Authorization and Content-Type is not granted either.
    let odd = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/graphql"))
        .header("Origin", DASHBOARD)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "x-odd")
        .send()
        .await
        .expect("OPTIONS");
    assert_eq!(odd.status().as_u16(), 403);

    // Sent anyway (a browser would not), the request is not executed.
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("Origin", ELSEWHERE)
        .json(&json!({
            "query": "mutation { signUp(input: {email: \"x@cors.test\", password: \"correct-Horse-battery-9\", tenantName: \"X\"}) { accessToken } }"
        }))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status().as_u16(), 403);
    assert!(header(&response, "access-control-allow-origin").is_none());
    let again = app
        .graphql(
            "mutation { signUp(input: {email: \"x@cors.test\", password: \"correct-Horse-battery-9\", tenantName: \"X\"}) { accessToken } }",
            json!({}),
            None,
        )
        .await;
    assert!(
        again["data"]["signUp"]["accessToken"].is_string(),
        "the refused sign-up never happened: {again}"
    );
}

#[tokio::test]
async fn the_services_own_origin_is_always_served_and_nothing_is_granted_by_default() {
    // Production's default: no other origin.
    let app = spawn_app_with(|config| config.cors_allowed_origins = AllowedOrigins::none()).await;
    let own = format!("http://127.0.0.1:{}", app.port);
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("Origin", &own)
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status().as_u16(), 200, "GraphiQL's own calls");
    let refused = preflight(&app, "/graphql", DASHBOARD, "POST").await;
    assert_eq!(refused.status().as_u16(), 403);
    // No Origin: not a browser's cross-origin call, served as ever.
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn the_websocket_is_opened_only_from_allowed_origins() {
    let app = app().await;
    let open = |origin: Option<&'static str>| {
        let mut request = format!("ws://127.0.0.1:{}/graphql/ws", app.port)
            .into_client_request()
            .expect("a websocket request");
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("Origin", origin.parse().unwrap());
        }
        tokio_tungstenite::connect_async(request)
    };
    for allowed in [Some(DASHBOARD), Some("http://localhost:5173"), None] {
        let (_, response) = open(allowed)
            .await
            .unwrap_or_else(|err| panic!("the socket from {allowed:?} was refused: {err}"));
        assert_eq!(response.status().as_u16(), 101);
    }
    let own: &'static str = Box::leak(format!("http://127.0.0.1:{}", app.port).into_boxed_str());
    assert!(open(Some(own)).await.is_ok(), "GraphiQL's own socket");
    match open(Some(ELSEWHERE)).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 403);
        }
        Err(other) => panic!("refused, but not with 403: {other}"),
        Ok(_) => panic!("a socket from {ELSEWHERE} was opened"),
    }
}
