use refhub_tests::spawn_app;

#[tokio::test]
async fn healthz_answers_200() {
    let app = spawn_app().await;

    let response = app.client.get(app.url("/healthz")).send().await.unwrap();

    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn readyz_answers_200_when_the_database_answers() {
    let app = spawn_app().await;

    let response = app.client.get(app.url("/readyz")).send().await.unwrap();

    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn both_probes_answer_head_requests_like_get_without_a_body() {
    let app = spawn_app().await;

    for probe in ["/healthz", "/readyz"] {
        let response = app.client.head(app.url(probe)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "HEAD {probe}");
        assert_eq!(
            response.bytes().await.unwrap().len(),
            0,
            "HEAD {probe} has no body"
        );
    }
}

#[tokio::test]
async fn get_graphql_serves_the_graphiql_page() {
    let app = spawn_app().await;

    let response = app
        .client
        .get(app.url("/graphql"))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status().as_u16(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("text/html"),
        "content-type: {content_type}"
    );
    let body = response.text().await.unwrap();
    assert!(
        body.to_lowercase().contains("graphiql"),
        "not the GraphiQL page: {body}"
    );
}

#[tokio::test]
async fn graphql_answers_a_trivial_query_without_authentication() {
    let app = spawn_app().await;

    let response = app
        .graphql("{ __typename }", serde_json::json!({}), None)
        .await;

    assert!(response["data"]["__typename"].is_string(), "{response:#}");
}

#[tokio::test]
#[cfg_attr(
    not(refhub_postgres),
    ignore = "needs PostgreSQL: set TEST_DATABASE_URL"
)]
async fn readyz_fails_when_the_database_is_gone() {
    refhub_tests::require_postgres();
    use sea_orm::{ConnectionTrait as _, Database};
    let app = spawn_app().await;
    let name = reqwest::Url::parse(&app.database_url).unwrap().path()[1..].to_owned();
    let server = Database::connect(std::env::var(refhub_tests::TEST_DATABASE_URL).unwrap())
        .await
        .unwrap();
    server
        .execute_unprepared(&format!(r#"DROP DATABASE "{name}" WITH (FORCE)"#))
        .await
        .unwrap();
    server.close().await.unwrap();

    let response = app
        .client
        .get(app.url("/readyz"))
        .timeout(std::time::Duration::from_secs(10))
        .send()
        .await
        .expect("/readyz did not answer within 10 s");

    assert!(
        response.status().is_server_error(),
        "/readyz answered {} without a database",
        response.status()
    );
    // Liveness does not depend on the database.
    let live = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(live.status().as_u16(), 200);
}
