//! Signed URLs a browser opens without an `Authorization` header: `RefLink.qrCodePngUrl` and
//! `Page.subscribersCsvUrl`. Each opens its own resource, for the session that asked for it,
//! and nothing else.

use refhub_tests::{TestApp, data, spawn_app, str_at};
use serde_json::{Value, json};

use crate::support::{connect_page, create_link, decode_qr_png, owner};

/// The path and query of a signed URL (the test app is not at the public base URL).
fn local(app: &TestApp, signed: &str) -> String {
    let path = signed
        .find("/api/")
        .map(|at| &signed[at..])
        .unwrap_or_else(|| panic!("not a signed API URL: {signed}"));
    app.url(path)
}

async fn get(app: &TestApp, url: &str) -> reqwest::Response {
    app.client.get(url).send().await.expect("GET failed")
}

async fn signed_urls(app: &TestApp, token: &str, link: &str, page: &str) -> (Value, Value) {
    let response = app
        .graphql_ok(
            "query($link: ID!, $page: ID!) { refLink(id: $link) { qrCodePngUrl } page(id: $page) { subscribersCsvUrl } }",
            json!({ "link": link, "page": page }),
            Some(token),
        )
        .await;
    (
        response["refLink"]["qrCodePngUrl"].clone(),
        response["page"]["subscribersCsvUrl"].clone(),
    )
}

#[tokio::test]
async fn a_signed_url_opens_its_resource_without_a_header_and_nothing_else() {
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = &acme.access_token;
    let page = connect_page(&app, token, "104857600123", "Shop", Some("acme.shop")).await;
    let other_page = connect_page(&app, token, "104857600124", "Blog", None).await;
    let link = create_link(&app, token, json!({ "pageId": page, "ref": "summer" })).await;
    let link_id = str_at(&link, "/id");
    let other_link = create_link(&app, token, json!({ "pageId": page, "ref": "winter" })).await;
    let other_link_id = str_at(&other_link, "/id");

    let (qr, csv) = signed_urls(&app, token, &link_id, &page).await;
    let (qr, csv) = (qr.as_str().unwrap(), csv.as_str().unwrap());
    assert!(
        qr.contains(&format!("/api/ref-links/{link_id}/qr.png?link=")),
        "{qr}"
    );
    assert!(
        csv.contains(&format!("/api/pages/{page}/subscribers.csv?link=")),
        "{csv}"
    );

    // Opened with no header at all, as <img src> and <a download> do.
    let png = get(&app, &local(&app, qr)).await;
    assert_eq!(png.status().as_u16(), 200);
    assert_eq!(png.headers()["content-type"], "image/png");
    assert_eq!(
        decode_qr_png(&png.bytes().await.unwrap()),
        "https://m.me/acme.shop?ref=summer"
    );
    let export = get(&app, &local(&app, csv)).await;
    assert_eq!(export.status().as_u16(), 200);
    assert!(
        export.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );

    // The same signature on another resource, or a changed one, opens nothing.
    let query = &qr[qr.find('?').unwrap()..];
    let moved = app.url(&format!("/api/ref-links/{other_link_id}/qr.png{query}"));
    let csv_query = &csv[csv.find('?').unwrap()..];
    let moved_csv = app.url(&format!(
        "/api/pages/{other_page}/subscribers.csv{csv_query}"
    ));
    let mut tampered = local(&app, qr);
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    for (case, url) in [
        ("another link's QR code", moved),
        ("another page's export", moved_csv),
        ("a changed signature", tampered),
        (
            "no link at all",
            app.url(&format!("/api/ref-links/{link_id}/qr.png")),
        ),
    ] {
        let response = get(&app, &url).await;
        assert_eq!(response.status().as_u16(), 401, "{case}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "UNAUTHENTICATED", "{case}: {body}");
    }

    // A link lives no longer than the session that made it.
    let signed_out = app
        .graphql(
            "mutation { logOut { revokedSessions } }",
            json!({}),
            Some(token),
        )
        .await;
    data(&signed_out);
    let response = get(&app, &local(&app, qr)).await;
    assert_eq!(response.status().as_u16(), 401);
}

#[tokio::test]
async fn signed_urls_are_per_member_and_not_for_api_keys() {
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = &acme.access_token;
    let page = connect_page(&app, token, "104857600123", "Shop", None).await;
    let link = create_link(&app, token, json!({ "pageId": page, "ref": "summer" })).await;
    let link_id = str_at(&link, "/id");

    // An API key has a header to send: it gets no link.
    let (_, secret) = app.create_api_key(token, "ci", "VIEWER").await;
    let (qr, csv) = signed_urls(&app, &secret, &link_id, &page).await;
    assert_eq!((qr, csv), (Value::Null, Value::Null));

    // Another workspace's member cannot open this workspace's resources with their own link.
    let other = owner(&app, "owner@other.test", "Other").await;
    let other_page = connect_page(&app, &other.access_token, "204857600123", "Theirs", None).await;
    let other_link = create_link(
        &app,
        &other.access_token,
        json!({ "pageId": other_page, "ref": "x" }),
    )
    .await;
    let (theirs, _) = signed_urls(
        &app,
        &other.access_token,
        &str_at(&other_link, "/id"),
        &other_page,
    )
    .await;
    let theirs = theirs.as_str().unwrap();
    let query = &theirs[theirs.find('?').unwrap()..];
    let response = get(
        &app,
        &app.url(&format!("/api/ref-links/{link_id}/qr.png{query}")),
    )
    .await;
    assert_eq!(response.status().as_u16(), 401);
}
