//! Every fixture of `shared/fixtures/messenger/`, signed as Meta signs it, posted to a tenant's
//! webhook URL, and its effect read back through GraphQL.

use refhub_tests::spawn_app;
use serde_json::{Value, json};

use crate::fixtures;
use crate::support::{
    PAGE, at_ms, connect_tenant, create_field, create_link, create_tag, create_topic, deliver,
    entry_count, field_value, instant, settled_events, subscriber_by_psid, tag_ids,
    wait_for_subscriber,
};

/// The first messaging item of the first entry of a fixture.
fn first_item(body: &str) -> Value {
    let parsed: Value = serde_json::from_str(body).expect("fixtures are JSON");
    parsed["entry"][0]["messaging"][0].clone()
}

/// The event whose body is `item`.
fn event_for<'a>(events: &'a [Value], item: &Value) -> &'a Value {
    events
        .iter()
        .find(|e| &e["body"] == item)
        .unwrap_or_else(|| panic!("no stored event has the body {item:#}; events: {events:#?}"))
}

#[tokio::test]
async fn every_fixture_is_stored_and_applied() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@fixtures.test", "Fixtures", PAGE).await;
    let token = tenant.token();
    let page = tenant.page_id.as_str();

    let summer_tag = create_tag(&app, token, "Summer").await;
    let summer = create_link(&app, token, page, "summer_coupon", None, &[&summer_tag]).await;
    let (level, _) = create_field(&app, token, "level", "TEXT", None).await;
    let (city, _) = create_field(&app, token, "city", "TEXT", Some(738)).await;
    let (age, _) = create_field(&app, token, "age", "NUMBER", Some(514)).await;
    let tutorial = create_link(&app, token, page, "tutorial", Some(&level), &[]).await;
    // The fixture says "weekly deals": titles match case-insensitively.
    let topic = create_topic(&app, token, page, "Weekly Deals").await;

    for fixture in [
        fixtures::REFERRAL_SHORTLINK,
        fixtures::POSTBACK_GET_STARTED_REFERRAL,
        fixtures::REFERRAL_MULTI_PAYLOAD,
        fixtures::REFERRAL_ADS,
        fixtures::OPTIN_NOTIFICATION_MESSAGES,
        fixtures::MESSAGE_TEXT,
        fixtures::BATCH_TWO_ENTRIES,
    ] {
        deliver(&app, &tenant, fixture).await;
    }

    // The opt-in first (its token expires at 2026-11-21T04:40:04Z: EXPIRED after that)…
    let opted_in = wait_for_subscriber(&app, &tenant, "6100000000000001", "one opt-in", |s| {
        s["optIns"].as_array().is_some_and(|o| o.len() == 1)
    })
    .await;
    let opt_in = &opted_in["optIns"][0];
    assert_eq!(opt_in["topic"]["id"], json!(topic), "{opt_in:#}");
    assert_eq!(opt_in["topicTitle"], "weekly deals", "{opt_in:#}");
    assert_eq!(opt_in["frequency"], "WEEKLY", "{opt_in:#}");
    assert_eq!(opt_in["timezone"], "Europe/Berlin", "{opt_in:#}");
    assert_eq!(instant(&opt_in["expiresAt"]), at_ms(1_795_236_004_000));
    let expected = if chrono::Utc::now() >= at_ms(1_795_236_004_000) {
        "EXPIRED"
    } else {
        "ACTIVE"
    };
    assert_eq!(opt_in["status"], expected, "{opt_in:#}");

    // …then the same person stops the topic.
    deliver(&app, &tenant, fixtures::OPTIN_STOP_NOTIFICATIONS).await;
    let events = settled_events(&app, token, 10).await;
    for event in &events {
        assert_eq!(event["status"], "PROCESSED", "{event:#}");
        assert_eq!(event["pageFacebookId"], PAGE, "{event:#}");
        assert!(event["error"].is_null(), "{event:#}");
    }

    let all = crate::support::all_subscribers(&app, token, page, Value::Null).await;
    assert_eq!(all.len(), 6, "six people wrote: {all:#?}");
    let person = async |psid: &str| {
        subscriber_by_psid(&app, token, page, psid)
            .await
            .unwrap_or_else(|| panic!("no subscriber {psid}"))
    };

    // referral_shortlink + the opt-in and its stop. The opt-in came through an m.me/rn link
    // with a ref of its own: a second entry, attributed to a ref no link has; the first
    // touch stays.
    let one = person("6100000000000001").await;
    assert_eq!(one["sourceRef"], "summer_coupon", "{one:#}");
    assert_eq!(one["sourceRefLink"]["id"], json!(summer), "{one:#}");
    assert_eq!(tag_ids(&one), vec![summer_tag.clone()], "{one:#}");
    assert_eq!(entry_count(&one), 2, "{one:#}");
    // Found by its time: its token is stored sealed, so its body is not the fixture's.
    let opt_in_event = events
        .iter()
        .find(|e| e["kind"] == "optin" && instant(&e["occurredAt"]) == at_ms(1_763_700_004_000))
        .expect("the opt-in's event");
    assert_eq!(
        opt_in_event["outcome"]["attribution"]["unknownRef"], "weekly_deals_link",
        "{opt_in_event:#}"
    );
    assert_eq!(instant(&one["firstSeenAt"]), at_ms(1_763_700_000_000));
    assert_eq!(
        one["withinMessagingWindow"], false,
        "fixtures are from 2025"
    );
    let opt_ins = one["optIns"].as_array().expect("optIns");
    assert_eq!(opt_ins.len(), 1, "{one:#}");
    assert_eq!(opt_ins[0]["status"], "STOPPED", "{one:#}");
    assert_eq!(opt_ins[0]["topic"]["id"], json!(topic), "{one:#}");

    // postback_get_started_referral (tutorial--456) + message_text.
    let two = person("6100000000000002").await;
    assert_eq!(two["sourceRef"], "tutorial--456", "{two:#}");
    assert_eq!(two["sourceRefLink"]["id"], json!(tutorial), "{two:#}");
    assert_eq!(field_value(&two, &level).as_deref(), Some("456"), "{two:#}");
    assert_eq!(two["fields"].as_array().map(Vec::len), Some(1), "{two:#}");
    assert_eq!(entry_count(&two), 1, "{two:#}");
    assert_eq!(instant(&two["firstSeenAt"]), at_ms(1_763_700_001_000));
    assert_eq!(
        instant(&two["lastInteractionAt"]),
        at_ms(1_763_700_006_000),
        "the text message is the last interaction: {two:#}"
    );

    // referral_multi_payload: tutorial--gold--738--Berlin--514--42.
    let three = person("6100000000000003").await;
    assert_eq!(
        three["sourceRef"], "tutorial--gold--738--Berlin--514--42",
        "{three:#}"
    );
    assert_eq!(three["sourceRefLink"]["id"], json!(tutorial), "{three:#}");
    assert_eq!(field_value(&three, &level).as_deref(), Some("gold"));
    assert_eq!(field_value(&three, &city).as_deref(), Some("Berlin"));
    assert_eq!(field_value(&three, &age).as_deref(), Some("42"));
    assert_eq!(
        three["fields"].as_array().map(Vec::len),
        Some(3),
        "{three:#}"
    );
    assert_eq!(entry_count(&three), 1, "{three:#}");

    // referral_ads: a ref no link has.
    let four = person("6100000000000004").await;
    assert_eq!(four["sourceRef"], "fall_sale", "{four:#}");
    assert!(four["sourceRefLink"].is_null(), "{four:#}");
    assert_eq!(entry_count(&four), 1, "{four:#}");
    assert!(
        tag_ids(&four).is_empty() && four["fields"] == json!([]),
        "{four:#}"
    );
    let ad = event_for(&events, &first_item(fixtures::REFERRAL_ADS));
    assert_eq!(ad["kind"], "referral", "{ad:#}");
    assert_eq!(
        ad["outcome"]["attribution"]["unknownRef"], "fall_sale",
        "{ad:#}"
    );

    // batch_two_entries: a referral and a quick reply from one person, a postback from another.
    let five = person("6100000000000005").await;
    assert_eq!(five["sourceRef"], "youtube", "{five:#}");
    assert_eq!(entry_count(&five), 1, "{five:#}");
    assert_eq!(
        instant(&five["lastInteractionAt"]),
        at_ms(1_763_700_007_100)
    );
    let six = person("6100000000000006").await;
    assert_eq!(
        entry_count(&six),
        0,
        "a postback without a referral: {six:#}"
    );
    assert!(six["sourceRef"].is_null(), "{six:#}");
    assert_eq!(instant(&six["firstSeenAt"]), at_ms(1_763_700_007_200));
    assert_eq!(instant(&six["lastInteractionAt"]), at_ms(1_763_700_007_200));

    let batch: Value = serde_json::from_str(fixtures::BATCH_TWO_ENTRIES).unwrap();
    let quick_reply = event_for(&events, &batch["entry"][0]["messaging"][1]);
    assert_eq!(quick_reply["kind"], "message", "{quick_reply:#}");
    assert_eq!(quick_reply["sender"], "psid:6100000000000005");
    assert_eq!(
        quick_reply["outcome"]["interaction"], "quick_reply",
        "{quick_reply:#}"
    );
    let postback = event_for(&events, &batch["entry"][1]["messaging"][0]);
    assert_eq!(postback["kind"], "postback", "{postback:#}");
    assert_eq!(postback["sender"], "psid:6100000000000006");
    assert_eq!(
        postback["outcome"]["interaction"], "postback",
        "{postback:#}"
    );
    let text = event_for(&events, &first_item(fixtures::MESSAGE_TEXT));
    assert_eq!(text["outcome"]["interaction"], "message", "{text:#}");

    let mut kinds: Vec<&str> = events.iter().filter_map(|e| e["kind"].as_str()).collect();
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        [
            "message", "message", "optin", "optin", "postback", "postback", "referral", "referral",
            "referral", "referral"
        ]
    );
}

#[tokio::test]
async fn fixtures_for_a_page_the_tenant_has_not_connected_are_stored_and_ignored() {
    let app = spawn_app().await;
    // The tenant connected another page than the fixtures'.
    let tenant = connect_tenant(
        &app,
        "owner@other-page.test",
        "Other page",
        "104857600000999",
    )
    .await;
    for (_, fixture) in fixtures::ALL {
        deliver(&app, &tenant, fixture).await;
    }
    let events = settled_events(&app, tenant.token(), 10).await;
    for event in &events {
        assert_eq!(event["status"], "IGNORED", "{event:#}");
        assert!(
            event["outcome"].is_object(),
            "an ignored event says why: {event:#}"
        );
        assert_eq!(event["pageFacebookId"], PAGE, "{event:#}");
    }
    let subscribers =
        crate::support::all_subscribers(&app, tenant.token(), &tenant.page_id, Value::Null).await;
    assert!(subscribers.is_empty(), "{subscribers:#?}");
    let pages = app
        .graphql_ok("{ pages { totalCount } }", json!({}), Some(tenant.token()))
        .await;
    assert_eq!(pages["pages"]["totalCount"], 1);

    // The tenant connects the fixtures' page after all and replays one ignored event.
    app.meta.add_page(
        PAGE,
        "Fixtures page",
        None,
        &crate::support::page_token(PAGE),
    );
    let connected = app
        .mutate(
            "connectPage",
            json!({ "facebookPageId": PAGE, "accessToken": crate::support::PAGE_TOKEN }),
            "{ id }",
            Some(tenant.token()),
        )
        .await;
    let page = refhub_tests::str_at(refhub_tests::data(&connected), "/connectPage/id");
    let shortlink = event_for(&events, &first_item(fixtures::REFERRAL_SHORTLINK));
    let replayed = app
        .mutate(
            "replayWebhookEvent",
            json!({ "id": shortlink["id"] }),
            "{ id }",
            Some(tenant.token()),
        )
        .await;
    refhub_tests::data(&replayed);
    let person = crate::support::eventually(
        "the replayed event to apply",
        crate::support::WAIT,
        async || match subscriber_by_psid(&app, tenant.token(), &page, "6100000000000001").await {
            Some(person) => Ok(person),
            None => Err("no subscriber yet".to_owned()),
        },
    )
    .await;
    assert_eq!(person["sourceRef"], "summer_coupon", "{person:#}");
    assert_eq!(entry_count(&person), 1, "{person:#}");
    let event =
        crate::support::webhook_event(&app, tenant.token(), shortlink["id"].as_str().unwrap())
            .await;
    assert_eq!(
        refhub_tests::data(&event)["webhookEvent"]["status"],
        "PROCESSED",
        "{event:#}"
    );
}

#[test]
fn embedded_fixtures_match_the_shared_files() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/messenger");
    if !dir.is_dir() {
        eprintln!("{} is absent: nothing to compare", dir.display());
        return;
    }
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("listing the fixtures")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".json"))
        .collect();
    on_disk.sort();
    let embedded: Vec<&str> = fixtures::ALL.iter().map(|(name, _)| *name).collect();
    assert_eq!(on_disk, embedded, "the set of fixtures changed");
    for (name, body) in fixtures::ALL {
        let bytes = std::fs::read(dir.join(name)).expect("reading a fixture");
        assert!(
            bytes == body.as_bytes(),
            "{name} differs from its embedded copy"
        );
    }
}
