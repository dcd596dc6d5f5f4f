//! Passwords: the strength policy for new ones, and the stored hash.

use std::fmt;

use crate::error::{DomainError, DomainResult};

/// Shortest password accepted (NIST SP 800-63B asks for at least 8; we ask a little more).
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted, so that hashing cost stays bounded.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// A password as typed by its owner. Never printed: `Debug` hides it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Wraps a password presented for checking (log-in); no policy applies.
    pub fn presented(raw: String) -> Self {
        Self(raw)
    }

    /// Checks a new password against the policy: length, and a zxcvbn strength score of at
    /// least 3, with the user's own e-mail counted as a guessable word.
    pub fn new_checked(raw: String, user_inputs: &[&str]) -> DomainResult<Self> {
        let chars = raw.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(DomainError::validation(
                "password",
                format!("must be at least {MIN_PASSWORD_CHARS} characters"),
            ));
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(DomainError::validation(
                "password",
                format!("must be at most {MAX_PASSWORD_CHARS} characters"),
            ));
        }
        let score = zxcvbn::zxcvbn(&raw, user_inputs).score();
        if (score as u8) < 3 {
            return Err(DomainError::validation(
                "password",
                "is too easy to guess; use a longer phrase of unrelated words",
            ));
        }
        Ok(Self(raw))
    }

    /// The password itself, for the hasher only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A password hash in PHC string format (argon2id), as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(pub String);

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_and_short_passwords_are_refused() {
        for weak in ["short", "password123", "aaaaaaaaaaaa", "qwertyuiop12"] {
            let err = Password::new_checked(weak.into(), &[]).unwrap_err();
            assert_eq!(err.field(), Some("password"), "{weak}");
        }
    }

    #[test]
    fn a_long_phrase_is_accepted() {
        assert!(Password::new_checked("correct-Horse-battery-9".into(), &[]).is_ok());
    }

    #[test]
    fn debug_hides_the_password() {
        let password = Password::presented("hunter2-secret".into());
        assert!(!format!("{password:?}").contains("hunter2"));
    }
}
