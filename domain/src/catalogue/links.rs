//! m.me URLs, with every value percent-encoded (never a query string formatted by hand).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// The longest a percent-encoded `ref` may be (Meta's limit).
pub const MAX_ENCODED_REF_CHARS: usize = 2083;

/// Everything but RFC 3986's unreserved characters is encoded, so spaces become `%20` (not
/// `+`, which m.me would show literally) and `&`, `#`, `=` cannot break the query.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes one query value.
pub fn encode_query_value(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}

/// `https://m.me/<handle>?ref=<ref>[&text=<text>]`.
pub fn mme_url(handle: &str, reference: &str, text: Option<&str>) -> String {
    let mut url = format!(
        "https://m.me/{}?ref={}",
        encode_query_value(handle),
        encode_query_value(reference)
    );
    if let Some(text) = text.filter(|t| !t.is_empty()) {
        url.push_str("&text=");
        url.push_str(&encode_query_value(text));
    }
    url
}

/// `https://m.me/rn/<handle>?topic=<topic>&cadence=<cadence>`.
pub fn rn_url(handle: &str, topic: &str, cadence: &str) -> String {
    format!(
        "https://m.me/rn/{}?topic={}&cadence={}",
        encode_query_value(handle),
        encode_query_value(topic),
        encode_query_value(cadence)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_percent_encoded() {
        let url = mme_url("acme.shop", "summer_coupon=1", Some("Hi & welcome #1 🎉"));
        assert_eq!(
            url,
            "https://m.me/acme.shop?ref=summer_coupon%3D1&text=Hi%20%26%20welcome%20%231%20%F0%9F%8E%89"
        );
    }

    #[test]
    fn empty_text_is_left_out() {
        assert_eq!(mme_url("123", "a", Some("")), "https://m.me/123?ref=a");
    }

    #[test]
    fn rn_links_carry_topic_and_cadence() {
        assert_eq!(
            rn_url("OriginalCoastClothing", "weekly deals", "weekly"),
            "https://m.me/rn/OriginalCoastClothing?topic=weekly%20deals&cadence=weekly"
        );
    }
}
