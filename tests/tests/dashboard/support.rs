//! Shared steps of the dashboard tests: following short links as people and robots do, reading
//! reports, reading the raw rows behind them straight from the test database, and computing
//! what a report must say from a list of facts, day by day in a time zone.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, Days, NaiveDate, TimeZone as _, Utc};
use chrono_tz::Tz;
use refhub_tests::{TestApp, data, str_at};
use sea_orm::{ConnectionTrait as _, Database, DatabaseConnection, QueryResult, Statement};
use serde_json::{Value, json};

pub use crate::hooks::{
    PAGE, Tenant, WAIT, body, connect_tenant, create_link, create_topic, deliver, eventually,
    message, now_ms, opt_in, opt_in_status, referral, settled_events,
};

/// What every short URL starts with (`PUBLIC_BASE_URL` of `Config::for_tests`).
pub const SHORT_URL_PREFIX: &str = "http://refhub.test/r/";

/// A phone's browser.
pub const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) \
     AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
/// A desktop browser.
pub const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
     (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
/// Another desktop browser.
pub const FIREFOX: &str =
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
/// An Android phone.
pub const ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 \
     (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";

/// How a hit on a short link is made: its headers (`User-Agent` included or not).
pub type Hit<'a> = &'a [(&'a str, &'a str)];

/// Hits people make: ordinary browsers, no prefetch hint.
pub fn people_hits() -> Vec<Vec<(&'static str, &'static str)>> {
    vec![
        vec![("User-Agent", IPHONE)],
        vec![("User-Agent", CHROME), ("Accept", "text/html")],
        vec![("User-Agent", FIREFOX)],
        vec![("User-Agent", ANDROID), ("Sec-Fetch-Mode", "navigate")],
    ]
}

/// Hits robots, link previewers, tools and prefetchers make (the contract's list).
pub fn robot_hits() -> Vec<Vec<(&'static str, &'static str)>> {
    vec![
        vec![(
            "User-Agent",
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        )],
        vec![(
            "User-Agent",
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        )],
        vec![("User-Agent", "WhatsApp/2.23.20.0")],
        vec![("User-Agent", "curl/8.5.0")],
        vec![("User-Agent", "python-requests/2.32.3")],
        // An empty User-Agent, and none at all.
        vec![("User-Agent", "")],
        vec![],
        // Browsers warming their cache or showing a preview.
        vec![("User-Agent", CHROME), ("Sec-Purpose", "prefetch")],
        vec![
            ("User-Agent", CHROME),
            ("Sec-Purpose", "prefetch;prerender"),
        ],
        vec![("User-Agent", IPHONE), ("Purpose", "prefetch")],
        vec![("User-Agent", FIREFOX), ("X-Moz", "prefetch")],
        vec![("User-Agent", ANDROID), ("X-Purpose", "preview")],
    ]
}

/// A client that does not follow redirects and sends no header of its own.
pub fn no_redirects() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .expect("HTTP client")
}

/// `GET /r/{code}` with exactly these headers.
pub async fn hit(
    client: &reqwest::Client,
    app: &TestApp,
    code: &str,
    headers: Hit<'_>,
) -> reqwest::Response {
    let mut request = client.get(app.url(&format!("/r/{code}")));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("GET /r/{code} failed")
}

/// A response's status and `Location`.
pub fn redirect_of(response: &reqwest::Response) -> (u16, Option<String>) {
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (response.status().as_u16(), location)
}

/// Hits a short link and asserts the redirect; returns nothing (the click is counted later).
pub async fn click(client: &reqwest::Client, app: &TestApp, link: &Link, headers: Hit<'_>) {
    let response = hit(client, app, &link.short_code, headers).await;
    let (status, location) = redirect_of(&response);
    assert_eq!(
        (status, location.as_deref()),
        (302, Some(link.url.as_str())),
        "GET /r/{} with {headers:?} must redirect to the link's url",
        link.short_code
    );
}

/// A ref link as a dashboard reads it.
#[derive(Debug, Clone)]
pub struct Link {
    pub id: String,
    pub reference: String,
    pub url: String,
    pub short_url: String,
    pub short_code: String,
}

/// Creates a ref link on `page_id` and reads its URLs.
pub async fn new_link(app: &TestApp, token: &str, page_id: &str, reference: &str) -> Link {
    let id = create_link(app, token, page_id, reference, None, &[]).await;
    read_link(app, token, &id).await
}

/// `refLink(id) { id ref url shortUrl shortCode }`.
pub async fn read_link(app: &TestApp, token: &str, id: &str) -> Link {
    let found = app
        .graphql_ok(
            "query($id: ID!) { refLink(id: $id) { id ref url shortUrl shortCode } }",
            json!({ "id": id }),
            Some(token),
        )
        .await;
    let link = &found["refLink"];
    Link {
        id: str_at(link, "/id"),
        reference: str_at(link, "/ref"),
        url: str_at(link, "/url"),
        short_url: str_at(link, "/shortUrl"),
        short_code: str_at(link, "/shortCode"),
    }
}

/// Connects a second page (Facebook id `facebook_page_id`) to the tenant; returns its id.
pub async fn connect_page(app: &TestApp, token: &str, facebook_page_id: &str) -> String {
    let page_token = format!("EAAB-token-{facebook_page_id}");
    app.meta
        .add_page(facebook_page_id, "Second page", None, &page_token);
    let page = app
        .mutate(
            "connectPage",
            json!({ "facebookPageId": facebook_page_id, "accessToken": page_token }),
            "{ id }",
            Some(token),
        )
        .await;
    str_at(data(&page), "/connectPage/id")
}

/// Runs `setTenantTimeZone`; returns the whole response.
pub async fn set_time_zone(app: &TestApp, token: &str, zone: &str) -> Value {
    app.mutate(
        "setTenantTimeZone",
        json!({ "timeZone": zone }),
        "{ id timeZone }",
        Some(token),
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Reports.

pub const FUNNEL_COUNTS: &str =
    "clicks automatedClicks entries newSubscribers returningSubscribers conversion";

/// Runs `refLinkReport` (`what` = `"refLink"`) or `pageReport` (`"page"`); the whole response.
pub async fn funnel_raw(
    app: &TestApp,
    token: &str,
    what: &str,
    id: &str,
    from: NaiveDate,
    to: NaiveDate,
    zone: Option<&str>,
) -> Value {
    let query = format!(
        "query($id: ID!, $from: NaiveDate!, $to: NaiveDate!, $zone: String) {{ \
           {what}Report({what}Id: $id, from: $from, to: $to, timeZone: $zone) {{ \
             timeZone totals {{ {FUNNEL_COUNTS} }} days {{ date counts {{ {FUNNEL_COUNTS} }} }} }} }}"
    );
    app.graphql(
        &query,
        json!({ "id": id, "from": from.to_string(), "to": to.to_string(), "zone": zone }),
        Some(token),
    )
    .await
}

/// Like [`funnel_raw`], failing on errors; returns the parsed report.
pub async fn funnel(
    app: &TestApp,
    token: &str,
    what: &str,
    id: &str,
    from: NaiveDate,
    to: NaiveDate,
    zone: Option<&str>,
) -> Report {
    let response = funnel_raw(app, token, what, id, from, to, zone).await;
    Report::parse(&data(&response)[format!("{what}Report")])
}

/// The counts of a funnel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub clicks: i64,
    pub automated: i64,
    pub entries: i64,
    pub new: i64,
    pub returning: i64,
}

impl Counts {
    fn parse(value: &Value) -> (Counts, Option<f64>) {
        let int = |name: &str| {
            value[name]
                .as_i64()
                .unwrap_or_else(|| panic!("no integer {name} in {value:#}"))
        };
        let conversion = match &value["conversion"] {
            Value::Null => None,
            other => Some(
                other
                    .as_f64()
                    .unwrap_or_else(|| panic!("conversion is not a number: {value:#}")),
            ),
        };
        (
            Counts {
                clicks: int("clicks"),
                automated: int("automatedClicks"),
                entries: int("entries"),
                new: int("newSubscribers"),
                returning: int("returningSubscribers"),
            },
            conversion,
        )
    }
}

/// A funnel report as read.
#[derive(Debug, Clone)]
pub struct Report {
    pub time_zone: String,
    pub totals: Counts,
    pub conversion: Option<f64>,
    pub days: Vec<(NaiveDate, Counts, Option<f64>)>,
}

impl Report {
    pub fn parse(report: &Value) -> Report {
        let (totals, conversion) = Counts::parse(&report["totals"]);
        let days = report["days"]
            .as_array()
            .unwrap_or_else(|| panic!("no days in {report:#}"))
            .iter()
            .map(|day| {
                let date: NaiveDate = str_at(day, "/date")
                    .parse()
                    .unwrap_or_else(|e| panic!("a day's date is not a date ({e}): {day}"));
                let (counts, conversion) = Counts::parse(&day["counts"]);
                (date, counts, conversion)
            })
            .collect();
        Report {
            time_zone: str_at(report, "/timeZone"),
            totals,
            conversion,
            days,
        }
    }

    /// The counts of one day of the report.
    #[track_caller]
    pub fn day(&self, date: NaiveDate) -> Counts {
        self.days
            .iter()
            .find(|(d, _, _)| *d == date)
            .map(|(_, c, _)| *c)
            .unwrap_or_else(|| panic!("the report has no day {date}: {self:#?}"))
    }
}

/// One click, as generated or as read from `link_clicks`.
#[derive(Debug, Clone)]
pub struct ClickFact {
    pub ref_link_id: String,
    pub page_id: String,
    pub at: DateTime<Utc>,
    pub automated: bool,
}

/// One entry through a link, as generated or as read from `subscriber_interactions`.
#[derive(Debug, Clone)]
pub struct EntryFact {
    pub ref_link_id: String,
    pub page_id: String,
    /// Who entered (a PSID when generated, a subscriber id when read: only compared).
    pub who: String,
    pub at: DateTime<Utc>,
    pub new: bool,
}

/// What a funnel report over `from..=to` in `zone` must say about these facts.
pub fn expected_funnel(
    clicks: &[&ClickFact],
    entries: &[&EntryFact],
    from: NaiveDate,
    to: NaiveDate,
    zone: Tz,
) -> (Counts, Vec<(NaiveDate, Counts)>) {
    let mut days: BTreeMap<NaiveDate, Counts> = BTreeMap::new();
    let mut day = from;
    while day <= to {
        days.insert(day, Counts::default());
        day = day + Days::new(1);
    }
    let mut totals = Counts::default();
    for click in clicks {
        let Some(counts) = days.get_mut(&local_day(click.at, zone)) else {
            continue;
        };
        if click.automated {
            counts.automated += 1;
            totals.automated += 1;
        } else {
            counts.clicks += 1;
            totals.clicks += 1;
        }
    }
    let mut returning_by_day: BTreeMap<NaiveDate, BTreeSet<&str>> = BTreeMap::new();
    let mut returning: BTreeSet<&str> = BTreeSet::new();
    for entry in entries {
        let date = local_day(entry.at, zone);
        let Some(counts) = days.get_mut(&date) else {
            continue;
        };
        counts.entries += 1;
        totals.entries += 1;
        if entry.new {
            counts.new += 1;
            totals.new += 1;
        } else {
            returning_by_day.entry(date).or_default().insert(&entry.who);
            returning.insert(&entry.who);
        }
    }
    for (date, who) in returning_by_day {
        days.get_mut(&date).expect("a day of the period").returning = who.len() as i64;
    }
    totals.returning = returning.len() as i64;
    (totals, days.into_iter().collect())
}

/// Asserts that a report says what `expected` says, totals, every day in order, conversions.
#[track_caller]
pub fn assert_report(report: &Report, expected: &(Counts, Vec<(NaiveDate, Counts)>), what: &str) {
    let (totals, days) = expected;
    let got_days: Vec<(NaiveDate, Counts)> = report.days.iter().map(|(d, c, _)| (*d, *c)).collect();
    assert_eq!(
        (&report.totals, &got_days),
        (totals, days),
        "{what}: the report (left) differs from what is expected (right); whole report: {report:#?}"
    );
    assert_conversion(
        report.conversion,
        &report.totals,
        &format!("{what}, totals"),
    );
    for (date, counts, conversion) in &report.days {
        assert_conversion(*conversion, counts, &format!("{what}, {date}"));
    }
}

/// `conversion` is `entries / clicks`, and null without clicks.
#[track_caller]
pub fn assert_conversion(conversion: Option<f64>, counts: &Counts, what: &str) {
    if counts.clicks == 0 {
        assert_eq!(
            conversion, None,
            "{what}: conversion without clicks must be null ({counts:?})"
        );
    } else {
        let want = counts.entries as f64 / counts.clicks as f64;
        let got =
            conversion.unwrap_or_else(|| panic!("{what}: conversion is null with {counts:?}"));
        assert!(
            (got - want).abs() < 1e-9,
            "{what}: conversion {got} where entries/clicks = {want} ({counts:?})"
        );
    }
}

/// Polls a funnel report (in the tenant's time zone) until its clicks and automated clicks add up to `total` (clicks are
/// written in batches, off the request path); returns it.
pub async fn report_with_clicks(
    app: &TestApp,
    token: &str,
    what: &str,
    id: &str,
    from: NaiveDate,
    to: NaiveDate,
    total: i64,
) -> Report {
    eventually(
        &format!("{total} clicks in the {what} report of {id}"),
        WAIT,
        async || {
            let report = funnel(app, token, what, id, from, to, None).await;
            let counted = report.totals.clicks + report.totals.automated;
            assert!(
                counted <= total,
                "more clicks counted than made ({counted} > {total}): {report:#?}"
            );
            if counted == total {
                Ok(report)
            } else {
                Err(format!("{:?}", report.totals))
            }
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Days and time zones.

/// The date an instant falls on in `zone`.
pub fn local_day(at: DateTime<Utc>, zone: Tz) -> NaiveDate {
    at.with_timezone(&zone).date_naive()
}

/// Today in `zone`.
pub fn today(zone: Tz) -> NaiveDate {
    local_day(Utc::now(), zone)
}

/// The instant of `date` at `hour:minute` local time in `zone` (the earlier one if ambiguous).
pub fn local_at(zone: Tz, date: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    let time = date
        .and_hms_opt(hour, minute, 0)
        .expect("a valid time of day");
    zone.from_local_datetime(&time)
        .earliest()
        .unwrap_or_else(|| panic!("{time} does not exist in {zone}"))
        .with_timezone(&Utc)
}

/// A time zone by name.
pub fn zone(name: &str) -> Tz {
    name.parse().expect("a time zone of the IANA database")
}

// ---------------------------------------------------------------------------------------------
// Raw rows.

/// The test database, as a connection that sees every tenant (PostgreSQL: the admin user, which
/// owns the schema and is not subject to row-level security).
pub async fn raw_database(app: &TestApp) -> DatabaseConnection {
    let url = app
        .admin_database_url
        .clone()
        .unwrap_or_else(|| app.database_url.clone());
    Database::connect(url)
        .await
        .expect("connecting to the test database")
}

async fn rows(database: &DatabaseConnection, sql: &str) -> Vec<QueryResult> {
    database
        .query_all_raw(Statement::from_string(database.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[track_caller]
fn uuid_at(row: &QueryResult, column: &str) -> String {
    row.try_get::<uuid::Uuid>("", column)
        .unwrap_or_else(|e| panic!("reading {column}: {e}"))
        .to_string()
}

#[track_caller]
fn instant_at(row: &QueryResult, column: &str) -> DateTime<Utc> {
    row.try_get::<DateTime<Utc>>("", column)
        .unwrap_or_else(|e| panic!("reading {column}: {e}"))
}

#[track_caller]
fn bool_at(row: &QueryResult, column: &str) -> bool {
    row.try_get::<bool>("", column)
        .unwrap_or_else(|e| panic!("reading {column}: {e}"))
}

/// Every row of `link_clicks` (all tenants).
pub async fn click_rows(app: &TestApp) -> Vec<ClickFact> {
    let database = raw_database(app).await;
    let found = rows(
        &database,
        "SELECT ref_link_id, page_id, clicked_at, automated FROM link_clicks",
    )
    .await
    .iter()
    .map(|row| ClickFact {
        ref_link_id: uuid_at(row, "ref_link_id"),
        page_id: uuid_at(row, "page_id"),
        at: instant_at(row, "clicked_at"),
        automated: bool_at(row, "automated"),
    })
    .collect();
    database.close().await.ok();
    found
}

/// Every entry through a link in `subscriber_interactions` (all tenants), with the page of its
/// subscriber.
pub async fn entry_rows(app: &TestApp) -> Vec<EntryFact> {
    let database = raw_database(app).await;
    let found = rows(
        &database,
        "SELECT i.ref_link_id, i.subscriber_id, i.occurred_at, i.new_subscriber, s.page_id \
           FROM subscriber_interactions i \
           JOIN subscribers s ON s.tenant_id = i.tenant_id AND s.id = i.subscriber_id \
          WHERE i.ref_link_id IS NOT NULL",
    )
    .await
    .iter()
    .map(|row| EntryFact {
        ref_link_id: uuid_at(row, "ref_link_id"),
        page_id: uuid_at(row, "page_id"),
        who: uuid_at(row, "subscriber_id"),
        at: instant_at(row, "occurred_at"),
        new: bool_at(row, "new_subscriber"),
    })
    .collect();
    database.close().await.ok();
    found
}
