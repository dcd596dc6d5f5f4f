//! QR codes of ref links: SVG, PNG data URI and `GET /api/ref-links/{id}/qr.png`, decoded back
//! to the link's exact URL.

use refhub_tests::{assert_validation, data, error_message, random_id, spawn_app, str_at};
use sea_orm::ConnectionTrait as _;
use serde_json::{Value, json};

use crate::support::{
    connect_page, create_link, decode_qr_png, get_qr_png, owner, png_from_data_uri,
};

const QR_FIELDS: &str = "{ id url qrCodeSvg qrCodePngDataUri }";

#[tokio::test]
async fn every_qr_code_decodes_to_the_links_exact_url() {
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    let page = connect_page(
        &app,
        &acme.access_token,
        "104857600123",
        "Shop",
        Some("acme.shop"),
    )
    .await;
    let response = app
        .mutate(
            "createRefLink",
            json!({ "pageId": page, "ref": "summer_sale", "text": "Hi & welcome #1 🎉" }),
            QR_FIELDS,
            token,
        )
        .await;
    let link = data(&response)["createRefLink"].clone();
    let id = str_at(&link, "/id");
    let url = str_at(&link, "/url");

    let svg = str_at(&link, "/qrCodeSvg");
    let svg_start = svg.trim_start();
    assert!(
        svg_start.starts_with("<svg") || svg_start.starts_with("<?xml"),
        "not an SVG document: {}",
        &svg[..svg.len().min(80)]
    );
    assert!(svg.contains("<svg") && svg.trim_end().ends_with("</svg>"));

    let from_data_uri = decode_qr_png(&png_from_data_uri(&str_at(&link, "/qrCodePngDataUri")));
    assert_eq!(from_data_uri, url);

    let response = get_qr_png(&app, &id, token).await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "image/png"
    );
    let png = response.bytes().await.unwrap();
    assert_eq!(decode_qr_png(&png), url);

    // The code follows the link when it changes.
    let changed = app
        .mutate(
            "updateRefLink",
            json!({ "id": id, "ref": "autumn", "text": null }),
            QR_FIELDS,
            token,
        )
        .await;
    let changed = &data(&changed)["updateRefLink"];
    assert_eq!(changed["url"], "https://m.me/acme.shop?ref=autumn");
    let png = get_qr_png(&app, &id, token).await.bytes().await.unwrap();
    assert_eq!(decode_qr_png(&png), "https://m.me/acme.shop?ref=autumn");
    assert_eq!(
        decode_qr_png(&png_from_data_uri(&str_at(changed, "/qrCodePngDataUri"))),
        "https://m.me/acme.shop?ref=autumn"
    );
}

#[tokio::test]
async fn an_api_key_and_every_role_may_fetch_the_png() {
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let page = connect_page(&app, &acme.access_token, "104857600123", "Shop", None).await;
    let link = create_link(
        &app,
        &acme.access_token,
        json!({ "pageId": page, "ref": "summer" }),
    )
    .await;
    let id = str_at(&link, "/id");
    let viewer = app.member_of(&acme, "viewer@acme.test", "VIEWER").await;
    let (_, key) = app
        .create_api_key(&acme.access_token, "printer", "VIEWER")
        .await;

    for token in [&viewer.access_token, &key] {
        let response = get_qr_png(&app, &id, Some(token)).await;
        assert_eq!(response.status().as_u16(), 200);
        let png = response.bytes().await.unwrap();
        assert_eq!(decode_qr_png(&png), "https://m.me/104857600123?ref=summer");
    }
}

async fn json_body(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("a {status} answer that is not JSON ({e}): {text}"));
    (status, body)
}

#[tokio::test]
async fn the_png_needs_a_credential_and_hides_other_tenants_links() {
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let page = connect_page(&app, &acme.access_token, "104857600123", "Shop", None).await;
    let link = create_link(
        &app,
        &acme.access_token,
        json!({ "pageId": page, "ref": "summer" }),
    )
    .await;
    let id = str_at(&link, "/id");

    let (status, body) = json_body(get_qr_png(&app, &id, None).await).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "UNAUTHENTICATED");
    let (status, body) = json_body(get_qr_png(&app, &id, Some("not-a-real-token")).await).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "UNAUTHENTICATED");

    let globex = owner(&app, "owner@globex.test", "Globex").await;
    let (status, theirs) = json_body(get_qr_png(&app, &id, globex.token()).await).await;
    assert_eq!(status, 404, "another tenant's link: {theirs}");
    assert_eq!(theirs["code"], "NOT_FOUND");
    let unknown = random_id();
    let (status, nobodys) = json_body(get_qr_png(&app, &unknown, globex.token()).await).await;
    assert_eq!(status, 404, "{nobodys}");
    let blank = |body: &Value, id: &str| body.to_string().replace(id, "<id>");
    assert_eq!(
        blank(&theirs, &id),
        blank(&nobodys, &unknown),
        "another tenant's link must look like no link at all"
    );

    let (status, body) = json_body(get_qr_png(&app, "not-a-uuid", globex.token()).await).await;
    assert!(
        status == 400 || status == 404,
        "a malformed id is the client's fault: {status} {body}"
    );
    assert!(
        body["code"] == "VALIDATION" || body["code"] == "NOT_FOUND",
        "{body}"
    );
}

/// The capacity of the largest QR code in byte mode (version 40, error correction level M).
const QR_CODE_MAX_BYTES: usize = 2331;
/// Facebook's longest page username.
const MAX_USERNAME_CHARS: usize = 50;

#[tokio::test]
async fn text_too_long_for_a_qr_code_is_refused_when_saved() {
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    let page = connect_page(
        &app,
        &acme.access_token,
        "104857600123",
        "Shop",
        Some("acme"),
    )
    .await;
    // Each is 1,000 characters (within the text limit) but 3,000 to 12,000 once URL-encoded.
    for (case, text) in [
        ("ampersands", "&".repeat(1000)),
        ("emoji", "🎉".repeat(1000)),
        ("accents", "é".repeat(1000)),
    ] {
        let created = app
            .mutate(
                "createRefLink",
                json!({ "pageId": page, "ref": "spring", "text": text }),
                QR_FIELDS,
                token,
            )
            .await;
        assert_validation(&created, "text");
        assert!(
            error_message(&created).is_some_and(|m| m.contains("QR code")),
            "{case}: {created}"
        );
    }

    let link = create_link(
        &app,
        &acme.access_token,
        json!({ "pageId": page, "ref": "spring" }),
    )
    .await;
    let id = str_at(&link, "/id");
    let updated = app
        .mutate(
            "updateRefLink",
            json!({ "id": id, "text": "é".repeat(1000) }),
            QR_FIELDS,
            token,
        )
        .await;
    assert_validation(&updated, "text");
    let unchanged = app
        .graphql_ok(
            "query($id: ID!) { refLink(id: $id) { url } }",
            json!({ "id": id }),
            token,
        )
        .await;
    assert_eq!(unchanged["refLink"]["url"], "https://m.me/acme?ref=spring");
}

#[tokio::test]
async fn a_link_saved_at_the_limit_still_draws_after_its_page_takes_the_longest_username() {
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    let page = connect_page(
        &app,
        &acme.access_token,
        "104857600123",
        "Shop",
        Some("acme"),
    )
    .await;
    // `é` is 6 characters URL-encoded: 376 of them make the URL exactly fill a QR code once
    // the page's handle is as long as a username may be; one more is refused although it
    // would fit with today's 4-character username.
    let room = "https://m.me/?ref=a&text=".len() + MAX_USERNAME_CHARS;
    let count = (QR_CODE_MAX_BYTES - room) / 6;
    assert_eq!(room + 6 * count, QR_CODE_MAX_BYTES, "the test's arithmetic");
    let refused = app
        .mutate(
            "createRefLink",
            json!({ "pageId": page, "ref": "a", "text": "é".repeat(count + 1) }),
            "{ id }",
            token,
        )
        .await;
    assert_validation(&refused, "text");
    let link = create_link(
        &app,
        &acme.access_token,
        json!({ "pageId": page, "ref": "a", "text": "é".repeat(count) }),
    )
    .await;
    let id = str_at(&link, "/id");

    let longest = "u".repeat(MAX_USERNAME_CHARS);
    app.graphql_ok(
        "mutation($input: UpdatePageInput!) { updatePage(input: $input) { id } }",
        json!({ "input": { "id": page, "username": longest } }),
        token,
    )
    .await;
    let drawn = app
        .graphql_ok(
            &format!("query($id: ID!) {{ refLink(id: $id) {QR_FIELDS} }}"),
            json!({ "id": id }),
            token,
        )
        .await;
    let url = str_at(&drawn, "/refLink/url");
    assert_eq!(url.len(), QR_CODE_MAX_BYTES);
    assert!(
        url.starts_with(&format!("https://m.me/{longest}?")),
        "{url}"
    );
    // Both codes are fetched before either is decoded (a large code takes seconds to decode
    // in a debug build, longer than the server keeps an idle connection open).
    let response = get_qr_png(&app, &id, token).await;
    assert_eq!(response.status().as_u16(), 200);
    let png = response.bytes().await.unwrap();
    assert_eq!(
        decode_qr_png(&png_from_data_uri(&str_at(
            &drawn,
            "/refLink/qrCodePngDataUri"
        ))),
        url
    );
    assert_eq!(decode_qr_png(&png), url);
}

#[tokio::test]
async fn a_stored_link_too_long_for_a_qr_code_is_refused_with_a_code_not_failed() {
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.token();
    let page = connect_page(
        &app,
        &acme.access_token,
        "104857600123",
        "Shop",
        Some("acme"),
    )
    .await;
    let link = create_link(
        &app,
        &acme.access_token,
        json!({ "pageId": page, "ref": "old" }),
    )
    .await;
    let id = str_at(&link, "/id");
    // As a link saved before the rule: 1,000 `&` (3,000 characters URL-encoded).
    let db = app.raw_database().await;
    db.execute_unprepared(&format!(
        "UPDATE ref_links SET text = '{}'",
        "&".repeat(1000)
    ))
    .await
    .expect("writing the link's text");

    let (status, body) = json_body(get_qr_png(&app, &id, token).await).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "VALIDATION", "{body}");
    assert_eq!(body["field"], "text", "{body}");
    for field in ["qrCodeSvg", "qrCodePngDataUri"] {
        let response = app
            .graphql(
                &format!("query($id: ID!) {{ refLink(id: $id) {{ {field} }} }}"),
                json!({ "id": id }),
                token,
            )
            .await;
        assert_validation(&response, "text");
    }
    // The link itself still reads, and shortening its text mends its code.
    let read = app
        .graphql_ok(
            "query($id: ID!) { refLink(id: $id) { url } }",
            json!({ "id": id }),
            token,
        )
        .await;
    assert!(str_at(&read, "/refLink/url").ends_with(&"%26".repeat(1000)));
    let mended = app
        .mutate(
            "updateRefLink",
            json!({ "id": id, "text": "Hi & welcome" }),
            QR_FIELDS,
            token,
        )
        .await;
    let mended = &data(&mended)["updateRefLink"];
    assert_eq!(
        decode_qr_png(&png_from_data_uri(&str_at(mended, "/qrCodePngDataUri"))),
        str_at(mended, "/url")
    );
    // A change to something else than its URL is not refused because of its old text.
    let db_again = app.raw_database().await;
    db_again
        .execute_unprepared(&format!(
            "UPDATE ref_links SET text = '{}'",
            "&".repeat(1000)
        ))
        .await
        .expect("writing the link's text");
    let deactivated = app
        .mutate(
            "updateRefLink",
            json!({ "id": id, "active": false }),
            "{ active }",
            token,
        )
        .await;
    assert_eq!(data(&deactivated)["updateRefLink"]["active"], false);
}
