//! Short links: `shortUrl` and `shortCode` of every ref link, `GET /r/{code}` redirecting to the
//! m.me URL uncached, 404 for unknown and malformed codes, for deleted links, links switched off
//! and suspended workspaces, and clicks counted off the request path with robots and
//! prefetchers apart from people.

use chrono::Days;
use refhub_tests::{assert_error, data, spawn_app, str_at};
use serde_json::{Value, json};

use crate::flows::pause;
use crate::support::{
    ClickFact, Link, PAGE, SHORT_URL_PREFIX, WAIT, click, click_rows, connect_tenant, eventually,
    hit, new_link, no_redirects, people_hits, read_link, report_with_clicks, robot_hits, today,
    zone,
};

#[track_caller]
fn assert_short_url_shape(link: &Link) {
    let code = &link.short_code;
    assert!(
        code.len() == 9 && code.chars().all(|c| c.is_ascii_alphanumeric()),
        "a short code is 9 letters or digits: {link:?}"
    );
    assert_eq!(
        link.short_url,
        format!("{SHORT_URL_PREFIX}{code}"),
        "shortUrl is PUBLIC_BASE_URL/r/{{shortCode}}"
    );
}

#[tokio::test]
async fn short_urls_redirect_to_the_m_me_url_uncached_and_unknown_codes_answer_404() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@short.test", "Short", PAGE).await;
    let token = tenant.token();
    let plain = new_link(&app, token, &tenant.page_id, "spring").await;
    // A prefilled text makes a URL with a percent-encoded query: the redirect keeps it exact.
    let with_text = app
        .mutate(
            "createRefLink",
            json!({ "pageId": tenant.page_id, "ref": "summer", "text": "Hi there & welcome ✓" }),
            "{ id }",
            Some(token),
        )
        .await;
    let with_text = read_link(&app, token, &str_at(data(&with_text), "/createRefLink/id")).await;
    assert_short_url_shape(&plain);
    assert_short_url_shape(&with_text);
    assert_ne!(
        plain.short_code, with_text.short_code,
        "every link has its own code"
    );
    assert!(with_text.url.contains("text="), "{with_text:?}");

    // The list shows the same short URL as the link itself.
    let listed = app
        .graphql_ok(
            "query($page: ID!) { refLinks(pageId: $page, first: 100) { edges { node { id shortUrl shortCode } } } }",
            json!({ "page": tenant.page_id }),
            Some(token),
        )
        .await;
    let listed = refhub_tests::nodes(&listed["refLinks"]);
    for link in [&plain, &with_text] {
        let found = listed
            .iter()
            .find(|l| l["id"] == json!(link.id))
            .unwrap_or_else(|| panic!("{} not listed: {listed:#?}", link.id));
        assert_eq!(found["shortCode"], json!(link.short_code));
        assert_eq!(found["shortUrl"], json!(link.short_url));
    }

    let client = no_redirects();
    for link in [&plain, &with_text] {
        let response = hit(
            &client,
            &app,
            &link.short_code,
            &[("User-Agent", crate::support::IPHONE)],
        )
        .await;
        assert_eq!(
            response.status().as_u16(),
            302,
            "GET /r/{}",
            link.short_code
        );
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        assert_eq!(
            header("location").as_deref(),
            Some(link.url.as_str()),
            "Location is exactly the link's url"
        );
        let cache = header("cache-control").unwrap_or_default();
        assert!(
            cache.to_ascii_lowercase().contains("no-store"),
            "a redirect that counts clicks must not be cached: Cache-Control {cache:?}"
        );
    }

    // Unknown and malformed codes: 404, never a redirect.
    let unknown = if plain.short_code == "zzzzzzzzz" {
        "yyyyyyyyy"
    } else {
        "zzzzzzzzz"
    };
    let response = hit(
        &client,
        &app,
        unknown,
        &[("User-Agent", crate::support::IPHONE)],
    )
    .await;
    assert_eq!(response.status().as_u16(), 404, "GET /r/{unknown}");
    let text = response.text().await.unwrap_or_default();
    serde_json::from_str::<Value>(&text).unwrap_or_else(|e| {
        panic!("the 404 of an unknown code is a JSON error body ({e}): {text}")
    });
    let long = "a".repeat(300);
    let upper_tail = format!("{}-", &plain.short_code[..8]);
    let malformed = [
        "abc-def12",
        "abc_defgh",
        "abc%20def",
        "a.b",
        "%2E%2E",
        "%C3%A4%C3%B6%C3%BC",
        "abc'--",
        long.as_str(),
        upper_tail.as_str(),
        // The real code with something after it.
        &format!("{}%00", plain.short_code),
        &format!("{}.json", plain.short_code),
    ];
    for code in malformed {
        let response = hit(
            &client,
            &app,
            code,
            &[("User-Agent", crate::support::IPHONE)],
        )
        .await;
        assert_eq!(
            response.status().as_u16(),
            404,
            "GET /r/{code} must answer 404 (Location: {:?})",
            response.headers().get("location")
        );
    }
}

#[tokio::test]
async fn people_and_robots_are_counted_apart_and_agree_with_the_raw_clicks() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@clicks.test", "Clicks", PAGE).await;
    let token = tenant.token();
    let counted = new_link(&app, token, &tenant.page_id, "counted").await;
    let other = new_link(&app, token, &tenant.page_id, "other").await;
    let utc = zone("UTC");
    let from = today(utc) - Days::new(1);
    let to = today(utc) + Days::new(1);

    let client = no_redirects();
    let people = people_hits();
    let robots = robot_hits();
    for headers in people.iter().chain(&robots) {
        click(&client, &app, &counted, headers).await;
    }
    // The same person twice, and someone on the other link.
    click(&client, &app, &counted, &people[0]).await;
    click(&client, &app, &other, &people[1]).await;
    click(&client, &app, &other, &robots[0]).await;
    let people_on_counted = people.len() as i64 + 1;
    let robots_on_counted = robots.len() as i64;

    let report = report_with_clicks(
        &app,
        token,
        "refLink",
        &counted.id,
        from,
        to,
        people_on_counted + robots_on_counted,
    )
    .await;
    assert_eq!(
        (report.totals.clicks, report.totals.automated),
        (people_on_counted, robots_on_counted),
        "people's clicks apart from robots' and prefetchers' ({} hits by people, {} by robots: {robots:?}): {report:#?}",
        people_on_counted,
        robots_on_counted
    );
    assert_eq!(report.time_zone, "UTC", "the default time zone");
    let other_report = report_with_clicks(&app, token, "refLink", &other.id, from, to, 2).await;
    assert_eq!(
        (other_report.totals.clicks, other_report.totals.automated),
        (1, 1),
        "{other_report:#?}"
    );
    let page = report_with_clicks(
        &app,
        token,
        "page",
        &tenant.page_id,
        from,
        to,
        people_on_counted + robots_on_counted + 2,
    )
    .await;
    assert_eq!(
        (page.totals.clicks, page.totals.automated),
        (people_on_counted + 1, robots_on_counted + 1),
        "the page counts the clicks of all its links: {page:#?}"
    );

    // Batches are written once: nothing more comes.
    pause(1_500).await;
    let again = crate::support::funnel(&app, token, "refLink", &counted.id, from, to, None).await;
    assert_eq!(again.totals, report.totals, "clicks counted twice?");

    // The raw rows say the same.
    let rows = click_rows(&app).await;
    let of = |link: &Link, automated: bool| {
        rows.iter()
            .filter(|r: &&ClickFact| r.ref_link_id == link.id && r.automated == automated)
            .count() as i64
    };
    assert_eq!(
        (
            of(&counted, false),
            of(&counted, true),
            of(&other, false),
            of(&other, true)
        ),
        (people_on_counted, robots_on_counted, 1, 1),
        "link_clicks rows: {rows:#?}"
    );
    assert!(
        rows.iter().all(|r| r.page_id == tenant.page_id),
        "every click names the link's page: {rows:#?}"
    );
    // No click is an entry.
    assert_eq!(report.totals.entries, 0);
    assert_eq!(
        report.conversion,
        Some(0.0),
        "0 entries / {people_on_counted} clicks"
    );
}

#[tokio::test]
async fn a_deleted_links_short_url_answers_404_and_its_clicks_still_count_for_the_page() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@deleted.test", "Deleted", PAGE).await;
    let token = tenant.token();
    let doomed = new_link(&app, token, &tenant.page_id, "doomed").await;
    let utc = zone("UTC");
    let from = today(utc) - Days::new(1);
    let to = today(utc) + Days::new(1);
    let client = no_redirects();
    let people = people_hits();
    for headers in &people[..3] {
        click(&client, &app, &doomed, headers).await;
    }
    report_with_clicks(&app, token, "refLink", &doomed.id, from, to, 3).await;

    let deleted = app
        .mutate("deleteRefLink", json!({ "id": doomed.id }), "", Some(token))
        .await;
    data(&deleted);
    // Polled by a robot, so that the hits still redirected while the link is cached count
    // apart from the people's clicks made before.
    let redirected_after_deletion = until_status(&client, &app, &doomed, 404).await;
    // Hits after the 404 count nowhere.
    for headers in &people {
        let response = hit(&client, &app, &doomed.short_code, headers).await;
        assert_eq!(response.status().as_u16(), 404, "a deleted link stays gone");
    }
    pause(1_500).await;

    let page = crate::support::funnel(&app, token, "page", &tenant.page_id, from, to, None).await;
    assert_eq!(
        (page.totals.clicks, page.totals.automated),
        (3, redirected_after_deletion),
        "past clicks of a deleted link still count for its page ({redirected_after_deletion} \
         robot hits were still redirected from the cache); hits answered 404 do not: {page:#?}"
    );
    let report = app
        .graphql(
            "query($id: ID!, $from: NaiveDate!, $to: NaiveDate!) { refLinkReport(refLinkId: $id, from: $from, to: $to) { totals { clicks } } }",
            json!({ "id": doomed.id, "from": from.to_string(), "to": to.to_string() }),
            Some(token),
        )
        .await;
    assert_error(&report, "NOT_FOUND");
}

#[tokio::test]
async fn another_tenant_cannot_read_a_links_or_a_pages_report() {
    let app = spawn_app().await;
    let alice = connect_tenant(&app, "owner@alice-links.test", "Alice", PAGE).await;
    let bob = connect_tenant(&app, "owner@bob-links.test", "Bob", PAGE).await;
    let alices = new_link(&app, alice.token(), &alice.page_id, "shared-name").await;
    let bobs = new_link(&app, bob.token(), &bob.page_id, "shared-name").await;
    assert_ne!(alices.short_code, bobs.short_code);
    let utc = zone("UTC");
    let from = today(utc) - Days::new(1);
    let to = today(utc) + Days::new(1);
    let client = no_redirects();
    for headers in &people_hits()[..2] {
        click(&client, &app, &alices, headers).await;
    }
    report_with_clicks(&app, alice.token(), "refLink", &alices.id, from, to, 2).await;

    for (what, id) in [("refLink", &alices.id), ("page", &alice.page_id)] {
        let response =
            crate::support::funnel_raw(&app, bob.token(), what, id, from, to, None).await;
        assert_error(&response, "NOT_FOUND");
        assert!(
            response["data"].is_null() || response["data"][format!("{what}Report")].is_null(),
            "nothing of Alice's report reaches Bob: {response:#}"
        );
    }
    // Bob's own link with the same ref saw nothing.
    let own = crate::support::funnel(&app, bob.token(), "refLink", &bobs.id, from, to, None).await;
    assert_eq!(
        (own.totals.clicks, own.totals.automated),
        (0, 0),
        "{own:#?}"
    );
    let own_page =
        crate::support::funnel(&app, bob.token(), "page", &bob.page_id, from, to, None).await;
    assert_eq!(
        (own_page.totals.clicks, own_page.totals.automated),
        (0, 0),
        "{own_page:#?}"
    );
}

/// Polls `link`'s short URL (as a robot, so that hits still redirected from the cache count
/// apart) until it answers `status`; returns how many of the polls were redirected.
async fn until_status(
    client: &reqwest::Client,
    app: &refhub_tests::TestApp,
    link: &Link,
    status: u16,
) -> i64 {
    let robot: &[(&str, &str)] = &[("User-Agent", "curl/8.5.0")];
    let mut redirected = 0;
    eventually(
        &format!("{}'s short URL to answer {status}", link.short_code),
        WAIT,
        async || {
            let got = hit(client, app, &link.short_code, robot)
                .await
                .status()
                .as_u16();
            if got == 302 {
                redirected += 1;
            }
            if got == status {
                Ok(())
            } else {
                Err(format!("{got}"))
            }
        },
    )
    .await;
    redirected
}

#[tokio::test]
async fn a_link_switched_off_or_a_suspended_workspace_answers_404_and_counts_no_click() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@paused.test", "Paused", PAGE).await;
    let token = tenant.token();
    let paused = new_link(&app, token, &tenant.page_id, "paused").await;
    let other = new_link(&app, token, &tenant.page_id, "other").await;
    let utc = zone("UTC");
    let (from, to) = (today(utc) - Days::new(1), today(utc) + Days::new(1));
    let client = no_redirects();
    let people = people_hits();
    click(&client, &app, &paused, &people[0]).await;

    // Switched off: the short URL leads nowhere, and people's hits count nowhere.
    let switched = app
        .mutate(
            "updateRefLink",
            json!({ "id": paused.id, "active": false }),
            "{ active }",
            Some(token),
        )
        .await;
    assert_eq!(data(&switched)["updateRefLink"]["active"], false);
    let mut robots = until_status(&client, &app, &paused, 404).await;
    for headers in &people {
        let response = hit(&client, &app, &paused.short_code, headers).await;
        assert_eq!(
            response.status().as_u16(),
            404,
            "a link switched off stays off"
        );
    }
    assert_eq!(
        hit(&client, &app, &other.short_code, &people[0])
            .await
            .status()
            .as_u16(),
        302,
        "the page's other links still lead to Messenger"
    );
    // Switched on again, it leads to Messenger again.
    let switched = app
        .mutate(
            "updateRefLink",
            json!({ "id": paused.id, "active": true }),
            "{ active }",
            Some(token),
        )
        .await;
    data(&switched);
    robots += until_status(&client, &app, &paused, 302).await;
    click(&client, &app, &paused, &people[1]).await;

    // A suspended workspace's links all lead nowhere until it is reactivated.
    let operator = app.operator("ops@paused.test").await;
    let set_status = async |mutation: &str| {
        let response = app
            .mutate(
                mutation,
                json!({ "tenantId": tenant.session.tenant() }),
                "{ status }",
                operator.token(),
            )
            .await;
        data(&response);
    };
    set_status("suspendTenant").await;
    robots += until_status(&client, &app, &paused, 404).await;
    // (The other link's redirected polls count for it, not for this one.)
    until_status(&client, &app, &other, 404).await;
    for link in [&paused, &other] {
        let response = hit(&client, &app, &link.short_code, &people[2]).await;
        assert_eq!(
            response.status().as_u16(),
            404,
            "a suspended workspace's link leads nowhere"
        );
    }
    set_status("reactivateTenant").await;
    robots += until_status(&client, &app, &paused, 302).await;
    click(&client, &app, &paused, &people[3]).await;

    let expected = (3, robots);
    let mut report = None;
    eventually("the clicks to be counted", WAIT, async || {
        let page = crate::support::funnel(&app, token, "refLink", &paused.id, from, to, None).await;
        let got = (page.totals.clicks, page.totals.automated);
        report = Some(page);
        if got == expected {
            Ok(())
        } else {
            Err(format!("{got:?}"))
        }
    })
    .await;
    // Nothing more arrives later: hits answered 404 were never queued.
    pause(1_500).await;
    let page = crate::support::funnel(&app, token, "refLink", &paused.id, from, to, None).await;
    assert_eq!(
        (page.totals.clicks, page.totals.automated),
        expected,
        "people's clicks while the link led somewhere, and the robot's polls that were \
         redirected, count; hits answered 404 do not: {report:#?}"
    );
}

#[tokio::test]
async fn a_head_request_redirects_like_a_get_and_counts_as_automated() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@head.test", "Head", PAGE).await;
    let token = tenant.token();
    let link = new_link(&app, token, &tenant.page_id, "checked").await;
    let client = no_redirects();
    // A link checker asks with HEAD, with a browser's user agent as often as not.
    let response = client
        .head(app.url(&format!("/r/{}", link.short_code)))
        .header("User-Agent", crate::support::IPHONE)
        .send()
        .await
        .expect("HEAD /r/{code}");
    let (status, location) = crate::support::redirect_of(&response);
    assert_eq!(
        (status, location.as_deref()),
        (302, Some(link.url.as_str())),
        "HEAD answers as GET does"
    );
    let unknown = client
        .head(app.url("/r/zzzzzzzzz"))
        .send()
        .await
        .expect("HEAD /r/{code}");
    assert_eq!(unknown.status().as_u16(), 404);

    let utc = zone("UTC");
    let (from, to) = (today(utc) - Days::new(1), today(utc) + Days::new(1));
    // A HEAD is no person's click: counted apart, as robots' and prefetchers' hits are.
    eventually("the HEAD to be counted as automated", WAIT, async || {
        let report = crate::support::funnel(&app, token, "refLink", &link.id, from, to, None).await;
        let got = (report.totals.clicks, report.totals.automated);
        if got == (0, 1) {
            Ok(())
        } else {
            Err(format!("(clicks, automated) = {got:?}"))
        }
    })
    .await;
}
