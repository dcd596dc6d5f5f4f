//! Connecting pages with Facebook Login (`facebookPages`, `connectFacebookPages`), and the check
//! of a pasted token with Meta (`connectPage`, `updatePage`), against the stand-in Graph API.

use refhub_tests::{
    Session, TestApp, data, error_code, error_field, error_message, spawn_app, str_at,
};
use serde_json::{Value, json};

use crate::support::{Checks, connect_page, database_dump, owner, page_token};

const APP_ID: &str = "1234567890";
const APP_SECRET: &str = "login-app-secret-0123456789";
/// The short-lived token the Login dialog hands the dashboard.
const USER_TOKEN: &str = "EAAshortlivedusertoken0001";
const SHOP: &str = "104857600123";
const BLOG: &str = "200300400500";
/// A page the person manages without the MESSAGING task.
const NEWS: &str = "300400500600";
/// A page someone else manages.
const STRANGER: &str = "900900900900";

const LIST: &str = "query($input: FacebookPagesInput!) { facebookPages(input: $input) \
     { facebookPageId name username pictureUrl tasks canMessage alreadyConnected page { id } } }";
const CONNECTED: &str = "{ pages { id facebookPageId name username } connected { id facebookPageId } \
     reconnected { id facebookPageId } }";

/// A workspace with its Meta app connected (and known to the stand-in), and a person who manages
/// the shop and the blog (with MESSAGING) and the news page (without).
async fn workspace(app: &TestApp, email: &str, name: &str) -> Session {
    let session = owner(app, email, name).await;
    data(
        &app.mutate(
            "connectMessengerApp",
            json!({ "appId": APP_ID, "appSecret": APP_SECRET, "verifyToken": "login-verify" }),
            "{ id }",
            session.token(),
        )
        .await,
    );
    app.meta.add_app(APP_ID, APP_SECRET);
    app.meta
        .add_page(SHOP, "Acme Shop", Some("acme.shop"), &page_token(SHOP));
    app.meta
        .add_page(BLOG, "Acme Blog", None, &page_token(BLOG));
    app.meta
        .add_page(NEWS, "Acme News", None, &page_token(NEWS));
    app.meta
        .add_page(STRANGER, "Not Yours", None, &page_token(STRANGER));
    app.meta.add_user(
        "10001",
        USER_TOKEN,
        &[
            (SHOP, &["MANAGE", "MESSAGING"]),
            (BLOG, &["MESSAGING"]),
            (NEWS, &["CREATE_CONTENT", "MODERATE"]),
        ],
    );
    session
}

async fn list(app: &TestApp, token: Option<&str>, user_token: &str) -> Value {
    app.graphql(
        LIST,
        json!({ "input": { "userAccessToken": user_token } }),
        token,
    )
    .await
}

async fn connect(app: &TestApp, token: Option<&str>, user_token: &str, ids: &[&str]) -> Value {
    app.mutate(
        "connectFacebookPages",
        json!({ "userAccessToken": user_token, "facebookPageIds": ids }),
        CONNECTED,
        token,
    )
    .await
}

async fn page_count(app: &TestApp, token: Option<&str>) -> i64 {
    app.graphql_ok("{ pages { totalCount } }", json!({}), token)
        .await["pages"]["totalCount"]
        .as_i64()
        .expect("a count")
}

/// The token of the last Send API call the stand-in answered for `facebook_page_id`.
async fn last_send_token(app: &TestApp, facebook_page_id: &str) -> String {
    let requests = app
        .meta
        .server()
        .expect("the stand-in's own server")
        .received_requests()
        .await
        .expect("recording");
    requests
        .iter()
        .rev()
        .find(|r| {
            r.url
                .path()
                .ends_with(&format!("/{facebook_page_id}/messages"))
        })
        .and_then(|r| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == "access_token")
                .map(|(_, v)| v.into_owned())
        })
        .expect("a Send API call for the page")
}

/// Sends a topic registration from `page` (through the stand-in) and returns the token used.
async fn token_in_use(app: &TestApp, token: Option<&str>, page: &str, fb_id: &str) -> String {
    let topic = app
        .mutate(
            "createNotificationTopic",
            json!({ "pageId": page, "title": format!("Topic {}", refhub_tests::random_id().replace('-', "")) }),
            "{ id }",
            token,
        )
        .await;
    let topic = str_at(data(&topic), "/createNotificationTopic/id");
    let registered = app
        .mutate(
            "registerNotificationTopic",
            json!({ "topicId": topic, "psid": "6100000000000001" }),
            "{ registration { status error } }",
            token,
        )
        .await;
    assert_eq!(
        data(&registered)["registerNotificationTopic"]["registration"]["status"],
        "REGISTERED",
        "{registered:#}"
    );
    last_send_token(app, fb_id).await
}

#[tokio::test]
async fn facebook_pages_lists_what_the_person_manages_and_what_this_workspace_has() {
    let app = spawn_app().await;
    let acme = workspace(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    let blog = connect_page(&app, token.unwrap(), BLOG, "Acme Blog", None).await;
    // Another workspace has the shop: that says nothing about this one.
    let globex = workspace(&app, "owner@globex.test", "Globex").await;
    connect_page(
        &app,
        globex.token().unwrap(),
        SHOP,
        "Acme Shop",
        Some("acme.shop"),
    )
    .await;

    let listed = list(&app, token, USER_TOKEN).await;
    let listed = data(&listed)["facebookPages"].clone();
    assert_eq!(
        listed,
        json!([
            {
                "facebookPageId": SHOP, "name": "Acme Shop", "username": "acme.shop",
                "pictureUrl": format!("https://scontent.example.fbcdn.net/{SHOP}.jpg"),
                "tasks": ["MANAGE", "MESSAGING"], "canMessage": true,
                "alreadyConnected": false, "page": null,
            },
            {
                "facebookPageId": BLOG, "name": "Acme Blog", "username": null,
                "pictureUrl": format!("https://scontent.example.fbcdn.net/{BLOG}.jpg"),
                "tasks": ["MESSAGING"], "canMessage": true,
                "alreadyConnected": true, "page": { "id": blog },
            },
            {
                "facebookPageId": NEWS, "name": "Acme News", "username": null,
                "pictureUrl": format!("https://scontent.example.fbcdn.net/{NEWS}.jpg"),
                "tasks": ["CREATE_CONTENT", "MODERATE"], "canMessage": false,
                "alreadyConnected": false, "page": null,
            },
        ]),
    );
    assert!(
        !listed.to_string().contains("EAA"),
        "no token is handed back: {listed:#}"
    );
    assert_eq!(page_count(&app, token).await, 1, "listing connects nothing");
    app.meta.assert_only_documented_calls();
}

#[tokio::test]
async fn a_person_with_many_pages_sees_them_all() {
    let app = spawn_app().await;
    let acme = workspace(&app, "owner@acme.test", "Acme").await;
    let ids: Vec<String> = (0..230).map(|n| format!("7000000{n:03}")).collect();
    for id in &ids {
        app.meta
            .add_page(id, &format!("Page {id}"), None, &page_token(id));
    }
    let tasks: &[&str] = &["MESSAGING"];
    let pages: Vec<(&str, &[&str])> = ids.iter().map(|id| (id.as_str(), tasks)).collect();
    app.meta
        .add_user("10002", "EAAshortlivedmanypages01", &pages);

    let listed = list(&app, acme.token(), "EAAshortlivedmanypages01").await;
    let listed: Vec<String> = data(&listed)["facebookPages"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|p| str_at(p, "/facebookPageId"))
        .collect();
    assert_eq!(listed, ids, "every page of Meta's paged answer, in order");
    app.meta.assert_only_documented_calls();
}

#[tokio::test]
async fn connecting_chosen_pages_uses_their_login_tokens_and_connecting_again_reconnects() {
    let app = spawn_app().await;
    let acme = workspace(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    // The shop was connected before with a pasted token.
    let shop = connect_page(&app, token.unwrap(), SHOP, "Acme Shop", Some("acme.shop")).await;
    let pasted = token_in_use(&app, token, &shop, SHOP).await;
    assert_eq!(pasted, page_token(SHOP));

    let first = connect(&app, token, USER_TOKEN, &[BLOG, SHOP]).await;
    let first = data(&first)["connectFacebookPages"].clone();
    let ids: Vec<String> = first["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| str_at(p, "/facebookPageId"))
        .collect();
    assert_eq!(ids, [BLOG, SHOP], "in the order chosen");
    assert_eq!(first["connected"].as_array().unwrap().len(), 1);
    assert_eq!(first["connected"][0]["facebookPageId"], BLOG);
    assert_eq!(
        first["reconnected"],
        json!([{ "id": shop, "facebookPageId": SHOP }]),
        "a page the workspace has is reconnected, not refused"
    );
    assert_eq!(first["pages"][0]["name"], "Acme Blog");
    assert!(first["pages"][0]["username"].is_null());
    assert_eq!(page_count(&app, token).await, 2);
    let blog = str_at(&first, "/connected/0/id");

    // The pages now send with the page tokens Meta handed for this login.
    let blog_token = token_in_use(&app, token, &blog, BLOG).await;
    let shop_token = token_in_use(&app, token, &shop, SHOP).await;
    assert!(
        app.meta.tokens_of_page(BLOG).contains(&blog_token) && blog_token.starts_with("EAApage"),
        "{blog_token}"
    );
    assert!(
        shop_token != pasted && shop_token.starts_with("EAApage"),
        "{shop_token}"
    );

    // Later: the blog was renamed at Facebook, and its token died. Logging in again and
    // choosing it reconnects it with a fresh token and Meta's name.
    app.meta.world().pages.get_mut(BLOG).unwrap().name = "Acme Journal".into();
    app.meta.revoke_token(&blog_token, 460);
    let again = connect(&app, token, USER_TOKEN, &[BLOG]).await;
    let again = data(&again)["connectFacebookPages"].clone();
    assert_eq!(
        again["reconnected"],
        json!([{ "id": blog, "facebookPageId": BLOG }])
    );
    assert_eq!(again["connected"], json!([]));
    assert_eq!(again["pages"][0]["name"], "Acme Journal");
    let fresh = token_in_use(&app, token, &blog, BLOG).await;
    assert_ne!(fresh, blog_token, "the dead token was replaced");
    assert_eq!(page_count(&app, token).await, 2, "nothing duplicated");

    // Choosing a page twice in one call connects it once.
    let twice = connect(&app, token, USER_TOKEN, &[BLOG, BLOG]).await;
    assert_eq!(
        data(&twice)["connectFacebookPages"]["pages"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    app.meta.assert_only_documented_calls();
}

#[tokio::test]
async fn refused_logins_and_choices_connect_nothing() {
    let mut checks = Checks::default();
    let app = spawn_app().await;
    let acme = workspace(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();

    // Choices Meta does not back: the whole call is refused, the good choice included.
    for (case, ids, field) in [
        (
            "a page someone else manages",
            vec![SHOP, STRANGER],
            "facebookPageIds[1]",
        ),
        (
            "a page without MESSAGING",
            vec![NEWS, SHOP],
            "facebookPageIds[0]",
        ),
        (
            "a page id that is not an id",
            vec![SHOP, "shop"],
            "facebookPageIds[1]",
        ),
        ("no page", vec![], "facebookPageIds"),
    ] {
        let response = connect(&app, token, USER_TOKEN, &ids).await;
        checks.error(case, &response, "VALIDATION", Some(field));
    }
    let stranger = connect(&app, token, USER_TOKEN, &[STRANGER]).await;
    assert!(
        error_message(&stranger)
            .unwrap_or_default()
            .contains(STRANGER),
        "{stranger:#}"
    );

    // User tokens Meta refuses, on both calls, with Meta's message.
    app.meta.add_user(
        "10003",
        "EAAshortlivedexpired0001",
        &[(SHOP, &["MESSAGING"])],
    );
    app.meta.revoke_token("EAAshortlivedexpired0001", 463);
    for (case, user_token) in [
        ("an unknown user token", "EAAnotatokenatall000001"),
        ("an expired user token", "EAAshortlivedexpired0001"),
        ("a page token instead", page_token(SHOP).as_str()),
        ("a blank user token", "   "),
    ] {
        checks.error(
            &format!("facebookPages with {case}"),
            &list(&app, token, user_token).await,
            "VALIDATION",
            Some("userAccessToken"),
        );
        checks.error(
            &format!("connectFacebookPages with {case}"),
            &connect(&app, token, user_token, &[SHOP]).await,
            "VALIDATION",
            Some("userAccessToken"),
        );
    }
    let expired = list(&app, token, "EAAshortlivedexpired0001").await;
    assert!(
        error_message(&expired)
            .unwrap_or_default()
            .contains("Meta error 190, subcode 463"),
        "Meta's code and message reach the user: {expired:#}"
    );

    // Meta out of reach: a clear, retryable error.
    app.meta.set_down(true);
    checks.error(
        "Meta down",
        &connect(&app, token, USER_TOKEN, &[SHOP]).await,
        "UNAVAILABLE",
        None,
    );
    app.meta.set_down(false);

    // Viewers do not connect pages.
    let viewer = app
        .member_of(&acme, "viewer@acme.test", "VIEWER")
        .await
        .access_token;
    checks.error(
        "a viewer lists",
        &list(&app, Some(&viewer), USER_TOKEN).await,
        "FORBIDDEN",
        None,
    );
    checks.error(
        "a viewer connects",
        &connect(&app, Some(&viewer), USER_TOKEN, &[SHOP]).await,
        "FORBIDDEN",
        None,
    );
    checks.verify();

    assert_eq!(page_count(&app, token).await, 0);
    let dump = database_dump(&app).await;
    for id in [SHOP, BLOG, NEWS, STRANGER] {
        assert!(!dump.contains(id), "page {id} was stored");
    }
    for token in app.meta.world().tokens.keys() {
        assert!(
            !dump.contains(token.as_str()),
            "a token was stored: {token}"
        );
    }
    app.meta.assert_only_documented_calls();
}

#[tokio::test]
async fn facebook_login_needs_the_workspaces_app() {
    let app = spawn_app().await;
    // A workspace without an app: nothing to exchange the token with.
    let bare = owner(&app, "owner@bare.test", "Bare").await;
    app.meta
        .add_page(SHOP, "Acme Shop", None, &page_token(SHOP));
    app.meta
        .add_user("10001", USER_TOKEN, &[(SHOP, &["MESSAGING"])]);
    for response in [
        list(&app, bare.token(), USER_TOKEN).await,
        connect(&app, bare.token(), USER_TOKEN, &[SHOP]).await,
    ] {
        assert_eq!(
            (error_code(&response), error_field(&response)),
            (
                Some("VALIDATION".to_owned()),
                Some("userAccessToken".to_owned())
            ),
            "{response:#}"
        );
        assert!(
            error_message(&response)
                .unwrap_or_default()
                .contains("connectMessengerApp"),
            "{response:#}"
        );
    }

    // An app whose secret Meta does not accept.
    data(
        &app.mutate(
            "connectMessengerApp",
            json!({ "appId": APP_ID, "appSecret": "not-the-apps-secret-0000", "verifyToken": "v" }),
            "{ id }",
            bare.token(),
        )
        .await,
    );
    app.meta.add_app(APP_ID, APP_SECRET);
    let wrong_secret = list(&app, bare.token(), USER_TOKEN).await;
    assert_eq!(
        error_field(&wrong_secret).as_deref(),
        Some("userAccessToken"),
        "{wrong_secret:#}"
    );
    assert!(
        error_message(&wrong_secret)
            .unwrap_or_default()
            .contains("client secret"),
        "{wrong_secret:#}"
    );
    assert_eq!(page_count(&app, bare.token()).await, 0);
    app.meta.assert_only_documented_calls();
}

#[tokio::test]
async fn a_pasted_token_is_checked_with_meta_and_a_bad_one_is_never_stored() {
    let mut checks = Checks::default();
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    app.meta
        .add_page(SHOP, "Acme Shop", Some("acme.shop"), &page_token(SHOP));
    app.meta
        .add_page(BLOG, "Acme Blog", None, &page_token(BLOG));
    app.meta
        .add_user("10001", USER_TOKEN, &[(SHOP, &["MESSAGING"])]);
    let dead = "EAAGdeadpagetoken0000000001";
    app.meta.add_page(NEWS, "Acme News", None, dead);
    app.meta.revoke_token(dead, 460);

    for (case, facebook_page_id, access_token) in [
        ("another page's token", SHOP, page_token(BLOG)),
        ("a dead token", NEWS, dead.to_owned()),
        (
            "a token Meta never issued",
            SHOP,
            "EAAGnotissued00000000".to_owned(),
        ),
        ("a person's token", SHOP, USER_TOKEN.to_owned()),
    ] {
        let response = app
            .mutate(
                "connectPage",
                json!({ "facebookPageId": facebook_page_id, "accessToken": access_token }),
                "{ id }",
                token,
            )
            .await;
        checks.error(case, &response, "VALIDATION", Some("accessToken"));
    }
    let dead_answer = app
        .mutate(
            "connectPage",
            json!({ "facebookPageId": NEWS, "accessToken": dead }),
            "{ id }",
            token,
        )
        .await;
    assert!(
        error_message(&dead_answer)
            .unwrap_or_default()
            .contains("Meta error 190, subcode 460"),
        "Meta's message: {dead_answer:#}"
    );
    app.meta.set_down(true);
    checks.error(
        "Meta down",
        &app.mutate(
            "connectPage",
            json!({ "facebookPageId": SHOP, "accessToken": page_token(SHOP) }),
            "{ id }",
            token,
        )
        .await,
        "UNAVAILABLE",
        None,
    );
    app.meta.set_down(false);
    assert_eq!(page_count(&app, token).await, 0, "nothing stored");
    let dump = database_dump(&app).await;
    assert!(
        !dump.contains(SHOP) && !dump.contains(NEWS),
        "nothing stored"
    );

    // A good token: the name and username are Meta's.
    let connected = app
        .mutate(
            "connectPage",
            json!({ "facebookPageId": SHOP, "accessToken": page_token(SHOP) }),
            "{ id name username mmeUrl }",
            token,
        )
        .await;
    let connected = data(&connected)["connectPage"].clone();
    assert_eq!(connected["name"], "Acme Shop");
    assert_eq!(connected["username"], "acme.shop");
    assert_eq!(connected["mmeUrl"], "https://m.me/acme.shop");
    let shop = str_at(&connected, "/id");

    // A new token on updatePage is checked the same way; a bad one changes nothing.
    let before = app
        .graphql_ok(
            "query($id: ID!) { page(id: $id) { name username updatedAt } }",
            json!({ "id": shop }),
            token,
        )
        .await;
    for (case, access_token) in [
        ("another page's token", page_token(BLOG)),
        ("a dead token", dead.to_owned()),
    ] {
        let response = app
            .mutate(
                "updatePage",
                json!({ "id": shop, "accessToken": access_token }),
                "{ id }",
                token,
            )
            .await;
        checks.error(
            &format!("updatePage with {case}"),
            &response,
            "VALIDATION",
            Some("accessToken"),
        );
    }
    let after = app
        .graphql_ok(
            "query($id: ID!) { page(id: $id) { name username updatedAt } }",
            json!({ "id": shop }),
            token,
        )
        .await;
    assert_eq!(after, before);
    checks.verify();

    // A good new token reconnects the page with Meta's name.
    app.meta.add_page(
        SHOP,
        "Acme Store",
        Some("acme.store"),
        "EAAGsystemusertoken0002",
    );
    let updated = app
        .mutate(
            "updatePage",
            json!({ "id": shop, "accessToken": "EAAGsystemusertoken0002" }),
            "{ id name username }",
            token,
        )
        .await;
    assert_eq!(
        data(&updated)["updatePage"],
        json!({ "id": shop, "name": "Acme Store", "username": "acme.store" })
    );
    app.meta.assert_only_documented_calls();
}

#[tokio::test]
async fn two_logins_connecting_the_same_page_at_once_make_one_page() {
    let app = spawn_app().await;
    let acme = workspace(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    for _ in 0..3 {
        let (a, b) = tokio::join!(
            connect(&app, token, USER_TOKEN, &[SHOP, BLOG]),
            connect(&app, token, USER_TOKEN, &[BLOG, SHOP]),
        );
        data(&a);
        data(&b);
    }
    assert_eq!(page_count(&app, token).await, 2);
    app.meta.assert_only_documented_calls();
}
