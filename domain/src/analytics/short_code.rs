//! Short links: `PUBLIC_BASE_URL/r/{code}` redirects to a ref link's m.me URL and counts the
//! click. A code is nine base-62 characters made from the random bits of the link's id, so it
//! needs no generator of its own and is as hard to guess as the id's random part allows.

use crate::ids::RefLinkId;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Characters in a code made here (62^9 > 2^48).
const LENGTH: usize = 9;
/// Longest code accepted in a URL (older links may carry other shapes).
pub const MAX_SHORT_CODE_CHARS: usize = 32;

/// The short code of a new link: the low 48 bits of its UUID v7 (random bits), in base 62.
pub fn short_code_for(id: RefLinkId) -> String {
    let mut bits = id.0.as_u128() & ((1_u128 << 48) - 1);
    let mut code = [b'0'; LENGTH];
    for slot in code.iter_mut().rev() {
        *slot = ALPHABET[(bits % 62) as usize];
        bits /= 62;
    }
    code.iter().map(|&b| char::from(b)).collect()
}

/// Whether `code` could be a short code at all (letters and digits, not too long): anything
/// else is answered 404 without a lookup.
pub fn is_plausible_short_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= MAX_SHORT_CODE_CHARS
        && code.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The short URL of a code.
pub fn short_url(public_base_url: &str, code: &str) -> String {
    format!("{}/r/{code}", public_base_url.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_nine_alphanumerics_and_differ_between_links() {
        let codes: std::collections::BTreeSet<String> = (0..1000)
            .map(|_| short_code_for(RefLinkId::generate()))
            .collect();
        assert_eq!(codes.len(), 1000);
        assert!(
            codes
                .iter()
                .all(|c| c.len() == 9 && is_plausible_short_code(c))
        );
    }

    #[test]
    fn implausible_codes_are_refused_before_any_lookup() {
        assert!(!is_plausible_short_code(""));
        assert!(!is_plausible_short_code("abc/../x"));
        assert!(!is_plausible_short_code(&"a".repeat(33)));
        assert_eq!(short_url("https://x.test/", "Ab3"), "https://x.test/r/Ab3");
    }
}
