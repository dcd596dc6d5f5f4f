//! The arguments of the reports (date ranges, time zones, ids) and `setTenantTimeZone` (who may,
//! which names): every bad input answers its error code and field, every member may read.

use chrono::{Days, NaiveDate};
use refhub_tests::{TestApp, data, random_id, spawn_app};
use serde_json::{Value, json};

use crate::flows::{Checks, Field, create_flow, send_text};
use crate::support::{PAGE, connect_tenant, create_topic, new_link, set_time_zone, zone};

/// `<what>Report(<what>Id: id, from, to, timeZone) { timeZone days { date } }`, whatever the
/// report's type; the whole response.
async fn report(
    app: &TestApp,
    token: &str,
    what: &str,
    id: &str,
    from: NaiveDate,
    to: NaiveDate,
    time_zone: Option<&str>,
) -> Value {
    app.graphql(
        &format!(
            "query($id: ID!, $from: NaiveDate!, $to: NaiveDate!, $zone: String) {{ \
               {what}Report({what}Id: $id, from: $from, to: $to, timeZone: $zone) {{ timeZone days {{ date }} }} }}"
        ),
        json!({ "id": id, "from": from.to_string(), "to": to.to_string(), "zone": time_zone }),
        Some(token),
    )
    .await
}

fn day_count(response: &Value, what: &str) -> Option<usize> {
    response["data"][format!("{what}Report")]["days"]
        .as_array()
        .map(Vec::len)
}

#[tokio::test]
async fn report_arguments_are_validated_and_every_member_may_read() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@ranges.test", "Ranges", crate::support::PAGE).await;
    let token = tenant.token();
    let link = new_link(&app, token, &tenant.page_id, "ranges").await;
    let topic = create_topic(&app, token, &tenant.page_id, "Daily news").await;
    let flow = create_flow(&app, token, "Hello", json!([send_text("hello")])).await;
    let viewer = app
        .member_of(&tenant.session, "viewer@ranges.test", "VIEWER")
        .await;
    let other = connect_tenant(&app, "owner@other-ranges.test", "Other", PAGE).await;
    let others_link = new_link(&app, other.token(), &other.page_id, "theirs").await;

    let day = NaiveDate::from_ymd_opt(2026, 2, 10).expect("a date");
    let mut checks = Checks::default();
    for (what, id) in [
        ("refLink", link.id.as_str()),
        ("page", tenant.page_id.as_str()),
        ("topic", topic.as_str()),
        ("flow", flow.as_str()),
    ] {
        let case = |name: &str| format!("{what}Report {name}");
        let r = report(&app, token, what, id, day, day - Days::new(1), None).await;
        checks.error(
            &case("from after to"),
            &r,
            "VALIDATION",
            Field::Exactly("to"),
        );
        let r = report(&app, token, what, id, day, day + Days::new(366), None).await;
        checks.error(&case("367 days"), &r, "VALIDATION", Field::Exactly("to"));
        let r = report(&app, token, what, id, day, day + Days::new(3_000), None).await;
        checks.error(&case("3001 days"), &r, "VALIDATION", Field::Exactly("to"));
        // The largest and smallest dates the scalar reads, and the first day before 1970.
        for (far, field) in [
            (NaiveDate::MAX, "from"),
            (
                NaiveDate::from_ymd_opt(-4714, 1, 1).expect("a date"),
                "from",
            ),
            (
                NaiveDate::from_ymd_opt(1969, 12, 31).expect("a date"),
                "from",
            ),
        ] {
            let r = report(&app, token, what, id, far, far, None).await;
            checks.error(
                &case(&format!("on {far}")),
                &r,
                "VALIDATION",
                Field::Exactly(field),
            );
        }
        let r = report(&app, token, what, id, day, NaiveDate::MAX, None).await;
        checks.error(
            &case("to the last date"),
            &r,
            "VALIDATION",
            Field::Exactly("to"),
        );
        for bad in ["Mars/Olympus", "Europe/Pariss", "not a zone", "+05:30"] {
            let r = report(&app, token, what, id, day, day, Some(bad)).await;
            checks.error(
                &case(&format!("timeZone {bad:?}")),
                &r,
                "VALIDATION",
                Field::Exactly("timeZone"),
            );
        }
        let r = report(&app, token, what, id, day, day, None).await;
        checks.ok(&case("one day"), &r);
        if day_count(&r, what) != Some(1) {
            checks.fail(format!("{}: one day listed expected: {r}", case("one day")));
        }
        let r = report(&app, token, what, id, day, day + Days::new(365), None).await;
        checks.ok(&case("366 days"), &r);
        if day_count(&r, what) != Some(366) {
            checks.fail(format!(
                "{}: 366 days listed expected, got {:?}",
                case("366 days"),
                day_count(&r, what)
            ));
        }
        let r = report(
            &app,
            token,
            what,
            id,
            day,
            day + Days::new(2),
            Some("Europe/Berlin"),
        )
        .await;
        checks.ok(&case("a time zone"), &r);
        if r["data"][format!("{what}Report")]["timeZone"] != "Europe/Berlin" {
            checks.fail(format!("{}: timeZone not echoed: {r}", case("a time zone")));
        }
        // Days in order, each once.
        let days: Vec<String> = r["data"][format!("{what}Report")]["days"]
            .as_array()
            .map(|days| {
                days.iter()
                    .map(|d| d["date"].as_str().unwrap_or("?").to_owned())
                    .collect()
            })
            .unwrap_or_default();
        if days != ["2026-02-10", "2026-02-11", "2026-02-12"] {
            checks.fail(format!("{}: days {days:?}", case("a time zone")));
        }
        let r = report(
            &app,
            viewer.token().expect("a token"),
            what,
            id,
            day,
            day,
            None,
        )
        .await;
        checks.ok(&case("by a VIEWER"), &r);
        let r = report(&app, token, what, &random_id(), day, day, None).await;
        checks.error(&case("unknown id"), &r, "NOT_FOUND", Field::None);
        let r = report(&app, other.token(), what, id, day, day, None).await;
        checks.error(&case("another tenant's id"), &r, "NOT_FOUND", Field::None);
    }
    // Ids of the wrong kind are unknown ids.
    let r = report(&app, token, "refLink", &tenant.page_id, day, day, None).await;
    checks.error("refLinkReport of a page id", &r, "NOT_FOUND", Field::None);
    let r = report(&app, token, "page", &link.id, day, day, None).await;
    checks.error("pageReport of a link id", &r, "NOT_FOUND", Field::None);
    let r = report(&app, token, "refLink", &others_link.id, day, day, None).await;
    checks.error(
        "refLinkReport of another tenant's link",
        &r,
        "NOT_FOUND",
        Field::None,
    );
    checks.verify();
}

#[tokio::test]
async fn only_owners_and_admins_set_the_time_zone_and_only_to_a_real_one() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@zone.test", "Zone", PAGE).await;
    let token = tenant.token();
    let link = new_link(&app, token, &tenant.page_id, "zoned").await;
    let editor = app
        .member_of(&tenant.session, "editor@zone.test", "EDITOR")
        .await;
    let viewer = app
        .member_of(&tenant.session, "viewer@zone.test", "VIEWER")
        .await;
    let admin = app
        .member_of(&tenant.session, "admin@zone.test", "ADMIN")
        .await;
    let current = async |token: &str| {
        let me = app
            .graphql_ok("{ me { tenant { timeZone } } }", json!({}), Some(token))
            .await;
        me["me"]["tenant"]["timeZone"].clone()
    };
    assert_eq!(
        current(token).await,
        "UTC",
        "a tenant counts in UTC until set"
    );

    let mut checks = Checks::default();
    let r = set_time_zone(&app, editor.token().expect("a token"), "Europe/Paris").await;
    checks.error(
        "setTenantTimeZone by an EDITOR",
        &r,
        "FORBIDDEN",
        Field::None,
    );
    let r = set_time_zone(&app, viewer.token().expect("a token"), "Europe/Paris").await;
    checks.error(
        "setTenantTimeZone by a VIEWER",
        &r,
        "FORBIDDEN",
        Field::None,
    );
    for bad in [
        "Mars/Olympus",
        "",
        "Europe/Pariss",
        "GMT+25",
        "../etc/passwd",
    ] {
        let r = set_time_zone(&app, token, bad).await;
        checks.error(
            &format!("setTenantTimeZone {bad:?}"),
            &r,
            "VALIDATION",
            Field::Exactly("timeZone"),
        );
    }
    checks.verify();
    assert_eq!(
        current(token).await,
        "UTC",
        "nothing changed by refused calls"
    );

    let r = set_time_zone(&app, admin.token().expect("a token"), "America/New_York").await;
    assert_eq!(
        data(&r)["setTenantTimeZone"]["timeZone"],
        "America/New_York"
    );
    let r = set_time_zone(&app, token, "Asia/Tokyo").await;
    assert_eq!(data(&r)["setTenantTimeZone"]["timeZone"], "Asia/Tokyo");
    assert_eq!(current(token).await, "Asia/Tokyo");
    assert_eq!(
        current(viewer.token().expect("a token")).await,
        "Asia/Tokyo",
        "every member sees the workspace's zone"
    );
    // Reports count in it unless told otherwise.
    let day = crate::support::today(zone("Asia/Tokyo"));
    let r = report(&app, token, "refLink", &link.id, day, day, None).await;
    assert_eq!(data(&r)["refLinkReport"]["timeZone"], "Asia/Tokyo", "{r:#}");
    let r = report(&app, token, "refLink", &link.id, day, day, Some("UTC")).await;
    assert_eq!(data(&r)["refLinkReport"]["timeZone"], "UTC", "{r:#}");
}
