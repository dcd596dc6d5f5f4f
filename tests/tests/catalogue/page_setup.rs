//! Page set-up with Meta (issue #23, items 2 and 3), against the stand-in Graph API: connecting
//! subscribes the app with the README's fields and sets a Get Started button (keeping one the
//! page already has unless asked), Meta being down delays it without losing or repeating
//! anything, disconnecting unsubscribes (later, if Meta is down), and the Messenger Profile
//! settings are checked against Meta's limits, pushed in one call and read back.

use std::time::{Duration, Instant};

use refhub_tests::{TestApp, assert_error, assert_validation, data, spawn_app, str_at};
use serde_json::{Value, json};

use crate::support::{connect_page, owner, page_token};

/// The fields the README lists.
const FIELDS: [&str; 5] = [
    "messages",
    "messaging_postbacks",
    "messaging_optins",
    "messaging_referrals",
    "standby",
];

const SETUP: &str = "id setup { subscribed subscribedFields getStarted profile replaceGetStarted \
     lastError { code subcode message } checkedAt nextAttemptAt attempts } \
     messengerProfile { getStartedPayload greeting { locale text } \
       iceBreakers { locale questions { question payload } } \
       persistentMenu { locale composerInputDisabled items { type title payload url } } } \
     messengerProfileSettings { getStartedPayload greeting { locale text } \
       iceBreakers { locale questions { question payload } } \
       persistentMenu { locale composerInputDisabled items { type title payload url } } }";

/// Registers the page with the stand-in Meta and connects it; returns its id.
async fn connect_known_page(app: &TestApp, token: &str, facebook_page_id: &str) -> String {
    app.meta.add_page(
        facebook_page_id,
        "Set-up page",
        None,
        &page_token(facebook_page_id),
    );
    connect_page(app, token, facebook_page_id, "Set-up page", None).await
}

async fn read_page(app: &TestApp, token: &str, id: &str) -> Value {
    let answer = app
        .graphql_ok(
            &format!("query($id: ID!) {{ page(id: $id) {{ {SETUP} }} }}"),
            json!({ "id": id }),
            Some(token),
        )
        .await;
    answer["page"].clone()
}

/// Polls the page until `ready` holds of it; returns it.
async fn wait_for_page(
    app: &TestApp,
    token: &str,
    id: &str,
    what: &str,
    ready: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    loop {
        let page = read_page(app, token, id).await;
        if ready(&page) {
            return page;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}; last seen: {page:#}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn set_up(page: &Value) -> bool {
    page["setup"]["subscribed"] == "DONE"
        && matches!(page["setup"]["getStarted"].as_str(), Some("DONE" | "KEPT"))
        && page["setup"]["profile"] == "DONE"
        && page["setup"]["nextAttemptAt"].is_null()
}

/// The stand-in's received calls: `(method, path without the version)`.
async fn calls(app: &TestApp) -> Vec<(String, String, Value)> {
    app.meta
        .server()
        .expect("the stand-in runs its own server")
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|r| {
            let path = r.url.path().splitn(3, '/').nth(2).unwrap_or("").to_owned();
            let body = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
            (r.method.to_string(), path, body)
        })
        .collect()
}

async fn count_calls(app: &TestApp, method: &str, path: &str) -> usize {
    calls(app)
        .await
        .iter()
        .filter(|(m, p, _)| m == method && p == path)
        .count()
}

#[tokio::test]
async fn connecting_a_page_subscribes_the_app_and_sets_get_started() {
    let app = spawn_app().await;
    let token = owner(&app, "owner@setup.test", "Setup").await.access_token;
    let id = connect_known_page(&app, &token, "200000000000001").await;

    let page = wait_for_page(&app, &token, &id, "the page set up", set_up).await;
    let setup = &page["setup"];
    assert_eq!(setup["getStarted"], "DONE", "{page:#}");
    assert_eq!(setup["subscribedFields"], json!(FIELDS), "{page:#}");
    assert!(setup["lastError"].is_null(), "{page:#}");
    assert!(setup["checkedAt"].is_string(), "{page:#}");
    assert_eq!(
        app.meta.subscribed_fields("200000000000001"),
        Some(FIELDS.iter().map(|f| (*f).to_owned()).collect())
    );
    assert_eq!(
        app.meta.messenger_profile("200000000000001")["get_started"],
        json!({ "payload": "REFHUB_GET_STARTED" })
    );
    assert_eq!(
        page["messengerProfile"]["getStartedPayload"],
        "REFHUB_GET_STARTED"
    );
    assert_eq!(
        page["messengerProfileSettings"]["getStartedPayload"],
        "REFHUB_GET_STARTED"
    );

    // Running it again repeats nothing that matters: one subscription, one Get Started POST.
    let refreshed = app
        .mutate(
            "refreshPageSetup",
            json!({ "id": id }),
            "{ id }",
            Some(&token),
        )
        .await;
    assert_eq!(str_at(data(&refreshed), "/refreshPageSetup/id"), id);
    wait_for_page(&app, &token, &id, "the second run", |p| {
        set_up(p) && p["setup"]["checkedAt"] != setup["checkedAt"]
    })
    .await;
    assert_eq!(
        count_calls(&app, "POST", "me/messenger_profile").await,
        1,
        "the Get Started button was already there: {:#?}",
        calls(&app).await
    );
    app.meta.assert_only_documented_calls();
}

#[tokio::test]
async fn a_get_started_button_the_page_has_is_kept_unless_replacing_is_asked() {
    let app = spawn_app().await;
    let token = owner(&app, "owner@kept.test", "Kept").await.access_token;
    let facebook_page_id = "200000000000002";
    app.meta.add_page(
        facebook_page_id,
        "Kept",
        None,
        &page_token(facebook_page_id),
    );
    app.meta.set_messenger_profile(
        facebook_page_id,
        json!({ "get_started": { "payload": "THEIR_START" } }),
    );
    let id = connect_page(&app, &token, facebook_page_id, "Kept", None).await;

    let page = wait_for_page(&app, &token, &id, "the page set up", set_up).await;
    assert_eq!(page["setup"]["getStarted"], "KEPT", "{page:#}");
    assert_eq!(page["messengerProfile"]["getStartedPayload"], "THEIR_START");
    assert_eq!(
        app.meta.messenger_profile(facebook_page_id)["get_started"]["payload"],
        "THEIR_START"
    );

    let refreshed = app
        .mutate(
            "refreshPageSetup",
            json!({ "id": id, "replaceGetStarted": true }),
            &format!("{{ {SETUP} }}"),
            Some(&token),
        )
        .await;
    assert_eq!(
        data(&refreshed)["refreshPageSetup"]["setup"]["replaceGetStarted"],
        true,
        "{refreshed:#}"
    );
    let page = wait_for_page(&app, &token, &id, "the button replaced", |p| {
        set_up(p) && p["setup"]["getStarted"] == "DONE"
    })
    .await;
    assert_eq!(page["setup"]["replaceGetStarted"], false, "a one-off wish");
    assert_eq!(
        app.meta.messenger_profile(facebook_page_id)["get_started"]["payload"],
        "REFHUB_GET_STARTED"
    );

    // The button is refhub's now: the workspace's own payload replaces it without asking.
    let answer = app
        .mutate(
            "setPageMessengerProfile",
            json!({ "pageId": id, "getStartedPayload": "OUR_START" }),
            "{ id }",
            Some(&token),
        )
        .await;
    assert!(answer.get("errors").is_none(), "{answer:#}");
    let page = wait_for_page(&app, &token, &id, "the workspace's payload", |p| {
        set_up(p) && p["messengerProfile"]["getStartedPayload"] == "OUR_START"
    })
    .await;
    assert_eq!(page["setup"]["getStarted"], "DONE", "{page:#}");
    assert_eq!(
        page["messengerProfileSettings"]["getStartedPayload"],
        "OUR_START"
    );
    assert_eq!(
        app.meta.messenger_profile(facebook_page_id)["get_started"]["payload"],
        "OUR_START"
    );
    app.meta.assert_only_documented_calls();
}

#[tokio::test]
async fn with_meta_down_the_page_is_stored_and_set_up_once_meta_is_back() {
    let app = spawn_app().await;
    let token = owner(&app, "owner@down.test", "Down").await.access_token;
    let facebook_page_id = "200000000000003";
    app.meta.set_down(true);
    let id = connect_known_page(&app, &token, facebook_page_id).await;

    let page = wait_for_page(&app, &token, &id, "the failure shown", |p| {
        !p["setup"]["lastError"].is_null()
    })
    .await;
    let setup = &page["setup"];
    assert_eq!(setup["subscribed"], "PENDING", "{page:#}");
    assert_eq!(setup["lastError"]["code"], 2, "Meta's code: {page:#}");
    assert!(
        setup["lastError"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("retry your request later")),
        "Meta's message: {page:#}"
    );
    assert!(
        setup["nextAttemptAt"].is_string(),
        "a retry is due: {page:#}"
    );
    assert_eq!(app.meta.subscribed_fields(facebook_page_id), None);

    app.meta.set_down(false);
    let page = wait_for_page(&app, &token, &id, "the page set up", set_up).await;
    assert!(page["setup"]["lastError"].is_null(), "{page:#}");
    assert_eq!(page["setup"]["attempts"], 0, "{page:#}");
    assert_eq!(
        app.meta.subscribed_fields(facebook_page_id),
        Some(FIELDS.iter().map(|f| (*f).to_owned()).collect())
    );
    assert_eq!(count_calls(&app, "POST", "me/messenger_profile").await, 1);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        count_calls(&app, "POST", "me/messenger_profile").await,
        1,
        "nothing is repeated once done"
    );
    app.meta.assert_only_documented_calls();
}

#[tokio::test]
async fn disconnecting_unsubscribes_even_when_meta_is_down_at_the_time() {
    let app = spawn_app().await;
    let token = owner(&app, "owner@gone.test", "Gone").await.access_token;
    let first = connect_known_page(&app, &token, "200000000000004").await;
    let second = connect_known_page(&app, &token, "200000000000005").await;
    wait_for_page(&app, &token, &first, "the first page set up", set_up).await;
    wait_for_page(&app, &token, &second, "the second page set up", set_up).await;

    let gone = app
        .mutate("disconnectPage", json!({ "id": first }), "", Some(&token))
        .await;
    assert!(gone.get("errors").is_none(), "{gone:#}");
    let started = Instant::now();
    while app.meta.subscribed_fields("200000000000004").is_some() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "never unsubscribed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Meta down: the page goes at once, the unsubscribe waits for Meta.
    app.meta.set_down(true);
    let gone = app
        .mutate("disconnectPage", json!({ "id": second }), "", Some(&token))
        .await;
    assert!(gone.get("errors").is_none(), "{gone:#}");
    let read = app
        .graphql(
            "query($id: ID!) { page(id: $id) { id } }",
            json!({ "id": second }),
            Some(&token),
        )
        .await;
    assert_error(&read, "NOT_FOUND");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(app.meta.subscribed_fields("200000000000005").is_some());
    app.meta.set_down(false);
    let started = Instant::now();
    while app.meta.subscribed_fields("200000000000005").is_some() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "never unsubscribed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.meta.assert_only_documented_calls();
}

#[tokio::test]
async fn reconnecting_a_page_cancels_the_unsubscribe_it_was_owed() {
    let app = spawn_app().await;
    let token = owner(&app, "owner@back.test", "Back").await.access_token;
    let facebook_page_id = "200000000000006";
    let id = connect_known_page(&app, &token, facebook_page_id).await;
    wait_for_page(&app, &token, &id, "the page set up", set_up).await;
    app.meta.set_down(true);
    app.mutate("disconnectPage", json!({ "id": id }), "", Some(&token))
        .await;
    let id = connect_page(&app, &token, facebook_page_id, "Set-up page", None).await;
    app.meta.set_down(false);
    wait_for_page(&app, &token, &id, "the page set up again", set_up).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        app.meta.subscribed_fields(facebook_page_id).is_some(),
        "the old unsubscribe ran after the page came back"
    );
    app.meta.assert_only_documented_calls();
}

#[tokio::test]
async fn messenger_profile_settings_are_checked_pushed_in_one_call_and_read_back() {
    let app = spawn_app().await;
    let token = owner(&app, "owner@profile.test", "Profile")
        .await
        .access_token;
    let facebook_page_id = "200000000000007";
    let id = connect_known_page(&app, &token, facebook_page_id).await;
    wait_for_page(&app, &token, &id, "the page set up", set_up).await;
    let set = |input: Value| {
        let app = &app;
        let token = token.clone();
        let id = id.clone();
        async move {
            let mut input = input;
            input["pageId"] = json!(id);
            app.mutate("setPageMessengerProfile", input, "{ id }", Some(&token))
                .await
        }
    };
    let greeting = |locale: &str, text: &str| json!({ "locale": locale, "text": text });
    let item = |title: &str, payload: &str| json!({ "type": "POSTBACK", "title": title, "payload": payload });

    let refused = [
        (
            json!({ "greeting": [greeting("default", "Hi"), greeting("fr_FR", &"x".repeat(161))] }),
            "greeting[1].text",
        ),
        (
            json!({ "greeting": [greeting("fr_FR", "Salut")] }),
            "greeting",
        ),
        (
            json!({ "greeting": [greeting("default", "Hi"), greeting("French", "Salut")] }),
            "greeting[1].locale",
        ),
        (
            json!({ "iceBreakers": [{ "locale": "default", "questions": (0..5)
                .map(|i| json!({ "question": format!("Q{i}?"), "payload": "Q" }))
                .collect::<Vec<_>>() }] }),
            "iceBreakers[0].questions",
        ),
        (
            json!({ "persistentMenu": [{ "locale": "default", "items": [item(&"t".repeat(31), "P")] }] }),
            "persistentMenu[0].items[0].title",
        ),
        (
            json!({ "persistentMenu": [{ "locale": "default", "items": (0..21)
                .map(|i| item(&format!("Item {i}"), "P")).collect::<Vec<_>>() }] }),
            "persistentMenu[0].items",
        ),
        (
            json!({ "persistentMenu": [{ "locale": "default", "items": [{ "type": "WEB_URL", "title": "Shop" }] }] }),
            "persistentMenu[0].items[0].url",
        ),
        (
            json!({ "persistentMenu": [{ "locale": "default", "items": [{ "type": "POSTBACK", "title": "Help" }] }] }),
            "persistentMenu[0].items[0].payload",
        ),
        (
            json!({ "getStartedPayload": "p".repeat(1001) }),
            "getStartedPayload",
        ),
    ];
    for (input, field) in refused {
        assert_validation(&set(input).await, field);
    }
    assert_eq!(count_calls(&app, "POST", "me/messenger_profile").await, 1);

    let wanted = json!({
        "greeting": [greeting("default", "Hello {{user_first_name}}!"), greeting("fr_FR", "Bonjour !")],
        "iceBreakers": [{ "locale": "default", "questions": [
            { "question": "What are your prices?", "payload": "ICE_PRICES" },
            { "question": "Where are you?", "payload": "ICE_WHERE" } ] }],
        "persistentMenu": [{ "locale": "default", "composerInputDisabled": false, "items": [
            item("Help", "MENU_HELP"),
            { "type": "WEB_URL", "title": "Shop", "url": "https://shop.example/" } ] }],
    });
    let answer = set(wanted.clone()).await;
    assert!(answer.get("errors").is_none(), "{answer:#}");
    let page = wait_for_page(&app, &token, &id, "the settings pushed", |p| {
        set_up(p) && p["messengerProfile"]["greeting"].is_array()
    })
    .await;
    let expected_menu = json!([{ "locale": "default", "composerInputDisabled": false, "items": [
        { "type": "POSTBACK", "title": "Help", "payload": "MENU_HELP", "url": null },
        { "type": "WEB_URL", "title": "Shop", "payload": null, "url": "https://shop.example/" } ] }]);
    for side in ["messengerProfile", "messengerProfileSettings"] {
        assert_eq!(
            page[side]["greeting"], wanted["greeting"],
            "{side}: {page:#}"
        );
        assert_eq!(
            page[side]["iceBreakers"], wanted["iceBreakers"],
            "{side}: {page:#}"
        );
        assert_eq!(
            page[side]["persistentMenu"], expected_menu,
            "{side}: {page:#}"
        );
        assert_eq!(page[side]["getStartedPayload"], "REFHUB_GET_STARTED");
    }
    let meta = app.meta.messenger_profile(facebook_page_id);
    assert_eq!(
        meta["ice_breakers"][0]["call_to_actions"][0],
        json!({ "question": "What are your prices?", "payload": "ICE_PRICES" })
    );
    assert_eq!(
        meta["persistent_menu"][0]["call_to_actions"][1],
        json!({ "type": "web_url", "title": "Shop", "url": "https://shop.example/" })
    );
    // One POST for the Get Started button at connection, one for all three settings.
    let posts: Vec<Value> = calls(&app)
        .await
        .into_iter()
        .filter(|(m, p, _)| m == "POST" && p == "me/messenger_profile")
        .map(|(_, _, body)| body)
        .collect();
    assert_eq!(posts.len(), 2, "{posts:#?}");
    let mut keys: Vec<&String> = posts[1].as_object().expect("a JSON body").keys().collect();
    keys.sort();
    assert_eq!(keys, ["greeting", "ice_breakers", "persistent_menu"]);

    // An empty list removes a property; one left out is left alone.
    let answer = set(json!({ "greeting": [] })).await;
    assert!(answer.get("errors").is_none(), "{answer:#}");
    let page = wait_for_page(&app, &token, &id, "the greeting removed", |p| {
        set_up(p) && p["messengerProfile"]["greeting"].is_null()
    })
    .await;
    assert_eq!(page["messengerProfileSettings"]["greeting"], json!([]));
    assert!(page["messengerProfileSettings"]["iceBreakers"].is_null());
    let meta = app.meta.messenger_profile(facebook_page_id);
    assert!(!meta.contains_key("greeting"), "{meta:#?}");
    assert!(meta.contains_key("ice_breakers"), "left alone: {meta:#?}");
    assert_eq!(count_calls(&app, "DELETE", "me/messenger_profile").await, 1);
    app.meta.assert_only_documented_calls();
}

#[tokio::test]
async fn set_up_is_for_editors_and_for_the_workspaces_own_pages() {
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme-setup.test", "Acme").await;
    let id = connect_known_page(&app, &acme.access_token, "200000000000008").await;
    let viewer = app
        .member_of(&acme, "viewer@acme-setup.test", "VIEWER")
        .await;
    let refused = app
        .mutate(
            "refreshPageSetup",
            json!({ "id": id }),
            "{ id }",
            Some(&viewer.access_token),
        )
        .await;
    assert_error(&refused, "FORBIDDEN");
    let page = read_page(&app, &viewer.access_token, &id).await;
    assert!(
        page["setup"].is_object(),
        "viewers read the set-up: {page:#}"
    );

    let other = owner(&app, "owner@other-setup.test", "Other").await;
    let unknown = app
        .mutate(
            "refreshPageSetup",
            json!({ "id": id }),
            "{ id }",
            Some(&other.access_token),
        )
        .await;
    assert_error(&unknown, "NOT_FOUND");
    let unknown = app
        .mutate(
            "setPageMessengerProfile",
            json!({ "pageId": id, "greeting": [{ "locale": "default", "text": "Hi" }] }),
            "{ id }",
            Some(&other.access_token),
        )
        .await;
    assert_error(&unknown, "NOT_FOUND");
}
