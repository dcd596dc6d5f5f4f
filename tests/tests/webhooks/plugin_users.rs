//! People who arrive through the checkbox plugin: known by the plugin's `user_ref` until they
//! reply, when Messenger names their PSID with the `user_ref` (`prior_message`). Whatever
//! order the events are applied in, and whether or not the PSID was known before, the person
//! ends as one subscriber with both, holding everything either identity brought.

use refhub_tests::{TestApp, data, spawn_app};
use serde_json::{Value, json};

use crate::support::{
    PAGE, Tenant, WAIT, WorkerProcess, all_events, all_subscribers, at_ms, body, connect_tenant,
    create_field, create_link, create_tag, deliver, event_count, eventually, field_value, instant,
    message, now_ms, referral, settled_events, tag_ids, webhook_event,
};

const PSID: &str = "9920000000000001";
const USER_REF: &str = "cb-user-7f3a";

/// The checkbox plugin's opt-in: no sender, the person is the `user_ref`.
fn checkbox(user_ref: &str, timestamp: i64, reference: &str) -> Value {
    json!({ "recipient": { "id": PAGE }, "timestamp": timestamp,
            "optin": { "ref": reference, "user_ref": user_ref } })
}

/// The person's first reply to the page's message sent to their `user_ref`.
fn reply(psid: &str, user_ref: &str, timestamp: i64, mid: &str) -> Value {
    json!({ "sender": { "id": psid }, "recipient": { "id": PAGE }, "timestamp": timestamp,
            "message": { "mid": mid, "text": "Yes please" },
            "prior_message": { "source": "checkbox_plugin", "identifier": user_ref } })
}

struct Setup {
    app: TestApp,
    tenant: Tenant,
    coupon: String,
    site_tag: String,
    ad_tag: String,
}

/// A tenant whose links `site` and `ad` fill the `coupon` field and tag their entries.
async fn setup(email: &str) -> Setup {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, email, "Checkbox shop", PAGE).await;
    let token = tenant.token();
    let site_tag = create_tag(&app, token, "From the site").await;
    let ad_tag = create_tag(&app, token, "From the ad").await;
    let (coupon, _) = create_field(&app, token, "coupon", "TEXT", None).await;
    create_link(
        &app,
        token,
        &tenant.page_id,
        "site",
        Some(&coupon),
        &[&site_tag],
    )
    .await;
    create_link(
        &app,
        token,
        &tenant.page_id,
        "ad",
        Some(&coupon),
        &[&ad_tag],
    )
    .await;
    Setup {
        app,
        tenant,
        coupon,
        site_tag,
        ad_tag,
    }
}

impl Setup {
    fn token(&self) -> &str {
        self.tenant.token()
    }

    /// Delivers `items` in one body and waits until the tenant's `total` events are processed.
    async fn deliver_and_settle(&self, items: &[Value], total: usize) {
        deliver(&self.app, &self.tenant, body(items)).await;
        let events = settled_events(&self.app, self.token(), total).await;
        assert!(
            events.iter().all(|e| e["status"] == "PROCESSED"),
            "{events:#?}"
        );
    }

    async fn everyone(&self) -> Vec<Value> {
        all_subscribers(&self.app, self.token(), &self.tenant.page_id, Value::Null).await
    }

    /// The one subscriber of the page.
    async fn the_only_subscriber(&self) -> Value {
        let everyone = self.everyone().await;
        assert_eq!(
            everyone.len(),
            1,
            "one person, one subscriber: {everyone:#?}"
        );
        everyone[0].clone()
    }

    /// What linking came to, on the outcome of the event with this message id.
    async fn link_of(&self, mid: &str) -> Value {
        let events = all_events(&self.app, self.token(), None).await;
        let event = events
            .iter()
            .find(|e| e["body"]["message"]["mid"] == mid)
            .unwrap_or_else(|| panic!("no event {mid}: {events:#?}"));
        event["outcome"]["pluginUser"].clone()
    }

    async fn interaction_count(&self, subscriber_id: &str) -> i64 {
        let response = self
            .app
            .graphql(
                "query($id: ID!) { subscriber(id: $id) { interactions(first: 0) { totalCount } } }",
                json!({ "id": subscriber_id }),
                Some(self.token()),
            )
            .await;
        response["data"]["subscriber"]["interactions"]["totalCount"]
            .as_i64()
            .unwrap_or_else(|| panic!("{response:#}"))
    }
}

#[tokio::test]
async fn a_reply_gives_the_plugin_user_their_psid() {
    let s = setup("owner@checkbox-reply.test").await;
    let t = now_ms() - 60_000;
    s.deliver_and_settle(&[checkbox(USER_REF, t, "site--GOLD")], 1)
        .await;
    let before = s.the_only_subscriber().await;
    assert_eq!(before["psid"], Value::Null);
    assert_eq!(before["userRef"], USER_REF);

    s.deliver_and_settle(&[reply(PSID, USER_REF, t + 5_000, "m_reply")], 2)
        .await;
    let person = s.the_only_subscriber().await;
    assert_eq!(person["id"], before["id"], "the same record: {person:#}");
    assert_eq!(person["psid"], PSID);
    assert_eq!(person["userRef"], USER_REF);
    assert_eq!(person["sourceRef"], "site--GOLD");
    assert_eq!(field_value(&person, &s.coupon).as_deref(), Some("GOLD"));
    assert_eq!(tag_ids(&person), vec![s.site_tag.clone()]);
    assert_eq!(person["entryCount"], 1);
    assert_eq!(
        s.link_of("m_reply").await,
        json!({ "userRef": USER_REF, "link": "linked" })
    );

    // From now on the PSID is the person, and so is the user_ref.
    s.deliver_and_settle(
        &[
            message(PSID, t + 9_000, "m_later", "Thanks"),
            checkbox(USER_REF, t + 10_000, "ad--SILVER"),
        ],
        4,
    )
    .await;
    let person = s.the_only_subscriber().await;
    assert_eq!(person["entryCount"], 2, "{person:#}");
    assert_eq!(field_value(&person, &s.coupon).as_deref(), Some("SILVER"));
    assert_eq!(s.interaction_count(person["id"].as_str().unwrap()).await, 4);
}

#[tokio::test]
async fn a_reply_applied_before_the_opt_in_it_answers_is_still_one_person() {
    let s = setup("owner@checkbox-late.test").await;
    let t = now_ms() - 60_000;
    s.deliver_and_settle(&[reply(PSID, USER_REF, t + 5_000, "m_reply")], 1)
        .await;
    let first = s.the_only_subscriber().await;
    assert_eq!(first["psid"], PSID);
    assert_eq!(first["userRef"], USER_REF);

    // The opt-in happened earlier but reaches the worker later.
    s.deliver_and_settle(&[checkbox(USER_REF, t, "site--GOLD")], 2)
        .await;
    let person = s.the_only_subscriber().await;
    assert_eq!(person["id"], first["id"]);
    assert_eq!(person["sourceRef"], "site--GOLD");
    assert_eq!(field_value(&person, &s.coupon).as_deref(), Some("GOLD"));
    assert_eq!(tag_ids(&person), vec![s.site_tag.clone()]);
    assert_eq!(
        instant(&person["firstSeenAt"]),
        at_ms(t),
        "first seen when they ticked the box: {person:#}"
    );
}

#[tokio::test]
async fn a_known_person_ticking_the_checkbox_is_merged_into_one_subscriber() {
    let s = setup("owner@checkbox-merge.test").await;
    let t = now_ms() - 600_000;
    // Known by PSID first, through an ad link.
    s.deliver_and_settle(
        &[
            referral(PSID, t, "ad--SILVER"),
            message(PSID, t + 1_000, "m_hello", "Hi"),
        ],
        2,
    )
    .await;
    // Then they tick the checkbox on the site: a second record, for now.
    s.deliver_and_settle(&[checkbox(USER_REF, t + 60_000, "site--GOLD")], 3)
        .await;
    let apart = s.everyone().await;
    assert_eq!(apart.len(), 2, "{apart:#?}");
    let by_psid = apart.iter().find(|p| p["psid"] == PSID).unwrap().clone();

    s.deliver_and_settle(&[reply(PSID, USER_REF, t + 120_000, "m_reply")], 4)
        .await;
    let person = s.the_only_subscriber().await;
    assert_eq!(person["id"], by_psid["id"], "the PSID's record stays");
    assert_eq!(person["userRef"], USER_REF);
    assert_eq!(person["entryCount"], 2, "both entries count: {person:#}");
    assert_eq!(person["sourceRef"], "ad--SILVER", "first touch wins");
    assert_eq!(
        field_value(&person, &s.coupon).as_deref(),
        Some("GOLD"),
        "the newer value wins"
    );
    let mut tags = tag_ids(&person);
    tags.sort();
    let mut expected = vec![s.site_tag.clone(), s.ad_tag.clone()];
    expected.sort();
    assert_eq!(tags, expected);
    assert_eq!(
        s.interaction_count(person["id"].as_str().unwrap()).await,
        4,
        "the plugin user's timeline moved over"
    );
    assert_eq!(
        s.link_of("m_reply").await,
        json!({ "userRef": USER_REF, "link": "merged" })
    );

    // A replay changes nothing more.
    let events = all_events(&s.app, s.token(), None).await;
    let reply_event = events
        .iter()
        .find(|e| e["body"]["message"]["mid"] == "m_reply")
        .unwrap()
        .clone();
    let replayed = s
        .app
        .mutate(
            "replayWebhookEvent",
            json!({ "id": reply_event["id"] }),
            "{ id }",
            Some(s.token()),
        )
        .await;
    data(&replayed);
    let event_id = reply_event["id"].as_str().unwrap().to_owned();
    eventually(
        "the replayed reply to be processed again",
        WAIT,
        async || {
            let response = webhook_event(&s.app, s.token(), &event_id).await;
            let event = &data(&response)["webhookEvent"];
            if event["status"] == "PROCESSED" && event["processedAt"] != reply_event["processedAt"]
            {
                Ok(())
            } else {
                Err(format!("{event:#}"))
            }
        },
    )
    .await;
    let again = s.the_only_subscriber().await;
    assert_eq!(again["entryCount"], 2);
    assert_eq!(
        s.link_of("m_reply").await,
        json!({ "userRef": USER_REF, "link": "already linked" })
    );
}

#[tokio::test]
async fn an_opt_in_and_its_reply_in_one_delivery_make_one_subscriber() {
    let s = setup("owner@checkbox-batch.test").await;
    let t = now_ms() - 60_000;
    let other = "9920000000000099";
    s.deliver_and_settle(
        &[
            message(PSID, t - 1_000, "m_before", "Hello"),
            checkbox(USER_REF, t, "site--GOLD"),
            reply(PSID, USER_REF, t + 5_000, "m_reply"),
            message(PSID, t + 6_000, "m_after", "More"),
            referral(other, t + 7_000, "ad--SILVER"),
        ],
        5,
    )
    .await;
    let everyone = s.everyone().await;
    assert_eq!(everyone.len(), 2, "{everyone:#?}");
    let person = everyone.iter().find(|p| p["psid"] == PSID).unwrap();
    assert_eq!(person["userRef"], USER_REF);
    assert_eq!(person["sourceRef"], "site--GOLD");
    assert_eq!(field_value(person, &s.coupon).as_deref(), Some("GOLD"));
    assert_eq!(s.interaction_count(person["id"].as_str().unwrap()).await, 4);
    let stranger = everyone.iter().find(|p| p["psid"] == other).unwrap();
    assert_eq!(stranger["userRef"], Value::Null);
    assert_eq!(field_value(stranger, &s.coupon).as_deref(), Some("SILVER"));
}

#[tokio::test]
async fn a_user_ref_linked_to_one_psid_is_not_taken_by_another() {
    let s = setup("owner@checkbox-held.test").await;
    let t = now_ms() - 60_000;
    let intruder = "9920000000000066";
    s.deliver_and_settle(
        &[
            checkbox(USER_REF, t, "site--GOLD"),
            reply(PSID, USER_REF, t + 1_000, "m_reply"),
        ],
        2,
    )
    .await;
    s.deliver_and_settle(&[reply(intruder, USER_REF, t + 2_000, "m_intruder")], 3)
        .await;
    let everyone = s.everyone().await;
    assert_eq!(everyone.len(), 2, "{everyone:#?}");
    let person = everyone.iter().find(|p| p["psid"] == PSID).unwrap();
    assert_eq!(person["userRef"], USER_REF);
    assert_eq!(field_value(person, &s.coupon).as_deref(), Some("GOLD"));
    let other = everyone.iter().find(|p| p["psid"] == intruder).unwrap();
    assert_eq!(other["userRef"], Value::Null, "{other:#}");
    assert_eq!(field_value(other, &s.coupon), None);
    assert_eq!(
        s.link_of("m_intruder").await["link"],
        "the user_ref belongs to another PSID; nothing changed"
    );
}

#[tokio::test]
// Several worker processes racing over the same people need PostgreSQL.
#[cfg_attr(
    not(refhub_postgres),
    ignore = "needs PostgreSQL: set TEST_DATABASE_URL"
)]
async fn worker_processes_racing_over_plugin_users_end_with_one_subscriber_each() {
    refhub_tests::require_postgres();
    const PEOPLE: usize = 24;
    let app = refhub_tests::spawn_app_with(|config| config.workers = 0).await;
    let tenant = connect_tenant(&app, "owner@checkbox-race.test", "Race", PAGE).await;
    let token = tenant.token();
    let (coupon, _) = create_field(&app, token, "coupon", "TEXT", None).await;
    create_link(&app, token, &tenant.page_id, "site", Some(&coupon), &[]).await;
    create_link(&app, token, &tenant.page_id, "ad", None, &[]).await;

    let base = now_ms() - 3_600_000;
    let person = |i: usize| (format!("99300000000{i:05}"), format!("cb-race-{i}"));
    let mut items = Vec::new();
    for i in 0..PEOPLE {
        let (psid, user_ref) = person(i);
        let t = base + i as i64 * 10_000;
        // A third were known by their PSID before they ticked the box.
        if i % 3 == 0 {
            items.push(referral(&psid, t, "ad"));
        }
        let opt_in = checkbox(&user_ref, t + 1_000, &format!("site--V{i}"));
        let answer = reply(&psid, &user_ref, t + 2_000, &format!("m_race_reply_{i}"));
        let later = message(&psid, t + 3_000, &format!("m_race_later_{i}"), "ok");
        // Half the replies are stored before the opt-in they answer.
        if i % 2 == 0 {
            items.extend([opt_in, answer, later]);
        } else {
            items.extend([answer, later, opt_in]);
        }
    }
    let total = items.len() as i64;
    for chunk in items.chunks(8) {
        deliver(&app, &tenant, crate::support::body_of_entries(chunk)).await;
    }

    // Small batches, so that one person's events go to different workers at once.
    let logs = tempfile::tempdir().expect("a directory for worker logs");
    let batch = [("WORKER_BATCH_SIZE", "3")];
    let workers: Vec<WorkerProcess> = ["left", "right"]
        .into_iter()
        .map(|name| WorkerProcess::start_with(&app, 2, logs.path(), name, &batch))
        .collect();
    eventually(
        &format!("all {total} events PROCESSED"),
        std::time::Duration::from_secs(90),
        async || {
            let processed = event_count(&app, token, Some("PROCESSED")).await;
            if processed == total {
                Ok(())
            } else {
                let events = all_events(&app, token, None).await;
                Err(crate::support::status_summary(&events))
            }
        },
    )
    .await;

    let everyone = all_subscribers(&app, token, &tenant.page_id, Value::Null).await;
    assert_eq!(
        everyone.len(),
        PEOPLE,
        "one subscriber per person: {everyone:#?}"
    );
    for i in 0..PEOPLE {
        let (psid, user_ref) = person(i);
        let subscriber = everyone
            .iter()
            .find(|s| s["psid"] == psid.as_str())
            .unwrap_or_else(|| panic!("no subscriber {psid}: {everyone:#?}"));
        assert_eq!(subscriber["userRef"], user_ref.as_str(), "{subscriber:#}");
        let entries = if i % 3 == 0 { 2 } else { 1 };
        assert_eq!(subscriber["entryCount"], entries, "{subscriber:#}");
        assert_eq!(
            field_value(subscriber, &coupon),
            Some(format!("V{i}")),
            "{subscriber:#}"
        );
    }
    for worker in workers {
        worker.terminate().await;
    }
}

#[tokio::test]
async fn merging_keeps_one_opt_in_per_topic_the_one_given_last() {
    let s = setup("owner@checkbox-optins.test").await;
    crate::support::create_topic(&s.app, s.token(), &s.tenant.page_id, "Weekly deals").await;
    let t = now_ms() - 60_000;
    let expiry = now_ms() + 90 * 24 * 3_600_000;
    let mut as_plugin_user = crate::support::opt_in(PSID, t, "TOKEN-U", "Weekly deals", expiry);
    as_plugin_user["sender"] = json!({ "user_ref": USER_REF });
    let mut as_psid = crate::support::opt_in(PSID, t + 10_000, "TOKEN-P", "Weekly deals", expiry);
    as_psid["optin"]["notification_messages_frequency"] = json!("MONTHLY");
    s.deliver_and_settle(&[as_plugin_user, as_psid], 2).await;
    assert_eq!(s.everyone().await.len(), 2);

    s.deliver_and_settle(&[reply(PSID, USER_REF, t + 20_000, "m_reply")], 3)
        .await;
    let person = s.the_only_subscriber().await;
    let opt_ins = person["optIns"].as_array().expect("optIns");
    assert_eq!(opt_ins.len(), 1, "one per topic: {person:#}");
    assert_eq!(opt_ins[0]["frequency"], "MONTHLY", "{person:#}");
    assert_eq!(opt_ins[0]["status"], "ACTIVE", "{person:#}");

    // A renewal from the PSID updates that opt-in rather than adding one.
    let mut renewal = crate::support::opt_in(PSID, t + 30_000, "TOKEN-P2", "Weekly deals", expiry);
    renewal["optin"]["notification_messages_frequency"] = json!("DAILY");
    s.deliver_and_settle(&[renewal], 4).await;
    let person = s.the_only_subscriber().await;
    let opt_ins = person["optIns"].as_array().expect("optIns");
    assert_eq!(opt_ins.len(), 1, "{person:#}");
    assert_eq!(opt_ins[0]["frequency"], "DAILY", "{person:#}");
}
