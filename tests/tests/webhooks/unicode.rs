//! Meta escapes non-ASCII text as `\uXXXX` (surrogate pairs for emoji) and signs the bytes as
//! sent: the signature must be checked over those exact bytes, and the values decoded.

use refhub_tests::spawn_app;

use crate::support::{
    PAGE, all_events, connect_tenant, create_field, create_link, deliver, field_value, now_ms,
    post_webhook, settled_events, signature, subscriber_by_psid,
};

#[tokio::test]
async fn escaped_and_raw_unicode_is_verified_over_the_exact_bytes_and_decoded() {
    let app = spawn_app().await;
    let tenant = connect_tenant(&app, "owner@unicode.test", "Unicode", PAGE).await;
    let token = tenant.token();
    let (dish, _) = create_field(&app, token, "dish", "TEXT", None).await;
    let (city, _) = create_field(&app, token, "city", "TEXT", Some(738)).await;
    create_link(&app, token, &tenant.page_id, "menu", Some(&dish), &[]).await;
    let t = now_ms() - 10_000;

    // Written by hand so that the escapes are in the signed bytes, as Meta sends them.
    let delivery = format!(
        r#"{{"object":"page","entry":[{{"id":"{PAGE}","time":{t},"messaging":[{{"sender":{{"id":"8400000000000001"}},"recipient":{{"id":"{PAGE}"}},"timestamp":{t},"referral":{{"ref":"menu--Caf\u00e9 M\u00fcnchen \u2615","source":"SHORTLINK","type":"OPEN_THREAD"}}}},{{"sender":{{"id":"8400000000000001"}},"recipient":{{"id":"{PAGE}"}},"timestamp":{t1},"message":{{"mid":"m_unicode_0001","text":"Gr\u00fc\u00dfe 👋 \ud83d\ude00"}}}}]}},{{"id":"{PAGE}","time":{t2},"messaging":[{{"sender":{{"id":"8400000000000002"}},"recipient":{{"id":"{PAGE}"}},"timestamp":{t2},"referral":{{"ref":"menu\u2013Z\u00fcrich\u2013738\u2013S\u00e3o Paulo","source":"SHORTLINK","type":"OPEN_THREAD"}}}},{{"sender":{{"id":"8400000000000003"}},"recipient":{{"id":"{PAGE}"}},"timestamp":{t3},"referral":{{"ref":"menu–Köln–738–Ærøskøbing 🚲","source":"SHORTLINK","type":"OPEN_THREAD"}}}}]}}]}}"#,
        t1 = t + 1,
        t2 = t + 2,
        t3 = t + 3,
    );
    assert!(delivery.contains(r"\u00e9") && delivery.contains("👋"));

    // Signing the decoded (re-serialised) text instead of the bytes sent must not pass.
    let reserialised =
        serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&delivery).unwrap())
            .unwrap();
    assert!(!reserialised.contains(r"\u00e9"));
    let wrong = signature(&tenant.app_secret, reserialised.as_bytes());
    let (status, _) = post_webhook(
        &app,
        &tenant.webhook_path,
        delivery.as_bytes(),
        Some(&wrong),
    )
    .await;
    assert_eq!(status, 401, "a signature over other bytes than those sent");

    deliver(&app, &tenant, &delivery).await;
    let events = settled_events(&app, token, 4).await;
    assert!(
        events.iter().all(|e| e["status"] == "PROCESSED"),
        "{events:#?}"
    );

    let cafe = subscriber_by_psid(&app, token, &tenant.page_id, "8400000000000001")
        .await
        .expect("the first subscriber");
    assert_eq!(
        field_value(&cafe, &dish).as_deref(),
        Some("Café München ☕"),
        "{cafe:#}"
    );
    assert_eq!(cafe["sourceRef"], "menu--Café München ☕", "{cafe:#}");
    let zurich = subscriber_by_psid(&app, token, &tenant.page_id, "8400000000000002")
        .await
        .expect("the second subscriber");
    assert_eq!(
        field_value(&zurich, &dish).as_deref(),
        Some("Zürich"),
        "{zurich:#}"
    );
    assert_eq!(
        field_value(&zurich, &city).as_deref(),
        Some("São Paulo"),
        "{zurich:#}"
    );
    let koeln = subscriber_by_psid(&app, token, &tenant.page_id, "8400000000000003")
        .await
        .expect("the third subscriber");
    assert_eq!(
        field_value(&koeln, &dish).as_deref(),
        Some("Köln"),
        "{koeln:#}"
    );
    assert_eq!(
        field_value(&koeln, &city).as_deref(),
        Some("Ærøskøbing 🚲"),
        "{koeln:#}"
    );

    let events = all_events(&app, token, Some("PROCESSED")).await;
    let text = events
        .iter()
        .find(|e| e["kind"] == "message")
        .expect("the message event");
    assert_eq!(text["body"]["message"]["text"], "Grüße 👋 😀", "{text:#}");
}
