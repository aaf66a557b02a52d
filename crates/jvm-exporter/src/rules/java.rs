//! The Java behaviours the rules depend on, reproduced: `Matcher.replaceAll` replacement
//! syntax, `Double.toString` / `Double.valueOf`, and jmx_exporter's name helpers
//! (`toSafeName`, `toSnakeAndLowerCase`).

use regex::Captures;

/// Java's `Matcher.replaceAll` on a whole-input match: `$n` (as many digits as form a group
/// number), `${name}`, `\x` for a literal x; a group that did not take part gives "".
/// `None` only for references `check_template` would have refused.
pub fn expand(template: &str, caps: Option<&Captures<'_>>) -> Option<String> {
    if !template.contains(['$', '\\']) {
        return Some(template.to_owned());
    }
    let groups = caps.map_or(0, |c| c.len() - 1);
    let mut out = String::with_capacity(template.len() + 16);
    let mut it = template.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\\' => out.push(it.next()?),
            '$' => match it.next()? {
                '{' => {
                    let name: String = it.by_ref().take_while(|c| *c != '}').collect();
                    out.push_str(caps?.name(&name).map_or("", |m| m.as_str()));
                }
                d @ '0'..='9' => {
                    let mut n = d.to_digit(10)? as usize;
                    while let Some(next) = it.peek().and_then(|c| c.to_digit(10)) {
                        let longer = n * 10 + next as usize;
                        if longer > groups {
                            break;
                        }
                        n = longer;
                        it.next();
                    }
                    if n > groups {
                        return None;
                    }
                    out.push_str(caps.and_then(|c| c.get(n)).map_or("", |m| m.as_str()));
                }
                _ => return None,
            },
            c => out.push(c),
        }
    }
    Some(out)
}

/// Refuses what Java's replacement would throw on: `$` without a group, a group number the
/// pattern lacks, an unknown `${name}`, a trailing `\`.
pub fn check_template(template: &str, groups: usize, names: &[String]) -> Result<(), String> {
    let mut it = template.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\\' => {
                it.next().ok_or_else(|| format!("{template:?}: ends with a lone '\\'"))?;
            }
            '$' => match it.next() {
                Some('{') => {
                    let name: String = it.by_ref().take_while(|c| *c != '}').collect();
                    if !names.contains(&name) {
                        return Err(format!("{template:?}: the pattern has no group named {name:?}"));
                    }
                }
                Some(d @ '0'..='9') => {
                    let n = d.to_digit(10).unwrap_or(0) as usize;
                    if n > groups {
                        return Err(format!("{template:?}: ${n} but the pattern has {groups} group(s)"));
                    }
                }
                _ => return Err(format!("{template:?}: '$' must be followed by a group number or {{name}}")),
            },
            _ => {}
        }
    }
    Ok(())
}

/// jmx_exporter's `toSafeName`: characters other than `[a-zA-Z0-9:_]` become `_`, runs of
/// `_` collapse, a leading digit gets a `_` before it.
pub fn safe_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 1);
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        out.push('_');
    }
    let mut prev_underscore = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == ':' {
            out.push(c);
            prev_underscore = false;
        } else if !prev_underscore {
            out.push('_');
            prev_underscore = true;
        }
    }
    out
}

/// jmx_exporter's `toSnakeAndLowerCase`: `HeapMemoryUsage` → `heap_memory_usage`.
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    // The first character never gets a `_` before it.
    let mut prev_upper_or_underscore = true;
    for (i, c) in name.chars().enumerate() {
        let upper = c.is_uppercase();
        if i > 0 && upper && !prev_upper_or_underscore {
            out.push('_');
        }
        prev_upper_or_underscore = upper || c == '_';
        out.extend(c.to_lowercase());
    }
    out
}

/// Java's `Double.toString`: `1.0`, `0.5`, `1.0E10`, `1.5E-5`, `NaN`, `Infinity`.
pub fn java_double(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    let a = v.abs();
    if a == 0.0 || (1e-3..1e7).contains(&a) {
        let s = format!("{v}");
        return if s.contains('.') { s } else { format!("{s}.0") };
    }
    let s = format!("{v:e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let mantissa = if mantissa.contains('.') { mantissa.to_owned() } else { format!("{mantissa}.0") };
    format!("{mantissa}E{exp}")
}

/// Java's `Double.valueOf`: trims, accepts a `d`/`f` suffix, `NaN`, `Infinity`.
pub fn java_parse_double(s: &str) -> Option<f64> {
    let t = s.trim();
    let t = t.strip_suffix(['d', 'D', 'f', 'F']).unwrap_or(t);
    match t.trim_start_matches('+') {
        "NaN" => return Some(f64::NAN),
        "Infinity" => return Some(f64::INFINITY),
        _ => {}
    }
    if t == "-Infinity" {
        return Some(f64::NEG_INFINITY);
    }
    if t.is_empty() || t.contains(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E') {
        return None;
    }
    t.parse().ok()
}
