//! The app secret, the verify token and page access tokens go in and never come out: not in
//! any answer, and not in the database as plain text.

use refhub_tests::{TestApp, data, spawn_app_on_graph, str_at};
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{database_dump, plaintext_forms};

const APP_SECRET: &str = "d41d8cd98f00b204e9800998ecf8427e";
const APP_SECRET_2: &str = "9e107d9d372bb6826bd81d3542a419d6";
const VERIFY_TOKEN: &str = "verify-me-Xq7PzL2w";
const VERIFY_TOKEN_2: &str = "verify-me-again-Rt5KmN8v";
const PAGE_TOKEN: &str = "EAAGm0PX4ZCpsBAKfirstpagetokenZDZD";
const PAGE_TOKEN_2: &str = "EAAGm0PX4ZCpsBAKsecondpagetokenZDZD";
const SECRETS: [&str; 6] = [
    APP_SECRET,
    APP_SECRET_2,
    VERIFY_TOKEN,
    VERIFY_TOKEN_2,
    PAGE_TOKEN,
    PAGE_TOKEN_2,
];

/// Runs requests and keeps the raw text of every answer.
struct Recorder<'a> {
    app: &'a TestApp,
    token: String,
    answers: Vec<(String, String)>,
}

impl Recorder<'_> {
    async fn query(&mut self, label: &str, query: &str, variables: Value) -> Value {
        let response = self.app.graphql(query, variables, Some(&self.token)).await;
        self.answers.push((label.to_owned(), response.to_string()));
        response
    }

    async fn mutate(&mut self, name: &str, input: Value, selection: &str) -> Value {
        let response = self
            .app
            .mutate(name, input, selection, Some(&self.token))
            .await;
        self.answers.push((name.to_owned(), response.to_string()));
        response
    }
}

const APP_FIELDS: &str = "{ id appId webhookUrl createdAt updatedAt }";
const PAGE_FIELDS: &str = "{ id facebookPageId name username mmeUrl createdAt updatedAt }";
const LINK_FIELDS: &str = "{ id ref text url qrCodeSvg qrCodePngDataUri active createdAt updatedAt \
     page { id facebookPageId name username mmeUrl } defaultField { id number name } tags { id name } }";
const TOPIC_FIELDS: &str = "{ id title defaultCadence rnUrl createdAt updatedAt \
     page { id facebookPageId name username mmeUrl } registration { status attemptedAt messageId error } }";

#[tokio::test]
async fn secrets_never_come_back_and_are_not_stored_in_plain_text() {
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({ "recipient": { "id": "111" } })))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "recipient_id": "111", "message_id": "m_ok" })),
        )
        .mount(&graph)
        .await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({ "recipient": { "id": "222" } })))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": { "message": "(#100) No matching user found", "code": 100, "error_subcode": 2018001 }
        })))
        .mount(&graph)
        .await;
    let app = spawn_app_on_graph(&graph, |_| {}).await;
    let acme = app.sign_up("owner@acme.test", "Acme").await;
    // Both tokens open the page at Meta: the second replaces the first below.
    app.meta
        .add_page("104857600123", "Shop", Some("acme"), PAGE_TOKEN);
    app.meta
        .add_page("104857600123", "Shop", Some("acme"), PAGE_TOKEN_2);
    let mut r = Recorder {
        app: &app,
        token: acme.access_token.clone(),
        answers: Vec::new(),
    };

    // The Meta app: connect, read, rotate, replace, and fail with the secrets in the input.
    let connect = |app_id: &str, secret: &str, verify: &str| json!({ "appId": app_id, "appSecret": secret, "verifyToken": verify });
    data(
        &r.mutate(
            "connectMessengerApp",
            connect("1234567890", APP_SECRET, VERIFY_TOKEN),
            APP_FIELDS,
        )
        .await,
    );
    r.query(
        "messengerApp",
        &format!("{{ messengerApp {APP_FIELDS} }}"),
        json!({}),
    )
    .await;
    data(&r.mutate("rotateWebhookKey", json!({}), APP_FIELDS).await);
    r.mutate(
        "connectMessengerApp",
        connect("not digits", APP_SECRET_2, VERIFY_TOKEN_2),
        APP_FIELDS,
    )
    .await;
    r.mutate(
        "connectMessengerApp",
        connect("1234567890", APP_SECRET_2, ""),
        APP_FIELDS,
    )
    .await;
    r.mutate(
        "connectMessengerApp",
        connect("1234567890", "", VERIFY_TOKEN_2),
        APP_FIELDS,
    )
    .await;
    data(
        &r.mutate(
            "connectMessengerApp",
            connect("1234567890", APP_SECRET_2, VERIFY_TOKEN_2),
            APP_FIELDS,
        )
        .await,
    );

    // A page: connect, fail to connect, read, change its token.
    let page = r
        .mutate(
            "connectPage",
            json!({ "facebookPageId": "104857600123", "accessToken": PAGE_TOKEN }),
            PAGE_FIELDS,
        )
        .await;
    let page = str_at(data(&page), "/connectPage/id");
    r.mutate(
        "connectPage",
        json!({ "facebookPageId": "104857600123", "accessToken": PAGE_TOKEN_2 }),
        PAGE_FIELDS,
    )
    .await;
    r.mutate(
        "connectPage",
        json!({ "facebookPageId": "12a", "accessToken": PAGE_TOKEN_2 }),
        PAGE_FIELDS,
    )
    .await;
    r.mutate(
        "connectPage",
        json!({ "facebookPageId": "555", "accessToken": PAGE_TOKEN_2 }),
        PAGE_FIELDS,
    )
    .await;
    r.query(
        "pages",
        &format!("{{ pages {{ nodes {PAGE_FIELDS} }} }}"),
        json!({}),
    )
    .await;
    r.mutate(
        "updatePage",
        json!({ "id": page, "name": "", "accessToken": PAGE_TOKEN_2 }),
        PAGE_FIELDS,
    )
    .await;
    data(
        &r.mutate(
            "updatePage",
            json!({ "id": page, "accessToken": PAGE_TOKEN_2 }),
            PAGE_FIELDS,
        )
        .await,
    );
    r.query(
        "page",
        &format!("query($id: ID!) {{ page(id: $id) {PAGE_FIELDS} }}"),
        json!({ "id": page }),
    )
    .await;

    // Fields, tags, links and topics, read every way.
    let field = r
        .mutate(
            "createCustomField",
            json!({ "name": "coupon", "type": "TEXT" }),
            "{ id number }",
        )
        .await;
    let field = str_at(data(&field), "/createCustomField/id");
    let tag = r
        .mutate("createTag", json!({ "name": "VIP" }), "{ id name }")
        .await;
    let tag = str_at(data(&tag), "/createTag/id");
    let link = r
        .mutate(
            "createRefLink",
            json!({ "pageId": page, "ref": "summer", "text": "Hi", "defaultFieldId": field, "tagIds": [tag] }),
            LINK_FIELDS,
        )
        .await;
    let link = str_at(data(&link), "/createRefLink/id");
    r.query(
        "refLink",
        "query($id: ID!) { refLink(id: $id) { payloadUrl(defaultValue: \"X1\") \
         bad: payloadUrl(defaultValue: \"a b\") } }",
        json!({ "id": link }),
    )
    .await;
    r.query(
        "refLinks",
        &format!("query($page: ID!) {{ refLinks(pageId: $page) {{ nodes {LINK_FIELDS} }} }}"),
        json!({ "page": page }),
    )
    .await;
    let topic = r
        .mutate(
            "createNotificationTopic",
            json!({ "pageId": page, "title": "Deals" }),
            TOPIC_FIELDS,
        )
        .await;
    let topic = str_at(data(&topic), "/createNotificationTopic/id");
    let registered = r
        .mutate(
            "registerNotificationTopic",
            json!({ "topicId": topic, "psid": "111" }),
            TOPIC_FIELDS,
        )
        .await;
    assert_eq!(
        data(&registered)["registerNotificationTopic"]["registration"]["status"],
        "REGISTERED"
    );
    let refused = r
        .mutate(
            "registerNotificationTopic",
            json!({ "topicId": topic, "psid": "222" }),
            TOPIC_FIELDS,
        )
        .await;
    assert_eq!(
        data(&refused)["registerNotificationTopic"]["registration"]["status"],
        "FAILED"
    );
    r.query(
        "notificationTopics",
        &format!("{{ notificationTopics {{ nodes {TOPIC_FIELDS} }} }}"),
        json!({}),
    )
    .await;
    r.query(
        "page with everything",
        &format!(
            "query($id: ID!) {{ page(id: $id) {{ refLinks {{ nodes {LINK_FIELDS} }} \
             notificationTopics {{ nodes {TOPIC_FIELDS} }} }} }}"
        ),
        json!({ "id": page }),
    )
    .await;

    // The recorder saw the answers: what was sent in the clear does come back.
    assert!(
        r.answers.len() >= 25,
        "{} answers recorded",
        r.answers.len()
    );
    assert!(
        r.answers
            .iter()
            .any(|(_, answer)| answer.contains("104857600123"))
    );
    for (label, answer) in &r.answers {
        for secret in SECRETS {
            assert!(
                !answer.contains(secret),
                "the answer to {label} contains the secret {secret:?}: {answer}"
            );
        }
    }

    // The QR code image is authenticated by the same bearer and carries only the URL.
    let png = app
        .client
        .get(app.url(&format!("/api/ref-links/{link}/qr.png")))
        .bearer_auth(&acme.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(png.status().as_u16(), 200);

    let dump = database_dump(&app).await;
    assert!(
        dump.contains("104857600123"),
        "the dump reads the catalogue tables"
    );
    for secret in SECRETS {
        for form in plaintext_forms(secret) {
            assert!(
                !dump.contains(&form),
                "the database holds the secret {secret:?} unencrypted (as {form:?})"
            );
        }
    }
}
