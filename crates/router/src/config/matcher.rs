//! Alertmanager's label matchers (`severity="critical"`, `service=~"api|web"`, `env!="dev"`,
//! `team!~"ops.*"`), as written in a route's `matchers:` list. Regexes are anchored at both
//! ends, as in Alertmanager (`pkg/labels/matcher.go`).

use std::fmt;

use regex::Regex;
use serde::{Deserialize, Deserializer};

use crate::payload::KV;

/// The operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~`
    Regex,
    /// `!~`
    NotRegex,
}

/// One matcher.
#[derive(Clone)]
pub struct Matcher {
    /// Label name.
    pub name: String,
    /// Operator.
    pub op: Op,
    /// Value as written.
    pub value: String,
    re: Option<Regex>,
}

impl fmt::Debug for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.op {
            Op::Equal => "=",
            Op::NotEqual => "!=",
            Op::Regex => "=~",
            Op::NotRegex => "!~",
        };
        write!(f, "{}{op}{:?}", self.name, self.value)
    }
}

impl Matcher {
    /// Parses `name<op>"value"` (quotes optional, as in Alertmanager's parser).
    pub fn parse(text: &str) -> Result<Matcher, String> {
        let t = text.trim();
        let at = t.find(['=', '!']).ok_or_else(|| format!("invalid matcher {text:?}: no operator (=, !=, =~, !~)"))?;
        let name = t[..at].trim();
        let valid_name = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !valid_name {
            return Err(format!("invalid matcher {text:?}: bad label name {name:?}"));
        }
        let rest = &t[at..];
        let (op, rest) = if let Some(r) = rest.strip_prefix("=~") {
            (Op::Regex, r)
        } else if let Some(r) = rest.strip_prefix("!~") {
            (Op::NotRegex, r)
        } else if let Some(r) = rest.strip_prefix("!=") {
            (Op::NotEqual, r)
        } else if let Some(r) = rest.strip_prefix('=') {
            (Op::Equal, r)
        } else {
            return Err(format!("invalid matcher {text:?}: no operator (=, !=, =~, !~)"));
        };
        let rest = rest.trim();
        let value = if let Some(inner) = rest.strip_prefix('"') {
            let inner =
                inner.strip_suffix('"').ok_or_else(|| format!("invalid matcher {text:?}: unterminated quote"))?;
            unescape(inner).ok_or_else(|| format!("invalid matcher {text:?}: bad escape"))?
        } else {
            rest.to_owned()
        };
        let re = match op {
            Op::Regex | Op::NotRegex => Some(Regex::new(&format!("^(?:{value})$")).map_err(|e| {
                let e = e.to_string();
                format!(
                    "invalid matcher {text:?}: bad regex: {}",
                    e.lines().last().unwrap_or("").trim_start_matches("error: ")
                )
            })?),
            _ => None,
        };
        Ok(Matcher { name: name.to_owned(), op, value, re })
    }

    /// Whether `labels` satisfy the matcher; a missing label reads as `""` (Alertmanager).
    pub fn matches(&self, labels: &KV) -> bool {
        let v = labels.get(&self.name).map(String::as_str).unwrap_or("");
        match (self.op, &self.re) {
            (Op::Equal, _) => v == self.value,
            (Op::NotEqual, _) => v != self.value,
            (Op::Regex, Some(re)) => re.is_match(v),
            (Op::NotRegex, Some(re)) => !re.is_match(v),
            _ => false,
        }
    }
}

fn unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next()? {
                'n' => out.push('\n'),
                '"' => out.push('"'),
                '\\' => out.push('\\'),
                other => {
                    out.push('\\');
                    out.push(other)
                }
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

impl<'de> Deserialize<'de> for Matcher {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Matcher, D::Error> {
        let s = String::deserialize(d)?;
        Matcher::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> KV {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn operators() {
        let l = labels(&[("severity", "critical"), ("service", "api")]);
        assert!(Matcher::parse("severity=\"critical\"").unwrap().matches(&l));
        assert!(Matcher::parse("severity = critical").unwrap().matches(&l));
        assert!(!Matcher::parse("severity!=\"critical\"").unwrap().matches(&l));
        assert!(Matcher::parse("service=~\"api|web\"").unwrap().matches(&l));
        assert!(!Matcher::parse("service=~\"ap\"").unwrap().matches(&l), "anchored");
        assert!(Matcher::parse("team!~\"ops.*\"").unwrap().matches(&l));
        assert!(Matcher::parse("team=\"\"").unwrap().matches(&l), "missing label is empty");
    }

    #[test]
    fn errors() {
        assert!(Matcher::parse("severity").unwrap_err().contains("no operator"));
        assert!(Matcher::parse("1x=\"a\"").unwrap_err().contains("bad label name"));
        assert!(Matcher::parse("a=~\"(\"").unwrap_err().contains("bad regex"));
        assert!(Matcher::parse("a=\"x").unwrap_err().contains("unterminated"));
    }
}
