//! Ref links: their m.me URLs, listing, changes, uniqueness and every malformed input.

use refhub_tests::{TestApp, assert_error, data, nodes, random_id, spawn_app, str_at};
use serde_json::{Value, json};

use crate::support::{
    Checks, LINK_FIELDS, connect_page, create_field, create_link, create_tag, expect_error, owner,
    percent_decode, query_pairs, short,
};

async fn read_link(app: &TestApp, token: Option<&str>, id: &str) -> Value {
    app.graphql(
        &format!("query($id: ID!) {{ refLink(id: $id) {LINK_FIELDS} }}"),
        json!({ "id": id }),
        token,
    )
    .await
}

async fn update_link(app: &TestApp, token: Option<&str>, input: Value) -> Value {
    app.mutate("updateRefLink", input, LINK_FIELDS, token).await
}

/// The refs of a page's links, all of them, oldest first.
async fn refs_on(app: &TestApp, token: Option<&str>, page_id: &str) -> Vec<String> {
    let list = app
        .graphql_ok(
            "query($page: ID!) { refLinks(pageId: $page, first: 100) \
             { totalCount edges { node { ref } } } }",
            json!({ "page": page_id }),
            token,
        )
        .await;
    let refs: Vec<String> = nodes(&list["refLinks"])
        .iter()
        .map(|link| str_at(link, "/ref"))
        .collect();
    assert_eq!(list["refLinks"]["totalCount"], refs.len());
    refs
}

#[tokio::test]
async fn a_link_renders_its_m_me_url_with_every_value_percent_encoded() {
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    let shop = connect_page(
        &app,
        &acme.access_token,
        "104857600123",
        "Shop",
        Some("acme.shop"),
    )
    .await;
    let blog = connect_page(&app, &acme.access_token, "200300400", "Blog", None).await;
    let (coupon, coupon_number) = create_field(&app, &acme.access_token, "coupon", "TEXT").await;
    let vip = create_tag(&app, &acme.access_token, "VIP").await;
    let lead = create_tag(&app, &acme.access_token, "lead").await;

    let text = "Hi there & welcome #1 🎉";
    let link = create_link(
        &app,
        &acme.access_token,
        json!({
            "pageId": shop,
            "ref": "summer_sale",
            "text": text,
            "defaultFieldId": coupon,
            "tagIds": [vip, lead],
        }),
    )
    .await;
    assert_eq!(
        link["url"],
        "https://m.me/acme.shop?ref=summer_sale&text=Hi%20there%20%26%20welcome%20%231%20%F0%9F%8E%89"
    );
    assert_eq!(link["ref"], "summer_sale");
    assert_eq!(link["text"], text);
    assert_eq!(link["active"], true, "links are active by default");
    assert_eq!(link["page"]["id"], shop.as_str());
    assert_eq!(link["defaultField"]["id"], coupon.as_str());
    assert_eq!(link["defaultField"]["number"], coupon_number);
    let mut tags: Vec<String> = link["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| str_at(t, "/name"))
        .collect();
    tags.sort();
    assert_eq!(tags, ["VIP", "lead"]);
    let read = read_link(&app, token, &str_at(&link, "/id")).await;
    assert_eq!(data(&read)["refLink"], link);

    // `=` is allowed in a ref; whatever the encoding, the value decodes back exactly.
    let coupon_link = create_link(
        &app,
        &acme.access_token,
        json!({ "pageId": shop, "ref": "coupon=10", "text": "50% off? Yes+more", "active": false }),
    )
    .await;
    assert_eq!(coupon_link["active"], false);
    let url = str_at(&coupon_link, "/url");
    assert!(url.starts_with("https://m.me/acme.shop?ref="), "{url}");
    assert!(!url.contains(' ') && !url.contains('+'), "unencoded: {url}");
    let decoded: Vec<(String, String)> = query_pairs(&url)
        .into_iter()
        .map(|(name, value)| (name, percent_decode(&value)))
        .collect();
    assert_eq!(
        decoded,
        [
            ("ref".to_owned(), "coupon=10".to_owned()),
            ("text".to_owned(), "50% off? Yes+more".to_owned())
        ]
    );

    // Without a username, the page id; without text, no `text` parameter.
    let plain = create_link(
        &app,
        &acme.access_token,
        json!({ "pageId": blog, "ref": "Summer-2026" }),
    )
    .await;
    assert_eq!(plain["url"], "https://m.me/200300400?ref=Summer-2026");
    assert!(plain["text"].is_null());
    assert!(plain["defaultField"].is_null());
    assert_eq!(plain["tags"], json!([]));

    // The URL follows the page's handle when it changes.
    let response = app
        .mutate(
            "updatePage",
            json!({ "id": blog, "username": "acme.blog" }),
            "{ id }",
            token,
        )
        .await;
    data(&response);
    let read = read_link(&app, token, &str_at(&plain, "/id")).await;
    assert_eq!(
        data(&read)["refLink"]["url"],
        "https://m.me/acme.blog?ref=Summer-2026"
    );
}

#[tokio::test]
async fn a_pages_links_are_listed_oldest_first_in_pages() {
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    let shop = connect_page(&app, &acme.access_token, "104857600123", "Shop", None).await;
    let blog = connect_page(&app, &acme.access_token, "200300400", "Blog", None).await;
    let refs = ["one", "two", "three", "four", "five"];
    for r in refs {
        create_link(
            &app,
            &acme.access_token,
            json!({ "pageId": shop, "ref": r }),
        )
        .await;
    }
    create_link(
        &app,
        &acme.access_token,
        json!({ "pageId": blog, "ref": "one" }),
    )
    .await;

    let query = "query($page: ID!, $after: String) { refLinks(pageId: $page, first: 2, after: $after) \
                 { totalCount pageInfo { hasNextPage endCursor } edges { node { ref page { id } } } } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    let mut requests = 0;
    loop {
        let response = app
            .graphql_ok(query, json!({ "page": shop, "after": after }), token)
            .await;
        let connection = &response["refLinks"];
        assert_eq!(connection["totalCount"], 5);
        let page = nodes(connection);
        assert!(page.len() <= 2);
        for link in &page {
            assert_eq!(link["page"]["id"], shop.as_str());
            seen.push(str_at(link, "/ref"));
        }
        requests += 1;
        if connection["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = connection["pageInfo"]["endCursor"].clone();
        assert!(requests < 10, "pagination does not end");
    }
    assert_eq!(seen, refs);
    assert_eq!(requests, 3);

    // The same list through the page.
    let through_page = app
        .graphql_ok(
            "query($id: ID!) { page(id: $id) { refLinks(first: 100) { totalCount nodes { ref } } } }",
            json!({ "id": blog }),
            token,
        )
        .await;
    assert_eq!(through_page["page"]["refLinks"]["totalCount"], 1);
    assert_eq!(through_page["page"]["refLinks"]["nodes"][0]["ref"], "one");
}

#[tokio::test]
async fn a_link_is_changed_field_by_field_and_deleted() {
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    let shop = connect_page(
        &app,
        &acme.access_token,
        "104857600123",
        "Shop",
        Some("acme"),
    )
    .await;
    let (coupon, _) = create_field(&app, &acme.access_token, "coupon", "TEXT").await;
    let (city, _) = create_field(&app, &acme.access_token, "city", "TEXT").await;
    let vip = create_tag(&app, &acme.access_token, "VIP").await;
    let lead = create_tag(&app, &acme.access_token, "lead").await;
    let link = create_link(
        &app,
        &acme.access_token,
        json!({ "pageId": shop, "ref": "summer", "text": "Hello", "defaultFieldId": coupon, "tagIds": [vip] }),
    )
    .await;
    let id = str_at(&link, "/id");

    let renamed = update_link(&app, token, json!({ "id": id, "ref": "autumn" })).await;
    let renamed = &data(&renamed)["updateRefLink"];
    assert_eq!(renamed["url"], "https://m.me/acme?ref=autumn&text=Hello");
    assert_eq!(
        renamed["defaultField"]["id"],
        coupon.as_str(),
        "omitted: kept"
    );
    assert_eq!(renamed["tags"][0]["id"], vip.as_str(), "omitted: kept");

    let changed = update_link(
        &app,
        token,
        json!({ "id": id, "text": "Hi again", "defaultFieldId": city, "tagIds": [lead], "active": false }),
    )
    .await;
    let changed = &data(&changed)["updateRefLink"];
    assert_eq!(
        changed["url"],
        "https://m.me/acme?ref=autumn&text=Hi%20again"
    );
    assert_eq!(changed["defaultField"]["id"], city.as_str());
    assert_eq!(changed["tags"], json!([{ "id": lead, "name": "lead" }]));
    assert_eq!(changed["active"], false);

    let cleared = update_link(
        &app,
        token,
        json!({ "id": id, "text": null, "defaultFieldId": null, "tagIds": [] }),
    )
    .await;
    let cleared = &data(&cleared)["updateRefLink"];
    assert_eq!(cleared["url"], "https://m.me/acme?ref=autumn");
    assert!(cleared["text"].is_null());
    assert!(cleared["defaultField"].is_null());
    assert_eq!(cleared["tags"], json!([]));
    assert_eq!(cleared["active"], false, "omitted: kept");
    let read = read_link(&app, token, &id).await;
    assert_eq!(data(&read)["refLink"], *cleared);

    let deleted = app
        .mutate("deleteRefLink", json!({ "id": id }), "", token)
        .await;
    assert_eq!(data(&deleted)["deleteRefLink"], id.as_str());
    assert_error(&read_link(&app, token, &id).await, "NOT_FOUND");
    assert!(refs_on(&app, token, &shop).await.is_empty());
    // Its ref is free again.
    create_link(
        &app,
        &acme.access_token,
        json!({ "pageId": shop, "ref": "autumn" }),
    )
    .await;
}

#[tokio::test]
async fn deleting_a_field_or_a_tag_detaches_it_from_links() {
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    let shop = connect_page(&app, &acme.access_token, "104857600123", "Shop", None).await;
    let (coupon, _) = create_field(&app, &acme.access_token, "coupon", "TEXT").await;
    let vip = create_tag(&app, &acme.access_token, "VIP").await;
    let lead = create_tag(&app, &acme.access_token, "lead").await;
    let link = create_link(
        &app,
        &acme.access_token,
        json!({ "pageId": shop, "ref": "summer", "defaultFieldId": coupon, "tagIds": [vip, lead] }),
    )
    .await;

    data(
        &app.mutate("deleteCustomField", json!({ "id": coupon }), "", token)
            .await,
    );
    data(
        &app.mutate("deleteTag", json!({ "id": vip }), "", token)
            .await,
    );

    let read = read_link(&app, token, &str_at(&link, "/id")).await;
    let read = &data(&read)["refLink"];
    assert!(read["defaultField"].is_null(), "{read:#}");
    assert_eq!(read["tags"], json!([{ "id": lead, "name": "lead" }]));
}

#[tokio::test]
async fn refs_are_unique_per_page() {
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    let shop = connect_page(&app, &acme.access_token, "104857600123", "Shop", None).await;
    let blog = connect_page(&app, &acme.access_token, "200300400", "Blog", None).await;
    create_link(
        &app,
        &acme.access_token,
        json!({ "pageId": shop, "ref": "summer" }),
    )
    .await;
    let autumn = create_link(
        &app,
        &acme.access_token,
        json!({ "pageId": shop, "ref": "autumn" }),
    )
    .await;

    let duplicate = app
        .mutate(
            "createRefLink",
            json!({ "pageId": shop, "ref": "summer", "text": "again" }),
            "{ id }",
            token,
        )
        .await;
    expect_error(
        "create a duplicate ref",
        &duplicate,
        "CONFLICT",
        Some("ref"),
    );
    let renamed = update_link(
        &app,
        token,
        json!({ "id": str_at(&autumn, "/id"), "ref": "summer" }),
    )
    .await;
    expect_error("rename onto another ref", &renamed, "CONFLICT", Some("ref"));
    assert_eq!(refs_on(&app, token, &shop).await, ["summer", "autumn"]);

    // Another page may use the same ref.
    create_link(
        &app,
        &acme.access_token,
        json!({ "pageId": blog, "ref": "summer" }),
    )
    .await;
}

/// Refs Meta would not accept or that would break the payload grammar, each with the reason.
fn bad_refs() -> Vec<(String, &'static str)> {
    vec![
        (String::new(), "empty"),
        ("   ".to_owned(), "blank"),
        ("summer sale".to_owned(), "a space"),
        ("summer--sale".to_owned(), "the payload separator"),
        ("summer---sale".to_owned(), "a triple hyphen"),
        ("summer#1".to_owned(), "a fragment mark"),
        ("summer&x=1".to_owned(), "a query separator"),
        ("summer?x".to_owned(), "a question mark"),
        ("summer.sale".to_owned(), "a period"),
        ("summer/sale".to_owned(), "a slash"),
        ("summer+sale".to_owned(), "a plus"),
        ("summer%20sale".to_owned(), "a percent sign"),
        ("café".to_owned(), "a non-ASCII letter"),
        ("summer🎉".to_owned(), "an emoji"),
        ("summer–sale".to_owned(), "an en dash (read as a separator)"),
        ("-summer".to_owned(), "a leading hyphen"),
        (
            "summer-".to_owned(),
            "a trailing hyphen (would merge with a separator)",
        ),
        ("x".repeat(3_000), "3,000 characters"),
        ("=".repeat(700), "2,100 characters once encoded"),
    ]
}

#[tokio::test]
async fn malformed_link_input_names_its_field_and_stores_nothing() {
    let mut checks = Checks::default();
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    let shop = connect_page(&app, &acme.access_token, "104857600123", "Shop", None).await;
    let (coupon, _) = create_field(&app, &acme.access_token, "coupon", "TEXT").await;
    let vip = create_tag(&app, &acme.access_token, "VIP").await;
    let valid = json!({
        "pageId": shop,
        "ref": "summer",
        "text": "Hello",
        "defaultFieldId": coupon,
        "tagIds": [vip],
    });

    let mut cases: Vec<(&str, Value, &str, &str)> = bad_refs()
        .into_iter()
        .map(|(r, _)| ("ref", json!(r), "VALIDATION", "ref"))
        .collect();
    let unknown = random_id();
    cases.extend([
        ("text", json!("x".repeat(10_000)), "VALIDATION", "text"),
        ("pageId", json!("not-a-uuid"), "VALIDATION", "pageId"),
        ("pageId", json!(""), "VALIDATION", "pageId"),
        ("pageId", json!(unknown), "NOT_FOUND", "pageId"),
        (
            "defaultFieldId",
            json!("not-a-uuid"),
            "VALIDATION",
            "defaultFieldId",
        ),
        (
            "defaultFieldId",
            json!(unknown),
            "NOT_FOUND",
            "defaultFieldId",
        ),
        ("tagIds", json!(["not-a-uuid"]), "VALIDATION", "tagIds[0]"),
        ("tagIds", json!([unknown]), "NOT_FOUND", "tagIds[0]"),
        ("tagIds", json!([vip, "nope"]), "VALIDATION", "tagIds[1]"),
        ("tagIds", json!([vip, unknown]), "NOT_FOUND", "tagIds[1]"),
    ]);
    for (key, value, code, field) in &cases {
        let mut input = valid.clone();
        input[key] = value.clone();
        let response = app
            .mutate("createRefLink", input, "{ id url }", token)
            .await;
        let case = format!("createRefLink {key} = {}", short(value));
        checks.error(&case, &response, code, Some(field));
    }
    assert!(
        refs_on(&app, token, &shop).await.is_empty(),
        "a rejected link was stored"
    );

    // The same rules on update, and the link stays as it was.
    let link = create_link(&app, &acme.access_token, valid.clone()).await;
    let id = str_at(&link, "/id");
    for (key, value, code, field) in cases.iter().filter(|(key, ..)| *key != "pageId") {
        let mut input = json!({ "id": id });
        input[key] = value.clone();
        let response = update_link(&app, token, input).await;
        let case = format!("updateRefLink {key} = {}", short(value));
        checks.error(&case, &response, code, Some(field));
    }
    assert_eq!(data(&read_link(&app, token, &id).await)["refLink"], link);

    for (case, response) in [
        ("refLink", read_link(&app, token, "not-a-uuid").await),
        (
            "updateRefLink",
            update_link(&app, token, json!({ "id": "not-a-uuid", "ref": "x" })).await,
        ),
        (
            "deleteRefLink",
            app.mutate("deleteRefLink", json!({ "id": "not-a-uuid" }), "", token)
                .await,
        ),
    ] {
        checks.error(case, &response, "VALIDATION", Some("id"));
    }
    for (case, response) in [
        ("refLink", read_link(&app, token, &unknown).await),
        (
            "updateRefLink",
            update_link(&app, token, json!({ "id": unknown, "ref": "x" })).await,
        ),
        (
            "deleteRefLink",
            app.mutate("deleteRefLink", json!({ "id": unknown }), "", token)
                .await,
        ),
    ] {
        checks.error(case, &response, "NOT_FOUND", Some("id"));
    }
    let list = app
        .graphql(
            "query($page: ID!) { refLinks(pageId: $page) { totalCount } }",
            json!({ "page": "not-a-uuid" }),
            token,
        )
        .await;
    checks.error(
        "refLinks(pageId: not-a-uuid)",
        &list,
        "VALIDATION",
        Some("pageId"),
    );
    let list = app
        .graphql(
            "query($page: ID!) { refLinks(pageId: $page) { totalCount } }",
            json!({ "page": unknown }),
            token,
        )
        .await;
    checks.error(
        "refLinks(pageId: unknown)",
        &list,
        "NOT_FOUND",
        Some("pageId"),
    );
    checks.verify();
}

#[tokio::test]
async fn refs_made_only_of_allowed_characters_are_accepted() {
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let shop = connect_page(&app, &acme.access_token, "104857600123", "Shop", None).await;

    for r in [
        "a",
        "Z9",
        "Summer_Sale-2026",
        "utm=fb_ad-1",
        "__x__",
        "a-b-c",
    ] {
        let link = create_link(
            &app,
            &acme.access_token,
            json!({ "pageId": shop, "ref": r }),
        )
        .await;
        let url = str_at(&link, "/url");
        let (name, value) = &query_pairs(&url)[0];
        assert_eq!(name, "ref");
        assert_eq!(percent_decode(value), r, "{url}");
    }
}
