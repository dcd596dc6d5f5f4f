//! Claimed batches applied in one transaction per tenant: many events of one person in one
//! batch, in shuffled time order, end as if applied one by one in event time; one batch may
//! hold several tenants, and replays beside new events; an event that cannot be applied fails
//! alone while the rest of its batch applies.
//!
//! One body's events are stored in one commit, so that an in-process worker claims them in one
//! batch. The other tests store everything first in an app without workers and then start a
//! worker process, whose first claim then takes every event at once.

use std::collections::BTreeSet;

use chrono::{Days, Utc};
use refhub_tests::{TestApp, data, spawn_app, spawn_app_with, str_at};
use sea_orm::{
    ConnectOptions, ConnectionTrait as _, Database, DbBackend, Statement, TransactionTrait as _,
};
use serde_json::{Value, json};

use crate::support::{
    PAGE, Tenant, WAIT, WorkerProcess, all_events, all_subscribers, at_ms, body, connect_tenant,
    create_field, create_link, create_tag, deliver, entry_count, event_count, eventually,
    field_value, instant, message, now_ms, referral, settled_events, status_summary,
    subscriber_by_psid, tag_ids, webhook_event,
};

/// More than any test here stores, so that a worker process claims everything at once.
const BATCH: &str = "200";

/// The totals of a ref link's funnel around today: `(entries, newSubscribers)`.
async fn link_totals(app: &TestApp, token: &str, link_id: &str) -> (i64, i64) {
    let today = Utc::now().date_naive();
    let response = app
        .graphql(
            "query($id: ID!, $from: NaiveDate!, $to: NaiveDate!) { \
               refLinkReport(refLinkId: $id, from: $from, to: $to) { \
                 totals { entries newSubscribers } } }",
            json!({
                "id": link_id,
                "from": (today - Days::new(1)).to_string(),
                "to": (today + Days::new(1)).to_string(),
            }),
            Some(token),
        )
        .await;
    let totals = &data(&response)["refLinkReport"]["totals"];
    (
        totals["entries"].as_i64().expect("entries"),
        totals["newSubscribers"].as_i64().expect("newSubscribers"),
    )
}

/// The person's subscriber, which must exist.
async fn person(app: &TestApp, tenant: &Tenant, psid: &str) -> Value {
    subscriber_by_psid(app, tenant.token(), &tenant.page_id, psid)
        .await
        .unwrap_or_else(|| panic!("no subscriber {psid}"))
}

/// An app that stores deliveries but processes nothing itself.
async fn app_without_workers() -> TestApp {
    spawn_app_with(|config| config.workers = 0).await
}

/// Runs one worker process until each tenant has `expected` settled events, then stops it.
async fn process_with_a_worker(app: &TestApp, work: &[(&Tenant, usize)]) {
    let logs = tempfile::tempdir().expect("a directory for worker logs");
    let worker = WorkerProcess::start_with(
        app,
        1,
        logs.path(),
        "batch",
        &[("WORKER_BATCH_SIZE", BATCH)],
    );
    for (tenant, expected) in work {
        settled_events(app, tenant.token(), *expected).await;
    }
    worker.terminate().await;
}

#[tokio::test]
async fn shuffled_events_of_one_person_in_one_batch_apply_as_in_event_time() {
    const N: i64 = 32;
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@one-batch.test", "One batch", PAGE).await;
    let token = tenant.token();
    let (variant, _) = create_field(&app, token, "variant", "TEXT", None).await;
    let tag = create_tag(&app, token, "Batched").await;
    let link = create_link(
        &app,
        token,
        &tenant.page_id,
        "batch",
        Some(&variant),
        &[&tag],
    )
    .await;
    let side = create_link(&app, token, &tenant.page_id, "side", None, &[]).await;
    let psid = "8700000000000001";
    let other = "8700000000000002";

    // Item i happens in second slot(i) after `base`: delivered neither in time order nor in
    // its reverse. Every fourth second is a plain message (the last one too), the others
    // entries through the link carrying their second as the variant.
    let base = now_ms() - 600_000;
    let slot = |i: i64| (i * 11 + 7) % N;
    let is_entry = |s: i64| s % 4 != 3;
    let mut items: Vec<Value> = (0..N)
        .map(|i| {
            let s = slot(i);
            let at = base + s * 1_000;
            if is_entry(s) {
                referral(psid, at, &format!("batch--v{s}"))
            } else {
                message(psid, at, &format!("m_batch_{s}"), "hello")
            }
        })
        .collect();
    // Another person, new too, through another link, amid the first one's events.
    items.insert(5, referral(other, base + 1_500, "side"));
    items.insert(17, referral(other, base + 500, "side"));
    let entries: Vec<i64> = (0..N).filter(|&s| is_entry(s)).collect();
    let first_entry = *entries.first().expect("entries");
    let last_entry = *entries.last().expect("entries");
    assert!(
        slot(0) != 0 && slot(N - 1) != N - 1 && !is_entry(N - 1) && is_entry(0),
        "the delivery order must not be the time order; the first event is an entry, the last not"
    );

    // One body: stored in one commit, claimed in one batch (of the default 50).
    deliver(&app, &tenant, body(&items)).await;
    let events = settled_events(&app, token, items.len()).await;
    assert!(
        events.iter().all(|e| e["status"] == "PROCESSED"),
        "{}",
        status_summary(&events)
    );

    let found = person(&app, &tenant, psid).await;
    assert_eq!(entry_count(&found), entries.len() as i64, "{found:#}");
    assert_eq!(
        found["sourceRef"],
        json!(format!("batch--v{first_entry}")),
        "first touch is the earliest entry by event time: {found:#}"
    );
    assert_eq!(found["sourceRefLink"]["id"], json!(link));
    assert_eq!(
        field_value(&found, &variant),
        Some(format!("v{last_entry}")),
        "the value of the latest entry by event time wins: {found:#}"
    );
    assert_eq!(tag_ids(&found), vec![tag.clone()]);
    assert_eq!(instant(&found["firstSeenAt"]), at_ms(base), "{found:#}");
    assert_eq!(
        instant(&found["lastInteractionAt"]),
        at_ms(base + (N - 1) * 1_000),
        "{found:#}"
    );

    let second = person(&app, &tenant, other).await;
    assert_eq!(entry_count(&second), 2, "{second:#}");
    assert_eq!(instant(&second["firstSeenAt"]), at_ms(base + 500));
    assert_eq!(second["sourceRefLink"]["id"], json!(side));
    let everyone = all_subscribers(&app, token, &tenant.page_id, Value::Null).await;
    assert_eq!(
        everyone.len(),
        2,
        "two people, two subscribers: {everyone:#?}"
    );

    // Each new person counts once, on their earliest event (an entry here).
    assert_eq!(
        link_totals(&app, token, &link).await,
        (entries.len() as i64, 1),
        "(entries, newSubscribers) of the link"
    );
    assert_eq!(link_totals(&app, token, &side).await, (2, 1));
}

#[tokio::test]
async fn one_batch_of_two_tenants_applies_each_tenants_events_to_its_own_subscribers() {
    let app = app_without_workers().await;
    // The same page, the same ref and the same people in both: only the tenant tells them apart.
    let acme = connect_tenant(&app, "owner@acme-batch.test", "Acme", PAGE).await;
    let globex = connect_tenant(&app, "owner@globex-batch.test", "Globex", PAGE).await;
    let mut catalogue = Vec::new();
    for tenant in [&acme, &globex] {
        let token = tenant.token();
        let (level, _) = create_field(&app, token, "level", "TEXT", None).await;
        let tag = create_tag(&app, token, "Shared").await;
        let link = create_link(
            &app,
            token,
            &tenant.page_id,
            "shared",
            Some(&level),
            &[&tag],
        )
        .await;
        catalogue.push((level, tag, link));
    }
    let (first, second, third) = ("8800000000000001", "8800000000000002", "8800000000000003");
    let base = now_ms() - 900_000;
    let at = |seconds: i64| base + seconds * 1_000;
    // (psid, second, level), in delivery order.
    let acme_events = [
        (first, 3, "gold"),
        (second, 1, "tin"),
        (first, 2, "silver"),
        (first, 4, "bronze"),
    ];
    let globex_events = [(first, 9, "ruby"), (third, 5, "jade"), (first, 7, "opal")];
    for (tenant, events) in [(&acme, &acme_events[..]), (&globex, &globex_events[..])] {
        let items: Vec<Value> = events
            .iter()
            .map(|(psid, s, level)| referral(psid, at(*s), &format!("shared--{level}")))
            .collect();
        deliver(&app, tenant, body(&items)).await;
    }
    for (tenant, events) in [(&acme, acme_events.len()), (&globex, globex_events.len())] {
        assert_eq!(
            event_count(&app, tenant.token(), Some("PENDING")).await,
            events as i64,
            "with workers = 0 the app must leave every event PENDING"
        );
    }

    process_with_a_worker(
        &app,
        &[(&acme, acme_events.len()), (&globex, globex_events.len())],
    )
    .await;

    for (tenant, events, (level, tag, link)) in [
        (&acme, &acme_events[..], &catalogue[0]),
        (&globex, &globex_events[..], &catalogue[1]),
    ] {
        let people: BTreeSet<&str> = events.iter().map(|(psid, _, _)| *psid).collect();
        let everyone = all_subscribers(&app, tenant.token(), &tenant.page_id, Value::Null).await;
        assert_eq!(
            everyone.len(),
            people.len(),
            "{}'s subscribers: {everyone:#?}",
            tenant.page_id
        );
        for psid in &people {
            let theirs: Vec<&(&str, i64, &str)> =
                events.iter().filter(|(p, _, _)| p == psid).collect();
            let earliest = theirs.iter().min_by_key(|(_, s, _)| *s).expect("events");
            let latest = theirs.iter().max_by_key(|(_, s, _)| *s).expect("events");
            let found = person(&app, tenant, psid).await;
            assert_eq!(entry_count(&found), theirs.len() as i64, "{found:#}");
            assert_eq!(
                found["sourceRef"],
                json!(format!("shared--{}", earliest.2)),
                "{found:#}"
            );
            assert_eq!(
                field_value(&found, level).as_deref(),
                Some(latest.2),
                "{found:#}"
            );
            assert_eq!(tag_ids(&found), vec![tag.clone()], "{found:#}");
            assert_eq!(instant(&found["firstSeenAt"]), at_ms(at(earliest.1)));
        }
        assert_eq!(
            link_totals(&app, tenant.token(), link).await,
            (events.len() as i64, people.len() as i64),
            "(entries, newSubscribers) of {}'s link",
            tenant.page_id
        );
    }
}

#[tokio::test]
async fn replays_and_redeliveries_beside_new_events_in_one_batch_change_nothing_again() {
    let app = app_without_workers().await;
    let tenant = connect_tenant(&app, "owner@replay-batch.test", "Replay batch", PAGE).await;
    let token = tenant.token();
    let (coupon, _) = create_field(&app, token, "coupon", "TEXT", None).await;
    let (level, _) = create_field(&app, token, "level", "TEXT", None).await;
    let promo_tag = create_tag(&app, token, "Promo").await;
    let second_tag = create_tag(&app, token, "Second").await;
    let promo = create_link(
        &app,
        token,
        &tenant.page_id,
        "promo",
        Some(&coupon),
        &[&promo_tag],
    )
    .await;
    let second = create_link(
        &app,
        token,
        &tenant.page_id,
        "second",
        Some(&level),
        &[&second_tag],
    )
    .await;
    let (psid, newcomer) = ("8900000000000001", "8900000000000002");
    let base = now_ms() - 900_000;
    let first_delivery = body(&[referral(psid, base, "promo--A")]);
    let second_delivery = body(&[referral(psid, base + 1_000, "promo--B")]);

    // First batch: two entries of one person.
    deliver(&app, &tenant, &first_delivery).await;
    deliver(&app, &tenant, &second_delivery).await;
    process_with_a_worker(&app, &[(&tenant, 2)]).await;
    let applied = all_events(&app, token, None).await;
    let before = person(&app, &tenant, psid).await;
    assert_eq!(entry_count(&before), 2, "{before:#}");
    assert_eq!(field_value(&before, &coupon).as_deref(), Some("B"));
    // The coupon is then changed by hand: replaying the entries must not put theirs back.
    let edited = app
        .mutate(
            "setSubscriberField",
            json!({ "subscriberId": before["id"], "fieldId": coupon, "value": "MANUAL" }),
            "{ id }",
            Some(token),
        )
        .await;
    data(&edited);

    // Second batch: both events replayed, one redelivered, and two new events.
    for event in &applied {
        let replayed = app
            .mutate(
                "replayWebhookEvent",
                json!({ "id": event["id"] }),
                "{ id status }",
                Some(token),
            )
            .await;
        assert_eq!(data(&replayed)["replayWebhookEvent"]["status"], "PENDING");
    }
    deliver(&app, &tenant, &second_delivery).await;
    deliver(
        &app,
        &tenant,
        body(&[
            referral(newcomer, base + 3_000, "promo--Q"),
            referral(psid, base + 2_000, "second--gold"),
        ]),
    )
    .await;
    assert_eq!(
        event_count(&app, token, Some("PENDING")).await,
        4,
        "two replays and two new events wait; the redelivery was not stored again"
    );
    process_with_a_worker(&app, &[(&tenant, 4)]).await;

    let events = all_events(&app, token, None).await;
    assert!(
        events.iter().all(|e| e["status"] == "PROCESSED"),
        "{}",
        status_summary(&events)
    );
    for old in &applied {
        let now = events
            .iter()
            .find(|e| e["id"] == old["id"])
            .expect("the replayed event");
        assert_ne!(
            now["processedAt"], old["processedAt"],
            "the replay was processed again"
        );
    }
    let after = person(&app, &tenant, psid).await;
    assert_eq!(entry_count(&after), 3, "two entries and one new: {after:#}");
    assert_eq!(after["sourceRef"], "promo--A", "{after:#}");
    assert_eq!(instant(&after["firstSeenAt"]), at_ms(base));
    assert_eq!(
        field_value(&after, &coupon).as_deref(),
        Some("MANUAL"),
        "a replay put an old value back: {after:#}"
    );
    assert_eq!(field_value(&after, &level).as_deref(), Some("gold"));
    let mut both_tags = vec![promo_tag.clone(), second_tag.clone()];
    both_tags.sort();
    assert_eq!(tag_ids(&after), both_tags, "{after:#}");
    let newcomer = person(&app, &tenant, newcomer).await;
    assert_eq!(entry_count(&newcomer), 1, "{newcomer:#}");
    assert_eq!(field_value(&newcomer, &coupon).as_deref(), Some("Q"));
    // Entries counted once each; new: the person (first batch) and the newcomer.
    assert_eq!(link_totals(&app, token, &promo).await, (3, 2));
    assert_eq!(link_totals(&app, token, &second).await, (1, 0));
}

/// Deletes a tag as if between reading a link and applying an entry through it: the tag row
/// goes, while the link still names it (the foreign keys are bypassed for this alone).
async fn delete_tag_behind_the_links_back(app: &TestApp, tag_id: &str) {
    let tag_id = uuid::Uuid::parse_str(tag_id).expect("a tag id");
    let deleted = match &app.admin_database_url {
        Some(admin) => {
            let database = Database::connect(admin.clone())
                .await
                .expect("the test database");
            let txn = database.begin().await.expect("a transaction");
            // The admin is a superuser: replica mode skips the foreign-key triggers.
            txn.execute_unprepared("SET LOCAL session_replication_role = replica")
                .await
                .expect("replica mode");
            let deleted = txn
                .execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "DELETE FROM tags WHERE id = $1",
                    [tag_id.into()],
                ))
                .await
                .expect("deleting the tag");
            txn.commit().await.expect("commit");
            deleted.rows_affected()
        }
        None => {
            let mut options = ConnectOptions::new(app.database_url.clone());
            options.map_sqlx_sqlite_opts(|opts| opts.foreign_keys(false));
            let database = Database::connect(options).await.expect("the test database");
            database
                .execute_raw(Statement::from_sql_and_values(
                    DbBackend::Sqlite,
                    "DELETE FROM tags WHERE id = ?",
                    [tag_id.into()],
                ))
                .await
                .expect("deleting the tag")
                .rows_affected()
        }
    };
    assert_eq!(deleted, 1, "the tag was not deleted");
}

/// Removes the link's reference to a tag that no longer exists, as deleting it would have.
async fn forget_deleted_tag(app: &TestApp, tag_id: &str) {
    let tag_id = uuid::Uuid::parse_str(tag_id).expect("a tag id");
    let (url, backend, sql) = match &app.admin_database_url {
        Some(admin) => (
            admin.clone(),
            DbBackend::Postgres,
            "DELETE FROM ref_link_tags WHERE tag_id = $1",
        ),
        None => (
            app.database_url.clone(),
            DbBackend::Sqlite,
            "DELETE FROM ref_link_tags WHERE tag_id = ?",
        ),
    };
    let database = Database::connect(url).await.expect("the test database");
    let deleted = database
        .execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [tag_id.into()],
        ))
        .await
        .expect("deleting the link's tag");
    assert_eq!(deleted.rows_affected(), 1);
}

#[tokio::test]
async fn an_event_that_cannot_be_applied_fails_alone_and_the_rest_of_its_batch_applies() {
    let app = app_without_workers().await;
    let tenant = connect_tenant(&app, "owner@bad-batch.test", "Bad batch", PAGE).await;
    let token = tenant.token();
    let gift_tag = create_tag(&app, token, "Gift").await;
    let kept_tag = create_tag(&app, token, "Kept").await;
    let gift = create_link(&app, token, &tenant.page_id, "gift", None, &[&gift_tag]).await;
    create_link(&app, token, &tenant.page_id, "plain", None, &[&kept_tag]).await;
    let (unlucky, lucky, chatty) = ("8910000000000001", "8910000000000002", "8910000000000003");
    let base = now_ms() - 600_000;
    deliver(
        &app,
        &tenant,
        body(&[
            referral(lucky, base, "plain"),
            referral(unlucky, base + 1_000, "gift"),
            message(unlucky, base + 2_000, "m_bad_batch_1", "hi"),
            message(chatty, base + 3_000, "m_bad_batch_2", "hello"),
            referral(lucky, base + 4_000, "plain"),
        ]),
    )
    .await;
    // The gift link still names its tag, which no longer exists: adding it to the person
    // fails (a foreign key), in the batch and again on its own.
    delete_tag_behind_the_links_back(&app, &gift_tag).await;

    let logs = tempfile::tempdir().expect("a directory for worker logs");
    let mut worker = WorkerProcess::start_with(
        &app,
        1,
        logs.path(),
        "bad-batch",
        &[("WORKER_BATCH_SIZE", BATCH)],
    );
    let events = eventually("four events PROCESSED and one FAILED", WAIT, async || {
        worker.assert_alive();
        let events = all_events(&app, token, None).await;
        let processed = events.iter().filter(|e| e["status"] == "PROCESSED").count();
        let failed: Vec<&Value> = events.iter().filter(|e| e["status"] == "FAILED").collect();
        if processed == 4 && failed.len() == 1 {
            Ok(events)
        } else {
            Err(format!(
                "{}; {}",
                status_summary(&events),
                worker.log_tail()
            ))
        }
    })
    .await;
    assert!(
        worker.logged("applying a batch; applying its events one by one"),
        "the batch did not fail as a whole: the test proves nothing; {}",
        worker.log_tail()
    );
    let bad = events
        .iter()
        .find(|e| e["status"] == "FAILED")
        .expect("the failed event");
    assert_eq!(
        instant(&bad["occurredAt"]),
        at_ms(base + 1_000),
        "the entry through the gift link failed: {bad:#}"
    );
    let error = bad["error"].as_str().unwrap_or_default();
    assert!(error.contains("internal error"), "{bad:#}");
    assert!(
        events
            .iter()
            .filter(|e| e["status"] == "PROCESSED")
            .all(|e| e["attempts"] == 1),
        "the others applied at their first attempt: {events:#?}"
    );
    // The rest of the batch is applied, the unlucky person's message included.
    let lucky_person = person(&app, &tenant, lucky).await;
    assert_eq!(entry_count(&lucky_person), 2, "{lucky_person:#}");
    assert_eq!(tag_ids(&lucky_person), vec![kept_tag.clone()]);
    let unlucky_person = person(&app, &tenant, unlucky).await;
    assert_eq!(
        entry_count(&unlucky_person),
        0,
        "only the message applied: {unlucky_person:#}"
    );
    assert_eq!(instant(&unlucky_person["firstSeenAt"]), at_ms(base + 2_000));
    person(&app, &tenant, chatty).await;

    // Once the link forgets the tag, the failed event applies when retried.
    forget_deleted_tag(&app, &gift_tag).await;
    let bad_id = str_at(bad, "/id");
    let retried = eventually("the failed event to apply on retry", WAIT, async || {
        let response = webhook_event(&app, token, &bad_id).await;
        let event = data(&response)["webhookEvent"].clone();
        if event["status"] == "PROCESSED" {
            Ok(event)
        } else {
            Err(format!("{event:#}"))
        }
    })
    .await;
    assert!(
        retried["attempts"].as_i64().unwrap_or_default() >= 2,
        "{retried:#}"
    );
    assert_eq!(retried["error"], Value::Null, "{retried:#}");
    worker.terminate().await;
    let unlucky_person = person(&app, &tenant, unlucky).await;
    assert_eq!(entry_count(&unlucky_person), 1, "{unlucky_person:#}");
    assert_eq!(unlucky_person["sourceRefLink"]["id"], json!(gift));
    assert_eq!(instant(&unlucky_person["firstSeenAt"]), at_ms(base + 1_000));
    assert!(tag_ids(&unlucky_person).is_empty(), "{unlucky_person:#}");
}
