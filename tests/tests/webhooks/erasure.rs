//! Erasing a subscriber from the dashboard (`eraseSubscriber`): the person and everything
//! about them goes, the stored webhook events naming them are kept but redacted, and the raw
//! database holds their PSID nowhere afterwards, while the inbox's counts and its recognition
//! of redeliveries hold.

use refhub_tests::{TestApp, assert_error, data, spawn_app, str_at};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};

use crate::support::{
    PAGE, Tenant, WAIT, body, connect_tenant, create_field, create_link, create_tag, create_topic,
    deliver, event_count, eventually, field_value, message, now_ms, opt_in, referral,
    settled_events, subscriber, subscriber_by_psid, wait_for_subscriber, webhook_event,
};

/// The person erased.
const ERASED: &str = "9711000000000201";
/// Another person of the same page, who must be left as they were.
const KEPT: &str = "9711000000000202";
/// The opt-in token Meta gave for the erased person (stored sealed, never as it is).
const TOKEN: &str = "erasure-notification-token-0001";
/// A message only the erased person wrote.
const SECRET_TEXT: &str = "my secret erasure message";

/// What `eraseSubscriber` answers.
const ERASED_FIELDS: &str = "{ id fieldValues tags interactions notificationOptIns flowRuns messages webhookEventsRedacted }";

async fn erase(app: &TestApp, token: &str, id: &str) -> Value {
    app.mutate(
        "eraseSubscriber",
        json!({ "id": id }),
        ERASED_FIELDS,
        Some(token),
    )
    .await
}

/// Every text of every row of every table, one line per row (PostgreSQL: the row's text form;
/// SQLite: each column's bytes, uuids being blobs), read as the schema's owner, past row-level
/// security.
pub(crate) async fn database_dump(app: &TestApp) -> String {
    let db = app.raw_database().await;
    let backend = db.get_database_backend();
    let tables: Vec<String> = if backend == DbBackend::Postgres {
        db.query_all_raw(Statement::from_string(
            backend,
            "SELECT table_name::text AS name FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
        ))
        .await
        .expect("listing the tables")
    } else {
        db.query_all_raw(Statement::from_string(
            backend,
            "SELECT name FROM sqlite_master WHERE type = 'table'",
        ))
        .await
        .expect("listing the tables")
    }
    .iter()
    .map(|row| row.try_get::<String>("", "name").expect("a table name"))
    .collect();
    assert!(
        tables.iter().any(|t| t == "webhook_events"),
        "no webhook_events among {tables:?}"
    );
    let mut dump = String::new();
    for table in tables {
        let select = if backend == DbBackend::Postgres {
            format!("SELECT CAST(t AS TEXT) AS line FROM \"{table}\" AS t")
        } else {
            let columns = db
                .query_all_raw(Statement::from_string(
                    backend,
                    format!("SELECT name FROM pragma_table_info('{table}')"),
                ))
                .await
                .expect("listing the columns");
            let texts: Vec<String> = columns
                .iter()
                .map(|row| {
                    let column: String = row.try_get("", "name").expect("a column name");
                    format!("coalesce(CAST(\"{column}\" AS BLOB), x'')")
                })
                .collect();
            format!(
                "SELECT {} AS line FROM \"{table}\"",
                texts.join(" || x'7c' || ")
            )
        };
        for row in db
            .query_all_raw(Statement::from_string(backend, select))
            .await
            .expect("reading a table")
        {
            let line = if backend == DbBackend::Postgres {
                row.try_get::<String>("", "line").expect("a row as text")
            } else {
                let bytes: Vec<u8> = row.try_get("", "line").expect("a row as bytes");
                String::from_utf8_lossy(&bytes).into_owned()
            };
            dump.push_str(&format!("{table}: {line}\n"));
        }
    }
    dump
}

/// The lines of `dump` holding `text`.
pub(crate) fn lines_with<'a>(dump: &'a str, text: &str) -> Vec<&'a str> {
    dump.lines().filter(|line| line.contains(text)).collect()
}

/// A tenant whose page has the erased person (entered through a link with a payload setting a
/// field, wrote, opted in, was tagged, and has a flow message queued) and the kept one. Returns
/// the tenant, the erased person's subscriber id and the bodies delivered for them.
async fn tenant_with_two_people(app: &TestApp) -> (Tenant, String, Vec<String>) {
    let tenant = connect_tenant(app, "owner@erasure.test", "Erasure", PAGE).await;
    let token = tenant.token();
    let (colour, _) = create_field(app, token, "colour", "TEXT", Some(601)).await;
    create_link(app, token, &tenant.page_id, "promo", None, &[]).await;
    create_topic(app, token, &tenant.page_id, "Deals").await;
    let t = now_ms() - 60_000;
    let bodies = vec![
        body(&[referral(ERASED, t, "promo--601--gold")]),
        body(&[message(ERASED, t + 1, "m_erasure_1", SECRET_TEXT)]),
        body(&[opt_in(ERASED, t + 2, TOKEN, "Deals", t + 86_400_000 * 30)]),
    ];
    for delivered in &bodies {
        deliver(app, &tenant, delivered).await;
    }
    deliver(
        app,
        &tenant,
        body(&[referral(KEPT, t + 3, "promo--601--silver")]),
    )
    .await;
    settled_events(app, token, 4).await;
    let erased = wait_for_subscriber(app, &tenant, ERASED, "its value", |s| {
        field_value(s, &colour).as_deref() == Some("gold")
    })
    .await;
    let id = str_at(&erased, "/id");
    let tag = create_tag(app, token, "vip").await;
    data(
        &app.mutate(
            "addSubscriberTag",
            json!({ "subscriberId": id, "tagId": tag }),
            "{ id }",
            Some(token),
        )
        .await,
    );
    // A flow sending a text: its message is queued for the person (the Graph API of this
    // test is unreachable, so it stays queued, retrying).
    let flow = app
        .mutate(
            "createFlow",
            json!({ "name": "hello", "steps": [{ "sendText": { "text": "hello there" } }] }),
            "{ id }",
            Some(token),
        )
        .await;
    let flow = str_at(data(&flow), "/createFlow/id");
    let started = app
        .mutate(
            "startFlow",
            json!({ "flowId": flow, "subscriberIds": [id] }),
            "{ runs { id } }",
            Some(token),
        )
        .await;
    assert_eq!(
        data(&started)["startFlow"]["runs"].as_array().map(Vec::len),
        Some(1),
        "{started:#}"
    );
    eventually("the flow's message queued", WAIT, async || {
        let queued = app
            .graphql(
                "query($id: ID) { outboundMessages(subscriberId: $id, first: 10) { totalCount } }",
                json!({ "id": id }),
                Some(token),
            )
            .await;
        match data(&queued)["outboundMessages"]["totalCount"].as_i64() {
            Some(1) => Ok(()),
            _ => Err(format!("{queued:#}")),
        }
    })
    .await;
    (tenant, id, bodies)
}

#[tokio::test]
async fn an_erased_subscriber_leaves_no_trace_but_the_inbox_keeps_its_rows_and_dedupe() {
    let app = spawn_app().await;
    let (tenant, id, bodies) = tenant_with_two_people(&app).await;
    let token = tenant.token();
    let kept_before = subscriber_by_psid(&app, token, &tenant.page_id, KEPT)
        .await
        .expect("the kept subscriber");
    let dump = database_dump(&app).await;
    assert!(
        !lines_with(&dump, ERASED).is_empty() && !lines_with(&dump, SECRET_TEXT).is_empty(),
        "the dump does not see the person before erasure:\n{dump}"
    );
    let events_before = event_count(&app, token, None).await;

    let response = erase(&app, token, &id).await;
    let erased = &data(&response)["eraseSubscriber"];
    assert_eq!(erased["id"], json!(id), "{response:#}");
    assert_eq!(erased["fieldValues"], json!(1), "{response:#}");
    assert_eq!(erased["tags"], json!(1), "{response:#}");
    assert_eq!(erased["notificationOptIns"], json!(1), "{response:#}");
    assert_eq!(erased["flowRuns"], json!(1), "{response:#}");
    assert_eq!(erased["messages"], json!(1), "{response:#}");
    assert_eq!(erased["webhookEventsRedacted"], json!(3), "{response:#}");
    assert!(erased["interactions"].as_i64() >= Some(3), "{response:#}");

    // Gone through the API.
    assert_error(&subscriber(&app, token, &id).await, "NOT_FOUND");
    assert!(
        subscriber_by_psid(&app, token, &tenant.page_id, ERASED)
            .await
            .is_none()
    );
    assert_error(&erase(&app, token, &id).await, "NOT_FOUND");
    // The other person is as they were.
    let kept_after = subscriber_by_psid(&app, token, &tenant.page_id, KEPT)
        .await
        .expect("the kept subscriber");
    assert_eq!(kept_after, kept_before);
    // The inbox keeps every row; the person's say only what kind they were.
    assert_eq!(event_count(&app, token, None).await, events_before);
    let events = crate::support::all_events(&app, token, None).await;
    let redacted: Vec<&Value> = events
        .iter()
        .filter(|event| event["body"]["erased"] == json!(true))
        .collect();
    assert_eq!(redacted.len(), 3, "{events:#?}");
    for event in &redacted {
        assert_eq!(event["sender"], Value::Null, "{event:#}");
        assert_eq!(
            event["body"],
            json!({ "erased": true, "kind": event["body"]["kind"] }),
            "{event:#}"
        );
        let read = webhook_event(&app, token, &str_at(event, "/id")).await;
        assert!(!read.to_string().contains(ERASED), "{read:#}");
    }

    // The raw database names the person nowhere, in any column of any table.
    let dump = database_dump(&app).await;
    for trace in [ERASED, TOKEN, SECRET_TEXT, "gold"] {
        let found = lines_with(&dump, trace);
        assert!(found.is_empty(), "{trace} is still stored: {found:#?}");
    }
    assert!(
        !lines_with(&dump, KEPT).is_empty(),
        "the kept person went too"
    );

    // A redacted event replayed applies nothing: it is ignored, and nobody comes back.
    let replayed = app
        .mutate(
            "replayWebhookEvent",
            json!({ "id": redacted[0]["id"] }),
            "{ id }",
            Some(token),
        )
        .await;
    data(&replayed);
    let replayed_id = str_at(redacted[0], "/id");
    let outcome = eventually("the replayed redacted event settled", WAIT, async || {
        let read = webhook_event(&app, token, &replayed_id).await;
        let event = &data(&read)["webhookEvent"];
        match event["status"].as_str() {
            Some("IGNORED") => Ok(event["outcome"].clone()),
            _ => Err(format!("{read:#}")),
        }
    })
    .await;
    assert_eq!(outcome, json!({ "ignored": "erased" }));
    assert!(
        subscriber_by_psid(&app, token, &tenant.page_id, ERASED)
            .await
            .is_none()
    );

    // Meta delivering the erased events again stores nothing and brings nobody back.
    for delivered in &bodies {
        deliver(&app, &tenant, delivered).await;
    }
    assert_eq!(event_count(&app, token, None).await, events_before);
    assert!(
        subscriber_by_psid(&app, token, &tenant.page_id, ERASED)
            .await
            .is_none()
    );
}

#[tokio::test]
async fn only_owners_and_admins_erase_and_only_their_own_workspace_s_subscribers() {
    let app = spawn_app().await;
    let (tenant, id, _) = tenant_with_two_people(&app).await;
    let owner = &tenant.session;
    for role in ["EDITOR", "VIEWER"] {
        let member = app
            .member_of(owner, &format!("{role}@erasure.test").to_lowercase(), role)
            .await;
        assert_error(&erase(&app, &member.access_token, &id).await, "FORBIDDEN");
    }
    let stranger = app.sign_up("stranger@erasure.test", "Elsewhere").await;
    assert_error(&erase(&app, &stranger.access_token, &id).await, "NOT_FOUND");
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_error(&erase(&app, tenant.token(), &unknown).await, "NOT_FOUND");
    // Nothing was erased by the refused attempts.
    assert!(
        subscriber_by_psid(&app, tenant.token(), &tenant.page_id, ERASED)
            .await
            .is_some()
    );

    let admin = app.member_of(owner, "admin@erasure.test", "ADMIN").await;
    let response = erase(&app, &admin.access_token, &id).await;
    assert_eq!(data(&response)["eraseSubscriber"]["id"], json!(id));
    assert!(
        subscriber_by_psid(&app, tenant.token(), &tenant.page_id, ERASED)
            .await
            .is_none()
    );
}

#[tokio::test]
async fn a_dedup_key_stored_naming_the_sender_is_rewritten_so_redeliveries_stay_duplicates() {
    let app = spawn_app().await;
    let (tenant, id, bodies) = tenant_with_two_people(&app).await;
    let token = tenant.token();
    // Keys of items without a mid once began with the sender key itself: make the referral's
    // key look like one stored then.
    let db = app.raw_database().await;
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT dedup_key FROM webhook_events WHERE kind = 'referral'",
        ))
        .await
        .expect("reading the keys");
    let keys: Vec<String> = rows
        .iter()
        .map(|row| row.try_get("", "dedup_key").expect("a key"))
        .collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(
        keys.iter()
            .all(|key| key.starts_with("sender#") && !key.contains(ERASED) && !key.contains(KEPT)),
        "a key names its sender: {keys:?}"
    );
    let mut rewritten = 0;
    for key in &keys {
        let (_, rest) = key.split_once('|').expect("a key in parts");
        let legacy = format!("psid:{ERASED}|{rest}");
        let update = Statement::from_sql_and_values(
            backend,
            if backend == DbBackend::Postgres {
                "UPDATE webhook_events SET dedup_key = $1 WHERE dedup_key = $2 \
                 AND CAST(item AS TEXT) LIKE '%gold%'"
            } else {
                "UPDATE webhook_events SET dedup_key = ? WHERE dedup_key = ? \
                 AND item LIKE '%gold%'"
            },
            [legacy.into(), key.clone().into()],
        );
        rewritten += db
            .execute_raw(update)
            .await
            .expect("aging a key")
            .rows_affected();
    }
    assert_eq!(rewritten, 1, "the erased person's referral is one event");
    let events_before = event_count(&app, token, None).await;

    data(&erase(&app, token, &id).await);

    let dump = database_dump(&app).await;
    let found = lines_with(&dump, ERASED);
    assert!(found.is_empty(), "the PSID is still stored: {found:#?}");
    deliver(&app, &tenant, &bodies[0]).await;
    assert_eq!(event_count(&app, token, None).await, events_before);
}

#[tokio::test]
async fn a_checkbox_plugin_user_is_erased_by_both_their_user_ref_and_their_psid() {
    const PSID: &str = "9711000000000301";
    const USER_REF: &str = "cb-erasure-user-4e2a";
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@plugin-erasure.test", "Plugin", PAGE).await;
    let token = tenant.token();
    create_link(&app, token, &tenant.page_id, "site", None, &[]).await;
    let t = now_ms() - 60_000;
    let checkbox = body(&[json!({ "recipient": { "id": PAGE }, "timestamp": t,
            "optin": { "ref": "site", "user_ref": USER_REF } })]);
    let reply = body(&[
        json!({ "sender": { "id": PSID }, "recipient": { "id": PAGE },
            "timestamp": t + 1, "message": { "mid": "m_plugin_erasure", "text": "Yes please" },
            "prior_message": { "source": "checkbox_plugin", "identifier": USER_REF } }),
    ]);
    deliver(&app, &tenant, &checkbox).await;
    deliver(&app, &tenant, &reply).await;
    deliver(
        &app,
        &tenant,
        body(&[message(KEPT, t + 2, "m_plugin_kept", "hi")]),
    )
    .await;
    settled_events(&app, token, 3).await;
    let linked = wait_for_subscriber(&app, &tenant, PSID, "linked", |s| {
        s["userRef"] == json!(USER_REF)
    })
    .await;
    let events_before = event_count(&app, token, None).await;

    let response = erase(&app, token, &str_at(&linked, "/id")).await;
    assert_eq!(
        data(&response)["eraseSubscriber"]["webhookEventsRedacted"],
        json!(2),
        "{response:#}"
    );

    let dump = database_dump(&app).await;
    for trace in [PSID, USER_REF] {
        let found = lines_with(&dump, trace);
        assert!(found.is_empty(), "{trace} is still stored: {found:#?}");
    }
    assert!(
        !lines_with(&dump, KEPT).is_empty(),
        "the kept person went too"
    );
    deliver(&app, &tenant, &checkbox).await;
    deliver(&app, &tenant, &reply).await;
    assert_eq!(event_count(&app, token, None).await, events_before);
}
