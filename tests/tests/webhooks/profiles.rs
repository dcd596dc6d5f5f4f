//! Subscriber profiles (issue #23, item 4), against the stand-in Graph API: a new person's
//! profile is fetched off the webhook path (User Profile API) and shown, found by name; a
//! permission error or a person without a profile is recorded and not retried; Meta down then
//! up fetches the profile once; a dead page token holds the fetch until the page is
//! reconnected; `refreshSubscriberProfile` fetches a fresh (expiring) picture URL.

use std::time::Duration;

use refhub_tests::{TestApp, data, error_code, error_field, spawn_app, str_at};
use serde_json::{Value, json};

use crate::support::{
    PAGE, Tenant, WAIT, body, connect_tenant, deliver, eventually, message, now_ms,
};

const PROFILE_FIELDS: &str = "id psid userRef name firstName lastName profilePicUrl locale \
     timeZone profileStatus profileFetchedAt profileError";

const ADA: &str = "6100000000000201";
const GRACE: &str = "6100000000000202";

fn picture(psid: &str, n: u32) -> String {
    format!(
        "https://platform-lookaside.fbsbx.com/platform/profilepic/?psid={psid}&width=1024&ext=17{n}&hash=AeQ"
    )
}

/// The page's subscribers matching `search` (all of them without one), oldest first.
async fn search(app: &TestApp, tenant: &Tenant, search: Option<&str>) -> Vec<Value> {
    let response = app
        .graphql(
            &format!(
                "query($page: ID!, $filter: SubscriberFilterInput) {{ \
                   subscribers(pageId: $page, filter: $filter, first: 100) {{ \
                     nodes {{ {PROFILE_FIELDS} }} }} }}"
            ),
            json!({ "page": tenant.page_id, "filter": { "search": search } }),
            Some(tenant.token()),
        )
        .await;
    data(&response)["subscribers"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Waits until the subscriber with `psid` has its profile `status`.
async fn profile_with_status(app: &TestApp, tenant: &Tenant, psid: &str, status: &str) -> Value {
    eventually(&format!("{psid}'s profile {status}"), WAIT, async || {
        let all = search(app, tenant, None).await;
        match all.iter().find(|s| s["psid"] == psid) {
            Some(found) if found["profileStatus"] == status => Ok(found.clone()),
            Some(found) => Err(format!("{found}")),
            None => Err("no such subscriber yet".to_owned()),
        }
    })
    .await
}

/// User Profile API calls the stand-in received for `psid`.
async fn profile_calls(app: &TestApp, psid: &str) -> Vec<String> {
    let server = app.meta.server().expect("the stand-in's own server");
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.method.as_str() == "GET" && r.url.path().ends_with(&format!("/{psid}")))
        .map(|r| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == "fields")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        })
        .collect()
}

async fn says_hello(app: &TestApp, tenant: &Tenant, psid: &str) {
    let mid = format!("mid.profile.{psid}.{}", now_ms());
    deliver(app, tenant, body(&[message(psid, now_ms(), &mid, "hello")])).await;
}

#[tokio::test]
async fn a_new_persons_profile_is_fetched_and_shown_and_they_are_found_by_name() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@profiles.test", "Profiles", PAGE).await;
    app.meta.add_person(
        PAGE,
        ADA,
        json!({ "first_name": "Ada", "last_name": "Lovelace", "profile_pic": picture(ADA, 1),
                "locale": "en_GB", "timezone": 0 }),
    );
    app.meta.add_person(
        PAGE,
        GRACE,
        json!({ "first_name": "Grace", "last_name": "Hopper", "profile_pic": picture(GRACE, 1),
                "locale": "en_US", "timezone": 5.5 }),
    );
    says_hello(&app, &tenant, ADA).await;
    says_hello(&app, &tenant, GRACE).await;

    let ada = profile_with_status(&app, &tenant, ADA, "FETCHED").await;
    assert_eq!(ada["name"], "Ada Lovelace", "{ada:#}");
    assert_eq!(ada["firstName"], "Ada");
    assert_eq!(ada["lastName"], "Lovelace");
    assert_eq!(ada["profilePicUrl"], json!(picture(ADA, 1)));
    assert_eq!(ada["locale"], "en_GB");
    assert_eq!(ada["timeZone"], json!(0.0));
    assert_eq!(ada["profileError"], Value::Null);
    assert!(ada["profileFetchedAt"].is_string());
    let grace = profile_with_status(&app, &tenant, GRACE, "FETCHED").await;
    assert_eq!(grace["timeZone"], json!(5.5), "{grace:#}");
    assert_eq!(
        profile_calls(&app, ADA).await,
        ["first_name,last_name,profile_pic,locale,timezone"],
        "one call per person"
    );

    // Found by first, last or full name, case-insensitively (and by PSID, as before).
    let names = |found: Vec<Value>| -> Vec<String> {
        found
            .iter()
            .map(|s| s["name"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    assert_eq!(
        names(search(&app, &tenant, Some("lovelace")).await),
        ["Ada Lovelace"]
    );
    assert_eq!(
        names(search(&app, &tenant, Some("GRACE")).await),
        ["Grace Hopper"]
    );
    assert_eq!(
        names(search(&app, &tenant, Some("ada love")).await),
        ["Ada Lovelace"]
    );
    assert_eq!(
        names(search(&app, &tenant, Some(GRACE)).await),
        ["Grace Hopper"]
    );
    assert!(search(&app, &tenant, Some("turing")).await.is_empty());

    // Picture URLs expire: a refresh fetches the profile again.
    app.meta.add_person(
        PAGE,
        ADA,
        json!({ "first_name": "Ada", "last_name": "Lovelace", "profile_pic": picture(ADA, 2),
                "locale": "en_GB", "timezone": 0 }),
    );
    let refreshed = app
        .mutate(
            "refreshSubscriberProfile",
            json!({ "id": ada["id"] }),
            &format!("{{ {PROFILE_FIELDS} }}"),
            Some(tenant.token()),
        )
        .await;
    assert_eq!(
        data(&refreshed)["refreshSubscriberProfile"]["profileStatus"],
        "PENDING",
        "{refreshed:#}"
    );
    let ada = eventually("a fresh picture", WAIT, async || {
        let ada = profile_with_status(&app, &tenant, ADA, "FETCHED").await;
        if ada["profilePicUrl"] == json!(picture(ADA, 2)) {
            Ok(ada)
        } else {
            Err(format!("{ada}"))
        }
    })
    .await;
    assert_eq!(ada["name"], "Ada Lovelace");
    // Viewers may not queue fetches; unknown ids are NOT_FOUND.
    let unknown = app
        .mutate(
            "refreshSubscriberProfile",
            json!({ "id": "0190b6a0-0000-7000-8000-000000000000" }),
            "{ id }",
            Some(tenant.token()),
        )
        .await;
    assert_eq!(
        error_code(&unknown).as_deref(),
        Some("NOT_FOUND"),
        "{unknown:#}"
    );
    app.meta.assert_only_documented_calls();
}

#[tokio::test]
async fn permission_errors_and_people_without_a_profile_are_recorded_and_not_retried() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@no-profile.test", "Private", PAGE).await;
    // The app may read names and pictures, not locales or time zones.
    app.meta
        .allow_profile_fields(PAGE, &["first_name", "last_name", "profile_pic"]);
    app.meta.add_person(
        PAGE,
        ADA,
        json!({ "first_name": "Ada", "last_name": "Lovelace", "profile_pic": picture(ADA, 1),
                "locale": "en_GB", "timezone": 0 }),
    );
    // A Messenger account made with a phone number has no profile.
    const PHONE: &str = "6100000000000203";
    app.meta.add_person(PAGE, PHONE, json!({}));
    app.meta.without_profile(PHONE);
    says_hello(&app, &tenant, ADA).await;
    says_hello(&app, &tenant, PHONE).await;

    let ada = profile_with_status(&app, &tenant, ADA, "FETCHED").await;
    assert_eq!(ada["name"], "Ada Lovelace", "{ada:#}");
    assert_eq!(
        ada["locale"],
        Value::Null,
        "not readable without the permission"
    );
    assert_eq!(ada["timeZone"], Value::Null);
    assert_eq!(
        profile_calls(&app, ADA).await,
        [
            "first_name,last_name,profile_pic,locale,timezone",
            "first_name,last_name,profile_pic"
        ],
        "the extended fields are refused, the basic ones asked for again"
    );
    let phone = profile_with_status(&app, &tenant, PHONE, "UNAVAILABLE").await;
    assert!(
        phone["profileError"]
            .as_str()
            .is_some_and(|e| e.contains("2018218") && e.contains("No profile available")),
        "{phone:#}"
    );
    assert_eq!(phone["name"], Value::Null);

    // No profile access at all: refused either way, recorded, not retried.
    app.meta.allow_profile_fields(PAGE, &[]);
    app.meta.add_person(
        PAGE,
        GRACE,
        json!({ "first_name": "Grace", "last_name": "Hopper" }),
    );
    says_hello(&app, &tenant, GRACE).await;
    let grace = profile_with_status(&app, &tenant, GRACE, "UNAVAILABLE").await;
    assert!(
        grace["profileError"]
            .as_str()
            .is_some_and(|e| e.contains("Insufficient permission")),
        "{grace:#}"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // (The extended fields refused, then the basic ones: two calls, then none.)
    assert_eq!(profile_calls(&app, PHONE).await.len(), 2, "never retried");
    assert_eq!(profile_calls(&app, GRACE).await.len(), 2, "never retried");
    let grace = profile_with_status(&app, &tenant, GRACE, "UNAVAILABLE").await;
    assert_eq!(grace["name"], Value::Null);
    app.meta.assert_only_documented_calls();
}

#[tokio::test]
async fn meta_down_then_up_fetches_the_profile_once() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@meta-down.test", "Down", PAGE).await;
    app.meta.add_person(
        PAGE,
        ADA,
        json!({ "first_name": "Ada", "last_name": "Lovelace", "profile_pic": picture(ADA, 1) }),
    );
    app.meta.set_down(true);
    says_hello(&app, &tenant, ADA).await;
    // The webhook is processed at once; the fetch fails and is retried with backoff.
    eventually("two failed tries", WAIT, async || {
        let calls = profile_calls(&app, ADA).await.len();
        if calls >= 2 {
            Ok(())
        } else {
            Err(format!("{calls} calls"))
        }
    })
    .await;
    let waiting = profile_with_status(&app, &tenant, ADA, "PENDING").await;
    assert!(
        waiting["profileError"]
            .as_str()
            .is_some_and(|e| e.contains("Meta error 2")),
        "the passing failure is shown: {waiting:#}"
    );
    app.meta.set_down(false);
    let ada = profile_with_status(&app, &tenant, ADA, "FETCHED").await;
    assert_eq!(ada["name"], "Ada Lovelace");
    assert_eq!(ada["profileError"], Value::Null);
    let calls = profile_calls(&app, ADA).await.len();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        profile_calls(&app, ADA).await.len(),
        calls,
        "fetched once: no call after it succeeded"
    );
    app.meta.assert_only_documented_calls();
}

#[tokio::test]
async fn a_dead_token_holds_the_fetch_until_the_page_is_reconnected() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@profile-token.test", "Token", PAGE).await;
    app.meta.add_person(
        PAGE,
        ADA,
        json!({ "first_name": "Ada", "last_name": "Lovelace" }),
    );
    app.meta.revoke_page(PAGE, 463);
    says_hello(&app, &tenant, ADA).await;
    let status = eventually("the page marked", WAIT, async || {
        let response = app
            .graphql(
                "query($id: ID!) { page(id: $id) { status statusReason { code subcode } } }",
                json!({ "id": tenant.page_id }),
                Some(tenant.token()),
            )
            .await;
        let page = data(&response)["page"].clone();
        if page["status"] == "NEEDS_RECONNECT" {
            Ok(page)
        } else {
            Err(format!("{page}"))
        }
    })
    .await;
    assert_eq!(status["statusReason"]["subcode"], 463, "{status}");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let waiting = profile_with_status(&app, &tenant, ADA, "PENDING").await;
    assert_eq!(profile_calls(&app, ADA).await.len(), 1, "held, not retried");
    assert_eq!(waiting["name"], Value::Null);

    app.meta
        .add_page(PAGE, "Token page", None, "EAAB-token-fresh");
    let updated = app
        .mutate(
            "updatePage",
            json!({ "id": tenant.page_id, "accessToken": "EAAB-token-fresh" }),
            "{ status }",
            Some(tenant.token()),
        )
        .await;
    assert_eq!(data(&updated)["updatePage"]["status"], "ACTIVE");
    let ada = profile_with_status(&app, &tenant, ADA, "FETCHED").await;
    assert_eq!(ada["name"], "Ada Lovelace");
    app.meta.assert_only_documented_calls();
}

#[tokio::test]
async fn a_plugin_user_has_no_profile_to_fetch_until_they_have_a_psid() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@plugin-profile.test", "Plugin", PAGE).await;
    let optin = json!({
        "recipient": { "id": PAGE },
        "timestamp": now_ms(),
        "optin": { "ref": "checkbox", "user_ref": "plugin-user-ref-1" },
    });
    deliver(&app, &tenant, body(&[optin])).await;
    let plugin_user = eventually("the plugin user", WAIT, async || {
        let all = search(&app, &tenant, None).await;
        all.into_iter()
            .find(|s| s["userRef"] == "plugin-user-ref-1")
            .ok_or_else(|| "not yet".to_owned())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let again = search(&app, &tenant, None).await;
    assert_eq!(again[0]["profileStatus"], "PENDING", "{again:#?}");
    let refused = app
        .mutate(
            "refreshSubscriberProfile",
            json!({ "id": plugin_user["id"] }),
            "{ id }",
            Some(tenant.token()),
        )
        .await;
    assert_eq!(
        error_code(&refused).as_deref(),
        Some("VALIDATION"),
        "{refused:#}"
    );
    assert_eq!(error_field(&refused).as_deref(), Some("id"));
    let id = str_at(&plugin_user, "/id");
    assert!(!id.is_empty());
    let server = app.meta.server().expect("the stand-in's own server");
    let gets = server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| {
            r.method.as_str() == "GET"
                && r.url
                    .query_pairs()
                    .any(|(k, v)| k == "fields" && v.contains("first_name"))
        })
        .count();
    assert_eq!(gets, 0, "no User Profile API call for a user_ref");
    app.meta.assert_only_documented_calls();
}
