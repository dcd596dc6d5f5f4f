//! Whether a ref link's URL fits a QR code: checked when a link is saved (with room for any
//! username its page may take later) and again when its code is drawn (links saved before the
//! rule, or pushed over by a page's change), so that a code is refused with a reason, never
//! failed.

use crate::catalogue::links::mme_url;
use crate::catalogue::page::{MAX_USERNAME_CHARS, PageHandle};
use crate::error::{DomainError, DomainResult};

/// Bytes a QR code holds whatever they are: version 40 (the largest) at error correction level
/// M, in byte mode. [`QrCodeRenderer`](crate::catalogue::QrCodeRenderer)s render any data of
/// at most this many bytes.
pub const QR_CODE_MAX_BYTES: usize = 2331;

/// Checks a link about to be saved: its URL must fit a QR code even when its page's handle is
/// as long as a username may be. Names `ref` when the ref alone is too long, else `text`.
pub fn check_saved_link_fits(
    handle: PageHandle<'_>,
    reference: &str,
    text: Option<&str>,
) -> DomainResult<()> {
    let longest_handle = "a".repeat(MAX_USERNAME_CHARS.max(handle.0.len()));
    let room = format!("with room for a {MAX_USERNAME_CHARS}-character page username");
    check(&longest_handle, reference, text, &room)
}

/// The URL to draw as a link's QR code; a stored link too long for one is refused, naming the
/// field to shorten.
pub fn qr_code_url(
    handle: PageHandle<'_>,
    reference: &str,
    text: Option<&str>,
) -> DomainResult<String> {
    check(handle.0, reference, text, "on its page")?;
    Ok(mme_url(handle.0, reference, text))
}

fn check(handle: &str, reference: &str, text: Option<&str>, condition: &str) -> DomainResult<()> {
    let bytes = mme_url(handle, reference, text).len();
    if bytes <= QR_CODE_MAX_BYTES {
        return Ok(());
    }
    let field = if mme_url(handle, reference, None).len() > QR_CODE_MAX_BYTES {
        "ref"
    } else {
        "text"
    };
    Err(DomainError::validation(
        field,
        format!(
            "makes the link's URL {bytes} bytes once URL-encoded ({condition}); a QR code holds \
             at most {QR_CODE_MAX_BYTES}: shorten the {field}"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(result: DomainResult<()>) -> Option<String> {
        result.err().and_then(|err| err.field().map(str::to_owned))
    }

    #[test]
    fn long_encoded_text_is_refused_naming_text() {
        // 1,000 characters each: the limit on text length alone lets them through.
        for text in ["&".repeat(1000), "é".repeat(1000), "🎉".repeat(1000)] {
            assert_eq!(
                field_of(check_saved_link_fits(
                    PageHandle("acme"),
                    "spring",
                    Some(&text)
                )),
                Some("text".to_owned()),
                "{}",
                &text[..8]
            );
        }
        assert!(
            check_saved_link_fits(PageHandle("acme"), "spring", Some(&"a".repeat(1000))).is_ok()
        );
    }

    #[test]
    fn a_ref_too_long_on_its_own_is_named() {
        let reference = "é".repeat(400);
        assert_eq!(
            field_of(check_saved_link_fits(PageHandle("acme"), &reference, None)),
            Some("ref".to_owned())
        );
    }

    #[test]
    fn a_saved_link_leaves_room_for_the_longest_username() {
        let prefix = mme_url("", "r", Some("")).len() + "&text=".len();
        let fits_short_handle = "a".repeat(QR_CODE_MAX_BYTES - prefix - "acme".len());
        let url = qr_code_url(PageHandle("acme"), "r", Some(&fits_short_handle)).unwrap();
        assert_eq!(url.len(), QR_CODE_MAX_BYTES);
        assert_eq!(
            field_of(check_saved_link_fits(
                PageHandle("acme"),
                "r",
                Some(&fits_short_handle)
            )),
            Some("text".to_owned())
        );
        let fits_longest_handle = "a".repeat(QR_CODE_MAX_BYTES - prefix - MAX_USERNAME_CHARS);
        assert!(check_saved_link_fits(PageHandle("acme"), "r", Some(&fits_longest_handle)).is_ok());
        let longest = "u".repeat(MAX_USERNAME_CHARS);
        assert!(qr_code_url(PageHandle(&longest), "r", Some(&fits_longest_handle)).is_ok());
    }

    #[test]
    fn a_stored_link_too_long_is_refused_when_drawn() {
        let err = qr_code_url(PageHandle("acme"), "r", Some(&"é".repeat(1000))).unwrap_err();
        assert_eq!(err.field(), Some("text"));
        assert!(err.to_string().contains("2331"), "{err}");
    }
}
