//! A marketer's afternoon, as a new user would spend it: connect the app and a page, create
//! fields, tags, several ref links and a topic, then open every rendered URL's query string and
//! scan every QR code.

use refhub_tests::{data, nodes, spawn_app, str_at};
use serde_json::json;

use crate::support::{
    create_field, create_tag, create_topic, decode_qr_png, get_qr_png, percent_decode,
    png_from_data_uri, query_pairs,
};

/// The query string of `url`, every value decoded.
fn decoded_query(url: &str) -> Vec<(String, String)> {
    query_pairs(url)
        .into_iter()
        .map(|(name, value)| (name, percent_decode(&value)))
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

#[tokio::test]
async fn a_marketers_afternoon() {
    let app = spawn_app().await;
    let me = app.sign_up("marketer@shop.test", "The Shop").await;
    let token = me.token();

    let connected = app
        .mutate(
            "connectMessengerApp",
            json!({ "appId": "1234567890", "appSecret": "app-secret-0123456789", "verifyToken": "shop-verify" }),
            "{ webhookUrl }",
            token,
        )
        .await;
    let webhook = str_at(data(&connected), "/connectMessengerApp/webhookUrl");
    assert!(webhook.starts_with("http://refhub.test/webhooks/messenger/"));

    // The page as Meta knows it: connecting takes its name and username from there.
    app.meta.add_page(
        "104857600123",
        "The Shop",
        Some("theshop"),
        "EAAGshoppagetoken123",
    );
    let page = app
        .mutate(
            "connectPage",
            json!({ "facebookPageId": "104857600123", "accessToken": "EAAGshoppagetoken123" }),
            "{ id mmeUrl }",
            token,
        )
        .await;
    let page = data(&page)["connectPage"].clone();
    assert_eq!(page["mmeUrl"], "https://m.me/theshop");
    let page = str_at(&page, "/id");

    let (coupon, coupon_number) = create_field(&app, &me.access_token, "coupon", "TEXT").await;
    let (age, age_number) = create_field(&app, &me.access_token, "age", "NUMBER").await;
    let (_, birthday_number) = create_field(&app, &me.access_token, "birthday", "DATE").await;
    assert_eq!((coupon_number, age_number, birthday_number), (1, 2, 3));
    let vip = create_tag(&app, &me.access_token, "VIP").await;
    let lead = create_tag(&app, &me.access_token, "Lead").await;

    // Three links, each with what the marketer typed.
    let typed = [
        (
            "summer_sale",
            Some("Hi! I'd like the 20% summer deal & a gift #1 🎉"),
            Some(&coupon),
            vec![vip.clone()],
        ),
        ("quiz", None, Some(&age), vec![lead.clone()]),
        ("Store-Front=1", Some("Where is your store?"), None, vec![]),
    ];
    for (r, text, field, tags) in &typed {
        let response = app
            .mutate(
                "createRefLink",
                json!({ "pageId": page, "ref": r, "text": text, "defaultFieldId": field, "tagIds": tags }),
                "{ id }",
                token,
            )
            .await;
        data(&response);
    }
    let topic = create_topic(
        &app,
        &me.access_token,
        json!({ "pageId": page, "title": "Weekly deals", "defaultCadence": "WEEKLY" }),
    )
    .await;

    // Open every link: the query string holds exactly what was typed, and every QR code
    // scans to the link.
    let list = app
        .graphql_ok(
            "query($page: ID!) { refLinks(pageId: $page, first: 10) \
             { totalCount edges { node { id ref url qrCodePngDataUri } } } }",
            json!({ "page": page }),
            token,
        )
        .await;
    assert_eq!(list["refLinks"]["totalCount"], 3);
    let links = nodes(&list["refLinks"]);
    for ((r, text, _, _), link) in typed.iter().zip(&links) {
        let url = str_at(link, "/url");
        assert!(url.starts_with("https://m.me/theshop?"), "{url}");
        let mut expected = vec![("ref", *r)];
        if let Some(text) = text {
            expected.push(("text", text));
        }
        assert_eq!(decoded_query(&url), pairs(&expected), "{url}");
        assert!(!url.contains(' ') && !url.contains('#'), "{url}");

        let from_uri = decode_qr_png(&png_from_data_uri(&str_at(link, "/qrCodePngDataUri")));
        assert_eq!(from_uri, url);
        let png = get_qr_png(&app, &str_at(link, "/id"), token)
            .await
            .bytes()
            .await
            .unwrap();
        assert_eq!(decode_qr_png(&png), url);
    }

    // A link that fills fields as it is followed.
    let payload = app
        .graphql_ok(
            "query($id: ID!, $age: ID!) { refLink(id: $id) { \
             payloadUrl(defaultValue: \"SUMMER20\", fields: [{ fieldId: $age, value: \"30\" }]) } }",
            json!({ "id": links[0]["id"], "age": age }),
            token,
        )
        .await;
    let payload = str_at(&payload, "/refLink/payloadUrl");
    assert_eq!(
        decoded_query(&payload),
        pairs(&[
            ("ref", &format!("summer_sale--SUMMER20--{age_number}--30")),
            ("text", "Hi! I'd like the 20% summer deal & a gift #1 🎉"),
        ])
    );

    // The topic's opt-in link.
    let rn_url = str_at(&topic, "/rnUrl");
    assert!(rn_url.starts_with("https://m.me/rn/theshop?"), "{rn_url}");
    assert_eq!(
        decoded_query(&rn_url),
        pairs(&[("topic", "Weekly deals"), ("cadence", "weekly")])
    );
}
