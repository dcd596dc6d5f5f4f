//! Restarts mid-run: the app runs no workers itself; `refhub_worker` processes (pointed at the
//! mock Graph API by `GRAPH_API_BASE_URL`) do, and are SIGKILLed while a run waits or while a
//! message is on its way to Meta. A new worker finishes the run; nothing is sent twice except
//! the one call a crash interrupted, which Meta's API makes unavoidable.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use refhub_tests::{TestApp, spawn_app_on_graph, str_at};
use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::fixtures::REFERRAL_SHORTLINK;
use crate::support::{
    PAGE, accept_all, body, connect_tenant, create_flow, create_flow_link, create_tag, deliver,
    deliver_json, eventually, message, now_ms, read_run, retimed, runs, send_api_path, send_text,
    sends, sent_bodies, start_flow, text, to_psid, wait_for_subscriber, wait_step,
};

const PSID: &str = "6100000000000901";
/// The PSID of `referral_shortlink.json`.
const FIXTURE_PSID: &str = "6100000000000001";

/// How long a new worker gets to finish a run (leases of 2 s included).
const DRAIN: Duration = Duration::from_secs(45);

/// A `refhub_worker` process and the file its output goes to.
struct WorkerProcess {
    child: tokio::process::Child,
    log: PathBuf,
}

impl WorkerProcess {
    /// Starts `refhub_worker` over the app's database, sending to `graph`, with 2-second leases.
    fn start(app: &TestApp, graph: &MockServer, logs: &Path, name: &str) -> WorkerProcess {
        let log = logs.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).expect("creating the worker log");
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_refhub_worker"))
            .env("DATABASE_URL", &app.database_url)
            .env("GRAPH_API_BASE_URL", format!("{}/v26.0", graph.uri()))
            .env("WORKERS", "1")
            .env("WORKER_LEASE_SECS", "2")
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".to_owned()),
            )
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("cloning the log handle"))
            .stderr(file)
            .kill_on_drop(true)
            .spawn()
            .expect("starting the refhub_worker binary");
        WorkerProcess { child, log }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let start = text.len().saturating_sub(3_000);
        let start = (start..text.len())
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(text.len());
        text[start..].to_owned()
    }

    /// SIGKILL, as a crash would.
    async fn crash(&mut self) {
        self.child.kill().await.expect("SIGKILL the worker");
    }

    fn assert_alive(&mut self) {
        if let Some(status) = self.child.try_wait().expect("polling the worker") {
            panic!(
                "the worker exited by itself ({status}); its log:\n{}",
                self.log_tail()
            );
        }
    }
}

/// An app that stores and serves but runs no worker itself.
async fn app_without_workers(graph: &MockServer) -> TestApp {
    spawn_app_on_graph(graph, |config| config.workers = 0).await
}

/// Polls the run tightly (to catch it in mid-flight) until `ready` holds; checks that the
/// worker is alive meanwhile.
async fn run_until(
    app: &TestApp,
    token: &str,
    run: &str,
    worker: &mut WorkerProcess,
    what: &str,
    ready: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    loop {
        let response = read_run(app, token, run).await;
        let current = response["data"]["flowRun"].clone();
        if ready(&current) {
            return current;
        }
        worker.assert_alive();
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "run {run} not {what} within 30 s: {response:#}\nworker log:\n{}",
            worker.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits for the run to complete under `worker`.
async fn completed(app: &TestApp, token: &str, run: &str, worker: &WorkerProcess) -> Value {
    eventually(&format!("run {run} COMPLETED"), DRAIN, async || {
        let response = read_run(app, token, run).await;
        let current = response["data"]["flowRun"].clone();
        match current["status"].as_str() {
            Some("COMPLETED") => Ok(current),
            Some("FAILED" | "CANCELLED") => panic!(
                "the run ended {}: {current:#}\nworker log:\n{}",
                current["status"],
                worker.log_tail()
            ),
            _ => Err(format!("{current:#}\nworker log:\n{}", worker.log_tail())),
        }
    })
    .await
}

/// A tenant, a flow, and a subscriber made by `worker` from a fresh message; returns
/// `(tenant, subscriber id)`.
async fn setup(
    app: &TestApp,
    worker_log: &Path,
    graph: &MockServer,
) -> (crate::support::Tenant, String, WorkerProcess) {
    let tenant = connect_tenant(app, "owner@crash.test", "Crash", PAGE).await;
    deliver(
        app,
        &tenant,
        body(&[message(PSID, now_ms(), "m_Crash000000001", "hi")]),
    )
    .await;
    let pending = app
        .graphql_ok(
            "{ webhookEvents(status: PENDING, first: 0) { totalCount } }",
            json!({}),
            Some(tenant.token()),
        )
        .await;
    assert_eq!(
        pending["webhookEvents"]["totalCount"], 1,
        "with workers = 0 the app must leave the event PENDING"
    );
    let first = WorkerProcess::start(app, graph, worker_log, "first");
    let person = wait_for_subscriber(app, &tenant, PSID, "exists", |_| true).await;
    (tenant, str_at(&person, "/id"), first)
}

#[tokio::test]
async fn a_worker_killed_while_a_run_waits_is_replaced_and_the_run_completes_sending_each_message_once()
 {
    let graph = MockServer::start().await;
    accept_all(&graph).await;
    let app = app_without_workers(&graph).await;
    let logs = tempfile::tempdir().expect("a directory for worker logs");
    let (tenant, person, mut first) = setup(&app, logs.path(), &graph).await;
    let token = tenant.token();
    let flow = create_flow(
        &app,
        token,
        "Crash",
        json!([send_text("A"), wait_step(3), send_text("B")]),
    )
    .await;
    let run = start_flow(&app, token, &flow, &person).await;

    let waiting = run_until(&app, token, &run, &mut first, "WAITING", |r| {
        r["status"] == "WAITING"
    })
    .await;
    assert!(waiting["nextStepAt"].is_string(), "{waiting:#}");
    assert_eq!(
        sent_bodies(&graph).await,
        vec![to_psid(PSID, "UPDATE", text("A"))]
    );
    first.crash().await;

    let second = WorkerProcess::start(&app, &graph, logs.path(), "second");
    let done = completed(&app, token, &run, &second).await;
    assert_eq!(done["currentStep"], 3);
    assert_eq!(
        sent_bodies(&graph).await,
        vec![
            to_psid(PSID, "UPDATE", text("A")),
            to_psid(PSID, "UPDATE", text("B")),
        ],
        "A once and B once, in order; worker log:\n{}",
        second.log_tail()
    );
    let calls = sends(&graph).await;
    assert!(
        calls
            .iter()
            .all(|c| c.access_token.as_deref() == Some(crate::support::PAGE_TOKEN))
    );
}

#[tokio::test]
async fn a_worker_killed_during_a_send_is_replaced_and_the_run_completes() {
    let graph = MockServer::start().await;
    // Meta is slow to answer the first call: the worker dies waiting for it.
    Mock::given(method("POST"))
        .and(send_api_path())
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "recipient_id": PSID, "message_id": "m_lost" }))
                .set_delay(Duration::from_secs(5)),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&graph)
        .await;
    accept_all(&graph).await;
    let app = app_without_workers(&graph).await;
    let logs = tempfile::tempdir().expect("a directory for worker logs");
    let (tenant, person, mut first) = setup(&app, logs.path(), &graph).await;
    let token = tenant.token();
    let flow = create_flow(
        &app,
        token,
        "In flight",
        json!([send_text("A"), send_text("B")]),
    )
    .await;
    let run = start_flow(&app, token, &flow, &person).await;

    // A is on its way to Meta: kill the worker before the answer comes back.
    let started = Instant::now();
    while sends(&graph).await.is_empty() {
        first.assert_alive();
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "A never reached the Graph API; worker log:\n{}",
            first.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.crash().await;

    let second = WorkerProcess::start(&app, &graph, logs.path(), "second");
    completed(&app, token, &run, &second).await;
    let bodies = sent_bodies(&graph).await;
    let a = to_psid(PSID, "UPDATE", text("A"));
    let b = to_psid(PSID, "UPDATE", text("B"));
    let a_count = bodies.iter().filter(|body| **body == a).count();
    assert!(
        (1..=2).contains(&a_count),
        "A is sent again at most once after the interrupted call: {bodies:#?}"
    );
    assert_eq!(
        bodies.iter().filter(|body| **body == b).count(),
        1,
        "{bodies:#?}"
    );
    assert_eq!(bodies.last(), Some(&b), "B after A: {bodies:#?}");
    let outbox = crate::support::messages(&app, token, json!({ "runId": run })).await;
    assert_eq!(outbox.len(), 2, "one outbound row per step: {outbox:#?}");
    assert!(outbox.iter().all(|m| m["status"] == "SENT"), "{outbox:#?}");
}

/// The acceptance scenario in one run: a flow started by the signed ref-link fixture, a
/// Graph API that fails the first call and is slow on the next, and a worker that crashes while
/// the run waits.
#[tokio::test]
async fn a_ref_link_flow_survives_failing_and_slow_calls_and_a_crash_mid_run() {
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .and(send_api_path())
        .respond_with(ResponseTemplate::new(502).set_body_string("Bad Gateway"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&graph)
        .await;
    Mock::given(method("POST"))
        .and(send_api_path())
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "recipient_id": FIXTURE_PSID, "message_id": "m_slow" }))
                .set_delay(Duration::from_secs(2)),
        )
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&graph)
        .await;
    accept_all(&graph).await;
    let app = app_without_workers(&graph).await;
    let logs = tempfile::tempdir().expect("a directory for worker logs");
    let tenant = connect_tenant(&app, "owner@scenario.test", "Scenario", PAGE).await;
    let token = tenant.token();
    let tag = create_tag(&app, token, "finished").await;
    let flow = create_flow(
        &app,
        token,
        "Scenario",
        json!([
            send_text("Welcome!"),
            { "sendQuickReplies": { "text": "Size?", "replies": [{ "title": "M", "payload": "SIZE_M" }] } },
            wait_step(3),
            { "sendButtons": { "text": "Your coupon", "buttons": [{ "title": "Open", "url": "https://example.com/c" }] } },
            { "addTag": { "tagId": tag } },
        ]),
    )
    .await;
    create_flow_link(&app, &tenant, "summer_coupon", &flow, &[]).await;
    deliver_json(&app, &tenant, &retimed(REFERRAL_SHORTLINK, now_ms())).await;

    let mut first = WorkerProcess::start(&app, &graph, logs.path(), "first");
    let run_id = eventually("the ref link's run", DRAIN, async || {
        match runs(&app, token, json!({ "flowId": flow }))
            .await
            .as_slice()
        {
            [run] => Ok(str_at(run, "/id")),
            [] => Err(format!("no run yet; worker log:\n{}", first.log_tail())),
            more => panic!("{} runs for one entry: {more:#?}", more.len()),
        }
    })
    .await;
    let waiting = run_until(&app, token, &run_id, &mut first, "WAITING", |r| {
        r["status"] == "WAITING"
    })
    .await;
    assert_eq!(waiting["trigger"]["kind"], "REF_LINK");
    first.crash().await;

    let second = WorkerProcess::start(&app, &graph, logs.path(), "second");
    completed(&app, token, &run_id, &second).await;
    let welcome = to_psid(FIXTURE_PSID, "RESPONSE", text("Welcome!"));
    assert_eq!(
        sent_bodies(&graph).await,
        vec![
            welcome.clone(),
            welcome,
            to_psid(
                FIXTURE_PSID,
                "RESPONSE",
                json!({ "text": "Size?", "quick_replies": [{ "content_type": "text", "title": "M", "payload": "SIZE_M" }] })
            ),
            to_psid(
                FIXTURE_PSID,
                "RESPONSE",
                json!({ "attachment": { "type": "template", "payload": {
                    "template_type": "button", "text": "Your coupon",
                    "buttons": [{ "type": "web_url", "title": "Open", "url": "https://example.com/c" }],
                } } })
            ),
        ],
        "the 502 retried once, the slow answer taken as sent, each step once; worker log:\n{}",
        second.log_tail()
    );
    let outbox = crate::support::messages(&app, token, json!({ "runId": run_id })).await;
    let attempts: Vec<Value> = outbox.iter().rev().map(|m| m["attempts"].clone()).collect();
    assert_eq!(attempts, vec![json!(2), json!(1), json!(1)], "{outbox:#?}");
    let person = crate::support::subscriber_by_psid(&app, token, &tenant.page_id, FIXTURE_PSID)
        .await
        .expect("the subscriber");
    assert_eq!(crate::support::tag_ids(&person), vec![tag]);
}

/// Many runs at once, worked by the app's own workers and (on PostgreSQL) two worker processes
/// beside them: every message reaches Meta exactly once, each person's in order.
#[tokio::test]
async fn many_runs_at_once_send_every_message_exactly_once() {
    const PEOPLE: usize = 40;
    let graph = MockServer::start().await;
    accept_all(&graph).await;
    let app = crate::support::app_with(&graph).await;
    let logs = tempfile::tempdir().expect("a directory for worker logs");
    let helpers: Vec<WorkerProcess> = if refhub_tests::on_postgres() {
        vec![
            WorkerProcess::start(&app, &graph, logs.path(), "left"),
            WorkerProcess::start(&app, &graph, logs.path(), "right"),
        ]
    } else {
        Vec::new()
    };
    let tenant = connect_tenant(&app, "owner@many.test", "Many", PAGE).await;
    let token = tenant.token();
    let now = now_ms();
    let psids: Vec<String> = (0..PEOPLE).map(|i| format!("62000000000{i:05}")).collect();
    let items: Vec<Value> = psids
        .iter()
        .enumerate()
        .map(|(i, psid)| {
            message(
                psid,
                now - 1_000 + i as i64,
                &format!("m_Many{i:012}"),
                "hi",
            )
        })
        .collect();
    for chunk in items.chunks(20) {
        deliver(&app, &tenant, crate::hooks::body_of_entries(chunk)).await;
    }
    let people = eventually("every subscriber", DRAIN, async || {
        let found = crate::hooks::all_subscribers(&app, token, &tenant.page_id, Value::Null).await;
        if found.len() == PEOPLE {
            Ok(found)
        } else {
            Err(format!("{} subscribers", found.len()))
        }
    })
    .await;
    let ids: Vec<String> = people.iter().map(|p| str_at(p, "/id")).collect();
    let flow = create_flow(&app, token, "Many", json!([send_text("A"), send_text("B")])).await;
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let started = crate::support::start_flow_raw(&app, token, &flow, &refs).await;
    assert_eq!(
        started["data"]["startFlow"]["runs"]
            .as_array()
            .map(Vec::len),
        Some(PEOPLE),
        "{started:#}"
    );
    eventually(&format!("{PEOPLE} runs COMPLETED"), DRAIN, async || {
        let all = runs(&app, token, json!({ "flowId": flow })).await;
        let broken: Vec<&Value> = all
            .iter()
            .filter(|r| matches!(r["status"].as_str(), Some("FAILED" | "CANCELLED")))
            .collect();
        assert!(broken.is_empty(), "runs ended badly: {broken:#?}");
        let done = all.iter().filter(|r| r["status"] == "COMPLETED").count();
        if done == PEOPLE {
            Ok(())
        } else {
            Err(format!("{done} of {} completed", all.len()))
        }
    })
    .await;
    let bodies = sent_bodies(&graph).await;
    let logs: Vec<String> = helpers.iter().map(WorkerProcess::log_tail).collect();
    assert_eq!(bodies.len(), 2 * PEOPLE, "worker logs: {logs:#?}");
    for psid in &psids {
        let mine: Vec<&Value> = bodies
            .iter()
            .filter(|b| b["recipient"]["id"] == json!(psid))
            .collect();
        assert_eq!(
            mine,
            vec![
                &to_psid(psid, "UPDATE", text("A")),
                &to_psid(psid, "UPDATE", text("B")),
            ],
            "{psid}: A once then B once"
        );
    }
}
