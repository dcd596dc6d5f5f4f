//! Shared steps of the catalogue tests: connecting pages, creating fields, tags, links and
//! topics as a dashboard would, decoding QR codes, and reading the raw database.

use base64::Engine as _;
use refhub_tests::{Session, TestApp, data, error_code, error_field, error_message, str_at};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use serde_json::{Value, json};

/// The selection of a `RefLink` most tests read.
pub const LINK_FIELDS: &str =
    "{ id ref text url active page { id } defaultField { id number } tags { id name } }";

/// The selection of a `NotificationTopic` most tests read.
pub const TOPIC_FIELDS: &str = "{ id title defaultCadence rnUrl page { id } \
     registration { status attemptedAt messageId error } }";

/// The page access token [`connect_page`] sends for `facebook_page_id`.
pub fn page_token(facebook_page_id: &str) -> String {
    format!("EAAGpagetoken{facebook_page_id}ZZsecret")
}

/// A signed-up owner of a fresh tenant.
pub async fn owner(app: &TestApp, email: &str, tenant: &str) -> Session {
    app.sign_up(email, tenant).await
}

/// Connects a page with [`page_token`]; returns its id.
pub async fn connect_page(
    app: &TestApp,
    token: &str,
    facebook_page_id: &str,
    name: &str,
    username: Option<&str>,
) -> String {
    let response = app
        .mutate(
            "connectPage",
            json!({
                "facebookPageId": facebook_page_id,
                "name": name,
                "username": username,
                "accessToken": page_token(facebook_page_id),
            }),
            "{ id }",
            Some(token),
        )
        .await;
    str_at(data(&response), "/connectPage/id")
}

/// Creates a custom field; returns `(id, number)`.
pub async fn create_field(app: &TestApp, token: &str, name: &str, kind: &str) -> (String, i64) {
    let response = app
        .mutate(
            "createCustomField",
            json!({ "name": name, "type": kind }),
            "{ id number name type }",
            Some(token),
        )
        .await;
    let field = &data(&response)["createCustomField"];
    let number = field["number"]
        .as_i64()
        .unwrap_or_else(|| panic!("a field without a number: {field:#}"));
    (str_at(field, "/id"), number)
}

/// Creates a tag; returns its id.
pub async fn create_tag(app: &TestApp, token: &str, name: &str) -> String {
    let response = app
        .mutate("createTag", json!({ "name": name }), "{ id }", Some(token))
        .await;
    str_at(data(&response), "/createTag/id")
}

/// Creates a ref link from `input` and returns it with [`LINK_FIELDS`].
pub async fn create_link(app: &TestApp, token: &str, input: Value) -> Value {
    let response = app
        .mutate("createRefLink", input, LINK_FIELDS, Some(token))
        .await;
    data(&response)["createRefLink"].clone()
}

/// Creates a topic from `input` and returns it with [`TOPIC_FIELDS`].
pub async fn create_topic(app: &TestApp, token: &str, input: Value) -> Value {
    let response = app
        .mutate("createNotificationTopic", input, TOPIC_FIELDS, Some(token))
        .await;
    data(&response)["createNotificationTopic"].clone()
}

/// Asserts that the answer to `case` failed with `code` on `field` (`None`: no field), and
/// leaks no database text.
#[track_caller]
pub fn expect_error(case: &str, response: &Value, code: &str, field: Option<&str>) {
    assert_eq!(
        (
            error_code(response).as_deref(),
            error_field(response).as_deref()
        ),
        (Some(code), field),
        "{case}: expected {code} on {field:?}, got: {response:#}"
    );
    refhub_tests::assert_no_database_text(response);
}

/// Collects failed expectations about error answers, so that one run of a table of
/// malformed inputs reports every case that answered wrongly, not only the first.
#[derive(Default)]
pub struct Checks {
    failures: Vec<String>,
}

impl Checks {
    /// Expects the answer to `case` to fail with `code` on `field` without database text.
    pub fn error(&mut self, case: &str, response: &Value, code: &str, field: Option<&str>) {
        let got = (error_code(response), error_field(response));
        if (got.0.as_deref(), got.1.as_deref()) != (Some(code), field) {
            let message = error_message(response).unwrap_or_default();
            self.failures.push(format!(
                "{case}: expected {code} on {field:?}, got {:?} on {:?} ({message:?})",
                got.0, got.1
            ));
        }
        if let Some(errors) = response.get("errors") {
            let text = errors.to_string().to_lowercase();
            for word in ["sql", "database", "constraint"] {
                if text.contains(word) {
                    self.failures
                        .push(format!("{case}: the error leaks database text: {errors}"));
                }
            }
        }
    }

    /// Fails the test with every collected failure.
    #[track_caller]
    pub fn verify(self) {
        assert!(
            self.failures.is_empty(),
            "{} case(s) answered wrongly:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}

/// The first error as `(code, field, message)`, with `id` blanked out of the message, so
/// that answers about different ids can be compared.
pub fn error_shape(response: &Value, id: &str) -> (Option<String>, Option<String>, Option<String>) {
    (
        error_code(response),
        error_field(response),
        error_message(response).map(|m| m.replace(id, "<id>")),
    )
}

/// The query string of `url` split into `(name, raw value)` pairs, values still encoded.
pub fn query_pairs(url: &str) -> Vec<(String, String)> {
    let (_, query) = url
        .split_once('?')
        .unwrap_or_else(|| panic!("no query string in {url}"));
    query
        .split('&')
        .map(|pair| {
            let (name, value) = pair
                .split_once('=')
                .unwrap_or_else(|| panic!("a query parameter without '=' in {url}"));
            (name.to_owned(), value.to_owned())
        })
        .collect()
}

/// Strict percent-decoding (`+` stays `+`): what a browser hands m.me.
pub fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("ASCII after '%'");
            decoded.push(u8::from_str_radix(hex, 16).expect("two hex digits after '%'"));
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(decoded).expect("percent-decoded UTF-8")
}

/// Decodes the single QR code in a PNG image to its text.
#[track_caller]
pub fn decode_qr_png(png: &[u8]) -> String {
    let image = image::load_from_memory_with_format(png, image::ImageFormat::Png)
        .expect("a PNG image")
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "expected exactly one QR code in the image");
    let (_, content) = grids[0].decode().expect("a readable QR code");
    content
}

/// The bytes of a `data:image/png;base64,...` URI.
#[track_caller]
pub fn png_from_data_uri(uri: &str) -> Vec<u8> {
    let encoded = uri
        .strip_prefix("data:image/png;base64,")
        .unwrap_or_else(|| panic!("not a PNG data URI: {}", &uri[..uri.len().min(60)]));
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("valid base64 in the data URI")
}

/// `GET /api/ref-links/{id}/qr.png` with an optional bearer token.
pub async fn get_qr_png(app: &TestApp, id: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = app
        .client
        .get(app.url(&format!("/api/ref-links/{id}/qr.png")));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("GET qr.png failed")
}

/// Every row of every table of the test's database as text, one row a line, read as the
/// owner (so that row-level security hides nothing). Binary columns appear in hex.
pub async fn database_dump(app: &TestApp) -> String {
    let (url, backend) = match &app.admin_database_url {
        Some(admin) => (admin.clone(), DbBackend::Postgres),
        None => (app.database_url.clone(), DbBackend::Sqlite),
    };
    let db = Database::connect(&url)
        .await
        .expect("connecting to the test database");
    let list_tables = match backend {
        DbBackend::Postgres => {
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        }
        _ => "SELECT name FROM sqlite_master WHERE type = 'table'",
    };
    let tables: Vec<String> = db
        .query_all_raw(Statement::from_string(backend, list_tables))
        .await
        .expect("listing tables")
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).expect("a table name"))
        .collect();
    let mut dump = String::new();
    for table in tables {
        let rows_sql = match backend {
            DbBackend::Postgres => format!(r#"SELECT row_to_json(t)::text FROM "{table}" t"#),
            _ => {
                let columns: Vec<String> = db
                    .query_all_raw(Statement::from_string(
                        backend,
                        format!("SELECT name FROM pragma_table_info('{table}')"),
                    ))
                    .await
                    .expect("listing columns")
                    .iter()
                    .map(|row| row.try_get_by_index::<String>(0).expect("a column name"))
                    .collect();
                if columns.is_empty() {
                    continue;
                }
                let row = columns
                    .iter()
                    .map(|c| format!(r#"quote("{c}")"#))
                    .collect::<Vec<_>>()
                    .join(" || '|' || ");
                format!(r#"SELECT {row} FROM "{table}""#)
            }
        };
        for row in db
            .query_all_raw(Statement::from_string(backend, rows_sql))
            .await
            .unwrap_or_else(|e| panic!("reading {table}: {e}"))
        {
            let text: String = row.try_get_by_index(0).unwrap_or_default();
            dump.push_str(&table);
            dump.push_str(": ");
            dump.push_str(&text);
            dump.push('\n');
        }
    }
    db.close().await.ok();
    dump
}

/// The ways a secret could sit in a database dump without being encrypted: as text, as hex
/// of its bytes (either case) or as base64.
pub fn plaintext_forms(secret: &str) -> Vec<String> {
    let hex = hex::encode(secret.as_bytes());
    vec![
        secret.to_owned(),
        hex.clone(),
        hex.to_uppercase(),
        base64::engine::general_purpose::STANDARD.encode(secret),
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(secret),
    ]
}

/// A value for a failure message, cut short.
pub fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 40 {
        let start: String = text.chars().take(20).collect();
        format!("{start}… ({} chars)", text.chars().count())
    } else {
        text
    }
}

/// The ids of a small catalogue made by [`seed`].
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub page: String,
    pub field: String,
    pub tag: String,
    pub link: String,
    pub topic: String,
}

/// Connects the Meta app, the page `104857600123` (`acme`), and creates the field `coupon`, the
/// tag `VIP`, the link `summer` (with both) and the topic `Deals`.
pub async fn seed(app: &TestApp, token: &str) -> Catalogue {
    let connected = app
        .mutate(
            "connectMessengerApp",
            json!({
                "appId": "1234567890",
                "appSecret": "seeded-app-secret-0123456789",
                "verifyToken": "seeded-verify-token",
            }),
            "{ id }",
            Some(token),
        )
        .await;
    data(&connected);
    let page = connect_page(app, token, "104857600123", "Acme Shop", Some("acme")).await;
    let (field, _) = create_field(app, token, "coupon", "TEXT").await;
    let tag = create_tag(app, token, "VIP").await;
    let link = create_link(
        app,
        token,
        json!({ "pageId": page, "ref": "summer", "defaultFieldId": field, "tagIds": [tag] }),
    )
    .await;
    let topic = create_topic(app, token, json!({ "pageId": page, "title": "Deals" })).await;
    Catalogue {
        page,
        field,
        tag,
        link: str_at(&link, "/id"),
        topic: str_at(&topic, "/id"),
    }
}

/// Everything of the catalogue a tenant's owner can read, in one value, to compare before and
/// after something that must change nothing.
pub async fn snapshot(app: &TestApp, token: &str) -> Value {
    // Nested lists cost their sizes multiplied (the complexity limit): the tests hold a few
    // pages with a few links and topics each.
    app.graphql_ok(
        "{ messengerApp { id appId webhookUrl updatedAt } \
           pages(first: 10) { totalCount nodes { id facebookPageId name username mmeUrl updatedAt \
             refLinks(first: 20) { totalCount nodes { id ref text url active updatedAt \
               defaultField { id } tags { id name } } } \
             notificationTopics(first: 20) { totalCount nodes { id title defaultCadence rnUrl \
               updatedAt registration { status attemptedAt messageId error } } } } } \
           customFields(first: 100, includeArchived: true) { totalCount nodes { id number name \
             type description archived updatedAt } } \
           tags(first: 100) { totalCount nodes { id name } } }",
        json!({}),
        Some(token),
    )
    .await
}

/// One of every catalogue mutation as `(name, input, selection)`, with valid input acting on
/// `ids`; creations come first and deletions last, so that all can succeed in this order.
pub fn every_mutation(ids: &Catalogue) -> Vec<(&'static str, Value, &'static str)> {
    vec![
        (
            "connectMessengerApp",
            json!({ "appId": "5550001111", "appSecret": "another-app-secret-987654", "verifyToken": "another-verify" }),
            "{ id }",
        ),
        ("rotateWebhookKey", json!({}), "{ id }"),
        (
            "connectPage",
            json!({ "facebookPageId": "777888999", "name": "New page", "accessToken": page_token("777888999") }),
            "{ id }",
        ),
        (
            "updatePage",
            json!({ "id": ids.page, "name": "Renamed page" }),
            "{ id }",
        ),
        (
            "createCustomField",
            json!({ "name": "city", "type": "TEXT" }),
            "{ id }",
        ),
        (
            "updateCustomField",
            json!({ "id": ids.field, "name": "voucher" }),
            "{ id }",
        ),
        ("createTag", json!({ "name": "Lead" }), "{ id }"),
        (
            "renameTag",
            json!({ "id": ids.tag, "name": "VVIP" }),
            "{ id }",
        ),
        (
            "createRefLink",
            json!({ "pageId": ids.page, "ref": "autumn" }),
            "{ id }",
        ),
        (
            "updateRefLink",
            json!({ "id": ids.link, "text": "Changed" }),
            "{ id }",
        ),
        (
            "createNotificationTopic",
            json!({ "pageId": ids.page, "title": "Events" }),
            "{ id }",
        ),
        (
            "updateNotificationTopic",
            json!({ "id": ids.topic, "defaultCadence": "WEEKLY" }),
            "{ id }",
        ),
        (
            "registerNotificationTopic",
            json!({ "topicId": ids.topic, "psid": "24681357" }),
            "{ id }",
        ),
        ("deleteRefLink", json!({ "id": ids.link }), ""),
        ("deleteNotificationTopic", json!({ "id": ids.topic }), ""),
        ("deleteTag", json!({ "id": ids.tag }), ""),
        ("deleteCustomField", json!({ "id": ids.field }), ""),
        ("disconnectPage", json!({ "id": ids.page }), ""),
        ("disconnectMessengerApp", json!({}), ""),
    ]
}

/// The mutations only owners and admins may run.
pub const APP_MUTATIONS: [&str; 3] = [
    "connectMessengerApp",
    "rotateWebhookKey",
    "disconnectMessengerApp",
];

/// A Graph API double that accepts every message.
pub async fn accepting_graph_api() -> wiremock::MockServer {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(json!({
            "recipient_id": "24681357",
            "message_id": "m_accepted",
        })))
        .mount(&server)
        .await;
    server
}

/// `value` without its timestamps (`createdAt`, `updatedAt`, `attemptedAt`, …, at any depth),
/// to compare what a mutation answered with what a later read answers; `timestamps.rs` checks
/// the timestamps themselves.
pub fn without_timestamps(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(key, _)| !key.ends_with("At"))
                .map(|(key, value)| (key.clone(), without_timestamps(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_timestamps).collect()),
        other => other.clone(),
    }
}

/// The Send API calls `graph` received (`POST /{page-id}/messages`): the only calls a test
/// of the catalogue's own mutations counts, as connecting a page also sets it up with Meta in
/// the background (`subscribed_apps`, `messenger_profile`).
pub async fn send_api_calls(graph: &wiremock::MockServer) -> Vec<wiremock::Request> {
    graph
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|request| request.url.path().ends_with("/messages"))
        .collect()
}
