//! Triggers: postback and quick-reply payloads, keywords (EXACT and CONTAINS, case-insensitive,
//! oldest rule first), topic opt-ins, and startFlow by hand; a ref link wins over the other rules
//! and only one run starts per event.

use refhub_tests::{assert_error, data, random_id, str_at};
use serde_json::{Value, json};

use crate::fixtures::{MESSAGE_TEXT, OPTIN_NOTIFICATION_MESSAGES, POSTBACK_GET_STARTED_REFERRAL};
use crate::support::{
    PAGE, actions, app_with, assert_addressed_to_the_page, connect_tenant, create_flow,
    create_flow_link, create_topic, create_trigger, deliver_json, graph_api, item_mut,
    known_subscriber, now_ms, pause, retimed, runs, send_text, sends, settled_events, start_flow,
    start_flow_raw, text, the_run_of, to_psid, wait_for_run, wait_for_sends,
};

/// The PSID of `postback_get_started_referral.json` and `message_text.json`.
const PSID_2: &str = "6100000000000002";
/// The PSID of `optin_notification_messages.json`.
const PSID_1: &str = "6100000000000001";

#[tokio::test]
async fn a_postback_or_quick_reply_payload_starts_the_flow_of_its_rule() {
    let graph = graph_api().await;
    let app = app_with(&graph).await;
    let tenant = connect_tenant(&app, "owner@postback.test", "Postback", PAGE).await;
    let token = tenant.token();
    let started = create_flow(
        &app,
        token,
        "Get started",
        json!([send_text("Hello from GET_STARTED")]),
    )
    .await;
    let other = create_flow(&app, token, "Other", json!([send_text("never")])).await;
    create_trigger(
        &app,
        token,
        &started,
        Some(&tenant.page_id),
        json!({ "postback": { "payload": "GET_STARTED" } }),
    )
    .await;
    // Payloads compare exactly: this rule matches nothing below.
    create_trigger(
        &app,
        token,
        &other,
        None,
        json!({ "postback": { "payload": "get_started" } }),
    )
    .await;

    // The fixture: a Get Started postback carrying a ref no link has.
    deliver_json(
        &app,
        &tenant,
        &retimed(POSTBACK_GET_STARTED_REFERRAL, now_ms()),
    )
    .await;
    // A quick reply with the same payload, from someone else.
    let now = now_ms();
    let mut quick = retimed(crate::fixtures::MESSAGE_TEXT, now);
    let item = item_mut(&mut quick);
    item["sender"]["id"] = json!("6100000000000042");
    item["message"] = json!({ "mid": "m_QuickReply0001", "text": "Start", "quick_reply": { "payload": "GET_STARTED" } });
    deliver_json(&app, &tenant, &quick).await;
    settled_events(&app, token, 2).await;

    let found = wait_for_flow_runs(&app, token, &started, 2).await;
    for run in &found {
        let run = wait_for_run(&app, token, &str_at(run, "/id"), "COMPLETED").await;
        assert_eq!(run["trigger"]["kind"], "POSTBACK", "{run:#}");
        assert_eq!(run["trigger"]["detail"], "GET_STARTED", "{run:#}");
        assert_eq!(actions(&run).first().map(String::as_str), Some("started"));
    }
    let mut psids: Vec<String> = found
        .iter()
        .map(|r| str_at(r, "/subscriber/psid"))
        .collect();
    psids.sort();
    assert_eq!(psids, [PSID_2, "6100000000000042"]);
    pause(500).await;
    assert_eq!(runs(&app, token, json!({ "flowId": other })).await.len(), 0);
    let calls = sends(&graph).await;
    assert_addressed_to_the_page(&calls);
    let mut bodies: Vec<Value> = calls.into_iter().map(|c| c.body).collect();
    bodies.sort_by_key(|b| b["recipient"]["id"].to_string());
    assert_eq!(
        bodies,
        vec![
            to_psid(PSID_2, "RESPONSE", text("Hello from GET_STARTED")),
            to_psid(
                "6100000000000042",
                "RESPONSE",
                text("Hello from GET_STARTED")
            ),
        ]
    );
}

#[tokio::test]
async fn a_ref_link_with_a_flow_wins_over_a_postback_rule_and_only_one_run_starts() {
    let graph = graph_api().await;
    let app = app_with(&graph).await;
    let tenant = connect_tenant(&app, "owner@first.test", "First", PAGE).await;
    let token = tenant.token();
    let by_link = create_flow(&app, token, "By link", json!([send_text("from the link")])).await;
    let by_postback = create_flow(
        &app,
        token,
        "By postback",
        json!([send_text("from the postback")]),
    )
    .await;
    create_trigger(
        &app,
        token,
        &by_postback,
        None,
        json!({ "postback": { "payload": "GET_STARTED" } }),
    )
    .await;
    create_flow_link(&app, &tenant, "tutorial", &by_link, &[]).await;

    deliver_json(
        &app,
        &tenant,
        &retimed(POSTBACK_GET_STARTED_REFERRAL, now_ms()),
    )
    .await;
    settled_events(&app, token, 1).await;
    let run = the_run_of(&app, token, &by_link, "COMPLETED").await;
    assert_eq!(run["trigger"]["kind"], "REF_LINK", "{run:#}");
    assert!(
        run["trigger"]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("tutorial")),
        "{run:#}"
    );
    pause(1_000).await;
    let all = runs(&app, token, json!({})).await;
    assert_eq!(all.len(), 1, "one event, one run: {all:#?}");
    assert_eq!(
        sends(&graph)
            .await
            .into_iter()
            .map(|c| c.body)
            .collect::<Vec<_>>(),
        vec![to_psid(PSID_2, "RESPONSE", text("from the link"))]
    );
}

#[tokio::test]
async fn keywords_match_exactly_or_contained_case_insensitively_and_the_oldest_rule_wins() {
    let graph = graph_api().await;
    let app = app_with(&graph).await;
    let tenant = connect_tenant(&app, "owner@keywords.test", "Keywords", PAGE).await;
    let token = tenant.token();
    let exact = create_flow(
        &app,
        token,
        "Exact price",
        json!([send_text("exact price")]),
    )
    .await;
    let help = create_flow(&app, token, "Contains help", json!([send_text("help")])).await;
    let price = create_flow(
        &app,
        token,
        "Contains price",
        json!([send_text("contains price")]),
    )
    .await;
    create_trigger(
        &app,
        token,
        &exact,
        None,
        json!({ "keyword": { "keyword": "price", "match": "EXACT" } }),
    )
    .await;
    create_trigger(
        &app,
        token,
        &help,
        Some(&tenant.page_id),
        json!({ "keyword": { "keyword": "HELP", "match": "CONTAINS" } }),
    )
    .await;
    create_trigger(
        &app,
        token,
        &price,
        None,
        json!({ "keyword": { "keyword": "Price", "match": "CONTAINS" } }),
    )
    .await;

    // (psid, text, the flow that must start, or none)
    let cases: [(&str, &str, Option<&str>); 5] = [
        ("6100000000000101", "  PRICE \n", Some(exact.as_str())),
        (
            "6100000000000102",
            "what is the price today?",
            Some(price.as_str()),
        ),
        ("6100000000000103", "Can you Help me?", Some(help.as_str())),
        // Both CONTAINS rules match: the older (help) wins.
        (
            "6100000000000104",
            "helpless about pricing",
            Some(help.as_str()),
        ),
        ("6100000000000105", "hello", None),
    ];
    let now = now_ms();
    for (i, (psid, words, _)) in cases.iter().enumerate() {
        // message_text.json, from another person with other words.
        let mut delivery = retimed(MESSAGE_TEXT, now - 1_000 + i as i64);
        let item = item_mut(&mut delivery);
        item["sender"]["id"] = json!(psid);
        item["message"]["mid"] = json!(format!("m_Keyword{i:010}"));
        item["message"]["text"] = json!(words);
        deliver_json(&app, &tenant, &delivery).await;
    }
    settled_events(&app, token, cases.len()).await;

    let expected_runs = cases.iter().filter(|c| c.2.is_some()).count();
    let all = wait_for_all_runs(&app, token, expected_runs).await;
    let mut checks = Vec::new();
    for (psid, words, flow) in &cases {
        let mine: Vec<&Value> = all
            .iter()
            .filter(|r| r["subscriber"]["psid"] == *psid)
            .collect();
        match (flow, mine.as_slice()) {
            (None, []) => {}
            (Some(flow), [run]) if run["flowId"] == json!(flow) => {
                let run = wait_for_run(&app, token, &str_at(run, "/id"), "COMPLETED").await;
                if run["trigger"]["kind"] != "KEYWORD" {
                    checks.push(format!("{words:?}: trigger {}", run["trigger"]));
                }
            }
            (_, got) => checks.push(format!(
                "{words:?}: expected a run of {flow:?}, got {got:#?}"
            )),
        }
    }
    assert!(checks.is_empty(), "{}", checks.join("\n"));
    let calls = wait_for_sends(&graph, expected_runs).await;
    assert_eq!(calls.len(), expected_runs);
    for call in &calls {
        assert_eq!(call.body["messaging_type"], "RESPONSE", "{call:#?}");
    }
}

#[tokio::test]
async fn a_notification_opt_in_to_a_topic_starts_the_flow_of_its_rule() {
    let graph = graph_api().await;
    let app = app_with(&graph).await;
    let tenant = connect_tenant(&app, "owner@optin.test", "Opt-in", PAGE).await;
    let token = tenant.token();
    let topic = create_topic(&app, token, &tenant.page_id, "Weekly deals").await;
    let other_topic = create_topic(&app, token, &tenant.page_id, "Daily news").await;
    let flow = create_flow(
        &app,
        token,
        "Thanks",
        json!([send_text("Thanks for subscribing to Weekly deals")]),
    )
    .await;
    let other = create_flow(&app, token, "News", json!([send_text("news")])).await;
    create_trigger(
        &app,
        token,
        &flow,
        None,
        json!({ "topicOptIn": { "topicId": topic } }),
    )
    .await;
    create_trigger(
        &app,
        token,
        &other,
        None,
        json!({ "topicOptIn": { "topicId": other_topic } }),
    )
    .await;

    // Opting in does not open the messaging window (Meta), so the flow's standard message
    // goes out because the person wrote a minute ago.
    let mut wrote = retimed(MESSAGE_TEXT, now_ms() - 60_000);
    item_mut(&mut wrote)["sender"]["id"] = json!(PSID_1);
    deliver_json(&app, &tenant, &wrote).await;
    let mut delivery = retimed(OPTIN_NOTIFICATION_MESSAGES, now_ms());
    item_mut(&mut delivery)["optin"]["token_expiry_timestamp"] =
        json!(now_ms() + 180 * 86_400_000_i64);
    deliver_json(&app, &tenant, &delivery).await;
    settled_events(&app, token, 2).await;

    let run = the_run_of(&app, token, &flow, "COMPLETED").await;
    assert_eq!(run["trigger"]["kind"], "TOPIC_OPT_IN", "{run:#}");
    assert_eq!(run["subscriber"]["psid"], PSID_1);
    pause(500).await;
    assert_eq!(runs(&app, token, json!({ "flowId": other })).await.len(), 0);
    assert_eq!(
        sends(&graph)
            .await
            .into_iter()
            .map(|c| c.body)
            .collect::<Vec<_>>(),
        vec![to_psid(
            PSID_1,
            "RESPONSE",
            text("Thanks for subscribing to Weekly deals")
        )]
    );
}

#[tokio::test]
async fn start_flow_by_hand_sends_updates_to_each_subscriber() {
    let graph = graph_api().await;
    let app = app_with(&graph).await;
    let tenant = connect_tenant(&app, "owner@manual.test", "Manual", PAGE).await;
    let token = tenant.token();
    let flow = create_flow(
        &app,
        token,
        "Announcement",
        json!([send_text("Our shop opens at 9")]),
    )
    .await;
    let alice = known_subscriber(&app, &tenant, "6100000000000201").await;
    let bob = known_subscriber(&app, &tenant, "6100000000000202").await;

    let response = start_flow_raw(&app, token, &flow, &[&alice, &bob]).await;
    let started = data(&response)["startFlow"]["runs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(started.len(), 2, "{response:#}");
    for run in &started {
        assert_eq!(run["trigger"]["kind"], "MANUAL", "{run:#}");
        assert_eq!(run["flowId"], json!(flow));
        let done = wait_for_run(&app, token, &str_at(run, "/id"), "COMPLETED").await;
        assert_eq!(done["currentStep"], 1);
    }
    let mut people: Vec<String> = started
        .iter()
        .map(|r| str_at(r, "/subscriber/id"))
        .collect();
    people.sort();
    let mut want = vec![alice.clone(), bob.clone()];
    want.sort();
    assert_eq!(people, want);

    let calls = wait_for_sends(&graph, 2).await;
    assert_addressed_to_the_page(&calls);
    let mut bodies: Vec<Value> = calls.into_iter().map(|c| c.body).collect();
    bodies.sort_by_key(|b| b["recipient"]["id"].to_string());
    assert_eq!(
        bodies,
        vec![
            to_psid("6100000000000201", "UPDATE", text("Our shop opens at 9")),
            to_psid("6100000000000202", "UPDATE", text("Our shop opens at 9")),
        ],
        "manual runs send with messaging_type UPDATE"
    );
    // Filters of flowRuns.
    assert_eq!(
        runs(&app, token, json!({ "subscriberId": alice }))
            .await
            .len(),
        1
    );
    assert_eq!(
        runs(&app, token, json!({ "status": "COMPLETED" }))
            .await
            .len(),
        2
    );
    assert_eq!(
        runs(&app, token, json!({ "status": "FAILED" })).await.len(),
        0
    );

    // Bad inputs.
    let none = start_flow_raw(&app, token, &flow, &[]).await;
    assert_error(&none, "VALIDATION");
    let ids: Vec<String> = (0..101).map(|_| alice.clone()).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    assert_error(
        &start_flow_raw(&app, token, &flow, &refs).await,
        "VALIDATION",
    );
    let stranger = random_id();
    assert_error(
        &start_flow_raw(&app, token, &flow, &[&stranger]).await,
        "NOT_FOUND",
    );
    assert_error(
        &start_flow_raw(&app, token, &random_id(), &[&alice]).await,
        "NOT_FOUND",
    );
    assert_eq!(
        runs(&app, token, json!({})).await.len(),
        2,
        "refused starts made no run"
    );
    // A third run for Alice by hand is allowed: each start is its own run.
    let again = start_flow(&app, token, &flow, &alice).await;
    wait_for_run(&app, token, &again, "COMPLETED").await;
    let newest_first = runs(&app, token, json!({})).await;
    assert_eq!(newest_first.len(), 3);
    assert_eq!(
        newest_first[0]["id"],
        json!(again),
        "flowRuns lists the newest first"
    );
}

/// Waits until `flow_id` has exactly `count` runs; returns them.
async fn wait_for_flow_runs(
    app: &refhub_tests::TestApp,
    token: &str,
    flow_id: &str,
    count: usize,
) -> Vec<Value> {
    crate::support::eventually(
        &format!("{count} runs of {flow_id}"),
        crate::support::WAIT,
        async || {
            let found = runs(app, token, json!({ "flowId": flow_id })).await;
            assert!(found.len() <= count, "too many runs: {found:#?}");
            if found.len() == count {
                Ok(found)
            } else {
                Err(format!("{found:#?}"))
            }
        },
    )
    .await
}

/// Waits until the tenant has exactly `count` runs; returns them.
async fn wait_for_all_runs(app: &refhub_tests::TestApp, token: &str, count: usize) -> Vec<Value> {
    crate::support::eventually(&format!("{count} runs"), crate::support::WAIT, async || {
        let found = runs(app, token, json!({})).await;
        assert!(found.len() <= count, "too many runs: {found:#?}");
        if found.len() == count {
            Ok(found)
        } else {
            Err(format!("{found:#?}"))
        }
    })
    .await
}

/// A messaging item from `psid` to the page with Facebook id `page`, with `what` merged in.
fn item_on(page: &str, psid: &str, timestamp: i64, what: Value) -> Value {
    let mut item =
        json!({ "sender": { "id": psid }, "recipient": { "id": page }, "timestamp": timestamp });
    for (key, value) in what.as_object().expect("an object") {
        item[key] = value.clone();
    }
    item
}

#[tokio::test]
async fn rules_keep_to_their_page_and_inactive_links_and_deleted_flows_start_nothing() {
    const OTHER_PAGE: &str = "104857600000003";
    let graph = graph_api().await;
    let app = app_with(&graph).await;
    let tenant = connect_tenant(&app, "owner@pages.test", "Pages", PAGE).await;
    let token = tenant.token();
    // Meta knows the second page and its token (its set-up and profile fetches reach it).
    app.meta
        .add_page(OTHER_PAGE, "Second", None, "EAAB-token-0003");
    let connected = app
        .mutate(
            "connectPage",
            json!({ "facebookPageId": OTHER_PAGE, "accessToken": "EAAB-token-0003" }),
            "{ id }",
            Some(token),
        )
        .await;
    data(&connected);

    let everywhere = create_flow(&app, token, "Hours", json!([send_text("We open at 9")])).await;
    create_trigger(
        &app,
        token,
        &everywhere,
        None,
        json!({ "keyword": { "keyword": "hours" } }),
    )
    .await;
    let page_one = create_flow(&app, token, "Menu", json!([send_text("Here is the menu")])).await;
    create_trigger(
        &app,
        token,
        &page_one,
        Some(&tenant.page_id),
        json!({ "keyword": { "keyword": "menu" } }),
    )
    .await;
    let inactive = create_flow(&app, token, "Closed", json!([send_text("never")])).await;
    let link = app
        .mutate(
            "createRefLink",
            json!({ "pageId": tenant.page_id, "ref": "closed", "flowId": inactive, "active": false }),
            "{ id active }",
            Some(token),
        )
        .await;
    assert_eq!(data(&link)["createRefLink"]["active"], false);
    let doomed = create_flow(&app, token, "Doomed", json!([send_text("never")])).await;
    create_trigger(
        &app,
        token,
        &doomed,
        None,
        json!({ "postback": { "payload": "DOOMED" } }),
    )
    .await;
    let deleted = app
        .mutate("deleteFlow", json!({ "id": doomed }), "", Some(token))
        .await;
    data(&deleted);

    let now = now_ms();
    let items = [
        item_on(
            OTHER_PAGE,
            "6100000000000951",
            now,
            json!({ "message": { "mid": "m_Pages0000000001", "text": "Hours" } }),
        ),
        item_on(
            OTHER_PAGE,
            "6100000000000952",
            now,
            json!({ "message": { "mid": "m_Pages0000000002", "text": "menu" } }),
        ),
        item_on(
            PAGE,
            "6100000000000953",
            now,
            json!({ "referral": { "ref": "closed", "source": "SHORTLINK", "type": "OPEN_THREAD" } }),
        ),
        item_on(
            PAGE,
            "6100000000000954",
            now,
            json!({ "postback": { "mid": "m_Pages0000000004", "title": "Go", "payload": "DOOMED" } }),
        ),
        item_on(
            PAGE,
            "6100000000000955",
            now,
            json!({ "message": { "mid": "m_Pages0000000005", "text": "MENU" } }),
        ),
    ];
    for item in &items {
        let page = item["recipient"]["id"].clone();
        let delivery = json!({ "object": "page", "entry": [{ "id": page, "time": now, "messaging": [item] }] });
        deliver_json(&app, &tenant, &delivery).await;
    }
    settled_events(&app, token, items.len()).await;

    let hours = the_run_of(&app, token, &everywhere, "COMPLETED").await;
    assert_eq!(hours["subscriber"]["psid"], "6100000000000951");
    let menu = the_run_of(&app, token, &page_one, "COMPLETED").await;
    assert_eq!(menu["subscriber"]["psid"], "6100000000000955");
    pause(1_000).await;
    let all = runs(&app, token, json!({})).await;
    assert_eq!(
        all.len(),
        2,
        "only the two rules that apply started runs: {all:#?}"
    );

    let mut calls = sends(&graph).await;
    calls.sort_by_key(|c| c.path.clone());
    let got: Vec<(String, Option<String>, Value)> = calls
        .into_iter()
        .map(|c| (c.path, c.access_token, c.body))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                format!("/{PAGE}/messages"),
                Some(crate::support::PAGE_TOKEN.to_owned()),
                to_psid("6100000000000955", "RESPONSE", text("Here is the menu")),
            ),
            (
                format!("/{OTHER_PAGE}/messages"),
                Some("EAAB-token-0003".to_owned()),
                to_psid("6100000000000951", "RESPONSE", text("We open at 9")),
            ),
        ],
        "each message goes to its own page with that page's token"
    );
}

#[tokio::test]
async fn keywords_are_matched_literally_and_case_insensitively_beyond_ascii() {
    let graph = graph_api().await;
    let app = app_with(&graph).await;
    let tenant = connect_tenant(&app, "owner@literal.test", "Literal", PAGE).await;
    let token = tenant.token();
    let apples = create_flow(&app, token, "Apples", json!([send_text("apples")])).await;
    let percent = create_flow(&app, token, "Percent", json!([send_text("percent")])).await;
    let underscore = create_flow(&app, token, "Underscore", json!([send_text("underscore")])).await;
    create_trigger(
        &app,
        token,
        &apples,
        None,
        json!({ "keyword": { "keyword": "äpfel", "match": "CONTAINS" } }),
    )
    .await;
    create_trigger(
        &app,
        token,
        &percent,
        None,
        json!({ "keyword": { "keyword": "100%", "match": "CONTAINS" } }),
    )
    .await;
    create_trigger(
        &app,
        token,
        &underscore,
        None,
        json!({ "keyword": { "keyword": "a_b", "match": "EXACT" } }),
    )
    .await;

    // (psid, text, the flow that must start, or none)
    let cases: [(&str, &str, Option<&str>); 6] = [
        (
            "6100000000000961",
            "Ich will ÄPFEL kaufen",
            Some(apples.as_str()),
        ),
        (
            "6100000000000962",
            "is it 100% cotton?",
            Some(percent.as_str()),
        ),
        // `%` and `_` are not wildcards.
        ("6100000000000963", "1000 apples", None),
        ("6100000000000964", "A_B", Some(underscore.as_str())),
        ("6100000000000965", "axb", None),
        ("6100000000000966", "Apfel", None),
    ];
    let now = now_ms();
    for (i, (psid, words, _)) in cases.iter().enumerate() {
        let mut delivery = retimed(MESSAGE_TEXT, now - 1_000 + i as i64);
        let item = item_mut(&mut delivery);
        item["sender"]["id"] = json!(psid);
        item["message"]["mid"] = json!(format!("m_Literal{i:010}"));
        item["message"]["text"] = json!(words);
        deliver_json(&app, &tenant, &delivery).await;
    }
    settled_events(&app, token, cases.len()).await;
    let expected = cases.iter().filter(|c| c.2.is_some()).count();
    wait_for_all_runs(&app, token, expected).await;
    pause(1_000).await;
    let all = runs(&app, token, json!({})).await;
    let mut wrong = Vec::new();
    for (psid, words, flow) in &cases {
        let got: Vec<String> = all
            .iter()
            .filter(|r| r["subscriber"]["psid"] == *psid)
            .map(|r| str_at(r, "/flowId"))
            .collect();
        let want: Vec<String> = flow.iter().map(|f| (*f).to_owned()).collect();
        if got != want {
            wrong.push(format!("{words:?}: expected runs of {want:?}, got {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn a_standby_item_is_recorded_but_starts_no_flow() {
    let graph = graph_api().await;
    let app = app_with(&graph).await;
    let tenant = connect_tenant(&app, "owner@standby.test", "Standby", PAGE).await;
    let token = tenant.token();
    let flow = create_flow(&app, token, "Welcome", json!([send_text("Welcome!")])).await;
    create_trigger(
        &app,
        token,
        &flow,
        Some(&tenant.page_id),
        json!({ "postback": { "payload": "GET_STARTED" } }),
    )
    .await;
    let t = now_ms() - 1_000;
    let get_started = |psid: &str, mid: &str| {
        item_on(
            PAGE,
            psid,
            t,
            json!({ "postback": { "mid": mid, "title": "Get Started", "payload": "GET_STARTED" } }),
        )
    };
    // Another app (a live inbox, say) owns this conversation: the item comes as standby.
    let body = json!({ "object": "page", "entry": [{ "id": PAGE, "time": t,
        "standby": [get_started("6100000000000071", "m_standby_gs_1")],
        "messaging": [get_started("6100000000000072", "m_owned_gs_1")] }] });
    deliver_json(&app, &tenant, &body).await;
    let events = settled_events(&app, token, 2).await;

    let found = wait_for_flow_runs(&app, token, &flow, 1).await;
    assert_eq!(str_at(&found[0], "/subscriber/psid"), "6100000000000072");
    let standby = events
        .iter()
        .find(|e| e["body"]["standby"] == json!(true))
        .unwrap_or_else(|| panic!("no standby event: {events:#?}"));
    assert_eq!(standby["status"], "PROCESSED", "{standby:#}");
    assert!(
        standby["outcome"]["skipped"]
            .to_string()
            .contains("another app owns the conversation"),
        "{standby:#}"
    );
    assert!(
        !standby["outcome"].to_string().contains("flowStarted"),
        "the outcome lists no run that did not start: {standby:#}"
    );
    let owned = events
        .iter()
        .find(|e| e["body"]["standby"] != json!(true))
        .unwrap_or_else(|| panic!("no owned event: {events:#?}"));
    assert!(
        owned["outcome"].to_string().contains("flowStarted"),
        "{owned:#}"
    );
    known_subscriber(&app, &tenant, "6100000000000071").await;
    pause(500).await;
    assert_eq!(runs(&app, token, json!({ "flowId": flow })).await.len(), 1);
    wait_for_sends(&graph, 1).await;
    pause(300).await;
    let calls = sends(&graph).await;
    assert_eq!(calls.len(), 1, "{calls:#?}");
    assert_eq!(calls[0].body["recipient"]["id"], "6100000000000072");
}
