//! A parser for the Prometheus text format 0.0.4: the textfile collector reads users' `.prom`
//! files with it, and tests read exporters' `/metrics` with it to compare families.
//!
//! It is strict where Prometheus is (a malformed line is an error naming the line) and keeps
//! what the encoder needs to write the samples back unchanged.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::exposition::{Family, Kind, Sample};

/// A malformed line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {msg}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub msg: String,
}

/// Parsed exposition: families in order of first appearance, and whether any sample carried
/// a timestamp (node_exporter refuses those in textfiles).
#[derive(Debug, Default)]
pub struct Parsed {
    /// Families, samples in file order.
    pub families: Vec<Family>,
    /// Some sample had a client-side timestamp.
    pub has_timestamps: bool,
}

/// Parses a whole exposition.
pub fn parse(text: &str) -> Result<Parsed, ParseError> {
    let mut out = Parsed::default();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut helps: HashMap<String, String> = HashMap::new();
    let mut types: HashMap<String, Kind> = HashMap::new();
    for (n, raw) in text.lines().enumerate() {
        let line_no = n + 1;
        let err = |msg: String| ParseError { line: line_no, msg };
        let line = raw.trim_start();
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix('#') {
            let rest = rest.trim_start();
            let (word, rest) = rest.split_once([' ', '\t']).unwrap_or((rest, ""));
            match word {
                "HELP" => {
                    let (name, help) = rest.trim_start().split_once([' ', '\t']).unwrap_or((rest.trim(), ""));
                    check_name(name).map_err(&err)?;
                    if helps.insert(name.to_owned(), unescape_help(help)).is_some() {
                        return Err(err(format!("second HELP line for metric name {name:?}")));
                    }
                    if let Some(&at) = index.get(name) {
                        out.families[at].help = Cow::Owned(helps[name].clone());
                    }
                }
                "TYPE" => {
                    let (name, kind) = rest.trim_start().split_once([' ', '\t']).unwrap_or((rest.trim(), ""));
                    check_name(name).map_err(&err)?;
                    let kind = Kind::parse(kind.trim())
                        .ok_or_else(|| err(format!("unknown metric type {:?}", kind.trim())))?;
                    if index.contains_key(name) {
                        return Err(err(format!("TYPE line for {name:?} after its samples")));
                    }
                    if types.insert(name.to_owned(), kind).is_some() {
                        return Err(err(format!("second TYPE line for metric name {name:?}")));
                    }
                }
                _ => {}
            }
            continue;
        }
        let (name, labels, value, ts) = sample_line(line).map_err(&err)?;
        out.has_timestamps |= ts;
        // A histogram's or summary's _bucket/_sum/_count samples belong to the base family.
        let (base, suffix) = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|sfx| {
                let base = name.strip_suffix(sfx)?;
                matches!(types.get(base), Some(Kind::Histogram | Kind::Summary)).then_some((base, *sfx))
            })
            .unwrap_or((name, ""));
        let kind = types.get(base).copied().unwrap_or(Kind::Untyped);
        if suffix == "_bucket" && kind == Kind::Histogram && !labels.iter().any(|(k, _)| k == "le") {
            return Err(err(format!("histogram bucket of {base:?} without an \"le\" label")));
        }
        let at = *index.entry(base.to_owned()).or_insert_with(|| {
            out.families.push(Family {
                name: Cow::Owned(base.to_owned()),
                help: Cow::Owned(helps.get(base).cloned().unwrap_or_default()),
                kind,
                samples: Vec::new(),
            });
            out.families.len() - 1
        });
        let labels = labels.into_iter().map(|(k, v)| (Cow::Owned(k), v.into())).collect();
        out.families[at].samples.push(Sample { suffix: Cow::Owned(suffix.to_owned()), labels, value });
    }
    Ok(out)
}

fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name
            .chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(format!("invalid metric name {name:?}"))
    }
}

type Labels = Vec<(String, String)>;

fn sample_line(line: &str) -> Result<(&str, Labels, f64, bool), String> {
    let name_end = line.find(['{', ' ', '\t']).unwrap_or(line.len());
    let name = &line[..name_end];
    check_name(name)?;
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(body) = rest.strip_prefix('{') {
        let mut chars = body.char_indices().peekable();
        let mut consumed = None;
        loop {
            while chars.peek().is_some_and(|(_, c)| c.is_whitespace() || *c == ',') {
                chars.next();
            }
            match chars.peek() {
                Some((i, '}')) => {
                    consumed = Some(i + 1);
                    break;
                }
                None => break,
                _ => {}
            }
            let mut key = String::new();
            while let Some(&(_, c)) = chars.peek() {
                if c.is_ascii_alphanumeric() || c == '_' {
                    key.push(c);
                    chars.next();
                } else {
                    break;
                }
            }
            if key.is_empty() || key.starts_with(|c: char| c.is_ascii_digit()) {
                return Err(format!("invalid label name in {name:?}"));
            }
            while chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
                chars.next();
            }
            if chars.next().map(|(_, c)| c) != Some('=') {
                return Err(format!("expected '=' after label name {key:?}"));
            }
            while chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
                chars.next();
            }
            if chars.next().map(|(_, c)| c) != Some('"') {
                return Err(format!("expected '\"' to open the value of label {key:?}"));
            }
            let mut value = String::new();
            let mut closed = false;
            while let Some((_, c)) = chars.next() {
                match c {
                    '"' => {
                        closed = true;
                        break;
                    }
                    '\\' => match chars.next().map(|(_, c)| c) {
                        Some('n') => value.push('\n'),
                        Some('\\') => value.push('\\'),
                        Some('"') => value.push('"'),
                        other => return Err(format!("invalid escape {other:?} in label {key:?}")),
                    },
                    c => value.push(c),
                }
            }
            if !closed {
                return Err(format!("unterminated value of label {key:?}"));
            }
            if labels.iter().any(|(k, _): &(String, String)| *k == key) {
                return Err(format!("duplicate label {key:?}"));
            }
            labels.push((key, value));
        }
        let end = consumed.ok_or_else(|| format!("unterminated label set of {name:?}"))?;
        rest = &body[end..];
    }
    let mut fields = rest.split_whitespace();
    let value = fields.next().ok_or_else(|| format!("no value for {name:?}"))?;
    let value = parse_value(value).ok_or_else(|| format!("invalid value {value:?} for {name:?}"))?;
    let ts = match fields.next() {
        Some(t) => {
            t.parse::<i64>().map_err(|_| format!("invalid timestamp {t:?} for {name:?}"))?;
            true
        }
        None => false,
    };
    if let Some(extra) = fields.next() {
        return Err(format!("unexpected {extra:?} after the sample of {name:?}"));
    }
    Ok((name, labels, value, ts))
}

/// Parses a sample value as Go's `strconv.ParseFloat` does, `+Inf`/`-Inf`/`NaN` included.
pub fn parse_value(v: &str) -> Option<f64> {
    match v {
        "+Inf" | "Inf" | "+inf" | "inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        "NaN" | "nan" => Some(f64::NAN),
        _ => v.parse().ok(),
    }
}

fn unescape_help(h: &str) -> String {
    if !h.contains('\\') {
        return h.to_owned();
    }
    let mut out = String::with_capacity(h.len());
    let mut chars = h.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('\\') => out.push('\\'),
                Some(o) => {
                    out.push('\\');
                    out.push(o);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exposition::MetricSet;

    #[test]
    fn parses_and_reencodes_unchanged() {
        let text =
            "# HELP a_total Things.\n# TYPE a_total counter\na_total{x=\"1\"} 3\na_total{x=\"q\\\"\\n\\\\\"} 4\n\
# HELP h Latency.\n# TYPE h histogram\nh_bucket{le=\"0.1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 0.3\nh_count 2\n";
        let parsed = parse(text).unwrap();
        assert_eq!(parsed.families.len(), 2);
        assert_eq!(parsed.families[1].samples.len(), 4);
        let mut set = MetricSet::new();
        for f in parsed.families {
            let fam = set.family(f.name.clone(), f.help.clone(), f.kind);
            fam.samples.extend(f.samples);
        }
        assert_eq!(set.encode(), text);
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse("ok 1\nbad{x=\"1\" 2\n").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        let e = parse("# TYPE x gauge\n# TYPE x counter\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(parse("x notanumber\n").is_err());
        assert!(parse("1x 1\n").is_err());
        assert!(parse("x{a=\"1\",a=\"2\"} 1\n").is_err());
        assert!(parse("# TYPE x nonsense\n").is_err());
    }

    #[test]
    fn timestamps_and_untyped_are_seen() {
        let p = parse("x 1 1700000000000\ny{a=\"b\",} +Inf\n").unwrap();
        assert!(p.has_timestamps);
        assert_eq!(p.families[1].kind, Kind::Untyped);
        assert_eq!(p.families[1].samples[0].value, f64::INFINITY);
    }
}
