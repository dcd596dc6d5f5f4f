//! Checks shared by every free-text input: names, titles, descriptions.

use crate::error::{DomainError, DomainResult};

/// A trimmed, non-empty, single-line text of at most `max_chars` characters.
pub fn single_line(raw: &str, field: &str, max_chars: usize) -> DomainResult<String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(DomainError::validation(field, "must not be empty"));
    }
    check_length(text, field, max_chars)?;
    if text.chars().any(char::is_control) {
        return Err(DomainError::validation(
            field,
            "must not contain control characters",
        ));
    }
    Ok(text.to_owned())
}

/// An optional multi-line text: blank means none; tabs and line breaks are allowed.
pub fn optional_multiline(
    raw: Option<&str>,
    field: &str,
    max_chars: usize,
) -> DomainResult<Option<String>> {
    let Some(text) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    check_length(text, field, max_chars)?;
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(DomainError::validation(
            field,
            "must not contain control characters",
        ));
    }
    Ok(Some(text.to_owned()))
}

fn check_length(text: &str, field: &str, max_chars: usize) -> DomainResult<()> {
    if text.chars().count() > max_chars {
        return Err(DomainError::validation(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    Ok(())
}

/// Text made only of ASCII digits, 1 to `max_digits` of them (Facebook ids, PSIDs).
pub fn numeric_id(raw: &str, field: &str, max_digits: usize) -> DomainResult<String> {
    let id = raw.trim();
    if id.is_empty() || id.len() > max_digits || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DomainError::validation(
            field,
            format!("must be a numeric id of 1 to {max_digits} digits"),
        ));
    }
    Ok(id.to_owned())
}

/// An opaque credential: 1 to `max_chars` visible characters, no spaces.
pub fn credential(
    raw: &str,
    field: &str,
    min_chars: usize,
    max_chars: usize,
) -> DomainResult<String> {
    let value = raw.trim();
    let chars = value.chars().count();
    if chars < min_chars || chars > max_chars {
        return Err(DomainError::validation(
            field,
            format!("must be {min_chars} to {max_chars} characters"),
        ));
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(DomainError::validation(field, "must not contain spaces"));
    }
    Ok(value.to_owned())
}

/// Refuses U+0000, which no stored text may hold (PostgreSQL's `text` cannot), in a text that
/// may otherwise hold any character (line breaks, say).
pub fn without_nul(text: &str, field: &str) -> DomainResult<()> {
    if text.contains('\0') {
        return Err(DomainError::validation(
            field,
            "must not contain NUL characters",
        ));
    }
    Ok(())
}

/// `text` cut to at most `max_chars` characters, with `…` where it was cut: for quoting what
/// someone sent back to them (in an event's notes, say) without echoing all of it.
pub fn excerpt(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        None => text.to_owned(),
        Some((end, _)) => format!("{}…", &text[..end]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_line_trims_and_checks() {
        assert_eq!(single_line("  Acme ", "name", 10).unwrap(), "Acme");
        assert_eq!(
            single_line(" ", "name", 10).unwrap_err().field(),
            Some("name")
        );
        assert!(single_line("a\nb", "name", 10).is_err());
        assert!(single_line("abcdefghijk", "name", 10).is_err());
        assert!(single_line("ééééé", "name", 5).is_ok());
    }

    #[test]
    fn numeric_ids_are_digits_only() {
        assert_eq!(
            numeric_id(" 104857600000001 ", "id", 32).unwrap(),
            "104857600000001"
        );
        assert!(numeric_id("12a", "id", 32).is_err());
        assert!(numeric_id("", "id", 32).is_err());
    }

    #[test]
    fn credentials_have_no_spaces() {
        assert!(credential("abc def", "token", 1, 10).is_err());
        assert!(credential("abc", "token", 5, 10).is_err());
        assert_eq!(credential(" abcdef ", "token", 5, 10).unwrap(), "abcdef");
    }

    #[test]
    fn excerpts_cut_at_characters_not_bytes() {
        assert_eq!(excerpt("short", 10), "short");
        assert_eq!(excerpt("ééééé", 3), "ééé…");
        assert_eq!(excerpt("", 0), "");
    }
}
