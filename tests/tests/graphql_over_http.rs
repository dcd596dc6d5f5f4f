//! GraphQL over HTTP as clients meet it (the specification's watershed draft, and the
//! `graphql-http` audit): `Accept` chooses `application/graphql-response+json` (request errors
//! are 400 without `data`) or `application/json` (200 for any GraphQL answer); `GET` runs
//! queries for clients asking for JSON and shows GraphiQL to browsers asking for HTML, never
//! mutations; a JSON array is a batch of up to ten requests, answered in order.

use refhub_tests::{TestApp, data, error_code, spawn_app, spawn_app_with};
use serde_json::{Value, json};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// Status, `Content-Type` and body of a POST with `accept` (none: no header).
async fn post(
    app: &TestApp,
    accept: Option<&str>,
    body: Value,
    token: Option<&str>,
) -> (u16, String, Value) {
    let mut request = app.client.post(app.url("/graphql")).json(&body);
    if let Some(accept) = accept {
        request = request.header("Accept", accept);
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    read(request.send().await.expect("POST /graphql")).await
}

async fn read(response: reqwest::Response) -> (u16, String, Value) {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.expect("a body");
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|err| panic!("not JSON ({err}), {status} {content_type}: {text}"));
    (status, content_type, body)
}

/// Documents the schema refuses before executing them: syntax, validation, variable coercion,
/// an unknown operation.
fn request_errors() -> Vec<Value> {
    vec![
        json!({ "query": "{" }),
        json!({ "query": "{ noSuchField }" }),
        json!({ "query": "query Tag($id: ID!) { tag(id: $id) { id } }", "variables": { "id": null } }),
        json!({ "query": "query A { me { id } }", "operationName": "B" }),
    ]
}

#[tokio::test]
async fn graphql_response_json_answers_request_errors_with_400_and_no_data() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@over-http.test", "Over HTTP").await;
    for body in request_errors() {
        let (status, content_type, answer) =
            post(&app, Some(GRAPHQL_RESPONSE), body.clone(), owner.token()).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(content_type.starts_with(GRAPHQL_RESPONSE), "{content_type}");
        assert!(answer.get("data").is_none(), "{body}: {answer}");
        assert_eq!(
            error_code(&answer).as_deref(),
            Some("VALIDATION"),
            "{answer}"
        );
    }

    // Executed: 200, even when a field failed and its null reached `data`.
    let (status, content_type, answer) = post(
        &app,
        Some(GRAPHQL_RESPONSE),
        json!({ "query": "{ me { email } }" }),
        owner.token(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert!(content_type.starts_with(GRAPHQL_RESPONSE), "{content_type}");
    assert_eq!(data(&answer)["me"]["email"], "owner@over-http.test");
    let (status, _, answer) = post(
        &app,
        Some(GRAPHQL_RESPONSE),
        json!({ "query": "{ me { email } }" }),
        None,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer.get("data"), Some(&Value::Null), "{answer}");
    assert_eq!(error_code(&answer).as_deref(), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn json_clients_get_200_for_every_graphql_answer_and_no_data_for_request_errors() {
    let app = spawn_app().await;
    for accept in [Some("application/json"), Some("*/*"), None] {
        for body in request_errors() {
            let (status, content_type, answer) = post(&app, accept, body.clone(), None).await;
            assert_eq!(status, 200, "{accept:?} {body}: {answer}");
            assert!(
                content_type.starts_with("application/json"),
                "{accept:?}: {content_type}"
            );
            assert!(answer.get("data").is_none(), "{body}: {answer}");
            assert!(answer["errors"][0]["message"].is_string(), "{answer}");
        }
    }
}

#[tokio::test]
async fn accept_is_negotiated_and_nothing_acceptable_is_406() {
    let app = spawn_app().await;
    let query = json!({ "query": "{ __typename }" });
    for (accept, expected) in [
        // Apollo Client and graphql-http's client.
        (
            "application/graphql-response+json,application/json;q=0.9",
            GRAPHQL_RESPONSE,
        ),
        (
            "application/graphql-response+json, application/json",
            GRAPHQL_RESPONSE,
        ),
        ("application/json", "application/json"),
        ("*/*", "application/json"),
        // The exact range counts for its type, the wider one for the other.
        (
            "application/json;q=0.1, application/*;q=0.5",
            GRAPHQL_RESPONSE,
        ),
        ("application/*", "application/json"),
    ] {
        let (status, content_type, answer) = post(&app, Some(accept), query.clone(), None).await;
        assert_eq!(status, 200, "{accept}: {answer}");
        assert!(
            content_type.starts_with(expected),
            "{accept}: {content_type}"
        );
        assert_eq!(data(&answer)["__typename"], "Query");
    }
    let (status, _, answer) = post(&app, Some("text/plain"), query, None).await;
    assert_eq!(status, 406, "{answer}");
    assert_eq!(answer["errors"][0]["extensions"]["field"], "Accept");
}

#[tokio::test]
async fn get_runs_queries_for_json_clients_and_shows_graphiql_to_browsers() {
    let app = spawn_app().await;
    let owner = app.sign_up("get@over-http.test", "Get").await;
    let get = |accept: &'static str, parameters: Vec<(&'static str, String)>| {
        app.client
            .get(app.url("/graphql"))
            .query(&parameters)
            .header("Accept", accept)
            .bearer_auth(&owner.access_token)
            .send()
    };
    let me = vec![("query", "{ me { email } }".to_owned())];
    let (status, content_type, answer) =
        read(get("application/json", me.clone()).await.expect("GET")).await;
    assert_eq!(status, 200, "{answer}");
    assert!(content_type.starts_with("application/json"));
    assert_eq!(data(&answer)["me"]["email"], "get@over-http.test");

    let with_variables = vec![
        (
            "query",
            "query Type($name: String!) { __type(name: $name) { name } }".to_owned(),
        ),
        ("variables", json!({ "name": "Tag" }).to_string()),
        ("operationName", "Type".to_owned()),
    ];
    let (status, _, answer) = read(get(GRAPHQL_RESPONSE, with_variables).await.expect("GET")).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(data(&answer)["__type"]["name"], "Tag");

    // A browser opening the address gets GraphiQL, query or not.
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    let page = get(browser, me).await.expect("GET");
    assert_eq!(page.status().as_u16(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        page.headers()["vary"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase()
            .contains("accept"),
        "one address, two answers by Accept: caches must know"
    );

    // A mutation is never run by a GET: 405, and nothing happened.
    let create = vec![(
        "query",
        r#"mutation { createTag(input: {name: "by-get"}) { id } }"#.to_owned(),
    )];
    for accept in ["application/json", GRAPHQL_RESPONSE] {
        let response = get(accept, create.clone()).await.expect("GET");
        let allow = response
            .headers()
            .get("allow")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let (status, _, answer) = read(response).await;
        assert_eq!(status, 405, "{answer}");
        assert!(allow.contains("POST"), "Allow: {allow}");
        assert!(answer.get("data").is_none(), "{answer}");
    }
    let tags = app
        .graphql_ok("{ tags { totalCount } }", json!({}), owner.token())
        .await;
    assert_eq!(tags["tags"]["totalCount"], 0);

    // Without a query there is nothing to run: said so, in JSON.
    let (status, _, answer) = read(get("application/json", vec![]).await.expect("GET")).await;
    assert_eq!(status, 400, "{answer}");
    let message = answer["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("query"), "{message}");
}

#[tokio::test]
async fn a_batch_of_up_to_ten_runs_in_order_and_more_is_refused_plainly() {
    let app = spawn_app().await;
    let owner = app.sign_up("batch@over-http.test", "Batch").await;
    let batch = json!([
        { "query": "{ tags { totalCount } }" },
        {
            "query": "mutation($input: CreateTagInput!) { createTag(input: $input) { name } }",
            "variables": { "input": { "name": "batched" } },
        },
        { "query": "{ tags { totalCount } }" },
        { "query": "{" },
    ]);
    for accept in ["application/json", GRAPHQL_RESPONSE] {
        let (status, content_type, answers) =
            post(&app, Some(accept), batch.clone(), owner.token()).await;
        assert_eq!(status, 200, "{answers}");
        assert!(content_type.starts_with(accept), "{content_type}");
        let answers = answers.as_array().expect("an array of answers");
        assert_eq!(answers.len(), 4);
        let before = data(&answers[0])["tags"]["totalCount"].as_u64().unwrap();
        assert!(
            answers[1]["data"]["createTag"]["name"] == "batched"
                || error_code(&answers[1]).as_deref() == Some("CONFLICT"),
            "{}",
            answers[1]
        );
        assert_eq!(data(&answers[2])["tags"]["totalCount"], 1, "in order");
        assert!(before <= 1);
        assert!(answers[3].get("data").is_none(), "{}", answers[3]);
        assert_eq!(error_code(&answers[3]).as_deref(), Some("VALIDATION"));
    }

    let ten = json!(vec![json!({ "query": "{ __typename }" }); 10]);
    let (status, _, answers) = post(&app, None, ten, None).await;
    assert_eq!(status, 200, "{answers}");
    assert_eq!(answers.as_array().map(Vec::len), Some(10));

    for (body, says) in [
        (
            json!(vec![json!({ "query": "{ __typename }" }); 11]),
            "at most 10",
        ),
        (json!([]), "empty"),
        (json!([{ "query": "{ __typename }" }, "text"]), "request 1"),
        (json!("text"), "not a GraphQL request"),
        (json!({ "qeury": "{ __typename }" }), "no `query`"),
        (
            json!({ "query": "{ __typename }", "variables": [1] }),
            "variables",
        ),
    ] {
        let (status, _, answer) = post(&app, None, body.clone(), None).await;
        assert_eq!(status, 400, "{body}: {answer}");
        let message = answer["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{body}: {message}");
        assert!(!message.contains("invalid type: map"), "{message}");
        assert_eq!(error_code(&answer).as_deref(), Some("VALIDATION"));
    }
}

#[tokio::test]
async fn each_request_of_a_batch_counts_against_the_rate_limit() {
    // 1 a second, bursts of 4: a batch of ten cannot all run.
    let app = spawn_app_with(|config| config.graphql_per_tenant_per_second = 1).await;
    let owner = app.sign_up("limited@over-http.test", "Limited").await;
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&owner.access_token)
        .json(&json!(vec![json!({ "query": "{ me { email } }" }); 10]))
        .send()
        .await
        .expect("POST");
    let retry_after = response.headers().get("retry-after").cloned();
    let (status, _, answers) = read(response).await;
    assert_eq!(status, 200, "{answers}");
    let codes: Vec<Option<String>> = answers
        .as_array()
        .expect("an array")
        .iter()
        .map(error_code)
        .collect();
    assert!(codes[0].is_none(), "the first runs: {answers}");
    assert!(
        codes
            .iter()
            .any(|code| code.as_deref() == Some("RATE_LIMITED")),
        "{answers}"
    );
    assert!(retry_after.is_some(), "Retry-After says how long to wait");
}

// ---------------------------------------------------------------------------------------------
// Automatic persisted queries (Apollo's `PersistedQueryLink`).

fn sha256_hex(query: &str) -> String {
    use sha2::{Digest, Sha256};
    format!("{:x}", Sha256::digest(query.as_bytes()))
}

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

/// GET `/graphql` with a query string, as JSON.
async fn get_json(app: &TestApp, query_string: &str, token: Option<&str>) -> (u16, Value) {
    let mut request = app
        .client
        .get(app.url(&format!("/graphql?{query_string}")))
        .header("Accept", "application/json");
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let (status, _, body) = read(request.send().await.expect("GET /graphql")).await;
    (status, body)
}

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[tokio::test]
async fn a_persisted_query_runs_by_its_hash_once_sent_with_it_over_post_and_get() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@apq.test", "Apq").await;
    let query = "query Workspace { tenant { name } }";
    let hash = sha256_hex(query);

    // Apollo's first try: the hash alone. Unknown here: the miss Apollo expects.
    let (status, _, answer) = post(
        &app,
        None,
        json!({ "extensions": persisted(&hash), "operationName": "Workspace" }),
        owner.token(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["errors"][0]["message"], "PersistedQueryNotFound");
    assert_eq!(
        error_code(&answer).as_deref(),
        Some("PERSISTED_QUERY_NOT_FOUND")
    );
    assert!(answer.get("data").is_none(), "{answer}");

    // Its second: the query with its hash, which registers it.
    let (_, _, answer) = post(
        &app,
        None,
        json!({ "query": query, "extensions": persisted(&hash) }),
        owner.token(),
    )
    .await;
    assert_eq!(data(&answer)["tenant"]["name"], "Apq");

    // From then on the hash is enough, over POST and over GET (queries only).
    let (_, _, answer) = post(
        &app,
        None,
        json!({ "extensions": persisted(&hash) }),
        owner.token(),
    )
    .await;
    assert_eq!(data(&answer)["tenant"]["name"], "Apq");
    let extensions = encode(&persisted(&hash).to_string());
    let (status, answer) = get_json(
        &app,
        &format!("operationName=Workspace&extensions={extensions}"),
        owner.token(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(data(&answer)["tenant"]["name"], "Apq");
}

#[tokio::test]
async fn a_hash_never_stands_for_another_query_and_get_never_runs_a_mutation() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@apq.test", "Apq").await;

    // A hash sent with a query that is not its own is refused and registers nothing.
    let innocent = "{ tenant { name } }";
    let mutation = r#"mutation { createTag(input: {name: "sneaky"}) { id } }"#;
    let (_, _, answer) = post(
        &app,
        None,
        json!({ "query": mutation, "extensions": persisted(&sha256_hex(innocent)) }),
        owner.token(),
    )
    .await;
    assert_eq!(
        error_code(&answer).as_deref(),
        Some("PERSISTED_QUERY_INVALID"),
        "{answer}"
    );
    let (_, _, answer) = post(
        &app,
        None,
        json!({ "extensions": persisted(&sha256_hex(innocent)) }),
        owner.token(),
    )
    .await;
    assert_eq!(
        error_code(&answer).as_deref(),
        Some("PERSISTED_QUERY_NOT_FOUND")
    );

    // A mutation registered over POST is still refused over GET.
    let hash = sha256_hex(mutation);
    let (_, _, answer) = post(
        &app,
        None,
        json!({ "query": mutation, "extensions": persisted(&hash) }),
        owner.token(),
    )
    .await;
    data(&answer);
    let extensions = encode(&persisted(&hash).to_string());
    let (status, answer) = get_json(&app, &format!("extensions={extensions}"), owner.token()).await;
    assert_eq!(status, 405, "{answer}");
    let tags = app
        .graphql_ok("{ tags { totalCount } }", json!({}), owner.token())
        .await;
    assert_eq!(tags["tags"]["totalCount"], 1, "only the POST created a tag");
}
