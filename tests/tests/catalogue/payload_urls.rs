//! `RefLink.payloadUrl`: links that fill custom fields, `ref--DEFAULT--NUMBER--VALUE…`, with
//! every value checked against its field's type and the characters a ref allows.

use refhub_tests::{TestApp, data, error_code, error_field, random_id, spawn_app, str_at};
use serde_json::{Value, json};

use crate::support::{Checks, connect_page, create_field, create_link, owner};

const PAYLOAD_QUERY: &str = "query($id: ID!, $default: String, $fields: [PayloadFieldInput!]!) \
     { refLink(id: $id) { payloadUrl(defaultValue: $default, fields: $fields) } }";

/// A tenant with a page `acme`, a field of every type, and links with and without a default.
struct Scene {
    app: TestApp,
    token: String,
    /// `(id, number)` by type, named after the marketer's fields.
    age: (String, i64),
    birthday: (String, i64),
    email: (String, i64),
    vip: (String, i64),
    phone: (String, i64),
    signed_up: (String, i64),
    website: (String, i64),
    note: (String, i64),
    /// `tutorial`, default field `coupon` (TEXT).
    tutorial: String,
    /// `welcome`, prefilled text, default field `coupon`.
    welcome: String,
    /// `quiz`, default field `age` (NUMBER).
    quiz: String,
    /// `plain`, no default field.
    plain: String,
}

async fn scene() -> Scene {
    let app = spawn_app().await;
    let acme = owner(&app, "owner@acme.test", "Acme").await;
    let token = acme.access_token.clone();
    let page = connect_page(&app, &token, "104857600123", "Acme", Some("acme")).await;
    let coupon = create_field(&app, &token, "coupon", "TEXT").await;
    let age = create_field(&app, &token, "age", "NUMBER").await;
    let birthday = create_field(&app, &token, "birthday", "DATE").await;
    let email = create_field(&app, &token, "email", "EMAIL").await;
    let vip = create_field(&app, &token, "vip", "BOOLEAN").await;
    let phone = create_field(&app, &token, "phone", "PHONE").await;
    let signed_up = create_field(&app, &token, "signed up", "DATETIME").await;
    let website = create_field(&app, &token, "website", "URL").await;
    let note = create_field(&app, &token, "note", "TEXT").await;
    let link = |input: Value| {
        let (app, token) = (&app, &token);
        async move { str_at(&create_link(app, token, input).await, "/id") }
    };
    let tutorial =
        link(json!({ "pageId": page, "ref": "tutorial", "defaultFieldId": coupon.0 })).await;
    let welcome = link(json!({
        "pageId": page, "ref": "welcome", "text": "Hi there", "defaultFieldId": coupon.0,
    }))
    .await;
    let quiz = link(json!({ "pageId": page, "ref": "quiz", "defaultFieldId": age.0 })).await;
    let plain = link(json!({ "pageId": page, "ref": "plain" })).await;
    Scene {
        app,
        token,
        age,
        birthday,
        email,
        vip,
        phone,
        signed_up,
        website,
        note,
        tutorial,
        welcome,
        quiz,
        plain,
    }
}

impl Scene {
    /// The whole response to `payloadUrl` on `link`.
    async fn payload_url(&self, link: &str, default: Option<&str>, fields: Value) -> Value {
        self.app
            .graphql(
                PAYLOAD_QUERY,
                json!({ "id": link, "default": default, "fields": fields }),
                Some(&self.token),
            )
            .await
    }

    /// The rendered URL; fails the test on any error.
    async fn rendered(&self, link: &str, default: Option<&str>, fields: Value) -> String {
        let response = self.payload_url(link, default, fields).await;
        str_at(data(&response), "/refLink/payloadUrl")
    }
}

fn value(field: &(String, i64), value: &str) -> Value {
    json!({ "fieldId": field.0, "value": value })
}

#[tokio::test]
async fn payloads_render_default_values_and_numbered_fields() {
    let s = scene().await;
    let (age, birthday, vip, phone) = (s.age.1, s.birthday.1, s.vip.1, s.phone.1);

    assert_eq!(
        s.rendered(&s.tutorial, None, json!([])).await,
        "https://m.me/acme?ref=tutorial",
        "no payload: the plain URL"
    );
    assert_eq!(
        s.rendered(&s.tutorial, Some("SUMMER10"), json!([])).await,
        "https://m.me/acme?ref=tutorial--SUMMER10"
    );
    assert_eq!(
        s.rendered(
            &s.tutorial,
            Some("v0"),
            json!([value(&s.age, "42"), value(&s.birthday, "2026-02-28")]),
        )
        .await,
        format!("https://m.me/acme?ref=tutorial--v0--{age}--42--{birthday}--2026-02-28")
    );
    // Without a default value the segments come in pairs.
    assert_eq!(
        s.rendered(
            &s.tutorial,
            None,
            json!([value(&s.vip, "true"), value(&s.phone, "15551234567")]),
        )
        .await,
        format!("https://m.me/acme?ref=tutorial--{vip}--true--{phone}--15551234567")
    );
    assert_eq!(
        s.rendered(&s.plain, None, json!([value(&s.note, "Hello_World-2")]))
            .await,
        format!("https://m.me/acme?ref=plain--{}--Hello_World-2", s.note.1)
    );
    assert_eq!(
        s.rendered(&s.quiz, Some("7"), json!([])).await,
        "https://m.me/acme?ref=quiz--7"
    );
    // The prefilled text stays.
    assert_eq!(
        s.rendered(&s.welcome, Some("x1"), json!([])).await,
        "https://m.me/acme?ref=welcome--x1&text=Hi%20there"
    );
}

/// `(case, link, default value, fields, expected code, expected field)`
type Case<'a> = (&'a str, &'a str, Option<&'a str>, Value, &'a str, &'a str);

#[tokio::test]
async fn payload_values_that_do_not_fit_name_their_input() {
    let mut checks = Checks::default();
    let s = scene().await;
    let unknown = random_id();
    let cases: Vec<Case> = vec![
        (
            "NUMBER abc",
            &s.plain,
            None,
            json!([value(&s.age, "abc")]),
            "VALIDATION",
            "fields[0].value",
        ),
        (
            "NUMBER 4.5 has a period",
            &s.plain,
            None,
            json!([value(&s.age, "4.5")]),
            "VALIDATION",
            "fields[0].value",
        ),
        (
            "NUMBER -5 leads with a hyphen",
            &s.plain,
            None,
            json!([value(&s.age, "-5")]),
            "VALIDATION",
            "fields[0].value",
        ),
        (
            "DATE month 13",
            &s.plain,
            None,
            json!([value(&s.birthday, "2026-13-01")]),
            "VALIDATION",
            "fields[0].value",
        ),
        (
            "DATE 30 February",
            &s.plain,
            None,
            json!([value(&s.birthday, "2026-02-30")]),
            "VALIDATION",
            "fields[0].value",
        ),
        (
            "DATE in words",
            &s.plain,
            None,
            json!([value(&s.birthday, "tomorrow")]),
            "VALIDATION",
            "fields[0].value",
        ),
        (
            "EMAIL has @ and .",
            &s.plain,
            None,
            json!([value(&s.email, "ann@example.com")]),
            "VALIDATION",
            "fields[0].value",
        ),
        (
            "EMAIL without @",
            &s.plain,
            None,
            json!([value(&s.email, "ann")]),
            "VALIDATION",
            "fields[0].value",
        ),
        (
            "BOOLEAN maybe",
            &s.plain,
            None,
            json!([value(&s.vip, "maybe")]),
            "VALIDATION",
            "fields[0].value",
        ),
        (
            "PHONE with +",
            &s.plain,
            None,
            json!([value(&s.phone, "+15551234567")]),
            "VALIDATION",
            "fields[0].value",
        ),
        (
            "PHONE too short",
            &s.plain,
            None,
            json!([value(&s.phone, "123")]),
            "VALIDATION",
            "fields[0].value",
        ),
        (
            "DATETIME has colons",
            &s.plain,
            None,
            json!([value(&s.signed_up, "2026-01-01T10:00:00Z")]),
            "VALIDATION",
            "fields[0].value",
        ),
        (
            "URL has : and /",
            &s.plain,
            None,
            json!([value(&s.website, "https://example.com")]),
            "VALIDATION",
            "fields[0].value",
        ),
        (
            "TEXT with a space",
            &s.plain,
            None,
            json!([value(&s.note, "two words")]),
            "VALIDATION",
            "fields[0].value",
        ),
        (
            "TEXT with the separator",
            &s.plain,
            None,
            json!([value(&s.note, "a--b")]),
            "VALIDATION",
            "fields[0].value",
        ),
        (
            "TEXT with a trailing hyphen",
            &s.plain,
            None,
            json!([value(&s.note, "ab-")]),
            "VALIDATION",
            "fields[0].value",
        ),
        (
            "TEXT with #",
            &s.plain,
            None,
            json!([value(&s.note, "a#b")]),
            "VALIDATION",
            "fields[0].value",
        ),
        (
            "TEXT non-ASCII",
            &s.plain,
            None,
            json!([value(&s.note, "café")]),
            "VALIDATION",
            "fields[0].value",
        ),
        (
            "TEXT empty",
            &s.plain,
            None,
            json!([value(&s.note, "")]),
            "VALIDATION",
            "fields[0].value",
        ),
        (
            "the second value",
            &s.plain,
            None,
            json!([value(&s.age, "42"), value(&s.birthday, "2026-13-01")]),
            "VALIDATION",
            "fields[1].value",
        ),
        (
            "default with a space",
            &s.tutorial,
            Some("two words"),
            json!([]),
            "VALIDATION",
            "defaultValue",
        ),
        (
            "default with the separator",
            &s.tutorial,
            Some("a--b"),
            json!([]),
            "VALIDATION",
            "defaultValue",
        ),
        (
            "default with a leading hyphen",
            &s.tutorial,
            Some("-a"),
            json!([]),
            "VALIDATION",
            "defaultValue",
        ),
        (
            "default not a NUMBER",
            &s.quiz,
            Some("abc"),
            json!([]),
            "VALIDATION",
            "defaultValue",
        ),
        (
            "default without a default field",
            &s.plain,
            Some("SUMMER10"),
            json!([]),
            "VALIDATION",
            "defaultValue",
        ),
        (
            "an unknown field",
            &s.plain,
            None,
            json!([{ "fieldId": unknown, "value": "1" }]),
            "NOT_FOUND",
            "fields[0].fieldId",
        ),
        (
            "an unknown second field",
            &s.plain,
            None,
            json!([value(&s.age, "1"), { "fieldId": unknown, "value": "1" }]),
            "NOT_FOUND",
            "fields[1].fieldId",
        ),
        (
            "a field id that is no id",
            &s.plain,
            None,
            json!([{ "fieldId": "not-a-uuid", "value": "1" }]),
            "VALIDATION",
            "fields[0].fieldId",
        ),
    ];
    for (case, link, default, fields, code, field) in cases {
        let response = s.payload_url(link, default, fields).await;
        checks.error(case, &response, code, Some(field));
    }
    checks.verify();
}

#[tokio::test]
async fn a_payload_too_long_for_meta_is_refused() {
    let s = scene().await;
    let long = "a".repeat(1_100);

    let response = s
        .payload_url(&s.tutorial, Some(&long), json!([value(&s.note, &long)]))
        .await;

    assert_eq!(
        error_code(&response).as_deref(),
        Some("VALIDATION"),
        "a ref of over 2,083 characters: {response:#}"
    );
    assert!(error_field(&response).is_some(), "{response:#}");
    // Each half alone fits.
    s.rendered(&s.tutorial, Some(&long), json!([])).await;
    s.rendered(&s.tutorial, None, json!([value(&s.note, &long)]))
        .await;
}
