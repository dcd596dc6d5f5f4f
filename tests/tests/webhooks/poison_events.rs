//! Whatever one event holds, it can fail only itself: a delivery the store could not read back,
//! ids no page or person has, a ref that decodes to U+0000, or a row that cannot be read are
//! acknowledged, recorded on their own event, and every other tenant's events flow on. And a
//! suspended workspace's deliveries wait, stored, until it is reactivated.

use refhub_tests::{TestApp, data, spawn_app};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use serde_json::{Value, json};

use crate::support::{
    PAGE, Tenant, WAIT, all_events, all_subscribers, body, connect_tenant, create_field,
    create_link, deliver, eventually, field_value, now_ms, referral, settled_events,
    status_summary, subscriber_by_psid,
};

const OTHER_PAGE: &str = "104857600000002";

/// A referral to `OTHER_PAGE`, in a body of its own.
fn other_page_referral(psid: &str, timestamp: i64, reference: &str) -> String {
    let mut item = referral(psid, timestamp, reference);
    item["recipient"]["id"] = json!(OTHER_PAGE);
    json!({ "object": "page", "entry": [{ "id": OTHER_PAGE, "time": timestamp, "messaging": [item] }] })
        .to_string()
}

/// Waits until the tenant has exactly one event, in `status`; returns it.
async fn the_one_event(app: &TestApp, tenant: &Tenant, status: &str) -> Value {
    eventually(&format!("one {status} event"), WAIT, async || {
        let events = all_events(app, tenant.token(), None).await;
        match events.as_slice() {
            [event] if event["status"] == status => Ok(event.clone()),
            _ => Err(format!("{}: {events:#?}", status_summary(&events))),
        }
    })
    .await
}

/// A second tenant, on another page, whose plain referral must be processed whatever the
/// first tenant's event holds.
async fn bystander(app: &TestApp) -> Tenant {
    connect_tenant(app, "owner@bystander.test", "Bystander", OTHER_PAGE).await
}

async fn bystander_is_processed(app: &TestApp, tenant: &Tenant) {
    let events = settled_events(app, tenant.token(), 1).await;
    assert_eq!(events[0]["status"], "PROCESSED", "{events:#?}");
    assert!(
        subscriber_by_psid(app, tenant.token(), &tenant.page_id, "7700000000000001")
            .await
            .is_some(),
        "the bystander's referral made no subscriber"
    );
}

#[tokio::test]
async fn a_number_the_store_cannot_read_back_is_rejected_and_other_tenants_flow_on() {
    let app = spawn_app().await;
    let acme = connect_tenant(&app, "owner@poison.test", "Poison", PAGE).await;
    let other = bystander(&app).await;
    let t = now_ms() - 60_000;
    // The issue's repro: valid JSON, a number within f64, which PostgreSQL's jsonb stores
    // exactly and prints as 309 digits that no f64 reader takes back.
    let poison = format!(
        r#"{{"object":"page","entry":[{{"id":"{PAGE}","time":{t},"messaging":[{{"sender":{{"id":"1000001"}},"recipient":{{"id":"{PAGE}"}},"timestamp":{t},"message":{{"mid":"m1","text":"hi","n":1.7976931348623157e308}}}}]}}]}}"#
    );
    deliver(&app, &acme, &poison).await;
    deliver(
        &app,
        &other,
        other_page_referral("7700000000000001", t + 1, "anything"),
    )
    .await;

    bystander_is_processed(&app, &other).await;
    let rejected = the_one_event(&app, &acme, "REJECTED").await;
    let error = rejected["error"].as_str().unwrap_or_default();
    assert!(error.contains("number"), "{rejected:#}");
    assert_eq!(rejected["body"]["message"]["text"], "hi", "{rejected:#}");
    assert!(rejected["processedAt"].is_string(), "{rejected:#}");
    assert!(
        subscriber_by_psid(&app, acme.token(), &acme.page_id, "1000001")
            .await
            .is_none(),
        "a rejected event made a subscriber"
    );
}

#[tokio::test]
async fn a_nul_in_a_sender_id_is_acknowledged_and_recorded_as_rejected() {
    let app = spawn_app().await;
    let acme = connect_tenant(&app, "owner@nul-sender.test", "Nul sender", PAGE).await;
    let t = now_ms() - 60_000;
    let delivery = body(&[referral("1000\u{0}002", t, "anything")]);
    assert!(delivery.contains(r"\u0000"), "{delivery}");
    // `deliver` asserts the 200: Meta retries anything else for days.
    deliver(&app, &acme, &delivery).await;

    let rejected = the_one_event(&app, &acme, "REJECTED").await;
    assert!(
        rejected["error"]
            .as_str()
            .unwrap_or_default()
            .contains("sender"),
        "{rejected:#}"
    );
    assert!(rejected["sender"].is_null(), "{rejected:#}");
    assert_eq!(
        rejected["body"]["sender"]["id"], "1000\u{FFFD}002",
        "stored with U+0000 replaced: {rejected:#}"
    );
    let everyone = all_subscribers(&app, acme.token(), &acme.page_id, Value::Null).await;
    assert!(everyone.is_empty(), "{everyone:#?}");
}

#[tokio::test]
async fn a_sender_id_of_100000_digits_is_rejected_not_a_subscriber() {
    let app = spawn_app().await;
    let acme = connect_tenant(&app, "owner@long-sender.test", "Long sender", PAGE).await;
    let t = now_ms() - 60_000;
    let long_id = "7".repeat(100_000);
    deliver(&app, &acme, body(&[referral(&long_id, t, "anything")])).await;
    // Another person's sane item is processed as ever.
    deliver(
        &app,
        &acme,
        body(&[referral("7100000000000009", t + 1, "x")]),
    )
    .await;

    let events = eventually("one rejected and one processed event", WAIT, async || {
        let events = all_events(&app, acme.token(), None).await;
        if status_summary(&events) == "PROCESSED=1 REJECTED=1" {
            Ok(events)
        } else {
            Err(format!("{events:#?}"))
        }
    })
    .await;
    let rejected = events
        .iter()
        .find(|e| e["status"] == "REJECTED")
        .expect("the rejected event");
    assert!(
        rejected["error"]
            .as_str()
            .unwrap_or_default()
            .contains("sender"),
        "{rejected:#}"
    );
    let psids: Vec<Value> = all_subscribers(&app, acme.token(), &acme.page_id, Value::Null)
        .await
        .iter()
        .map(|s| s["psid"].clone())
        .collect();
    assert_eq!(psids, [json!("7100000000000009")]);
}

#[tokio::test]
async fn a_nul_decoded_from_a_ref_payload_is_a_skipped_value() {
    let app = spawn_app().await;
    let acme = connect_tenant(&app, "owner@nul-ref.test", "Nul ref", PAGE).await;
    let token = acme.token();
    let (dish, _) = create_field(&app, token, "dish", "TEXT", None).await;
    let (city, _) = create_field(&app, token, "city", "TEXT", Some(738)).await;
    create_link(&app, token, &acme.page_id, "menu", Some(&dish), &[]).await;
    let psid = "7200000000000001";
    // The city's value decodes to U+0000, which no text column of PostgreSQL holds.
    deliver(
        &app,
        &acme,
        body(&[referral(
            psid,
            now_ms() - 60_000,
            "menu--pizza--738--Ber%00lin",
        )]),
    )
    .await;

    let events = settled_events(&app, token, 1).await;
    assert_eq!(events[0]["status"], "PROCESSED", "{events:#?}");
    let skipped = events[0]["outcome"]["skipped"].to_string();
    assert!(skipped.contains("U+0000"), "{:#}", events[0]);
    let person = subscriber_by_psid(&app, token, &acme.page_id, psid)
        .await
        .expect("the referred person");
    assert_eq!(field_value(&person, &dish).as_deref(), Some("pizza"));
    assert_eq!(field_value(&person, &city), None, "{person:#}");
}

/// A connection that sees every tenant's rows: the admin on PostgreSQL (row-level security
/// would hide them from the application's role), the file itself on SQLite.
async fn owner_connection(app: &TestApp) -> (sea_orm::DatabaseConnection, DbBackend) {
    let (url, backend) = match &app.admin_database_url {
        Some(admin) => (admin.clone(), DbBackend::Postgres),
        None => (app.database_url.clone(), DbBackend::Sqlite),
    };
    let db = Database::connect(url).await.expect("the test database");
    (db, backend)
}

#[tokio::test]
async fn a_stored_event_that_cannot_be_read_is_dead_alone_and_the_rest_flow_on() {
    let app = spawn_app().await;
    let acme = connect_tenant(&app, "owner@unreadable.test", "Unreadable", PAGE).await;
    let other = bystander(&app).await;
    let tenant_id = uuid::Uuid::parse_str(acme.session.tenant()).expect("a tenant id");
    let id = uuid::Uuid::now_v7();
    let due = chrono::Utc::now() - chrono::Duration::minutes(1);
    // Stored behind the inbox's back, as a row from before its checks, or written by another
    // version, would be: PostgreSQL holds a number no f64 reader takes back; SQLite, text
    // that is not JSON.
    let (db, backend) = owner_connection(&app).await;
    let (sql, item) = match backend {
        DbBackend::Postgres => (
            "INSERT INTO webhook_events (tenant_id, id, dedup_key, page_facebook_id, kind,
               occurred_at, received_at, item, status, attempts, next_attempt_at)
             VALUES ($1, $2, 'unreadable', $3, 'message', $4, $4, $5::jsonb, 'pending', 0, $4)",
            r#"{"message":{"mid":"m_unreadable","n":1.7976931348623157e308}}"#,
        ),
        _ => (
            "INSERT INTO webhook_events (tenant_id, id, dedup_key, page_facebook_id, kind,
               occurred_at, received_at, item, status, attempts, next_attempt_at)
             VALUES (?1, ?2, 'unreadable', ?3, 'message', ?4, ?4, ?5, 'pending', 0, ?4)",
            r#"{"message":{"mid":"m_unreadable","n":"#,
        ),
    };
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        sql,
        [
            tenant_id.into(),
            id.into(),
            PAGE.into(),
            due.into(),
            item.into(),
        ],
    ))
    .await
    .expect("storing the unreadable event");
    deliver(
        &app,
        &other,
        other_page_referral("7700000000000001", now_ms() - 1_000, "anything"),
    )
    .await;

    bystander_is_processed(&app, &other).await;
    let dead = the_one_event(&app, &acme, "DEAD").await;
    assert_eq!(dead["id"], id.to_string(), "{dead:#}");
    assert!(
        dead["error"]
            .as_str()
            .unwrap_or_default()
            .contains("cannot be read"),
        "{dead:#}"
    );
    assert!(
        dead["body"]
            .as_str()
            .unwrap_or_default()
            .contains("m_unreadable"),
        "the stored text is kept to be looked at: {dead:#}"
    );
}

/// Suspends or reactivates the tenant as a platform operator.
async fn set_tenant_status(app: &TestApp, operator: &str, mutation: &str, tenant_id: &str) {
    let response = app
        .mutate(
            mutation,
            json!({ "tenantId": tenant_id }),
            "{ id status }",
            Some(operator),
        )
        .await;
    data(&response);
}

/// The statuses of a tenant's stored events, read past the API (a suspended workspace's
/// members cannot read them).
async fn stored_statuses(app: &TestApp, tenant_id: &str) -> Vec<String> {
    let (db, backend) = owner_connection(app).await;
    let sql = match backend {
        DbBackend::Postgres => "SELECT status FROM webhook_events WHERE tenant_id = $1",
        _ => "SELECT status FROM webhook_events WHERE tenant_id = ?1",
    };
    let tenant_id = uuid::Uuid::parse_str(tenant_id).expect("a tenant id");
    db.query_all_raw(Statement::from_sql_and_values(
        backend,
        sql,
        [tenant_id.into()],
    ))
    .await
    .expect("reading the statuses")
    .iter()
    .map(|row| row.try_get_by_index::<String>(0).expect("a status"))
    .collect()
}

#[tokio::test]
async fn a_suspended_workspaces_events_wait_stored_and_are_processed_once_reactivated() {
    let app = spawn_app().await;
    let acme = connect_tenant(&app, "owner@suspended.test", "Suspended", PAGE).await;
    let other = bystander(&app).await;
    let operator = app.operator("ops@suspended.test").await;
    let ops = &operator.access_token;
    set_tenant_status(&app, ops, "suspendTenant", acme.session.tenant()).await;

    let t = now_ms() - 60_000;
    deliver(
        &app,
        &acme,
        body(&[referral("7300000000000001", t, "anything")]),
    )
    .await;
    // Stored later, so claimed with or after the suspended workspace's event.
    deliver(
        &app,
        &other,
        other_page_referral("7700000000000001", t + 1, "anything"),
    )
    .await;
    bystander_is_processed(&app, &other).await;
    assert_eq!(
        stored_statuses(&app, acme.session.tenant()).await,
        ["pending"],
        "a suspended workspace's event is kept, not processed"
    );

    set_tenant_status(&app, ops, "reactivateTenant", acme.session.tenant()).await;
    let events = settled_events(&app, acme.token(), 1).await;
    assert_eq!(events[0]["status"], "PROCESSED", "{events:#?}");
    assert!(
        subscriber_by_psid(&app, acme.token(), &acme.page_id, "7300000000000001")
            .await
            .is_some()
    );
}

/// A number too large for a float (`1e400`) is valid JSON that the parser refuses: the item
/// holding it is rejected on its own, and the delivery's other items are stored and processed
/// (before, the whole body answered 400 and every item of it was lost).
#[tokio::test]
async fn a_number_beyond_any_float_rejects_its_item_and_the_rest_of_the_delivery_is_kept() {
    let app = spawn_app().await;
    let acme = connect_tenant(&app, "owner@huge.test", "Huge", PAGE).await;
    let t = now_ms() - 60_000;
    let delivery = format!(
        r#"{{"object":"page","entry":[{{"id":"{PAGE}","time":{t},"messaging":[
            {{"sender":{{"id":"1000002"}},"recipient":{{"id":"{PAGE}"}},"timestamp":{t},"message":{{"mid":"m-huge-1","text":"hi","n":1e400}}}},
            {{"sender":{{"id":"1000003"}},"recipient":{{"id":"{PAGE}"}},"timestamp":{t},"message":{{"mid":"m-huge-2","text":"hello"}}}}]}}]}}"#
    );
    deliver(&app, &acme, &delivery).await;
    let events = eventually("one rejected and one processed event", WAIT, async || {
        let events = all_events(&app, acme.token(), None).await;
        let mut statuses: Vec<_> = events.iter().map(|e| e["status"].to_string()).collect();
        statuses.sort();
        if statuses == ["\"PROCESSED\"", "\"REJECTED\""] {
            Ok(events)
        } else {
            Err(status_summary(&events))
        }
    })
    .await;
    let status_of = |mid: &str| {
        events
            .iter()
            .find(|e| e["body"]["message"]["mid"] == mid)
            .map(|e| (e["status"].clone(), e["error"].clone()))
            .unwrap_or_else(|| panic!("an event for {mid}: {events:#?}"))
    };
    let (status, error) = status_of("m-huge-1");
    assert_eq!(status, "REJECTED", "{events:#?}");
    assert!(
        error.as_str().unwrap_or_default().contains("1e400"),
        "{error}"
    );
    assert_eq!(status_of("m-huge-2").0, "PROCESSED", "{events:#?}");
    assert!(
        subscriber_by_psid(&app, acme.token(), &acme.page_id, "1000003")
            .await
            .is_some()
    );
}
