//! QR codes of ref links: SVG, PNG data URI and `GET /api/ref-links/{id}/qr.png`, decoded back
//! to the link's exact URL.

use refhub_tests::{data, random_id, spawn_app, str_at};
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
