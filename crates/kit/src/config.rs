//! The one YAML loader: `load::<T>(path)` parses a file with `serde_yaml` and, when it fails,
//! says which file, line, column and field, e.g.
//! `web.yml:3:5: tls_server_config.cert_file: invalid type: sequence, expected a string`.

use std::fmt;
use std::path::{Path, PathBuf};

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use crate::Secret;

/// A config file that could not be read or parsed.
#[derive(Debug, thiserror::Error)]
pub struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line and column, when known.
    pub location: Option<(usize, usize)>,
    /// Dotted path of the field (`basic_auth_users.alice`), when known.
    pub field: Option<String>,
    /// What is wrong. Never contains a value that could be a secret beyond what the parser
    /// quotes from the file's structure.
    pub msg: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some((line, col)) = self.location {
            write!(f, ":{line}:{col}")?;
        }
        f.write_str(": ")?;
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.msg)
    }
}

impl ConfigError {
    /// An error about `field` found after parsing (a semantic check); the line is looked up
    /// from the field path in `text`.
    pub fn at_field(path: &Path, text: &str, field: &str, msg: impl Into<String>) -> ConfigError {
        ConfigError {
            path: path.to_path_buf(),
            location: locate(text, field),
            field: Some(field.to_owned()),
            msg: msg.into(),
        }
    }
}

/// Reads and parses `path`.
pub fn load<T: DeserializeOwned>(path: &Path) -> Result<T, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        path: path.to_path_buf(),
        location: None,
        field: None,
        msg: e.to_string(),
    })?;
    parse(path, &text)
}

/// Parses `text`, naming `path` in errors.
pub fn parse<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, ConfigError> {
    let de = serde_yaml::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        let location = inner.location().map(|l| (l.line(), l.column()));
        let field = (field != "." && !field.is_empty()).then_some(field);
        let location = location.or_else(|| field.as_deref().and_then(|f| locate(text, f)));
        // serde_yaml appends " at line L column C"; we print the location ourselves.
        let mut msg = inner.to_string();
        if let Some(at) = msg.find(" at line ") {
            msg.truncate(at);
        }
        // serde_yaml also starts nested errors with the path of the enclosing map
        // (`policies[0]: unknown field …`); the field is printed once, by us.
        if let Some((prefix, rest)) = msg.split_once(": ") {
            let is_path = !prefix.contains(' ') && field.as_deref().is_some_and(|f| f.starts_with(prefix));
            if is_path {
                msg = rest.to_owned();
            }
        }
        ConfigError { path: path.to_path_buf(), location, field, msg }
    })
}

/// Finds the line of a dotted field path (`a.b[1].c`) in block-style YAML: each key is
/// looked for below the previous one, at a deeper indent.
pub fn locate(text: &str, field: &str) -> Option<(usize, usize)> {
    let mut from = 0usize;
    let mut indent: Option<usize> = None;
    let mut found = None;
    for part in field.split('.').filter(|p| !p.is_empty()) {
        let (key, index) = match part.split_once('[') {
            Some((k, rest)) => (k, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        let lines: Vec<&str> = text.lines().collect();
        let mut hit = None;
        for (n, line) in lines.iter().enumerate().skip(from) {
            let body = line.trim_start();
            let ind = line.len() - body.len();
            if body.is_empty() || body.starts_with('#') {
                continue;
            }
            if let Some(parent) = indent {
                if ind <= parent && n > from {
                    break;
                }
            }
            let body = body.trim_start_matches("- ");
            if body.strip_prefix(key).is_some_and(|r| r.trim_start().starts_with(':')) {
                hit = Some((n, ind));
                break;
            }
        }
        let (n, ind) = hit?;
        found = Some((n + 1, ind + 1));
        from = n + 1;
        indent = Some(ind);
        if let Some(i) = index {
            // Skip to the i-th "- " item below the key.
            let mut seen = 0usize;
            for (m, line) in lines.iter().enumerate().skip(n + 1) {
                let body = line.trim_start();
                if body.starts_with("- ") || body == "-" {
                    if seen == i {
                        found = Some((m + 1, line.len() - body.len() + 1));
                        from = m;
                        indent = Some(line.len() - body.len());
                        break;
                    }
                    seen += 1;
                }
            }
        }
    }
    found
}

/// A problem found by a semantic check, before the file's name and line are known: the
/// dotted path of the field (relative to where the check started) and what is wrong. The
/// caller places it with [`FieldError::under`] and [`ConfigError::at_field`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Dotted path (`smtp.port`, `webhooks.ops`); empty for the value the check was given.
    pub field: String,
    /// What is wrong (never a secret's value).
    pub msg: String,
}

impl FieldError {
    /// An error about `field`.
    pub fn new(field: impl Into<String>, msg: impl Into<String>) -> FieldError {
        FieldError { field: field.into(), msg: msg.into() }
    }

    /// The same error, seen from `parent` (`sms` + `twilio.from` → `sms.twilio.from`).
    pub fn under(self, parent: &str) -> FieldError {
        let field = if self.field.is_empty() { parent.to_owned() } else { format!("{parent}.{}", self.field) };
        FieldError { field, msg: self.msg }
    }
}

/// A duration written as `30s`, `5m`, `1h30m`, `250ms` (Prometheus' syntax, as the flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dur(pub Duration);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Dur, D::Error> {
        let s = String::deserialize(d)?;
        crate::flags::parse_duration(&s).map(Dur).map_err(serde::de::Error::custom)
    }
}

/// Where a secret comes from: a file (one trailing newline trimmed) or an environment
/// variable. Never inline, so that a config file can be shared.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    /// File holding the secret (relative to the config file).
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// Environment variable holding the secret.
    #[serde(default)]
    pub env: Option<String>,
}

impl SecretRef {
    /// Reads the secret; a relative `file` is taken from `base` (the config file's directory).
    /// The error names the file or the variable, never the value.
    pub fn resolve(&self, base: &Path) -> Result<Secret, String> {
        match (&self.file, &self.env) {
            (Some(f), None) => {
                let p = if f.is_absolute() { f.clone() } else { base.join(f) };
                Secret::from_file(&p).map_err(|e| format!("cannot read secret file {}: {e}", p.display()))
            }
            (None, Some(v)) => match std::env::var(v) {
                Ok(s) if !s.is_empty() => Ok(Secret::new(s)),
                _ => Err(format!("environment variable {v} is unset or empty")),
            },
            _ => Err("give exactly one of `file` or `env`".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Top {
        server: Server,
    }
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Server {
        port: u16,
        #[serde(default)]
        names: Vec<String>,
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let text = "server:\n  names: [a]\n  port: lots\n";
        let err = parse::<Top>(Path::new("x.yml"), text).unwrap_err();
        let shown = err.to_string();
        assert!(shown.starts_with("x.yml:3:"), "{shown}");
        assert!(shown.contains("server.port: invalid type"), "{shown}");
        assert!(!shown.contains(" at line "), "{shown}");
    }

    #[test]
    fn unknown_fields_are_named() {
        let text = "server:\n  port: 1\n  colour: red\n";
        let shown = parse::<Top>(Path::new("x.yml"), text).unwrap_err().to_string();
        assert!(shown.starts_with("x.yml:3:"), "{shown}");
        assert!(shown.contains("unknown field `colour`"), "{shown}");
    }

    #[test]
    fn nested_errors_name_the_field_once() {
        let text = "server:\n  port: 1\n  names:\n    - {x: 1}\n";
        let shown = parse::<Top>(Path::new("x.yml"), text).unwrap_err().to_string();
        assert!(shown.contains(": server.names[0]: invalid type"), "{shown}");
        assert!(!shown.contains("server.names[0]: server"), "{shown}");
    }

    #[test]
    fn missing_file_is_named() {
        let shown = load::<Top>(Path::new("/nonexistent/x.yml")).unwrap_err().to_string();
        assert!(shown.starts_with("/nonexistent/x.yml: "), "{shown}");
    }

    #[test]
    fn locate_finds_nested_keys_and_items() {
        let text = "a:\n  b: 1\n  c:\n    - d: 1\n    - d: 2\n      e: 3\n";
        assert_eq!(locate(text, "a.c"), Some((3, 3)));
        assert_eq!(locate(text, "a.c[1].e"), Some((6, 7)));
        assert_eq!(locate(text, "a.zzz"), None);
    }
}
