//! Workers in their own processes (`src/bin/refhub_worker.rs`, i.e. `run_workers`): a worker
//! SIGKILLed in the middle of its work loses nothing and applies nothing twice once restarted;
//! SIGTERM stops it cleanly; on PostgreSQL several worker processes share the inbox.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use refhub_tests::{TestApp, require_postgres, spawn_app_with};
use serde_json::Value;

use crate::support::{
    PAGE, Tenant, WorkerProcess, all_events, all_subscribers, body_of_entries, connect_tenant,
    create_link, deliver, entry_count, event_count, eventually, now_ms, referral, status_summary,
};

/// How long worker processes get to drain the inbox (leases of 2 s included).
const DRAIN: Duration = Duration::from_secs(90);

/// `events` distinct referrals (each delivered as its own entry, 20 entries a body) for
/// `people` people; returns how many each person was sent.
async fn seed(
    app: &TestApp,
    tenant: &Tenant,
    events: usize,
    people: usize,
) -> BTreeMap<String, i64> {
    create_link(app, tenant.token(), &tenant.page_id, "crash", None, &[]).await;
    let base = now_ms() - 3_600_000;
    let mut sent = BTreeMap::<String, i64>::new();
    let items: Vec<Value> = (0..events)
        .map(|j| {
            // An uneven spread: some people get more events than others.
            let person = (j * 7 + j / 13) % people;
            let psid = format!("860000000000{person:04}");
            *sent.entry(psid.clone()).or_default() += 1;
            referral(&psid, base + j as i64 * 1_000, &format!("crash--e{j}"))
        })
        .collect();
    for chunk in items.chunks(20) {
        deliver(app, tenant, body_of_entries(chunk)).await;
    }
    assert_eq!(sent.len(), people);
    sent
}

/// Polls (tightly: the point is to catch the worker in mid-flight) until at least `at_least`
/// events are PROCESSED; returns the count seen.
async fn processed_at_least(
    app: &TestApp,
    tenant: &Tenant,
    at_least: i64,
    worker: &mut WorkerProcess,
) -> i64 {
    let started = Instant::now();
    loop {
        let processed = event_count(app, tenant.token(), Some("PROCESSED")).await;
        if processed >= at_least {
            return processed;
        }
        worker.assert_alive();
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no worker progress within 30 s ({processed} processed); its log:\n{}",
            worker.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits until all `total` events are PROCESSED.
async fn all_processed(app: &TestApp, tenant: &Tenant, total: i64, workers: &[&WorkerProcess]) {
    eventually(
        &format!("all {total} events PROCESSED"),
        DRAIN,
        async || {
            let processed = event_count(app, tenant.token(), Some("PROCESSED")).await;
            if processed == total {
                Ok(())
            } else {
                let events = all_events(app, tenant.token(), None).await;
                let logs: Vec<String> = workers.iter().map(|w| w.log_tail()).collect();
                Err(format!(
                    "{} — worker logs: {logs:#?}",
                    status_summary(&events)
                ))
            }
        },
    )
    .await;
}

/// Nothing lost, nothing applied twice, nothing failed.
async fn assert_exactly_once(app: &TestApp, tenant: &Tenant, sent: &BTreeMap<String, i64>) {
    let events = all_events(app, tenant.token(), None).await;
    let total: i64 = sent.values().sum();
    assert_eq!(events.len() as i64, total, "{}", status_summary(&events));
    let unsettled: Vec<&Value> = events
        .iter()
        .filter(|e| e["status"] != "PROCESSED")
        .collect();
    assert!(unsettled.is_empty(), "events not PROCESSED: {unsettled:#?}");
    for status in ["FAILED", "DEAD", "PENDING", "PROCESSING"] {
        assert_eq!(
            event_count(app, tenant.token(), Some(status)).await,
            0,
            "{status}"
        );
    }
    let subscribers = all_subscribers(app, tenant.token(), &tenant.page_id, Value::Null).await;
    let got: BTreeMap<String, i64> = subscribers
        .iter()
        .map(|s| (s["psid"].as_str().unwrap_or("?").to_owned(), entry_count(s)))
        .collect();
    assert_eq!(subscribers.len(), got.len(), "one subscriber per person");
    assert_eq!(
        &got, sent,
        "entryCount per person (left: got, right: events sent)"
    );
}

/// An app that stores deliveries but processes nothing itself.
async fn app_without_workers() -> TestApp {
    spawn_app_with(|config| config.workers = 0).await
}

#[tokio::test]
async fn a_worker_killed_mid_flight_loses_nothing_and_applies_nothing_twice_after_restart() {
    const EVENTS: usize = 300;
    let app = app_without_workers().await;
    let tenant = connect_tenant(&app, "owner@crash.test", "Crash", PAGE).await;
    let sent = seed(&app, &tenant, EVENTS, 30).await;
    assert_eq!(
        event_count(&app, tenant.token(), Some("PENDING")).await,
        EVENTS as i64,
        "with workers = 0 the app must leave every event PENDING"
    );
    let logs = tempfile::tempdir().expect("a directory for worker logs");

    let mut first = WorkerProcess::start(&app, 2, logs.path(), "first");
    let seen = processed_at_least(&app, &tenant, 1, &mut first).await;
    first.crash().await;
    let processed = event_count(&app, tenant.token(), Some("PROCESSED")).await;
    let in_flight = event_count(&app, tenant.token(), Some("PROCESSING")).await;
    eprintln!(
        "killed the worker after {seen}+ events: {processed} PROCESSED, {in_flight} claimed (PROCESSING)"
    );
    assert!(
        processed < EVENTS as i64,
        "the worker processed all {EVENTS} events before it could be killed: the crash proved \
         nothing (make EVENTS larger)"
    );

    let second = WorkerProcess::start(&app, 2, logs.path(), "second");
    all_processed(&app, &tenant, EVENTS as i64, &[&second]).await;
    assert_exactly_once(&app, &tenant, &sent).await;
    // Idle now: SIGTERM stops it cleanly.
    second.terminate().await;
}

#[tokio::test]
async fn sigterm_lets_a_busy_worker_finish_what_it_holds_and_exit_0() {
    const EVENTS: usize = 300;
    let app = app_without_workers().await;
    let tenant = connect_tenant(&app, "owner@sigterm.test", "Sigterm", PAGE).await;
    let sent = seed(&app, &tenant, EVENTS, 30).await;
    let logs = tempfile::tempdir().expect("a directory for worker logs");

    let mut busy = WorkerProcess::start(&app, 2, logs.path(), "busy");
    processed_at_least(&app, &tenant, 1, &mut busy).await;
    busy.terminate().await;
    // It stopped after the events in its hands: none is left claimed.
    assert_eq!(
        event_count(&app, tenant.token(), Some("PROCESSING")).await,
        0,
        "a cleanly stopped worker left claimed events behind"
    );

    let next = WorkerProcess::start(&app, 1, logs.path(), "next");
    all_processed(&app, &tenant, EVENTS as i64, &[&next]).await;
    assert_exactly_once(&app, &tenant, &sent).await;
    next.terminate().await;
}

#[tokio::test]
// Several worker processes at once need PostgreSQL.
#[cfg_attr(
    not(refhub_postgres),
    ignore = "needs PostgreSQL: set TEST_DATABASE_URL"
)]
async fn two_worker_processes_on_postgres_process_every_event_exactly_once() {
    require_postgres();
    const EVENTS: usize = 300;
    let app = app_without_workers().await;
    let tenant = connect_tenant(&app, "owner@pair.test", "Pair", PAGE).await;
    let sent = seed(&app, &tenant, EVENTS, 30).await;
    let logs = tempfile::tempdir().expect("a directory for worker logs");

    let left = WorkerProcess::start(&app, 2, logs.path(), "left");
    let right = WorkerProcess::start(&app, 2, logs.path(), "right");
    all_processed(&app, &tenant, EVENTS as i64, &[&left, &right]).await;
    assert_exactly_once(&app, &tenant, &sent).await;
    left.terminate().await;
    right.terminate().await;
}

#[tokio::test]
// Several worker processes at once need PostgreSQL.
#[cfg_attr(
    not(refhub_postgres),
    ignore = "needs PostgreSQL: set TEST_DATABASE_URL"
)]
async fn on_postgres_a_crash_beside_a_live_worker_loses_nothing() {
    require_postgres();
    const EVENTS: usize = 300;
    let app = app_without_workers().await;
    let tenant = connect_tenant(&app, "owner@pair-crash.test", "Pair crash", PAGE).await;
    let sent = seed(&app, &tenant, EVENTS, 30).await;
    let logs = tempfile::tempdir().expect("a directory for worker logs");

    let mut doomed = WorkerProcess::start(&app, 2, logs.path(), "doomed");
    let survivor = WorkerProcess::start(&app, 1, logs.path(), "survivor");
    processed_at_least(&app, &tenant, 1, &mut doomed).await;
    doomed.crash().await;
    // The survivor takes the dead worker's claims over when their 2-second leases lapse.
    all_processed(&app, &tenant, EVENTS as i64, &[&survivor]).await;
    assert_exactly_once(&app, &tenant, &sent).await;
    survivor.terminate().await;
}
