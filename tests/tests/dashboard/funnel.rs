//! Funnel reports per ref link and per page against generated traffic: clicks by people and
//! robots, entries through two links of a page (new people and returning ones) placed on
//! chosen days by their event timestamps, around local midnight in a non-UTC tenant time zone;
//! every report is checked against what was generated and against direct counts of the raw
//! rows (`link_clicks`, `subscriber_interactions` with a `ref_link_id`).

use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;
use refhub_tests::{TestApp, data, spawn_app};
use serde_json::{Value, json};

use crate::support::{
    ClickFact, EntryFact, Link, PAGE, Tenant, assert_report, click, click_rows, connect_page,
    connect_tenant, deliver, entry_rows, expected_funnel, funnel, local_at, local_day, message,
    new_link, no_redirects, people_hits, referral, report_with_clicks, robot_hits, set_time_zone,
    settled_events, today, zone,
};

/// The second page's Facebook id.
const PAGE2: &str = "104857600000002";
/// The tenant's time zone: +05:30 all year, so that local days and UTC days differ by a
/// non-whole number of hours.
const TENANT_ZONE: &str = "Asia/Kolkata";

/// A delivery of one messaging item to `facebook_page`.
fn delivery(facebook_page: &str, mut item: Value) -> String {
    item["recipient"]["id"] = json!(facebook_page);
    json!({ "object": "page", "entry": [{ "id": facebook_page, "time": item["timestamp"], "messaging": [item] }] })
        .to_string()
}

/// A Get Started postback carrying a ref, as a new conversation through a link starts.
fn get_started(psid: &str, timestamp: i64, reference: &str) -> Value {
    json!({
        "sender": { "id": psid },
        "recipient": { "id": PAGE },
        "timestamp": timestamp,
        "postback": {
            "mid": format!("m_gs_{psid}_{timestamp}"),
            "title": "Get Started",
            "payload": "GET_STARTED",
            "referral": { "ref": reference, "source": "SHORTLINK", "type": "OPEN_THREAD" },
        },
    })
}

/// The traffic of the test, delivered one event at a time (each settled before the next, so
/// that which event created a subscriber is unambiguous); returns the entries it makes.
struct Traffic<'a> {
    app: &'a TestApp,
    tenant: &'a Tenant,
    delivered: usize,
    entries: Vec<EntryFact>,
}

impl Traffic<'_> {
    async fn send(&mut self, facebook_page: &str, item: Value) {
        deliver(self.app, self.tenant, delivery(facebook_page, item)).await;
        self.delivered += 1;
        settled_events(self.app, self.tenant.token(), self.delivered).await;
    }

    /// An event that is no entry.
    async fn other(&mut self, facebook_page: &str, item: Value) {
        self.send(facebook_page, item).await;
    }

    /// An event that enters through `link` (of page `page_id`) at `at`.
    async fn entry(
        &mut self,
        facebook_page: &str,
        page_id: &str,
        link: &Link,
        item: Value,
        new: bool,
    ) {
        let at = crate::hooks::at_ms(item["timestamp"].as_i64().expect("a timestamp"));
        let who = item["sender"]["id"].as_str().expect("a sender").to_owned();
        self.send(facebook_page, item).await;
        self.entries.push(EntryFact {
            ref_link_id: link.id.clone(),
            page_id: page_id.to_owned(),
            who,
            at,
            new,
        });
    }
}

fn ms(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

#[tokio::test]
async fn funnel_reports_agree_with_the_generated_traffic_and_the_raw_rows() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@funnel.test", "Funnel", PAGE).await;
    let token = tenant.token();

    // The tenant counts days in Kolkata.
    let set = set_time_zone(&app, token, TENANT_ZONE).await;
    assert_eq!(
        data(&set)["setTenantTimeZone"]["timeZone"],
        TENANT_ZONE,
        "{set:#}"
    );
    assert_eq!(
        data(&set)["setTenantTimeZone"]["id"],
        json!(tenant.session.tenant()),
        "{set:#}"
    );
    let me = app
        .graphql_ok("{ me { tenant { timeZone } } }", json!({}), Some(token))
        .await;
    assert_eq!(me["me"]["tenant"]["timeZone"], TENANT_ZONE);

    let page1 = tenant.page_id.clone();
    let page2 = connect_page(&app, token, PAGE2).await;
    let spring = new_link(&app, token, &page1, "spring").await;
    let summer = new_link(&app, token, &page1, "summer").await;
    let unused = new_link(&app, token, &page1, "winter").await;
    let autumn = new_link(&app, token, &page2, "autumn").await;

    let kolkata = zone(TENANT_ZONE);
    let day0 = today(kolkata);
    let [d3, d2, d1] = [3, 2, 1].map(|n| day0 - Days::new(n));
    let at = |date: NaiveDate, hour: u32, minute: u32| ms(local_at(kolkata, date, hour, minute));

    // Entries on chosen days: late on D-3 and just after midnight on D-2 (the same UTC day),
    // people coming back, events that are no entries.
    let (known, n1, n2, n3, n4, stranger, elsewhere) = (
        "6100000000000501",
        "6100000000000502",
        "6100000000000503",
        "6100000000000504",
        "6100000000000506",
        "6100000000000505",
        "6100000000000601",
    );
    let mut traffic = Traffic {
        app: &app,
        tenant: &tenant,
        delivered: 0,
        entries: Vec::new(),
    };
    // Someone who writes first, without a link.
    traffic
        .other(PAGE, message(known, at(d3, 1, 0), "m_known_first", "hello"))
        .await;
    traffic
        .entry(
            PAGE,
            &page1,
            &spring,
            referral(n1, at(d3, 23, 30), "spring"),
            true,
        )
        .await;
    traffic
        .entry(
            PAGE,
            &page1,
            &spring,
            get_started(n2, at(d2, 0, 30), "spring"),
            true,
        )
        .await;
    traffic
        .entry(
            PAGE,
            &page1,
            &summer,
            referral(known, at(d2, 10, 0), "summer"),
            false,
        )
        .await;
    traffic
        .entry(
            PAGE,
            &page1,
            &spring,
            referral(known, at(d2, 11, 0), "spring"),
            false,
        )
        .await;
    traffic
        .entry(
            PAGE,
            &page1,
            &spring,
            referral(n1, at(d1, 9, 0), "spring"),
            false,
        )
        .await;
    traffic
        .entry(
            PAGE,
            &page1,
            &summer,
            referral(n1, at(d1, 12, 0), "summer"),
            false,
        )
        .await;
    traffic
        .entry(
            PAGE,
            &page1,
            &spring,
            referral(n1, at(d1, 13, 0), "spring"),
            false,
        )
        .await;
    // A ref no link of the page has, and the ref of the other page's link: no entries.
    traffic
        .other(PAGE, referral(n3, at(d1, 14, 0), "nope"))
        .await;
    traffic
        .other(PAGE, referral(stranger, at(d1, 15, 0), "autumn"))
        .await;
    traffic
        .entry(
            PAGE2,
            &page2,
            &autumn,
            referral(elsewhere, at(d1, 16, 0), "autumn"),
            true,
        )
        .await;
    traffic
        .entry(
            PAGE,
            &page1,
            &summer,
            referral(n4, at(d1, 23, 45), "summer"),
            true,
        )
        .await;
    let generated_entries = traffic.entries;

    // Clicks now: people and robots on spring, people on summer and autumn.
    let client = no_redirects();
    let people = people_hits();
    let robots = robot_hits();
    let clicks_started = Utc::now();
    let mut generated_clicks = Vec::new();
    let mut make = async |link: &Link, page: &str, headers: &[(&str, &str)], automated: bool| {
        click(&client, &app, link, headers).await;
        generated_clicks.push(ClickFact {
            ref_link_id: link.id.clone(),
            page_id: page.to_owned(),
            at: clicks_started,
            automated,
        });
    };
    for headers in &people {
        make(&spring, &page1, headers, false).await;
    }
    for headers in &robots[..3] {
        make(&spring, &page1, headers, true).await;
    }
    for headers in &people[..2] {
        make(&summer, &page1, headers, false).await;
    }
    make(&autumn, &page2, &people[3], false).await;
    let clicks_ended = Utc::now();

    let from = d3;
    let to = day0 + Days::new(1);
    // Wait for the batches to be written (each link's total).
    for (link, total) in [(&spring, 7), (&summer, 2), (&autumn, 1)] {
        report_with_clicks(&app, token, "refLink", &link.id, from, to, total).await;
    }

    let raw_clicks = click_rows(&app).await;
    let raw_entries = entry_rows(&app).await;

    // The raw rows hold what was generated: one row per click, one per entry.
    let mut raw_summary: Vec<(String, i64, bool)> = raw_entries
        .iter()
        .map(|e| (e.ref_link_id.clone(), ms(e.at), e.new))
        .collect();
    raw_summary.sort();
    let mut generated_summary: Vec<(String, i64, bool)> = generated_entries
        .iter()
        .map(|e| (e.ref_link_id.clone(), ms(e.at), e.new))
        .collect();
    generated_summary.sort();
    assert_eq!(
        raw_summary, generated_summary,
        "subscriber_interactions with a ref_link_id (left) are the entries generated (right), \
         at the events' timestamps, new or not"
    );
    assert_eq!(
        raw_clicks.len(),
        generated_clicks.len(),
        "link_clicks rows: {raw_clicks:#?}"
    );
    for link in [&spring, &summer, &autumn, &unused] {
        for automated in [false, true] {
            let count = |facts: &[ClickFact]| {
                facts
                    .iter()
                    .filter(|c| c.ref_link_id == link.id && c.automated == automated)
                    .count()
            };
            assert_eq!(
                count(&raw_clicks),
                count(&generated_clicks),
                "link_clicks of {} (automated: {automated})",
                link.reference
            );
        }
        assert!(
            raw_clicks
                .iter()
                .filter(|c| c.ref_link_id == link.id)
                .all(|c| c.at >= clicks_started - chrono::Duration::seconds(1)
                    && c.at <= clicks_ended + chrono::Duration::seconds(5)),
            "clicked_at is when the click was made: {raw_clicks:#?}"
        );
    }

    // Every report, in the tenant's zone and in others, against both.
    let ranges: [(NaiveDate, NaiveDate); 3] = [(from, to), (d2, d1), (d3, d3)];
    let zones: [Option<&str>; 3] = [None, Some("UTC"), Some("America/Los_Angeles")];
    for (from, to) in ranges {
        for zone_name in zones {
            let tz: Tz = zone(zone_name.unwrap_or(TENANT_ZONE));
            // Generated clicks have a known day only when the clicking did not cross midnight.
            let clicks_day_known = local_day(clicks_started, tz) == local_day(clicks_ended, tz);
            for (what, id, link_filter) in [
                ("refLink", &spring.id, Some(&spring.id)),
                ("refLink", &summer.id, Some(&summer.id)),
                ("refLink", &unused.id, Some(&unused.id)),
                ("refLink", &autumn.id, Some(&autumn.id)),
                ("page", &page1, None),
                ("page", &page2, None),
            ] {
                let case = format!("{what}Report({id}) from {from} to {to} in {zone_name:?}");
                let report = funnel(&app, token, what, id, from, to, zone_name).await;
                assert_eq!(
                    report.time_zone,
                    zone_name.unwrap_or(TENANT_ZONE),
                    "{case}: the zone the days are counted in"
                );
                let keep_click = |c: &&ClickFact| match link_filter {
                    Some(link) => &c.ref_link_id == link,
                    None => &c.page_id == id,
                };
                let keep_entry = |e: &&EntryFact| match link_filter {
                    Some(link) => &e.ref_link_id == link,
                    None => &e.page_id == id,
                };
                let raw = expected_funnel(
                    &raw_clicks.iter().filter(keep_click).collect::<Vec<_>>(),
                    &raw_entries.iter().filter(keep_entry).collect::<Vec<_>>(),
                    from,
                    to,
                    tz,
                );
                assert_report(&report, &raw, &format!("{case}, against the raw rows"));
                let generated = expected_funnel(
                    &generated_clicks
                        .iter()
                        .filter(keep_click)
                        .collect::<Vec<_>>(),
                    &generated_entries
                        .iter()
                        .filter(keep_entry)
                        .collect::<Vec<_>>(),
                    from,
                    to,
                    tz,
                );
                if clicks_day_known {
                    assert_report(&report, &generated, &format!("{case}, against the traffic"));
                } else {
                    assert_eq!(
                        report.totals, generated.0,
                        "{case}, totals against the traffic"
                    );
                }
            }
        }
    }

    // The numbers spelled out for the tenant's zone, whole range (what a reader checks first).
    let spring_report = funnel(&app, token, "refLink", &spring.id, from, to, None).await;
    let t = spring_report.totals;
    assert_eq!(
        (t.clicks, t.automated, t.entries, t.new, t.returning),
        (4, 3, 5, 2, 2),
        "spring: 4 people and 3 robots clicked; 5 entries: n1 and n2 came new, known came \
         back once and n1 twice: {spring_report:#?}"
    );
    assert_eq!(spring_report.conversion, Some(5.0 / 4.0));
    let late = spring_report.day(d3);
    assert_eq!(
        (late.entries, late.new),
        (1, 1),
        "23:30 on {d3} in Kolkata is {d3}"
    );
    let early = spring_report.day(d2);
    assert_eq!(
        (early.entries, early.new, early.returning),
        (2, 1, 1),
        "00:30 on {d2} in Kolkata is {d2} (the same UTC day as 23:30 on {d3})"
    );
    let busy = spring_report.day(d1);
    assert_eq!(
        (busy.entries, busy.new, busy.returning),
        (2, 0, 1),
        "n1 twice on {d1}: two entries, one returning subscriber"
    );
    let page_report = funnel(&app, token, "page", &page1, from, to, None).await;
    let p = page_report.totals;
    assert_eq!(
        (p.clicks, p.automated, p.entries, p.new, p.returning),
        (6, 3, 8, 3, 2),
        "page 1: spring and summer together ({page_report:#?})"
    );
    assert_eq!(
        page_report.day(d2).returning,
        1,
        "known came back through both links on {d2}: one returning subscriber"
    );
    assert_eq!(
        page_report.days.len(),
        (to - from).num_days() as usize + 1,
        "every day of the range, zeros included"
    );
    let utc_report = funnel(&app, token, "refLink", &spring.id, d3, d3, Some("UTC")).await;
    assert_eq!(
        utc_report.totals.entries, 2,
        "in UTC, 23:30 on {d3} and 00:30 on {d2} in Kolkata both fall on {d3}: {utc_report:#?}"
    );
}
