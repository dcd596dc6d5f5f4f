//! The Messenger webhook fixtures of `shared/fixtures/messenger/`, byte for byte (trailing newline
//! included), so that this binary needs nothing outside the repository. When the shared directory
//! is present, `embedded_fixtures_match_the_shared_files` checks that the copies are exact.

/// `(file name, body)` of every fixture.
pub const ALL: [(&str, &str); 8] = [
    ("batch_two_entries.json", BATCH_TWO_ENTRIES),
    ("message_text.json", MESSAGE_TEXT),
    (
        "optin_notification_messages.json",
        OPTIN_NOTIFICATION_MESSAGES,
    ),
    ("optin_stop_notifications.json", OPTIN_STOP_NOTIFICATIONS),
    (
        "postback_get_started_referral.json",
        POSTBACK_GET_STARTED_REFERRAL,
    ),
    ("referral_ads.json", REFERRAL_ADS),
    ("referral_multi_payload.json", REFERRAL_MULTI_PAYLOAD),
    ("referral_shortlink.json", REFERRAL_SHORTLINK),
];

/// `batch_two_entries.json`.
pub const BATCH_TWO_ENTRIES: &str = concat!(
    r#"{"object":"page","entry":[{"id":"104857600000001","time":1763700007000,"messaging":[{"sender":{"id":"6100000000000005"},"recipient":{"id":"104857600000001"},"timestamp":1763700007000,"referral":{"ref":"youtube","source":"SHORTLINK","type":"OPEN_THREAD"}},{"sender":{"id":"6100000000000005"},"recipient":{"id":"104857600000001"},"timestamp":1763700007100,"message":{"mid":"m_Batch0000000001","text":"hi","quick_reply":{"payload":"MENU"}}}]},{"id":"104857600000001","time":1763700007200,"messaging":[{"sender":{"id":"6100000000000006"},"recipient":{"id":"104857600000001"},"timestamp":1763700007200,"postback":{"mid":"m_Batch0000000002","title":"Menu","payload":"MENU"}}]}]}"#,
    "\n"
);

/// `message_text.json`.
pub const MESSAGE_TEXT: &str = concat!(
    r#"{"object":"page","entry":[{"id":"104857600000001","time":1763700006000,"messaging":[{"sender":{"id":"6100000000000002"},"recipient":{"id":"104857600000001"},"timestamp":1763700006000,"message":{"mid":"m_TextMessage000001","text":"hello"}}]}]}"#,
    "\n"
);

/// `optin_notification_messages.json`.
pub const OPTIN_NOTIFICATION_MESSAGES: &str = concat!(
    r#"{"object":"page","entry":[{"id":"104857600000001","time":1763700004000,"messaging":[{"sender":{"id":"6100000000000001"},"recipient":{"id":"104857600000001"},"timestamp":1763700004000,"optin":{"type":"notification_messages","title":"Weekly deals","ref":"weekly_deals_link","payload":"","source":"SHORTLINK","notification_messages_token":"NMT-0000000000000001","notification_messages_topic":"weekly deals","notification_messages_frequency":"WEEKLY","notification_messages_timezone":"Europe/Berlin","token_expiry_timestamp":1795236004000,"user_token_status":"NOT_REFRESHED"}}]}]}"#,
    "\n"
);

/// `optin_stop_notifications.json`.
pub const OPTIN_STOP_NOTIFICATIONS: &str = concat!(
    r#"{"object":"page","entry":[{"id":"104857600000001","time":1763700005000,"messaging":[{"sender":{"id":"6100000000000001"},"recipient":{"id":"104857600000001"},"timestamp":1763700005000,"optin":{"type":"notification_messages","payload":"","notification_messages_token":"NMT-0000000000000001","notification_messages_status":"STOP NOTIFICATIONS","notification_messages_timezone":"Europe/Berlin","token_expiry_timestamp":1795236004000,"user_token_status":"NOT_REFRESHED","title":"Weekly deals"}}]}]}"#,
    "\n"
);

/// `postback_get_started_referral.json`.
pub const POSTBACK_GET_STARTED_REFERRAL: &str = concat!(
    r#"{"object":"page","entry":[{"id":"104857600000001","time":1763700001000,"messaging":[{"sender":{"id":"6100000000000002"},"recipient":{"id":"104857600000001"},"timestamp":1763700001000,"postback":{"mid":"m_AbCdEf0123456789","title":"Get Started","payload":"GET_STARTED","referral":{"ref":"tutorial--456","source":"SHORTLINK","type":"OPEN_THREAD"}}}]}]}"#,
    "\n"
);

/// `referral_ads.json`.
pub const REFERRAL_ADS: &str = concat!(
    r#"{"object":"page","entry":[{"id":"104857600000001","time":1763700003000,"messaging":[{"sender":{"id":"6100000000000004"},"recipient":{"id":"104857600000001"},"timestamp":1763700003000,"referral":{"ref":"fall_sale","ad_id":"23850000000000001","source":"ADS","type":"OPEN_THREAD","ads_context_data":{"ad_title":"Fall sale","photo_url":"https://example.com/ad.jpg","post_id":"104857600000001_999"}}}]}]}"#,
    "\n"
);

/// `referral_multi_payload.json`.
pub const REFERRAL_MULTI_PAYLOAD: &str = concat!(
    r#"{"object":"page","entry":[{"id":"104857600000001","time":1763700002000,"messaging":[{"sender":{"id":"6100000000000003"},"recipient":{"id":"104857600000001"},"timestamp":1763700002000,"referral":{"ref":"tutorial--gold--738--Berlin--514--42","source":"SHORTLINK","type":"OPEN_THREAD"}}]}]}"#,
    "\n"
);

/// `referral_shortlink.json`.
pub const REFERRAL_SHORTLINK: &str = concat!(
    r#"{"object":"page","entry":[{"id":"104857600000001","time":1763700000000,"messaging":[{"sender":{"id":"6100000000000001"},"recipient":{"id":"104857600000001"},"timestamp":1763700000000,"referral":{"ref":"summer_coupon","source":"SHORTLINK","type":"OPEN_THREAD"}}]}]}"#,
    "\n"
);
