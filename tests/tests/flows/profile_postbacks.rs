//! Messenger Profile postbacks end to end (issue #23, items 2 and 3): a persistent menu item and
//! an ice breaker set over GraphQL reach the stand-in Meta, and the postbacks Meta then sends
//! for them start flows by payload rule; a new person's m.me ref, which Meta delivers only
//! inside the Get Started postback, fills their custom fields.

use refhub_tests::{TestApp, data};
use serde_json::{Value, json};

use crate::support::{
    PAGE, PAGE_TOKEN, WAIT, app_with, connect_tenant, create_field, create_flow, create_trigger,
    deliver_json, eventually, field_value, graph_api, now_ms, send_text, text, the_run_of, to_psid,
    wait_for_sends, wait_for_subscriber,
};

/// Waits until the page's set-up and Messenger Profile settings are all done.
async fn wait_until_set_up(app: &TestApp, token: &str, page_id: &str) -> Value {
    eventually("the page set up with Meta", WAIT, async || {
        let answer = app
            .graphql(
                "query($id: ID!) { page(id: $id) { setup { subscribed getStarted profile nextAttemptAt } } }",
                json!({ "id": page_id }),
                Some(token),
            )
            .await;
        let setup = data(&answer)["page"]["setup"].clone();
        let done = setup["subscribed"] == "DONE"
            && setup["getStarted"] == "DONE"
            && setup["profile"] == "DONE"
            && setup["nextAttemptAt"].is_null();
        if done { Ok(setup) } else { Err(format!("{setup:#}")) }
    })
    .await
}

/// A delivery of one postback from `psid` to the fixtures' page.
fn postback(psid: &str, mid: &str, postback: Value) -> Value {
    let t = now_ms();
    let mut postback = postback;
    postback["mid"] = json!(mid);
    json!({ "object": "page", "entry": [{ "id": PAGE, "time": t, "messaging": [{
        "sender": { "id": psid }, "recipient": { "id": PAGE }, "timestamp": t,
        "postback": postback,
    }] }] })
}

#[tokio::test]
async fn a_menu_item_or_ice_breaker_set_over_graphql_starts_its_flow() {
    let graph = graph_api().await;
    let app = app_with(&graph).await;
    app.meta.add_page(PAGE, "Menu page", None, PAGE_TOKEN);
    let tenant = connect_tenant(&app, "owner@menu.test", "Menu", PAGE).await;
    let token = tenant.token();
    wait_until_set_up(&app, token, &tenant.page_id).await;

    let answer = app
        .mutate(
            "setPageMessengerProfile",
            json!({
                "pageId": tenant.page_id,
                "iceBreakers": [{ "locale": "default", "questions": [
                    { "question": "What are your prices?", "payload": "ICE_PRICES" } ] }],
                "persistentMenu": [{ "locale": "default", "items": [
                    { "type": "POSTBACK", "title": "Talk to us", "payload": "MENU_HELP" } ] }],
            }),
            "{ id }",
            Some(token),
        )
        .await;
    assert!(answer.get("errors").is_none(), "{answer:#}");
    let profile = eventually("the settings on the page", WAIT, async || {
        let profile = app.meta.messenger_profile(PAGE);
        if profile.contains_key("persistent_menu") && profile.contains_key("ice_breakers") {
            Ok(profile)
        } else {
            Err(format!("{profile:#?}"))
        }
    })
    .await;
    // What Meta sends back when someone taps them: the payloads as the page now has them.
    let menu_item = &profile["persistent_menu"][0]["call_to_actions"][0];
    let ice_breaker = &profile["ice_breakers"][0]["call_to_actions"][0];

    let help = create_flow(&app, token, "Help", json!([send_text("How can we help?")])).await;
    let prices = create_flow(&app, token, "Prices", json!([send_text("Our prices: …")])).await;
    for (flow, payload) in [
        (&help, &menu_item["payload"]),
        (&prices, &ice_breaker["payload"]),
    ] {
        create_trigger(
            &app,
            token,
            flow,
            Some(&tenant.page_id),
            json!({ "postback": { "payload": payload } }),
        )
        .await;
    }
    deliver_json(
        &app,
        &tenant,
        &postback(
            "6100000000000901",
            "m_menu_0001",
            json!({ "title": menu_item["title"], "payload": menu_item["payload"] }),
        ),
    )
    .await;
    deliver_json(
        &app,
        &tenant,
        &postback(
            "6100000000000902",
            "m_ice_0001",
            json!({ "title": ice_breaker["question"], "payload": ice_breaker["payload"] }),
        ),
    )
    .await;

    let run = the_run_of(&app, token, &help, "COMPLETED").await;
    assert_eq!(run["trigger"]["kind"], "POSTBACK", "{run:#}");
    assert_eq!(run["subscriber"]["psid"], "6100000000000901", "{run:#}");
    let run = the_run_of(&app, token, &prices, "COMPLETED").await;
    assert_eq!(run["subscriber"]["psid"], "6100000000000902", "{run:#}");
    let mut bodies: Vec<Value> = wait_for_sends(&graph, 2)
        .await
        .into_iter()
        .map(|call| call.body)
        .collect();
    bodies.sort_by_key(|b| b["recipient"]["id"].to_string());
    assert_eq!(
        bodies,
        vec![
            to_psid("6100000000000901", "RESPONSE", text("How can we help?")),
            to_psid("6100000000000902", "RESPONSE", text("Our prices: …")),
        ]
    );
    app.meta.assert_only_documented_calls();
}

#[tokio::test]
async fn a_new_persons_ref_arrives_in_the_get_started_postback_and_fills_their_fields() {
    let graph = graph_api().await;
    let app = app_with(&graph).await;
    app.meta.add_page(PAGE, "Start page", None, PAGE_TOKEN);
    let tenant = connect_tenant(&app, "owner@start.test", "Start", PAGE).await;
    let token = tenant.token();
    wait_until_set_up(&app, token, &tenant.page_id).await;
    let get_started = app.meta.messenger_profile(PAGE)["get_started"]["payload"].clone();
    assert_eq!(get_started, "REFHUB_GET_STARTED");

    let (city, number) = create_field(&app, token, "city", "TEXT", Some(7)).await;
    crate::hooks::create_link(&app, token, &tenant.page_id, "spring", None, &[]).await;
    let welcome = create_flow(&app, token, "Welcome", json!([send_text("Welcome!")])).await;
    create_trigger(
        &app,
        token,
        &welcome,
        Some(&tenant.page_id),
        json!({ "postback": { "payload": get_started } }),
    )
    .await;

    // Someone who never wrote to the page opens m.me/…?ref=spring--7--Paris and taps Get
    // Started: Meta sends the ref inside the postback.
    let reference = format!("spring--{number}--Paris");
    deliver_json(
        &app,
        &tenant,
        &postback(
            "6100000000000903",
            "m_start_0001",
            json!({ "title": "Get Started", "payload": get_started,
                "referral": { "ref": reference, "source": "SHORTLINK", "type": "OPEN_THREAD" } }),
        ),
    )
    .await;
    let subscriber = wait_for_subscriber(&app, &tenant, "6100000000000903", "Paris", |s| {
        field_value(s, &city).as_deref() == Some("Paris")
    })
    .await;
    assert_eq!(subscriber["sourceRef"], json!(reference), "{subscriber:#}");
    assert_eq!(
        subscriber["sourceRefLink"]["ref"], "spring",
        "{subscriber:#}"
    );
    assert_eq!(subscriber["entryCount"], 1, "{subscriber:#}");
    let run = the_run_of(&app, token, &welcome, "COMPLETED").await;
    assert_eq!(run["subscriber"]["psid"], "6100000000000903", "{run:#}");
    app.meta.assert_only_documented_calls();
}
