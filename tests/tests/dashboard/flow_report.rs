//! `flowReport`: runs started, completed and failed, messages sent and not sent (refused by Meta
//! or outside the 24-hour window), against a wiremock Graph API that refuses one person.

use chrono::{DateTime, Days, NaiveDate, Utc};
use refhub_tests::{TestApp, data, str_at};
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method};
use wiremock::{Mock, MockServer};

use crate::flows::{
    accept_all, app_with, create_flow, instant, known_subscriber, meta_error, send_api_path,
    send_text, settled_messages, start_flow, subscriber_by_psid, wait_for_run,
};
use crate::support::{
    PAGE, body, connect_tenant, deliver, local_day, message, now_ms, settled_events, today, zone,
};

const FLOW_COUNTS: &str = "runsStarted runsCompleted runsFailed messagesSent messagesFailed";

async fn flow_report(
    app: &TestApp,
    token: &str,
    flow: &str,
    from: NaiveDate,
    to: NaiveDate,
    time_zone: Option<&str>,
) -> Value {
    let response = app
        .graphql(
            &format!(
                "query($id: ID!, $from: NaiveDate!, $to: NaiveDate!, $zone: String) {{ \
                   flowReport(flowId: $id, from: $from, to: $to, timeZone: $zone) {{ \
                     timeZone totals {{ {FLOW_COUNTS} }} days {{ date counts {{ {FLOW_COUNTS} }} }} }} }}"
            ),
            json!({ "id": flow, "from": from.to_string(), "to": to.to_string(), "zone": time_zone }),
            Some(token),
        )
        .await;
    data(&response)["flowReport"].clone()
}

fn counts(started: i64, completed: i64, failed: i64, sent: i64, not_sent: i64) -> Value {
    json!({
        "runsStarted": started,
        "runsCompleted": completed,
        "runsFailed": failed,
        "messagesSent": sent,
        "messagesFailed": not_sent,
    })
}

#[tokio::test]
async fn flow_reports_count_runs_and_messages_as_they_happened() {
    const REFUSED: &str = "6100000000000802";
    let graph = MockServer::start().await;
    // Meta refuses one person for good; everyone else is accepted.
    Mock::given(method("POST"))
        .and(send_api_path())
        .and(body_partial_json(json!({ "recipient": { "id": REFUSED } })))
        .respond_with(meta_error(
            400,
            100,
            Some(2018001),
            "(#100) No matching user found",
        ))
        .with_priority(1)
        .mount(&graph)
        .await;
    accept_all(&graph).await;
    let app = app_with(&graph).await;
    let tenant = connect_tenant(&app, "owner@flow-report.test", "Flow report", PAGE).await;
    let token = tenant.token();
    let flow = create_flow(
        &app,
        token,
        "Two",
        json!([send_text("first"), send_text("second")]),
    )
    .await;
    let elsewhere = create_flow(&app, token, "Other", json!([send_text("other")])).await;

    // Someone whose only message is two days old (outside the window).
    let late_psid = "6100000000000803";
    deliver(
        &app,
        &tenant,
        body(&[message(
            late_psid,
            now_ms() - 2 * 86_400_000,
            "m_flow_report_old",
            "hi",
        )]),
    )
    .await;
    settled_events(&app, token, 1).await;
    let late = subscriber_by_psid(&app, token, &tenant.page_id, late_psid)
        .await
        .expect("the subscriber of the old message");
    let late = str_at(&late, "/id");
    let fine = known_subscriber(&app, &tenant, "6100000000000801").await;
    let refused = known_subscriber(&app, &tenant, REFUSED).await;

    let fine_run = start_flow(&app, token, &flow, &fine).await;
    let refused_run = start_flow(&app, token, &flow, &refused).await;
    let late_run = start_flow(&app, token, &flow, &late).await;
    let other_run = start_flow(&app, token, &elsewhere, &fine).await;
    let runs = [
        wait_for_run(&app, token, &fine_run, "COMPLETED").await,
        wait_for_run(&app, token, &refused_run, "FAILED").await,
        wait_for_run(&app, token, &late_run, "FAILED").await,
    ];
    wait_for_run(&app, token, &other_run, "COMPLETED").await;
    let mut messages = Vec::new();
    for (run, count) in [(&fine_run, 2), (&refused_run, 1), (&late_run, 1)] {
        messages.extend(settled_messages(&app, token, json!({ "runId": run }), count).await);
    }
    let statuses: Vec<&str> = messages
        .iter()
        .map(|m| m["status"].as_str().unwrap_or("?"))
        .collect();
    let mut sorted = statuses.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        ["FAILED", "OUTSIDE_WINDOW", "SENT", "SENT"],
        "the traffic generated: {messages:#?}"
    );

    // The whole stretch around today, in UTC and in a far zone: totals, and each fact on its day.
    for name in [
        None,
        Some("Pacific/Kiritimati"),
        Some("America/Los_Angeles"),
    ] {
        let tz = zone(name.unwrap_or("UTC"));
        let from = today(tz) - Days::new(2);
        let to = today(tz) + Days::new(1);
        let report = flow_report(&app, token, &flow, from, to, name).await;
        assert_eq!(report["timeZone"], json!(name.unwrap_or("UTC")));
        assert_eq!(
            report["totals"],
            counts(3, 1, 2, 2, 2),
            "3 runs: one completed, two failed (refused by Meta, outside the window); 2 messages \
             sent, 2 not sent; the other flow's run apart ({name:?}): {report:#}"
        );
        let day_of = |at: &Value| -> String {
            let at: DateTime<Utc> = instant(at);
            local_day(at, tz).to_string()
        };
        let mut want: std::collections::BTreeMap<String, [i64; 5]> = Default::default();
        let days = report["days"].as_array().cloned().unwrap_or_default();
        assert_eq!(days.len(), 4, "every day of the range: {report:#}");
        for day in &days {
            want.insert(day["date"].as_str().unwrap_or("?").to_owned(), [0; 5]);
        }
        for run in &runs {
            want.get_mut(&day_of(&run["startedAt"]))
                .expect("a day of the range")[0] += 1;
            let slot = if run["status"] == "COMPLETED" { 1 } else { 2 };
            want.get_mut(&day_of(&run["finishedAt"]))
                .expect("a day of the range")[slot] += 1;
        }
        for message in messages.iter().filter(|m| m["status"] == "SENT") {
            want.get_mut(&day_of(&message["sentAt"]))
                .expect("a day of the range")[3] += 1;
        }
        let mut failed_by_day = 0;
        for day in &days {
            let date = day["date"].as_str().unwrap_or("?");
            let [started, completed, failed, sent, _] = want[date];
            let got = &day["counts"];
            assert_eq!(
                (
                    &got["runsStarted"],
                    &got["runsCompleted"],
                    &got["runsFailed"],
                    &got["messagesSent"]
                ),
                (
                    &json!(started),
                    &json!(completed),
                    &json!(failed),
                    &json!(sent)
                ),
                "{date} in {name:?}: runs by startedAt and finishedAt, messages by sentAt: {report:#}"
            );
            failed_by_day += got["messagesFailed"].as_i64().unwrap_or(0);
        }
        assert_eq!(
            failed_by_day, 2,
            "the days add up to the totals: {report:#}"
        );
    }
    let other = flow_report(
        &app,
        token,
        &elsewhere,
        today(zone("UTC")) - Days::new(1),
        today(zone("UTC")) + Days::new(1),
        None,
    )
    .await;
    assert_eq!(other["totals"], counts(1, 1, 0, 1, 0), "{other:#}");
}

#[tokio::test]
async fn a_flow_without_runs_reports_zeros() {
    let graph = MockServer::start().await;
    accept_all(&graph).await;
    let app = app_with(&graph).await;
    let tenant = connect_tenant(&app, "owner@quiet-flow.test", "Quiet", PAGE).await;
    let flow = create_flow(&app, tenant.token(), "Quiet", json!([send_text("hi")])).await;
    let day = NaiveDate::from_ymd_opt(2026, 1, 1).expect("a date");
    let report = flow_report(&app, tenant.token(), &flow, day, day + Days::new(6), None).await;
    assert_eq!(report["totals"], counts(0, 0, 0, 0, 0), "{report:#}");
    let days = report["days"].as_array().cloned().unwrap_or_default();
    assert_eq!(days.len(), 7, "{report:#}");
    assert!(
        days.iter().all(|d| d["counts"] == counts(0, 0, 0, 0, 0)),
        "{report:#}"
    );
}
