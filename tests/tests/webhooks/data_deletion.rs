//! Meta's data-deletion and deauthorize callbacks on a workspace's own URLs: a request signed
//! with the workspace's app secret erases the person (found through Meta's ID matching) from
//! that workspace only, the status page says when it is done, and the raw database holds the
//! person's ids nowhere afterwards. A request that is not properly signed changes nothing.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac as _};
use refhub_tests::{TestApp, data, spawn_app, spawn_app_with, str_at};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::erasure::{database_dump, lines_with};
use crate::support::{
    APP_ID, PAGE, PUBLIC_WEBHOOK_PREFIX, Tenant, WAIT, body, connect_tenant, deliver, eventually,
    message, now_ms, settled_events, subscriber_by_psid,
};

/// The person's app-scoped id, as Meta's callbacks name them.
const ASID: &str = "5551230000000777";
/// Their PSID on the first workspace's page.
const PERSON: &str = "9712000000000301";
/// Another person of that page, who stays.
const KEPT: &str = "9712000000000302";
/// The other workspace's page, and the same person's PSID there.
const OTHER_PAGE: &str = "104857600000077";
const OTHER_PERSON: &str = "9712000000000399";
/// What only the erased person wrote.
const SECRET_TEXT: &str = "please forget me, data deletion";

/// `<base64url HMAC-SHA256(secret, payload)>.<base64url payload>`, as Meta builds it.
fn signed_request(secret: &str, payload: &Value) -> String {
    let encoded = URL_SAFE_NO_PAD.encode(payload.to_string());
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(encoded.as_bytes());
    format!(
        "{}.{encoded}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

fn payload(user_id: &str) -> Value {
    json!({
        "algorithm": "HMAC-SHA256",
        "expires": 0,
        "issued_at": now_ms() / 1000,
        "user_id": user_id,
    })
}

/// POSTs `form` (already encoded) to `path` as Meta does; returns the status and the body.
async fn post_form(app: &TestApp, path: &str, form: &str) -> (u16, Value) {
    let response = app
        .client
        .post(app.url(path))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form.to_owned())
        .send()
        .await
        .expect("POST to a callback failed");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn form(signed: &str) -> String {
    format!("signed_request={signed}")
}

/// The callback URLs the dashboard shows, as paths.
async fn callback_paths(app: &TestApp, tenant: &Tenant) -> (String, String) {
    let read = app
        .graphql(
            "{ messengerApp { webhookUrl dataDeletionUrl deauthorizeUrl } }",
            json!({}),
            Some(tenant.token()),
        )
        .await;
    let connection = &data(&read)["messengerApp"];
    let webhook = str_at(connection, "/webhookUrl");
    assert_eq!(
        str_at(connection, "/dataDeletionUrl"),
        format!("{webhook}/data-deletion")
    );
    assert_eq!(
        str_at(connection, "/deauthorizeUrl"),
        format!("{webhook}/deauthorize")
    );
    let base = PUBLIC_WEBHOOK_PREFIX.trim_end_matches("/webhooks/messenger/");
    let path = |url: String| url.strip_prefix(base).expect("a public URL").to_owned();
    (
        path(str_at(connection, "/dataDeletionUrl")),
        path(str_at(connection, "/deauthorizeUrl")),
    )
}

/// The status page of `code`: its HTTP status and text.
async fn status_page(app: &TestApp, code: &str) -> (u16, String) {
    let response = app
        .client
        .get(app.url(&format!("/data-deletion/{code}")))
        .send()
        .await
        .expect("GET the status page");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

async fn status_says(app: &TestApp, code: &str, wanted: &str) -> String {
    eventually(
        &format!("the status page saying {wanted}"),
        WAIT,
        async || {
            let (status, text) = status_page(app, code).await;
            if status == 200 && text.contains(&format!("Status: {wanted}")) {
                Ok(text)
            } else {
                Err(format!("{status}: {text}"))
            }
        },
    )
    .await
}

/// Two workspaces: the first with the person (who wrote) and another person on its page, the
/// second with the same person on its own page. Meta links the person's app-scoped id to both
/// PSIDs. The first workspace's app is the one Meta knows (`add_app`).
async fn two_workspaces(app: &TestApp) -> (Tenant, Tenant) {
    let first = connect_tenant(app, "owner@deletion.test", "Deletion", PAGE).await;
    let second = connect_tenant(app, "owner@elsewhere.test", "Elsewhere", OTHER_PAGE).await;
    app.meta.add_app(APP_ID, &first.app_secret);
    let t = now_ms() - 60_000;
    deliver(
        app,
        &first,
        body(&[message(PERSON, t, "m_deletion_1", SECRET_TEXT)]),
    )
    .await;
    deliver(
        app,
        &first,
        body(&[message(KEPT, t + 1, "m_deletion_2", "hello")]),
    )
    .await;
    let other = json!({ "object": "page", "entry": [{
        "id": OTHER_PAGE, "time": t + 2,
        "messaging": [message(OTHER_PERSON, t + 2, "m_deletion_3", "hello from elsewhere")],
    }]});
    let mut other = other;
    other["entry"][0]["messaging"][0]["recipient"]["id"] = json!(OTHER_PAGE);
    deliver(app, &second, other.to_string()).await;
    settled_events(app, first.token(), 2).await;
    settled_events(app, second.token(), 1).await;
    app.meta.link_ids(ASID, PAGE, PERSON);
    app.meta.link_ids(ASID, OTHER_PAGE, OTHER_PERSON);
    (first, second)
}

async fn present(app: &TestApp, tenant: &Tenant, page: &str, psid: &str) -> bool {
    let pages = app
        .graphql(
            "{ pages(first: 10) { edges { node { id facebookPageId } } } }",
            json!({}),
            Some(tenant.token()),
        )
        .await;
    let page_id = data(&pages)["pages"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|edge| edge["node"]["facebookPageId"] == json!(page))
        .map(|edge| str_at(edge, "/node/id"))
        .expect("the page");
    subscriber_by_psid(app, tenant.token(), &page_id, psid)
        .await
        .is_some()
}

/// Rows of `data_deletion_requests`, read past row-level security.
async fn recorded_requests(app: &TestApp) -> Vec<(String, String, Option<String>)> {
    let db = app.raw_database().await;
    let backend = db.get_database_backend();
    db.query_all_raw(Statement::from_string(
        backend,
        "SELECT kind, status, app_scoped_user_id FROM data_deletion_requests ORDER BY requested_at",
    ))
    .await
    .expect("reading data_deletion_requests")
    .iter()
    .map(|row| {
        (
            row.try_get("", "kind").expect("kind"),
            row.try_get("", "status").expect("status"),
            row.try_get("", "app_scoped_user_id")
                .expect("app_scoped_user_id"),
        )
    })
    .collect()
}

#[tokio::test]
async fn a_signed_deletion_request_erases_the_person_from_that_workspace_only() {
    let app = spawn_app().await;
    let (first, second) = two_workspaces(&app).await;
    let (deletion_path, _) = callback_paths(&app, &first).await;
    let dump = database_dump(&app).await;
    assert!(!lines_with(&dump, PERSON).is_empty(), "{dump}");

    let (status, answer) = post_form(
        &app,
        &deletion_path,
        &form(&signed_request(&first.app_secret, &payload(ASID))),
    )
    .await;
    assert_eq!(status, 200, "{answer:#}");
    let code = str_at(&answer, "/confirmation_code");
    assert!(
        code.len() >= 32 && code.bytes().all(|b| b.is_ascii_alphanumeric()),
        "{code}"
    );
    assert_eq!(
        str_at(&answer, "/url"),
        format!("http://refhub.test/data-deletion/{code}")
    );

    let page = status_says(&app, &code, "finished").await;
    for trace in [PERSON, ASID, SECRET_TEXT] {
        assert!(
            !page.contains(trace),
            "the status page names the person: {page}"
        );
    }
    assert!(!present(&app, &first, PAGE, PERSON).await);
    assert!(present(&app, &first, PAGE, KEPT).await);
    // The other workspace's person is theirs to erase, on their own URL.
    assert!(present(&app, &second, OTHER_PAGE, OTHER_PERSON).await);

    // The raw database names the person nowhere: not their PSID, not the app-scoped id the
    // request carried, not what they wrote.
    let dump = database_dump(&app).await;
    for trace in [PERSON, ASID, SECRET_TEXT] {
        let found = lines_with(&dump, trace);
        assert!(found.is_empty(), "{trace} is still stored: {found:#?}");
    }
    assert!(!lines_with(&dump, KEPT).is_empty());
    assert!(!lines_with(&dump, OTHER_PERSON).is_empty());

    // Meta calling again about the same person: a new request, which finds nothing left.
    let (status, again) = post_form(
        &app,
        &deletion_path,
        &form(&signed_request(&first.app_secret, &payload(ASID))),
    )
    .await;
    assert_eq!(status, 200, "{again:#}");
    let second_code = str_at(&again, "/confirmation_code");
    assert_ne!(second_code, code);
    status_says(&app, &second_code, "nothing found").await;
    status_says(&app, &code, "finished").await;
    assert_eq!(
        recorded_requests(&app).await,
        [
            ("data_deletion".to_owned(), "finished".to_owned(), None),
            ("data_deletion".to_owned(), "nothing_found".to_owned(), None),
        ]
    );
    app.meta.assert_only_documented_calls();
}

#[tokio::test]
async fn a_request_that_is_not_properly_signed_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let (first, second) = two_workspaces(&app).await;
    let (deletion_path, deauthorize_path) = callback_paths(&app, &first).await;
    let good = signed_request(&first.app_secret, &payload(ASID));
    let (signature, encoded) = good.split_once('.').expect("two parts");
    let unsigned_algorithm = {
        let mut none = payload(ASID);
        none["algorithm"] = json!("none");
        let encoded = URL_SAFE_NO_PAD.encode(none.to_string());
        format!("{signature}.{encoded}")
    };
    let cases: Vec<(&str, String, u16, &str)> = vec![
        (
            "another workspace's secret",
            form(&signed_request(&second.app_secret, &payload(ASID))),
            401,
            "UNAUTHENTICATED",
        ),
        (
            "a payload changed after signing",
            form(&format!(
                "{signature}.{}",
                URL_SAFE_NO_PAD.encode(payload(KEPT).to_string())
            )),
            401,
            "UNAUTHENTICATED",
        ),
        (
            "another algorithm",
            form(&unsigned_algorithm),
            400,
            "VALIDATION",
        ),
        ("no signature part", form(encoded), 400, "VALIDATION"),
        ("not base64", form("!!!.???"), 400, "VALIDATION"),
        ("no signed_request", "other=1".to_owned(), 400, "VALIDATION"),
        ("an empty body", String::new(), 400, "VALIDATION"),
    ];
    for (what, body, expected, code) in &cases {
        for path in [&deletion_path, &deauthorize_path] {
            let (status, answer) = post_form(&app, path, body).await;
            assert_eq!(status, *expected, "{what} on {path}: {answer:#}");
            assert_eq!(answer["code"], json!(code), "{what} on {path}: {answer:#}");
            if *code == "VALIDATION" {
                assert_eq!(
                    answer["field"],
                    json!("signed_request"),
                    "{what}: {answer:#}"
                );
            }
        }
    }
    // A key that is no workspace's.
    let (status, _) = post_form(
        &app,
        "/webhooks/messenger/nonsense_abc/data-deletion",
        &form(&good),
    )
    .await;
    assert_eq!(status, 404);
    // The status page of a code that is no request's.
    assert_eq!(status_page(&app, "NoSuchCode123").await.0, 404);
    assert_eq!(status_page(&app, "not-a-code").await.0, 404);

    assert!(recorded_requests(&app).await.is_empty());
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(present(&app, &first, PAGE, PERSON).await);
    assert!(present(&app, &second, OTHER_PAGE, OTHER_PERSON).await);
    app.meta.assert_only_documented_calls();
}

#[tokio::test]
async fn a_deauthorization_is_recorded_and_erases_nothing() {
    let app = spawn_app().await;
    let (first, _) = two_workspaces(&app).await;
    let (_, deauthorize_path) = callback_paths(&app, &first).await;
    let (status, answer) = post_form(
        &app,
        &deauthorize_path,
        &form(&signed_request(&first.app_secret, &payload(ASID))),
    )
    .await;
    assert_eq!(status, 200, "{answer:#}");
    assert_eq!(
        recorded_requests(&app).await,
        [("deauthorize".to_owned(), "recorded".to_owned(), None)]
    );
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(present(&app, &first, PAGE, PERSON).await);
    let dump = database_dump(&app).await;
    assert!(
        lines_with(&dump, ASID).is_empty(),
        "the app-scoped id is stored"
    );
    app.meta.assert_only_documented_calls();
}

#[tokio::test]
async fn while_meta_cannot_match_ids_the_request_waits_then_retries_and_a_replay_answers_the_same_code()
 {
    let app = spawn_app().await;
    let (first, _) = two_workspaces(&app).await;
    let (deletion_path, _) = callback_paths(&app, &first).await;
    app.meta.set_down(true);
    let signed = form(&signed_request(&first.app_secret, &payload(ASID)));
    let (status, answer) = post_form(&app, &deletion_path, &signed).await;
    assert_eq!(status, 200, "{answer:#}");
    let code = str_at(&answer, "/confirmation_code");
    // The worker tried, Meta failed (a transient error): the request waits for its next try,
    // still holding the id it needs, and the person is still there.
    status_says(&app, &code, "erasing").await;
    eventually("the failed try recorded", WAIT, async || {
        let db = app.raw_database().await;
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT attempts, last_error, app_scoped_user_id FROM data_deletion_requests",
            ))
            .await
            .expect("reading the request")
            .expect("one request");
        let attempts: i32 = row.try_get("", "attempts").expect("attempts");
        let error: Option<String> = row.try_get("", "last_error").expect("last_error");
        let asid: Option<String> = row.try_get("", "app_scoped_user_id").expect("asid");
        match (attempts, error, asid) {
            (1, Some(error), Some(asid)) if asid == ASID => Ok(error),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    assert!(present(&app, &first, PAGE, PERSON).await);
    // Meta calling again meanwhile: the same request, the same code.
    let (status, again) = post_form(&app, &deletion_path, &signed).await;
    assert_eq!(status, 200, "{again:#}");
    assert_eq!(str_at(&again, "/confirmation_code"), code);
    assert_eq!(recorded_requests(&app).await.len(), 1);

    // Meta back; the next try (brought forward here instead of waiting out the backoff)
    // finishes the erasure.
    app.meta.set_down(false);
    let db = app.raw_database().await;
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        "UPDATE data_deletion_requests SET due_at = requested_at",
    ))
    .await
    .expect("bringing the next try forward");
    status_says(&app, &code, "finished").await;
    assert!(!present(&app, &first, PAGE, PERSON).await);
    let dump = database_dump(&app).await;
    assert!(lines_with(&dump, PERSON).is_empty() && lines_with(&dump, ASID).is_empty());
    app.meta.assert_only_documented_calls();
}

#[tokio::test]
async fn a_subscriber_known_by_the_app_scoped_id_itself_is_erased_without_meta_s_matching() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@plugin-deletion.test", "Plugin", PAGE).await;
    app.meta.add_app(APP_ID, &tenant.app_secret);
    // A checkbox-plugin person whose website used the app-scoped id as the `user_ref`; Meta
    // links the id to no PSID.
    let t = now_ms() - 60_000;
    let checkbox = json!({ "recipient": { "id": PAGE }, "timestamp": t,
                           "optin": { "ref": "signup", "user_ref": ASID } });
    deliver(&app, &tenant, body(&[checkbox])).await;
    settled_events(&app, tenant.token(), 1).await;
    let plugin_users = async || {
        crate::support::all_subscribers(&app, tenant.token(), &tenant.page_id, json!({}))
            .await
            .into_iter()
            .filter(|s| s["userRef"] == json!(ASID))
            .count()
    };
    assert_eq!(plugin_users().await, 1);
    let (deletion_path, _) = callback_paths(&app, &tenant).await;
    let (status, answer) = post_form(
        &app,
        &deletion_path,
        &form(&signed_request(&tenant.app_secret, &payload(ASID))),
    )
    .await;
    assert_eq!(status, 200, "{answer:#}");
    status_says(&app, &str_at(&answer, "/confirmation_code"), "finished").await;
    assert_eq!(plugin_users().await, 0);
    let dump = database_dump(&app).await;
    let found = lines_with(&dump, ASID);
    assert!(found.is_empty(), "{found:#?}");
    app.meta.assert_only_documented_calls();
}

#[tokio::test]
async fn callbacks_to_unknown_keys_are_throttled_per_address() {
    let app = spawn_app_with(|config| config.webhook_misses_per_minute = 2).await;
    let path = format!(
        "/webhooks/messenger/{}_abc/data-deletion",
        uuid::Uuid::new_v4().simple()
    );
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(post_form(&app, &path, "signed_request=a.b").await.0);
    }
    assert_eq!(statuses, [404, 404, 429]);
}
