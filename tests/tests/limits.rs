//! Limits on what one request may ask for and how often (issue #7): GraphQL depth, complexity
//! (list fields cost by `first`), aliases, `first` at most 100, the body size, introspection
//! and GraphiQL switched off, and the per-tenant and per-key rate limits with `429` and
//! `Retry-After`; list fields served whole cost by their bound, cycles included (issue 22);
//! documents too long or too big are refused before validation, and answers carry at most a
//! hundred errors; "Did you mean" suggestions can be switched off.

#[allow(dead_code)]
#[path = "webhooks/support.rs"]
mod hooks;

use hooks::{body, connect_tenant, message, now_ms, signature};
use refhub_tests::{data, error_code, error_field, spawn_app, spawn_app_with};
use serde_json::{Value, json};

async fn post_graphql(
    app: &refhub_tests::TestApp,
    query: &str,
    token: &str,
) -> (u16, Value, Option<String>) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("POST /graphql");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (
        status,
        response.json().await.unwrap_or(Value::Null),
        retry_after,
    )
}

fn message_of(response: &Value) -> String {
    response["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_query_nested_too_deep_is_refused_even_when_cheap() {
    let app = spawn_app().await;
    let owner = app.sign_up("depth@example.com", "Depth").await;
    // page → refLinks → nodes → page …: each round three levels deeper, each list empty.
    let mut selection = "id".to_owned();
    for _ in 0..6 {
        selection = format!("page {{ refLinks(first: 0) {{ nodes {{ {selection} }} }} }}");
    }
    let query =
        format!("{{ refLink(id: \"00000000-0000-0000-0000-000000000000\") {{ {selection} }} }}");
    let (status, response, _) = post_graphql(&app, &query, &owner.access_token).await;
    assert_eq!(status, 200);
    assert_eq!(
        error_code(&response).as_deref(),
        Some("VALIDATION"),
        "{response}"
    );
    assert!(
        message_of(&response).contains("nested too deep"),
        "{response}"
    );
}

#[tokio::test]
async fn a_syntax_error_says_where_and_what_was_expected_without_echoing_the_query() {
    let app = spawn_app().await;
    let owner = app.sign_up("syntax@example.com", "Syntax").await;
    let name = "x".repeat(50_000);
    let query = format!("{{ tenant {{ id {name} ) }}");
    let (status, response, _) = post_graphql(&app, &query, &owner.access_token).await;
    assert_eq!(status, 200);
    assert_eq!(
        error_code(&response).as_deref(),
        Some("VALIDATION"),
        "{response}"
    );
    assert_eq!(
        message_of(&response),
        "syntax error: expected selection_set, selection, directive, or arguments"
    );
    assert_eq!(
        response["errors"][0]["locations"],
        json!([{ "line": 1, "column": query.find(')').unwrap() + 1 }]),
        "the location says where"
    );
    assert!(
        response.to_string().len() < 1_000,
        "the answer does not echo the 50 KB line: {} bytes",
        response.to_string().len()
    );
}

#[tokio::test]
async fn values_nested_thousands_deep_are_refused_before_parsing_and_the_server_lives_on() {
    let app = spawn_app().await;
    let owner = app.sign_up("deep-values@example.com", "Deep values").await;
    let deep_list = format!("{}1{}", "[".repeat(5_000), "]".repeat(5_000));
    let deep_object = format!("{}1{}", "{a:".repeat(5_000), "}".repeat(5_000));
    let documents = [
        format!("{{ tags(after: {deep_list}) {{ totalCount }} }}"),
        format!("{{ tags(after: {deep_object}) {{ totalCount }} }}"),
        // A variable's default is parsed even though this operation never runs.
        format!(
            "query Unused($v: String = {deep_list}) {{ me {{ id }} }} query Run {{ me {{ id }} }}"
        ),
    ];
    for (i, document) in documents.iter().enumerate() {
        for token in [Some(owner.access_token.as_str()), None] {
            let mut request = app.client.post(app.url("/graphql")).json(&json!({
                "query": document,
                "operationName": if i == 2 { Some("Run") } else { None },
            }));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response: Value = request
                .send()
                .await
                .expect("the server answers")
                .json()
                .await
                .expect("a JSON answer");
            assert_eq!(
                error_code(&response).as_deref(),
                Some("VALIDATION"),
                "document {i}: {response}"
            );
            assert!(
                message_of(&response).contains("nested too deep"),
                "{response}"
            );
        }
    }
    // Still serving.
    let (status, response, _) = post_graphql(&app, "{ me { id } }", &owner.access_token).await;
    assert_eq!(status, 200, "{response}");
    assert!(data(&response)["me"]["id"].is_string(), "{response}");
}

#[tokio::test]
async fn list_fields_cost_by_first_so_nested_pages_of_a_hundred_are_refused() {
    let app = spawn_app().await;
    let owner = app.sign_up("cost@example.com", "Cost").await;
    let heavy = "{ pages(first: 100) { nodes { refLinks(first: 100) { nodes { id ref url } } } } }";
    let (_, response, _) = post_graphql(&app, heavy, &owner.access_token).await;
    assert_eq!(
        error_code(&response).as_deref(),
        Some("VALIDATION"),
        "{response}"
    );
    assert!(message_of(&response).contains("too complex"), "{response}");
    // The same shape with small pages, and a dashboard's page of 100 subscribers, pass.
    let light = "{ pages(first: 5) { nodes { refLinks(first: 10) { nodes { id ref url } } } } }";
    let (_, response, _) = post_graphql(&app, light, &owner.access_token).await;
    assert!(response["errors"].is_null(), "{response}");
    let page = "{ webhookEvents(first: 100) { totalCount nodes { id kind status body outcome error attempts occurredAt receivedAt processedAt } } }";
    let (_, response, _) = post_graphql(&app, page, &owner.access_token).await;
    assert!(response["errors"].is_null(), "{response}");
}

/// Creates a flow with `rules` keyword rules; returns its id.
async fn flow_with_rules(app: &refhub_tests::TestApp, token: &str, rules: usize) -> String {
    let flow = app
        .mutate(
            "createFlow",
            json!({ "name": "Cycle", "steps": [{ "sendText": { "text": "hi" } }] }),
            "{ id }",
            Some(token),
        )
        .await;
    let flow_id = data(&flow)["createFlow"]["id"]
        .as_str()
        .expect("a flow")
        .to_owned();
    for i in 0..rules {
        let rule = create_rule(app, token, &flow_id, i).await;
        assert!(rule["errors"].is_null(), "{rule}");
    }
    flow_id
}

async fn create_rule(app: &refhub_tests::TestApp, token: &str, flow_id: &str, i: usize) -> Value {
    app.mutate(
        "createFlowTrigger",
        json!({
            "flowId": flow_id,
            "rule": { "keyword": { "keyword": format!("word{i}"), "match": "EXACT" } },
        }),
        "{ id }",
        Some(token),
    )
    .await
}

#[tokio::test]
async fn a_cycle_through_plain_lists_is_counted_at_every_turn_and_refused_before_running() {
    let app = spawn_app().await;
    let owner = app.sign_up("cycle@example.com", "Cycle").await;
    let flow_id = flow_with_rules(&app, &owner.access_token, 6).await;
    // The probe's shape: flow → triggers → flow → triggers …, 7 levels of rules. With 6 rules
    // it answers 6^7 (280,000) copies of the flow.
    let mut selection = "id name steps { sendText { text } }".to_owned();
    for _ in 0..7 {
        selection = format!("id name triggers {{ id flow {{ {selection} }} }}");
    }
    let query = format!("{{ flow(id: \"{flow_id}\") {{ {selection} }} }}");
    let (status, response, _) = post_graphql(&app, &query, &owner.access_token).await;
    assert_eq!(status, 200);
    assert_eq!(
        error_code(&response).as_deref(),
        Some("VALIDATION"),
        "{response}"
    );
    assert!(message_of(&response).contains("too complex"), "{response}");
    assert!(response["data"].is_null(), "nothing ran: {response}");
    // The same cycle turned once is an ordinary query.
    let once = format!("{{ flow(id: \"{flow_id}\") {{ triggers {{ id flow {{ id name }} }} }} }}");
    let (_, response, _) = post_graphql(&app, &once, &owner.access_token).await;
    assert!(response["errors"].is_null(), "{response}");
    assert_eq!(
        data(&response)["flow"]["triggers"].as_array().map(Vec::len),
        Some(6)
    );
}

#[tokio::test]
async fn a_flow_holds_at_most_twenty_rules() {
    let app = spawn_app().await;
    let owner = app.sign_up("rules@example.com", "Rules").await;
    let flow_id = flow_with_rules(&app, &owner.access_token, 20).await;
    let refused = create_rule(&app, &owner.access_token, &flow_id, 20).await;
    assert_eq!(
        error_code(&refused).as_deref(),
        Some("VALIDATION"),
        "{refused}"
    );
    assert_eq!(
        error_field(&refused).as_deref(),
        Some("flowId"),
        "{refused}"
    );
    assert!(
        message_of(&refused).contains("at most 20 rules"),
        "{refused}"
    );
}

async fn post_anonymous(app: &refhub_tests::TestApp, query: &str) -> Value {
    app.client
        .post(app.url("/graphql"))
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("POST /graphql")
        .json()
        .await
        .expect("a JSON answer")
}

fn argument_flood(arguments: usize) -> String {
    let arguments: Vec<String> = (0..arguments).map(|i| format!("a{i}:1")).collect();
    format!("{{ me({}) {{ id }} }}", arguments.join(" "))
}

#[tokio::test]
async fn argument_floods_are_refused_before_validation_with_one_error() {
    let app = spawn_app().await;
    // The probe: 868 KiB of unknown arguments, anonymous. It answered 100,000 errors.
    let probe = argument_flood(100_000);
    assert!(probe.len() > 800 * 1024);
    let response = post_anonymous(&app, &probe).await;
    assert_eq!(
        response["errors"].as_array().map(Vec::len),
        Some(1),
        "one error"
    );
    assert_eq!(error_code(&response).as_deref(), Some("VALIDATION"));
    assert_eq!(error_field(&response).as_deref(), Some("query"));
    assert!(
        message_of(&response).contains("at most 65536"),
        "{response}"
    );
    // Under the length cap, as many parts as the text holds: refused by count.
    let flood = argument_flood(6_000);
    assert!(flood.len() < 64 * 1024);
    let response = post_anonymous(&app, &flood).await;
    assert_eq!(
        response["errors"].as_array().map(Vec::len),
        Some(1),
        "{response}"
    );
    assert!(message_of(&response).contains("at most 2000"), "{response}");
    // Fragments each spreading the next twice: 2^30 fields in a few hundred bytes.
    let mut bomb = String::from("{ ...F0 }");
    for i in 0..30 {
        bomb.push_str(&format!(
            " fragment F{i} on Query {{ ...F{} ...F{} }}",
            i + 1,
            i + 1
        ));
    }
    bomb.push_str(" fragment F30 on Query { __typename }");
    let response = post_anonymous(&app, &bomb).await;
    assert_eq!(
        error_code(&response).as_deref(),
        Some("VALIDATION"),
        "{response}"
    );
    assert!(message_of(&response).contains("at most 2000"), "{response}");
}

#[tokio::test]
async fn an_answer_carries_at_most_a_hundred_errors_and_counts_the_rest() {
    let app = spawn_app().await;
    // 500 unknown arguments: within the document's bounds, each an error of validation.
    let response = post_anonymous(&app, &argument_flood(500)).await;
    let errors = response["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 100, "{response}");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Unknown argument")
    );
    assert_eq!(errors[99]["message"], "401 more errors, left out");
    assert_eq!(errors[99]["extensions"]["leftOut"], 401);
    assert_eq!(errors[99]["extensions"]["code"], "VALIDATION");
}

#[tokio::test]
async fn did_you_mean_suggestions_can_be_switched_off() {
    let typo = "{ __typename me { emai } }";
    let open = spawn_app().await;
    let response = post_anonymous(&open, typo).await;
    assert!(
        message_of(&response).contains("Did you mean \"email\"?"),
        "{response}"
    );
    let closed = spawn_app_with(|config| config.graphql_suggestions = false).await;
    let response = post_anonymous(&closed, typo).await;
    assert_eq!(
        error_code(&response).as_deref(),
        Some("VALIDATION"),
        "{response}"
    );
    assert!(
        message_of(&response).contains("Unknown field \"emai\""),
        "{response}"
    );
    assert!(!response.to_string().contains("Did you mean"), "{response}");
}

#[tokio::test]
async fn more_than_thirty_aliases_are_refused() {
    let app = spawn_app().await;
    let owner = app.sign_up("alias@example.com", "Alias").await;
    let fields = |n: usize| {
        (0..n)
            .map(|i| format!("a{i}: me {{ email }}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let (_, response, _) =
        post_graphql(&app, &format!("{{ {} }}", fields(30)), &owner.access_token).await;
    assert!(response["errors"].is_null(), "30 aliases pass: {response}");
    let (_, response, _) =
        post_graphql(&app, &format!("{{ {} }}", fields(31)), &owner.access_token).await;
    assert_eq!(
        error_code(&response).as_deref(),
        Some("VALIDATION"),
        "{response}"
    );
    assert_eq!(
        error_field(&response).as_deref(),
        Some("query"),
        "{response}"
    );
    assert!(response["data"].is_null(), "nothing ran: {response}");
    // Aliased sign-ins cannot go around the per-address limit.
    let log_ins = (0..40)
        .map(|i| format!("l{i}: logIn(input: {{email: \"alias@example.com\", password: \"guess-{i}\"}}) {{ accessToken }}"))
        .collect::<Vec<_>>()
        .join(" ");
    let (_, response, _) = post_graphql(
        &app,
        &format!("mutation {{ {log_ins} }}"),
        &owner.access_token,
    )
    .await;
    assert_eq!(
        error_code(&response).as_deref(),
        Some("VALIDATION"),
        "{response}"
    );
}

#[tokio::test]
async fn first_is_at_most_a_hundred() {
    let app = spawn_app().await;
    let owner = app.sign_up("first@example.com", "First").await;
    let (_, response, _) = post_graphql(
        &app,
        "{ tags(first: 101) { totalCount } }",
        &owner.access_token,
    )
    .await;
    assert_eq!(
        error_code(&response).as_deref(),
        Some("VALIDATION"),
        "{response}"
    );
    assert_eq!(
        error_field(&response).as_deref(),
        Some("first"),
        "{response}"
    );
    let (_, response, _) = post_graphql(
        &app,
        "{ tags(first: 100) { totalCount } }",
        &owner.access_token,
    )
    .await;
    assert_eq!(data(&response)["tags"]["totalCount"], 0);
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_refused_with_413() {
    let app = spawn_app().await;
    let padding = "x".repeat(1024 * 1024 + 10);
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("Content-Type", "application/json")
        .body(json!({ "query": "{ __typename }", "variables": { "pad": padding } }).to_string())
        .send()
        .await
        .expect("POST /graphql");
    assert_eq!(response.status().as_u16(), 413);
    let answer: Value = response.json().await.expect("a JSON answer");
    assert_eq!(answer["code"], "VALIDATION", "{answer}");
    assert_eq!(answer["field"], "body", "{answer}");

    // A body whose encoding is broken: a JSON answer too, with nothing of the decoder's insides.
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip")
        .body("this is not gzip")
        .send()
        .await
        .expect("POST /graphql");
    assert_eq!(response.status().as_u16(), 400);
    let answer: Value = response.json().await.expect("a JSON answer");
    assert_eq!(answer["code"], "VALIDATION", "{answer}");
    assert!(!answer.to_string().contains("Custom"), "{answer}");
}

#[tokio::test]
async fn only_json_bodies_are_graphql_requests() {
    let app = spawn_app().await;
    let mutation = r#"{"query":"mutation { logIn(input: {email: \"a@b.test\", password: \"pw-Aa-123456\"}) { accessToken } }"}"#;
    // What a page on another site can make a browser send without asking first.
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        let mut request = app.client.post(app.url("/graphql")).body(mutation);
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        let response = request.send().await.expect("POST /graphql");
        assert_eq!(response.status().as_u16(), 415, "{content_type:?}");
        let answer: Value = response.json().await.expect("a JSON answer");
        assert_eq!(
            error_code(&answer).as_deref(),
            Some("VALIDATION"),
            "{answer}"
        );
        assert_eq!(
            error_field(&answer).as_deref(),
            Some("Content-Type"),
            "{answer}"
        );
    }
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("Content-Type", "application/json; charset=utf-8")
        .body(r#"{"query":"{ __typename }"}"#)
        .send()
        .await
        .expect("POST /graphql");
    assert_eq!(response.status().as_u16(), 200);
    let answer: Value = response.json().await.expect("a JSON answer");
    assert_eq!(answer["data"]["__typename"], "Query", "{answer}");
}

#[tokio::test]
async fn introspection_and_graphiql_can_be_switched_off() {
    let open = spawn_app().await;
    let owner = open.sign_up("intro@example.com", "Intro").await;
    let introspect = "{ __schema { queryType { name } } }";
    let (_, response, _) = post_graphql(&open, introspect, &owner.access_token).await;
    assert_eq!(response["data"]["__schema"]["queryType"]["name"], "Query");
    // GraphiQL is for a browser asking for HTML.
    let page = open
        .client
        .get(open.url("/graphql"))
        .header("Accept", BROWSER_ACCEPT)
        .send()
        .await
        .expect("GET");
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.expect("a page").contains("GraphiQL"));

    let closed = spawn_app_with(|config| {
        config.introspection = false;
        config.graphiql = false;
    })
    .await;
    let owner = closed.sign_up("intro@example.com", "Intro").await;
    let (_, response, _) = post_graphql(&closed, introspect, &owner.access_token).await;
    // The engine answers as if the schema had nothing to say about itself.
    assert!(response["data"]["__schema"].is_null(), "{response}");
    let by_type = "{ __type(name: \"Subscriber\") { fields { name } } }";
    let (_, response, _) = post_graphql(&closed, by_type, &owner.access_token).await;
    assert!(response["data"]["__type"].is_null(), "{response}");
    // Switched off, the browser is told how to ask instead (GET runs a query for anyone).
    let page = closed
        .client
        .get(closed.url("/graphql"))
        .header("Accept", BROWSER_ACCEPT)
        .send()
        .await
        .expect("GET");
    assert_eq!(page.status().as_u16(), 400);
    let answer: Value = page.json().await.expect("a JSON answer, not a page");
    assert_eq!(
        error_code(&answer).as_deref(),
        Some("VALIDATION"),
        "{answer}"
    );
}

/// What Chromium asks for when it opens an address.
const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,\
                              image/avif,image/webp,image/apng,*/*;q=0.8";

#[tokio::test]
async fn graphql_requests_are_limited_per_tenant_with_429_and_retry_after() {
    // 2 a second, bursts of 8.
    let app = spawn_app_with(|config| config.graphql_per_tenant_per_second = 2).await;
    let busy = app.sign_up("busy@example.com", "Busy").await;
    let calm = app.sign_up("calm@example.com", "Calm").await;
    let mut limited = None;
    for _ in 0..20 {
        let (status, response, retry_after) =
            post_graphql(&app, "{ tenant { id } }", &busy.access_token).await;
        if status == 429 {
            limited = Some((response, retry_after));
            break;
        }
    }
    let (response, retry_after) = limited.expect("the busy tenant was never limited");
    assert_eq!(
        error_code(&response).as_deref(),
        Some("RATE_LIMITED"),
        "{response}"
    );
    let seconds: u64 = retry_after.expect("Retry-After").parse().expect("seconds");
    assert!((1..=5).contains(&seconds), "Retry-After {seconds}");
    assert_eq!(
        response["errors"][0]["extensions"]["retryAfter"],
        json!(seconds)
    );
    let (status, response, _) = post_graphql(&app, "{ tenant { id } }", &calm.access_token).await;
    assert_eq!(status, 200, "another tenant is not limited: {response}");
}

/// Sends `{ tenant { id } }` as `token` until it is refused; how many were answered first.
async fn answered_before_429(app: &refhub_tests::TestApp, token: &str, at_most: usize) -> usize {
    for answered in 0..at_most {
        let (status, response, _) = post_graphql(app, "{ tenant { id } }", token).await;
        match status {
            200 => {}
            429 => return answered,
            other => panic!("unexpected {other}: {response}"),
        }
    }
    at_most
}

#[tokio::test]
async fn each_member_and_key_has_a_share_of_the_workspace_limit() {
    // Members: 2 a second, bursts of 8; the workspace: 100 a second, bursts of 400.
    let app = spawn_app_with(|config| {
        config.graphql_per_member_per_second = 2;
        config.graphql_per_tenant_per_second = 100;
    })
    .await;
    let owner = app.sign_up("owner@share.test", "Share").await;
    let editor = app.member_of(&owner, "editor@share.test", "EDITOR").await;
    let (_, key) = app
        .create_api_key(&owner.access_token, "ci", "VIEWER")
        .await;

    // The owner's dashboard runs out of its own allowance after its burst...
    let answered = answered_before_429(&app, &owner.access_token, 40).await;
    assert!(
        (6..=10).contains(&answered),
        "the owner's burst is 8; {answered} were answered"
    );
    // ...and the REST routes draw from the same one.
    let qr = app
        .client
        .get(app.url("/api/pages/00000000-0000-0000-0000-000000000000/subscribers.csv"))
        .bearer_auth(&owner.access_token)
        .send()
        .await
        .expect("GET");
    assert_eq!(qr.status().as_u16(), 429);
    // The editor and the key of the same workspace still have theirs.
    for (who, token) in [("the editor", &editor.access_token), ("the key", &key)] {
        let (status, response, _) = post_graphql(&app, "{ tenant { id } }", token).await;
        assert_eq!(
            status, 200,
            "{who} was refused for the owner's traffic: {response}"
        );
    }
}

#[tokio::test]
async fn the_workspace_ceiling_holds_whatever_the_members_shares() {
    // Members: 100 a second each; the workspace: 2 a second, bursts of 8, for all of them.
    let app = spawn_app_with(|config| {
        config.graphql_per_member_per_second = 100;
        config.graphql_per_tenant_per_second = 2;
    })
    .await;
    let owner = app.sign_up("owner@ceiling.test", "Ceiling").await;
    let editor = app.member_of(&owner, "editor@ceiling.test", "EDITOR").await;
    // Signing the editor in took some of the allowance; whatever is left, the two together
    // get no more than the workspace's burst.
    let by_owner = answered_before_429(&app, &owner.access_token, 40).await;
    let by_editor = answered_before_429(&app, &editor.access_token, 40).await;
    assert!(by_owner <= 10, "the owner got {by_owner}");
    assert!(
        by_editor <= 2,
        "the editor got {by_editor} after the ceiling was reached"
    );
}

#[tokio::test]
async fn webhook_deliveries_are_limited_per_key_with_429_and_retry_after() {
    // 3 a second, bursts of 3.
    let app = spawn_app_with(|config| config.webhook_per_key_per_second = 3).await;
    let flood = connect_tenant(&app, "flood@example.com", "Flood", hooks::PAGE).await;
    let quiet = connect_tenant(&app, "quiet@example.com", "Quiet", hooks::PAGE).await;
    let post = |tenant: &hooks::Tenant, n: usize| {
        let delivery = body(&[message(
            "9001",
            now_ms() + n as i64,
            &format!("m-{n}"),
            "hi",
        )]);
        let signed = signature(&tenant.app_secret, delivery.as_bytes());
        app.client
            .post(app.url(&tenant.webhook_path))
            .header("Content-Type", "application/json")
            .header("X-Hub-Signature-256", signed)
            .body(delivery)
    };
    let mut refused = None;
    for n in 0..20 {
        let response = post(&flood, n).send().await.expect("POST");
        if response.status().as_u16() == 429 {
            refused = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            break;
        }
        assert_eq!(response.status().as_u16(), 200);
    }
    let retry_after: u64 = refused
        .expect("the flooding key was never limited")
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=5).contains(&retry_after));
    let other = post(&quiet, 100).send().await.expect("POST");
    assert_eq!(other.status().as_u16(), 200, "another key is not limited");
}
