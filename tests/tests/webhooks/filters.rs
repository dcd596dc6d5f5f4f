//! `subscribers(pageId, filter, first, after)`: every filter alone and combined, over people
//! made by webhooks, and keyset pagination with `totalCount`.

use std::collections::BTreeSet;

use refhub_tests::{TestApp, assert_error, data, spawn_app, str_at};
use serde_json::{Value, json};

use crate::support::{
    PAGE, Tenant, all_subscribers, body, connect_tenant, create_field, create_link, create_tag,
    create_topic, deliver, message, now_ms, opt_in, opt_in_status, psids, referral, settled_events,
    subscriber_by_psid, subscribers_page,
};

const S1: &str = "9400000000000011";
const S2: &str = "9400000000000012";
const S3: &str = "9400000000000013";
const S4: &str = "9400000098765014";
/// People who only wrote a message.
const CROWD: usize = 20;

struct World {
    tenant: Tenant,
    score: String,
    vip: String,
    alpha: String,
    beta: String,
    news: String,
}

/// S1 came through `alpha` with score 42 and opted in to News; S2 through `beta` with 42.5;
/// S3 through `alpha` with 7, opted in to News and stopped; S4 and the crowd only wrote.
async fn world(app: &TestApp) -> World {
    let tenant = connect_tenant(app, "owner@filters.test", "Filters", PAGE).await;
    let token = tenant.token();
    let page = tenant.page_id.as_str();
    let (score, _) = create_field(app, token, "score", "NUMBER", Some(514)).await;
    let vip = create_tag(app, token, "VIP").await;
    let alpha = create_link(app, token, page, "alpha", None, &[&vip]).await;
    let beta = create_link(app, token, page, "beta", None, &[]).await;
    let news = create_topic(app, token, page, "News").await;
    let t = now_ms() - 600_000;
    let next_year = now_ms() + 365 * 24 * 3_600_000;

    let mut items = vec![
        referral(S1, t, "alpha--514--42"),
        opt_in(S1, t + 1, "TOKEN-S1", "News", next_year),
        referral(S2, t + 2, "beta--514--42.5"),
        referral(S3, t + 3, "alpha--514--7"),
        opt_in(S3, t + 4, "TOKEN-S3", "News", next_year),
        message(S4, t + 5, "m_filters_s4", "just looking"),
    ];
    for i in 0..CROWD {
        items.push(message(
            &format!("94010000000000{i:02}"),
            t + 10 + i as i64,
            &format!("m_filters_crowd_{i}"),
            "hi",
        ));
    }
    deliver(app, &tenant, body(&items)).await;
    settled_events(app, token, items.len()).await;
    deliver(
        app,
        &tenant,
        body(&[opt_in_status(S3, t + 100, "TOKEN-S3", "STOP_NOTIFICATIONS")]),
    )
    .await;
    settled_events(app, token, items.len() + 1).await;
    World {
        tenant,
        score,
        vip,
        alpha,
        beta,
        news,
    }
}

async fn matching(app: &TestApp, world: &World, filter: Value) -> Vec<String> {
    psids(&all_subscribers(app, world.tenant.token(), &world.tenant.page_id, filter).await)
}

fn sorted(psids: &[&str]) -> Vec<String> {
    let mut psids: Vec<String> = psids.iter().map(|p| (*p).to_owned()).collect();
    psids.sort();
    psids
}

#[tokio::test]
async fn every_filter_alone_and_combined() {
    let app = spawn_app().await;
    let w = world(&app).await;

    assert_eq!(
        matching(&app, &w, json!({ "tagId": w.vip })).await,
        sorted(&[S1, S3])
    );
    assert_eq!(
        matching(&app, &w, json!({ "refLinkId": w.alpha })).await,
        sorted(&[S1, S3])
    );
    assert_eq!(
        matching(&app, &w, json!({ "refLinkId": w.beta })).await,
        sorted(&[S2])
    );
    for (value, expected) in [
        ("42.0", vec![S1]),
        ("42", vec![S1]),
        ("42.50", vec![S2]),
        ("7", vec![S3]),
        ("8", vec![]),
    ] {
        assert_eq!(
            matching(
                &app,
                &w,
                json!({ "field": { "fieldId": w.score, "value": value } })
            )
            .await,
            sorted(&expected),
            "score = {value}"
        );
    }
    assert_eq!(
        matching(&app, &w, json!({ "optedInTopicId": w.news })).await,
        sorted(&[S1]),
        "S3 stopped the topic"
    );
    assert_eq!(
        matching(&app, &w, json!({ "search": "98765" })).await,
        sorted(&[S4])
    );
    assert_eq!(
        matching(&app, &w, json!({ "search": S2 })).await,
        sorted(&[S2])
    );
    assert_eq!(
        matching(&app, &w, json!({ "search": "no-such-person" })).await,
        sorted(&[])
    );
    assert_eq!(
        matching(&app, &w, json!({ "search": "9401000000000" }))
            .await
            .len(),
        CROWD
    );
    assert_eq!(
        matching(
            &app,
            &w,
            json!({ "tagId": w.vip, "field": { "fieldId": w.score, "value": "42" } })
        )
        .await,
        sorted(&[S1])
    );
    assert_eq!(
        matching(
            &app,
            &w,
            json!({ "refLinkId": w.alpha, "optedInTopicId": w.news, "search": "0013" })
        )
        .await,
        sorted(&[]),
        "S3 matches the link and the search but not the topic"
    );

    // A tag added by hand counts like one added by a link.
    let s4 = subscriber_by_psid(&app, w.tenant.token(), &w.tenant.page_id, S4)
        .await
        .expect("S4");
    let tagged = app
        .mutate(
            "addSubscriberTag",
            json!({ "subscriberId": s4["id"], "tagId": w.vip }),
            "{ id tags { id } }",
            Some(w.tenant.token()),
        )
        .await;
    data(&tagged);
    assert_eq!(
        matching(&app, &w, json!({ "tagId": w.vip })).await,
        sorted(&[S1, S3, S4])
    );

    // A value that does not fit the field's type is refused, not silently unmatched.
    let bad = subscribers_page(
        &app,
        w.tenant.token(),
        &w.tenant.page_id,
        json!({ "field": { "fieldId": w.score, "value": "abc" } }),
        None,
        None,
    )
    .await;
    assert_error(&bad, "VALIDATION");

    // No stored text holds U+0000 (PostgreSQL's text cannot): a search for one is refused
    // alike on both databases, not an internal error on one of them.
    for (filter, field) in [
        (json!({ "search": "94\u{0}01" }), "filter.search"),
        (
            json!({ "field": { "fieldId": w.score, "value": "4\u{0}2" } }),
            "filter.field.value",
        ),
    ] {
        let refused = subscribers_page(
            &app,
            w.tenant.token(),
            &w.tenant.page_id,
            filter.clone(),
            None,
            None,
        )
        .await;
        assert_error(&refused, "VALIDATION");
        assert_eq!(
            refhub_tests::error_field(&refused).as_deref(),
            Some(field),
            "{filter}: {refused}"
        );
    }
}

#[tokio::test]
async fn pages_of_subscribers_follow_cursors_and_count_the_whole_list() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let token = w.tenant.token();
    let everyone = 4 + CROWD;

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let response = subscribers_page(
            &app,
            token,
            &w.tenant.page_id,
            Value::Null,
            Some(10),
            after.as_deref(),
        )
        .await;
        let connection = &data(&response)["subscribers"];
        assert_eq!(connection["totalCount"], everyone, "on page {pages}");
        let nodes = connection["nodes"].as_array().expect("nodes").clone();
        pages += 1;
        let has_next = connection["pageInfo"]["hasNextPage"] == json!(true);
        if has_next {
            assert_eq!(nodes.len(), 10, "a full page before the last");
        }
        seen.extend(nodes.iter().map(|n| str_at(n, "/id")));
        if !has_next {
            break;
        }
        after = Some(str_at(connection, "/pageInfo/endCursor"));
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(pages, 3, "24 subscribers in pages of 10");
    assert_eq!(seen.len(), everyone, "{seen:?}");
    assert_eq!(
        seen.iter().collect::<BTreeSet<_>>().len(),
        everyone,
        "a subscriber came twice"
    );

    // Filtered pages count the filtered list.
    let first = subscribers_page(
        &app,
        token,
        &w.tenant.page_id,
        json!({ "tagId": w.vip }),
        Some(1),
        None,
    )
    .await;
    let first = &data(&first)["subscribers"];
    assert_eq!(first["totalCount"], 2);
    assert_eq!(first["nodes"].as_array().map(Vec::len), Some(1));
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    let cursor = str_at(first, "/pageInfo/endCursor");
    let second = subscribers_page(
        &app,
        token,
        &w.tenant.page_id,
        json!({ "tagId": w.vip }),
        Some(1),
        Some(&cursor),
    )
    .await;
    let second = &data(&second)["subscribers"];
    assert_eq!(second["totalCount"], 2);
    assert_eq!(second["pageInfo"]["hasNextPage"], false);
    let both = sorted(&[
        first["nodes"][0]["psid"].as_str().unwrap(),
        second["nodes"][0]["psid"].as_str().unwrap(),
    ]);
    assert_eq!(both, sorted(&[S1, S3]));
}

#[tokio::test]
async fn the_opted_in_topic_filter_leaves_out_expired_opt_ins() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@expired.test", "Expired", PAGE).await;
    let token = tenant.token();
    let news = create_topic(&app, token, &tenant.page_id, "News").await;
    let t = now_ms() - 600_000;
    let active = "9500000000000001";
    let expired = "9500000000000002";
    deliver(
        &app,
        &tenant,
        body(&[
            opt_in(
                active,
                t,
                "TOKEN-ACTIVE",
                "News",
                now_ms() + 30 * 24 * 3_600_000,
            ),
            opt_in(
                expired,
                t + 1,
                "TOKEN-EXPIRED",
                "News",
                now_ms() - 24 * 3_600_000,
            ),
        ]),
    )
    .await;
    settled_events(&app, token, 2).await;
    let gone = subscriber_by_psid(&app, token, &tenant.page_id, expired)
        .await
        .expect("the subscriber with an expired token");
    assert_eq!(gone["optIns"][0]["status"], "EXPIRED", "{gone:#}");
    assert_eq!(gone["optIns"][0]["topic"]["id"], json!(news), "{gone:#}");

    let opted_in = psids(
        &all_subscribers(
            &app,
            token,
            &tenant.page_id,
            json!({ "optedInTopicId": news }),
        )
        .await,
    );
    assert_eq!(
        opted_in,
        vec![active.to_owned()],
        "`optedInTopicId` is documented as \"has an active opt-in to this topic\", and the API \
         itself reports {expired}'s opt-in as EXPIRED"
    );
}
