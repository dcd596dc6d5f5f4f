//! Shapes Meta sends that the common fixtures do not show: plugin opt-ins, several items that
//! share a sender, a kind and a second, lists written as lone objects, entries without
//! messaging items, and other products' deliveries on the same URL. Each is stored, none is
//! lost to deduplication, and each has the effect it should and no other.

use refhub_tests::spawn_app;
use serde_json::{Value, json};

use crate::support::{
    PAGE, all_subscribers, body, connect_tenant, create_field, create_link, create_tag,
    create_topic, deliver, field_value, now_ms, opt_in, settled_events, tag_ids,
};

const DAY_MS: i64 = 24 * 3_600_000;

/// Waits for the tenant's `count` events and checks that every one was applied.
async fn all_applied(app: &refhub_tests::TestApp, token: &str, count: usize) {
    let events = settled_events(app, token, count).await;
    assert!(
        events.iter().all(|e| e["status"] == "PROCESSED"),
        "{events:#?}"
    );
}

/// The subscriber among `everyone` whose `key` is `value`.
fn the(everyone: &[Value], key: &str, value: &str) -> Value {
    everyone
        .iter()
        .find(|s| s[key] == value)
        .cloned()
        .unwrap_or_else(|| panic!("no subscriber with {key} {value}: {everyone:#?}"))
}

#[tokio::test]
async fn plugin_opt_ins_make_subscribers_and_apply_their_ref() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@plugin.test", "Plugins", PAGE).await;
    let token = tenant.token();
    let tag = create_tag(&app, token, "From the site").await;
    let (coupon, _) = create_field(&app, token, "coupon", "TEXT", None).await;
    create_link(&app, token, &tenant.page_id, "site", Some(&coupon), &[&tag]).await;
    let t = now_ms() - 60_000;
    let delivery = body(&[
        // The checkbox plugin: the person is known by the plugin's user_ref only, and (as
        // Meta documents it) the item names no sender.
        json!({ "recipient": { "id": PAGE }, "timestamp": t,
                "optin": { "ref": "site--GOLD", "user_ref": "cb-user-1" } }),
        // Send to Messenger: the person has a PSID.
        json!({ "sender": { "id": "9910000000000001" }, "recipient": { "id": PAGE }, "timestamp": t + 1,
                "optin": { "ref": "site--SILVER" } }),
    ]);
    deliver(&app, &tenant, &delivery).await;
    all_applied(&app, token, 2).await;

    let everyone = all_subscribers(&app, token, &tenant.page_id, Value::Null).await;
    assert_eq!(everyone.len(), 2, "{everyone:#?}");
    let by_ref = the(&everyone, "userRef", "cb-user-1");
    let by_psid = the(&everyone, "psid", "9910000000000001");
    for (person, value) in [(&by_ref, "GOLD"), (&by_psid, "SILVER")] {
        assert_eq!(person["sourceRefLink"]["ref"], "site", "{person:#}");
        assert_eq!(
            field_value(person, &coupon).as_deref(),
            Some(value),
            "{person:#}"
        );
        assert_eq!(tag_ids(person), vec![tag.clone()], "{person:#}");
        assert_eq!(person["entryCount"], 1, "{person:#}");
    }
}

#[tokio::test]
async fn items_sharing_a_sender_a_kind_and_a_second_are_all_kept() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@second.test", "Same second", PAGE).await;
    let token = tenant.token();
    create_topic(&app, token, &tenant.page_id, "Deals").await;
    create_topic(&app, token, &tenant.page_id, "News").await;
    let psid = "9920000000000001";
    // Timestamps in whole seconds, as some of Meta's products send them.
    let second = now_ms() / 1_000 - 60;
    let expiry = now_ms() + 90 * DAY_MS;
    let mut deals = opt_in(psid, second, "TOKEN-DEALS", "Deals", expiry);
    let mut news = opt_in(psid, second, "TOKEN-NEWS", "News", expiry);
    deals["timestamp"] = json!(second);
    news["timestamp"] = json!(second);
    let delivery = body(&[deals, news]);
    deliver(&app, &tenant, &delivery).await;
    // A redelivery of the same body is still one of each.
    deliver(&app, &tenant, &delivery).await;

    all_applied(&app, token, 2).await;
    let everyone = all_subscribers(&app, token, &tenant.page_id, Value::Null).await;
    let person = the(&everyone, "psid", psid);
    let mut topics: Vec<&str> = person["optIns"]
        .as_array()
        .expect("opt-ins")
        .iter()
        .filter_map(|o| o["topic"]["title"].as_str())
        .collect();
    topics.sort_unstable();
    assert_eq!(topics, ["Deals", "News"], "{person:#}");
}

#[tokio::test]
async fn lone_objects_feed_changes_and_other_products_are_stored_and_only_pages_apply() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@shapes.test", "Shapes", PAGE).await;
    let token = tenant.token();
    let t = now_ms() - 60_000;
    // `entry` and `messaging` written as objects rather than lists of one.
    let lone = json!({ "object": "page", "entry": { "id": PAGE, "time": t, "messaging":
        { "sender": { "id": "9930000000000001" }, "recipient": { "id": PAGE }, "timestamp": t,
          "referral": { "ref": "anything", "source": "SHORTLINK", "type": "OPEN_THREAD" } } } });
    // A feed subscription pointed at the same URL: an entry with changes, no messaging.
    let feed = json!({ "object": "page", "entry": [{ "id": PAGE, "time": t + 1,
        "changes": [{ "field": "feed", "value": { "item": "status", "verb": "add" } }] }] });
    // Instagram's messaging on the same app: its ids are not the page's subscribers.
    let instagram = json!({ "object": "instagram", "entry": [{ "id": PAGE, "time": t + 2, "messaging": [
        { "sender": { "id": "9930000000000002" }, "recipient": { "id": PAGE }, "timestamp": t + 2,
          "message": { "mid": "m_ig_0001", "text": "from instagram" } }] }] });
    for delivery in [&lone, &feed, &instagram] {
        deliver(&app, &tenant, delivery.to_string()).await;
    }

    let events = settled_events(&app, token, 3).await;
    let of_kind = |kind: &str| -> Value {
        events
            .iter()
            .find(|e| e["kind"] == kind)
            .cloned()
            .unwrap_or_else(|| panic!("no {kind} event among {events:#?}"))
    };
    assert_eq!(of_kind("referral")["status"], "PROCESSED");
    let feed_event = of_kind("unknown");
    assert_eq!(feed_event["status"], "IGNORED", "{feed_event:#}");
    assert_eq!(feed_event["body"]["changes"][0]["field"], "feed");
    let instagram_event = of_kind("message");
    assert_eq!(instagram_event["status"], "IGNORED", "{instagram_event:#}");
    assert_eq!(
        instagram_event["outcome"]["unhandled"], "instagram message",
        "{instagram_event:#}"
    );

    let everyone = all_subscribers(&app, token, &tenant.page_id, Value::Null).await;
    let psids: Vec<&Value> = everyone.iter().map(|s| &s["psid"]).collect();
    assert_eq!(psids, [&json!("9930000000000001")], "{everyone:#?}");
}

#[tokio::test]
async fn an_item_under_messaging_and_standby_counts_once_and_ads_count_with_or_without_a_ref() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@ads.test", "Ads", PAGE).await;
    let token = tenant.token();
    let tag = create_tag(&app, token, "Spring ad").await;
    create_link(&app, token, &tenant.page_id, "spring", None, &[&tag]).await;
    let t = now_ms() - 60_000;
    let get_started = json!({ "sender": { "id": "9940000000000001" }, "recipient": { "id": PAGE },
        "timestamp": t, "postback": { "mid": "m_gs_0001", "title": "Get Started", "payload": "GET_STARTED",
        "referral": { "ref": "spring", "source": "SHORTLINK", "type": "OPEN_THREAD" } } });
    let twice = json!({ "object": "page", "entry": [{ "id": PAGE, "time": t,
        "messaging": [get_started.clone()], "standby": [get_started] }] });
    // An ad whose advertiser set no ref, and a first message from an ad that carries one.
    let ad_without_ref = json!({ "sender": { "id": "9940000000000002" }, "recipient": { "id": PAGE },
        "timestamp": t + 1, "referral": { "source": "ADS", "type": "OPEN_THREAD", "ad_id": "2385001" } });
    let message_from_ad = json!({ "sender": { "id": "9940000000000003" }, "recipient": { "id": PAGE },
        "timestamp": t + 2, "message": { "mid": "m_ad_0001", "text": "Is this still available?",
        "referral": { "ref": "spring", "source": "ADS", "type": "OPEN_THREAD", "ad_id": "2385002" } } });
    deliver(&app, &tenant, twice.to_string()).await;
    deliver(&app, &tenant, body(&[ad_without_ref, message_from_ad])).await;

    all_applied(&app, token, 3).await;
    let everyone = all_subscribers(&app, token, &tenant.page_id, Value::Null).await;
    let person = |psid: &str| the(&everyone, "psid", psid);
    let started = person("9940000000000001");
    assert_eq!(started["entryCount"], 1, "{started:#}");
    let from_ad = person("9940000000000002");
    assert_eq!(from_ad["entryCount"], 1, "{from_ad:#}");
    assert!(from_ad["sourceRef"].is_null(), "{from_ad:#}");
    let wrote = person("9940000000000003");
    assert_eq!(wrote["entryCount"], 1, "{wrote:#}");
    assert_eq!(wrote["sourceRefLink"]["ref"], "spring", "{wrote:#}");
    assert_eq!(tag_ids(&wrote), vec![tag.clone()], "{wrote:#}");
}

#[tokio::test]
async fn an_opt_in_through_an_rn_link_is_an_entry_with_its_payload() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@rn-link.test", "Recurring", PAGE).await;
    let token = tenant.token();
    let topic = create_topic(&app, token, &tenant.page_id, "Deals").await;
    let tag = create_tag(&app, token, "Opted in by link").await;
    let (coupon, _) = create_field(&app, token, "coupon", "TEXT", None).await;
    create_link(
        &app,
        token,
        &tenant.page_id,
        "rn_deals",
        Some(&coupon),
        &[&tag],
    )
    .await;
    let psid = "9940000000000001";
    // As the seed shows it: `ref` and `source` inside the opt-in of an m.me/rn link.
    let mut item = opt_in(
        psid,
        now_ms() - 60_000,
        "TOKEN-RN",
        "Deals",
        now_ms() + 90 * DAY_MS,
    );
    item["optin"]["ref"] = json!("rn_deals--GOLD");
    item["optin"]["source"] = json!("SHORTLINK");
    deliver(&app, &tenant, body(&[item])).await;

    all_applied(&app, token, 1).await;
    let everyone = all_subscribers(&app, token, &tenant.page_id, Value::Null).await;
    let person = the(&everyone, "psid", psid);
    assert_eq!(person["sourceRef"], "rn_deals--GOLD", "{person:#}");
    assert_eq!(person["sourceRefLink"]["ref"], "rn_deals", "{person:#}");
    assert_eq!(person["entryCount"], 1, "{person:#}");
    assert_eq!(field_value(&person, &coupon).as_deref(), Some("GOLD"));
    assert_eq!(tag_ids(&person), vec![tag]);
    assert_eq!(
        person["optIns"][0]["topic"]["id"],
        json!(topic),
        "{person:#}"
    );
    assert_eq!(person["optIns"][0]["status"], "ACTIVE", "{person:#}");
}

#[tokio::test]
async fn a_referral_beside_a_postback_and_fractional_timestamps_are_read() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@beside.test", "Beside", PAGE).await;
    let token = tenant.token();
    create_link(&app, token, &tenant.page_id, "spring", None, &[]).await;
    let whole_second = now_ms() / 1_000 - 60;
    // Get Started with the referral beside the postback rather than in it, and the time in
    // seconds with a fraction, as a number and as a string.
    let get_started = json!({ "sender": { "id": "9950000000000001" }, "recipient": { "id": PAGE },
        "timestamp": whole_second as f64 + 0.25,
        "postback": { "title": "Get Started", "payload": "GET_STARTED" },
        "referral": { "ref": "spring", "source": "SHORTLINK", "type": "OPEN_THREAD" } });
    let text = json!({ "sender": { "id": "9950000000000001" }, "recipient": { "id": PAGE },
        "timestamp": format!("{whole_second}.75"),
        "message": { "mid": "m_fraction", "text": "hello" } });
    deliver(&app, &tenant, body(&[get_started, text])).await;

    all_applied(&app, token, 2).await;
    let everyone = all_subscribers(&app, token, &tenant.page_id, Value::Null).await;
    let person = the(&everyone, "psid", "9950000000000001");
    assert_eq!(person["sourceRefLink"]["ref"], "spring", "{person:#}");
    assert_eq!(person["entryCount"], 1, "{person:#}");
    assert_eq!(
        crate::support::instant(&person["firstSeenAt"]),
        crate::support::at_ms(whole_second * 1_000 + 250)
    );
    assert_eq!(
        crate::support::instant(&person["lastInteractionAt"]),
        crate::support::at_ms(whole_second * 1_000 + 750)
    );
}

#[tokio::test]
async fn an_unknown_refs_payload_is_listed_as_skipped() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@unknown-ref.test", "Unknown", PAGE).await;
    let token = tenant.token();
    create_field(&app, token, "city", "TEXT", Some(738)).await;
    let t = now_ms() - 60_000;
    deliver(
        &app,
        &tenant,
        body(&[crate::support::referral(
            "9960000000000001",
            t,
            "no_such_link--gold--738--Berlin",
        )]),
    )
    .await;

    let events = settled_events(&app, token, 1).await;
    let outcome = &events[0]["outcome"];
    assert_eq!(outcome["attribution"]["unknownRef"], "no_such_link");
    let skipped = outcome["skipped"].as_array().expect("skipped");
    let what: Vec<&Value> = skipped.iter().map(|s| &s["what"]).collect();
    assert_eq!(
        what,
        [
            &json!({ "defaultValue": "gold" }),
            &json!({ "field": 738, "value": "Berlin" })
        ],
        "{outcome:#}"
    );
    let person = the(
        &all_subscribers(&app, token, &tenant.page_id, Value::Null).await,
        "psid",
        "9960000000000001",
    );
    assert_eq!(person["fields"], json!([]), "{person:#}");
    assert_eq!(person["entryCount"], 1, "{person:#}");
}

#[tokio::test]
async fn a_ref_encoded_twice_is_decoded_once_per_part() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@encoded.test", "Encoded", PAGE).await;
    let token = tenant.token();
    let (city, _) = create_field(&app, token, "city", "TEXT", Some(738)).await;
    create_link(&app, token, &tenant.page_id, "summer_coupon", None, &[]).await;
    let psid = "9970000000000001";
    // What arrives when a link's ref was percent-encoded twice: Meta decodes it once.
    let received = "summer%5Fcoupon--738--S%C3%A3o%20Paulo";
    deliver(
        &app,
        &tenant,
        body(&[crate::support::referral(psid, now_ms() - 60_000, received)]),
    )
    .await;

    all_applied(&app, token, 1).await;
    let person = the(
        &all_subscribers(&app, token, &tenant.page_id, Value::Null).await,
        "psid",
        psid,
    );
    assert_eq!(
        person["sourceRef"], received,
        "kept as received: {person:#}"
    );
    assert_eq!(
        person["sourceRefLink"]["ref"], "summer_coupon",
        "{person:#}"
    );
    assert_eq!(field_value(&person, &city).as_deref(), Some("São Paulo"));
}

#[tokio::test]
async fn a_one_time_notification_opt_in_is_recorded_with_its_token_sealed() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@one-time.test", "One time", PAGE).await;
    let token = tenant.token();
    let psid = "9980000000000001";
    let t = now_ms() - 60_000;
    let item = json!({ "sender": { "id": psid }, "recipient": { "id": PAGE }, "timestamp": t,
        "optin": { "type": "one_time_notif_req", "payload": "restock-42",
                   "one_time_notif_token": "OTN-SECRET-0001" } });
    deliver(&app, &tenant, body(&[item])).await;

    let events = settled_events(&app, token, 1).await;
    assert_eq!(events[0]["status"], "PROCESSED", "{:#}", events[0]);
    assert_eq!(events[0]["outcome"]["interaction"], "one_time_optin");
    let stored = events[0]["body"]["optin"]["one_time_notif_token"]
        .as_str()
        .expect("the token, sealed");
    assert!(stored.starts_with("sealed:"), "{stored}");
    assert!(!events[0]["body"].to_string().contains("OTN-SECRET-0001"));
    let person = the(
        &all_subscribers(&app, token, &tenant.page_id, Value::Null).await,
        "psid",
        psid,
    );
    assert_eq!(
        crate::support::instant(&person["lastInteractionAt"]),
        crate::support::at_ms(t)
    );
    assert_eq!(person["entryCount"], 0, "{person:#}");
}
