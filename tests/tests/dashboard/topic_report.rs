//! `topicReport`: opt-ins (renewals included) and opt-outs of a notification topic counted by
//! the events' timestamps, by day in a time zone, and the tokens usable now.

use std::collections::BTreeMap;

use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;
use refhub_tests::{TestApp, data, spawn_app};
use serde_json::{Value, json};

use crate::support::{
    PAGE, Tenant, body, connect_tenant, create_topic, deliver, local_at, local_day, now_ms, opt_in,
    opt_in_status, settled_events, today, zone,
};

const DAY_MS: i64 = 24 * 3_600_000;

async fn topic_report(
    app: &TestApp,
    token: &str,
    topic: &str,
    from: NaiveDate,
    to: NaiveDate,
    time_zone: Option<&str>,
) -> Value {
    let response = app
        .graphql(
            "query($id: ID!, $from: NaiveDate!, $to: NaiveDate!, $zone: String) { \
               topicReport(topicId: $id, from: $from, to: $to, timeZone: $zone) { \
                 timeZone activeTokens totals { optIns optOuts } days { date counts { optIns optOuts } } } }",
            json!({ "id": topic, "from": from.to_string(), "to": to.to_string(), "zone": time_zone }),
            Some(token),
        )
        .await;
    data(&response)["topicReport"].clone()
}

/// `(optIns, optOuts)` per day of `from..=to` and in total, from `(instant, is opt-in)` facts.
fn expected(facts: &[(DateTime<Utc>, bool)], from: NaiveDate, to: NaiveDate, tz: Tz) -> Value {
    let mut days: BTreeMap<NaiveDate, (i64, i64)> = BTreeMap::new();
    let mut day = from;
    while day <= to {
        days.insert(day, (0, 0));
        day = day + Days::new(1);
    }
    let (mut ins, mut outs) = (0, 0);
    for (at, is_in) in facts {
        if let Some(counts) = days.get_mut(&local_day(*at, tz)) {
            if *is_in {
                counts.0 += 1;
                ins += 1;
            } else {
                counts.1 += 1;
                outs += 1;
            }
        }
    }
    json!({
        "totals": { "optIns": ins, "optOuts": outs },
        "days": days.into_iter().map(|(date, (i, o))| json!({
            "date": date.to_string(), "counts": { "optIns": i, "optOuts": o }
        })).collect::<Vec<_>>(),
    })
}

async fn send(app: &TestApp, tenant: &Tenant, delivered: &mut usize, item: Value) {
    deliver(app, tenant, body(&[item])).await;
    *delivered += 1;
    settled_events(app, tenant.token(), *delivered).await;
}

#[tokio::test]
async fn topic_reports_count_opt_ins_and_opt_outs_by_event_day_and_active_tokens_now() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@topics-report.test", "Topics", PAGE).await;
    let token = tenant.token();
    let deals = create_topic(&app, token, &tenant.page_id, "Weekly deals").await;
    let other = create_topic(&app, token, &tenant.page_id, "Flash sales").await;

    let new_york = zone("America/New_York");
    let day0 = today(new_york);
    let [d3, d2, d1] = [3, 2, 1].map(|n| day0 - Days::new(n));
    let at = |date: NaiveDate, hour: u32, minute: u32| local_at(new_york, date, hour, minute);
    let ms = |at: DateTime<Utc>| at.timestamp_millis();
    let in_half_a_year = now_ms() + 180 * DAY_MS;
    let an_hour_ago = now_ms() - 3_600_000;

    let mut delivered = 0;
    let mut facts: Vec<(DateTime<Utc>, bool)> = Vec::new();
    let (p1, p2, p3, p4) = (
        "6100000000000701",
        "6100000000000702",
        "6100000000000703",
        "6100000000000704",
    );
    // Late on D-2 in New York (already D-1 in UTC).
    let t = at(d2, 23, 30);
    send(
        &app,
        &tenant,
        &mut delivered,
        opt_in(p1, ms(t), "TOKEN-P1-A", "weekly deals", in_half_a_year),
    )
    .await;
    facts.push((t, true));
    // A token that has expired since.
    let t = at(d2, 12, 0);
    send(
        &app,
        &tenant,
        &mut delivered,
        opt_in(p3, ms(t), "TOKEN-P3", "weekly deals", an_hour_ago),
    )
    .await;
    facts.push((t, true));
    let t = at(d1, 0, 30);
    send(
        &app,
        &tenant,
        &mut delivered,
        opt_in(p2, ms(t), "TOKEN-P2", "weekly deals", in_half_a_year),
    )
    .await;
    facts.push((t, true));
    // A renewal: the same person, a new token.
    let t = at(d1, 10, 0);
    send(
        &app,
        &tenant,
        &mut delivered,
        opt_in(p1, ms(t), "TOKEN-P1-B", "weekly deals", in_half_a_year),
    )
    .await;
    facts.push((t, true));
    let t = at(d1, 20, 0);
    send(
        &app,
        &tenant,
        &mut delivered,
        opt_in_status(p2, ms(t), "TOKEN-P2", "STOP NOTIFICATIONS"),
    )
    .await;
    facts.push((t, false));
    // Another topic's opt-in and opt-out count elsewhere.
    send(
        &app,
        &tenant,
        &mut delivered,
        opt_in(
            p4,
            ms(at(d1, 9, 0)),
            "TOKEN-P4",
            "flash sales",
            in_half_a_year,
        ),
    )
    .await;
    send(
        &app,
        &tenant,
        &mut delivered,
        opt_in_status(p4, ms(at(d1, 9, 30)), "TOKEN-P4", "STOP NOTIFICATIONS"),
    )
    .await;

    for (from, to) in [(d3, day0), (d1, d1), (d3, d2)] {
        for name in [Some("America/New_York"), None, Some("Asia/Kolkata")] {
            let tz = zone(name.unwrap_or("UTC"));
            let report = topic_report(&app, token, &deals, from, to, name).await;
            let want = expected(&facts, from, to, tz);
            assert_eq!(
                (&report["totals"], &report["days"]),
                (&want["totals"], &want["days"]),
                "topicReport from {from} to {to} in {name:?} (left: got, right: generated): {report:#}"
            );
            assert_eq!(report["timeZone"], json!(name.unwrap_or("UTC")));
            assert_eq!(
                report["activeTokens"], 1,
                "p1's renewed token only: p2 stopped, p3's token expired: {report:#}"
            );
        }
    }
    let whole = topic_report(&app, token, &deals, d3, day0, Some("America/New_York")).await;
    assert_eq!(
        whole["totals"],
        json!({ "optIns": 4, "optOuts": 1 }),
        "{whole:#}"
    );
    let late = whole["days"]
        .as_array()
        .and_then(|days| days.iter().find(|d| d["date"] == json!(d2.to_string())))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        late["counts"]["optIns"], 2,
        "23:30 on {d2} in New York counts on {d2} there: {whole:#}"
    );

    let flash = topic_report(&app, token, &other, d3, day0, Some("America/New_York")).await;
    assert_eq!(
        flash["totals"],
        json!({ "optIns": 1, "optOuts": 1 }),
        "{flash:#}"
    );
    assert_eq!(flash["activeTokens"], 0, "{flash:#}");
}
