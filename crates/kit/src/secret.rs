//! `Secret`: a string that never prints. Passwords, hashes, tokens and webhook URLs live in
//! it, so that `{:?}` of any config and any error message stays safe to log.

use std::fmt;

use serde::{Deserialize, Deserializer};

/// A secret string. `Debug` and `Display` print `<redacted>`; [`Secret::expose`] gives the value.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for the one place that needs it (a hash check, an auth header).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Reads a secret from a file, trimming one trailing newline. The error names the file,
    /// never the content.
    pub fn from_file(path: &std::path::Path) -> std::io::Result<Secret> {
        let mut text = std::fs::read_to_string(path)?;
        if text.ends_with('\n') {
            text.pop();
            if text.ends_with('\r') {
                text.pop();
            }
        }
        Ok(Secret(text))
    }
}

/// Compares two byte strings in time that depends only on their lengths, so that the time to
/// refuse a token says nothing about how much of it was right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (i, x) in a.iter().enumerate() {
        diff |= usize::from(x ^ b.get(i).copied().unwrap_or(!x));
    }
    diff == 0
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "<redacted> <redacted>");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq(b"test-token", b"test-token"));
        assert!(constant_time_eq(b"", b""));
        assert!(!constant_time_eq(b"test-token", b"test-tokeN"));
        assert!(!constant_time_eq(b"test-token", b"test-token2"));
        assert!(!constant_time_eq(b"test-token2", b"test-token"));
        assert!(!constant_time_eq(b"", b"x"));
    }

    #[test]
    fn file_trailing_newline_is_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pw");
        std::fs::write(&p, "s3cret\n").unwrap();
        assert_eq!(Secret::from_file(&p).unwrap().expose(), "s3cret");
    }
}
