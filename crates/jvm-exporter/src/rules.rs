//! `--config.file`: jmx_exporter's rule format for any MBean, so that a user's existing
//! jmx_exporter config works unchanged. Loading and checking the file is here; matching an
//! attribute against the rules is in `rules/matching.rs` (Java's replacement and number
//! formats in `rules/java.rs`), and the Jolokia side (which MBeans
//! to read, how their values are walked) in `collectors/rules.rs`.
//!
//! Semantics follow jmx_exporter's `JmxCollector`: each attribute becomes the string
//! `domain<k1=v1, k2=v2><key1, key2>attrName: value`, matched against each rule's
//! `pattern` wrapped as `^.*(?:pattern).*$`; the first matching rule wins. `name`, `help`,
//! `labels` and `value` take Java-style `$1` references to the pattern's groups.

mod java;
mod matching;

use std::collections::BTreeMap;
use std::path::Path;

use regex::Regex;
use serde::de::IgnoredAny;
use serde::Deserialize;
use vigie_kit::config::ConfigError;

pub use matching::{Bean, Matched, Value};

/// A scalar that jmx_exporter reads with `String.valueOf` (`value: 1`, `valueFactor: "0.001"`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Scalar {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

impl Scalar {
    /// As Java's `String.valueOf` prints it.
    fn text(&self) -> String {
        match self {
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => java::java_double(*f),
            Scalar::Str(s) => s.clone(),
        }
    }
}

/// The file as written. jmx_exporter's connection and HTTP server settings are accepted and
/// ignored (Jolokia and `--web.*` take their place), so that the same file serves both.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code)] // the accepted-and-ignored settings
struct File {
    #[serde(default)]
    lowercase_output_name: bool,
    #[serde(default)]
    lowercase_output_label_names: bool,
    #[serde(default)]
    infer_counter_type_from_name: bool,
    include_object_names: Option<Vec<String>>,
    whitelist_object_names: Option<Vec<String>>,
    exclude_object_names: Option<Vec<String>>,
    blacklist_object_names: Option<Vec<String>>,
    rules: Option<Vec<RuleFile>>,
    // Accepted, not used here.
    start_delay_seconds: Option<IgnoredAny>,
    scrape_timeout_seconds: Option<IgnoredAny>,
    host_port: Option<IgnoredAny>,
    jmx_url: Option<IgnoredAny>,
    username: Option<IgnoredAny>,
    password: Option<IgnoredAny>,
    ssl: Option<IgnoredAny>,
    http_server: Option<IgnoredAny>,
    open_telemetry: Option<IgnoredAny>,
    exclude_jvm_metrics: Option<IgnoredAny>,
    metric_customizers: Option<IgnoredAny>,
    include_object_name_attributes: Option<IgnoredAny>,
    exclude_object_name_attributes: Option<IgnoredAny>,
    auto_exclude_object_name_attributes: Option<IgnoredAny>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RuleFile {
    pattern: Option<String>,
    name: Option<String>,
    value: Option<Scalar>,
    value_factor: Option<Scalar>,
    labels: Option<BTreeMap<String, String>>,
    help: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    attr_name_snake_case: bool,
    /// jmx_exporter caches match results; matching here is cheap enough without.
    #[allow(dead_code)]
    cache: Option<bool>,
}

/// The Prometheus type a rule gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    /// `GAUGE`.
    Gauge,
    /// `COUNTER`.
    Counter,
    /// Anything else (`UNTYPED`, `UNKNOWN`, the default).
    Untyped,
}

/// One compiled rule.
#[derive(Debug)]
pub struct Rule {
    /// `^.*(?:pattern).*$`; `None` matches everything (the default rule).
    pub pattern: Option<Regex>,
    /// Highest group number of `pattern`.
    pub groups: usize,
    /// Name template; `None` gives the default format.
    pub name: Option<String>,
    /// Value template.
    pub value: Option<String>,
    /// Multiplier for numeric values.
    pub value_factor: f64,
    /// Label name and value templates, sorted by name (as jmx_exporter's TreeMap).
    pub labels: Vec<(String, String)>,
    /// Help template.
    pub help: Option<String>,
    /// Type.
    pub kind: Type,
    /// Snake-case the attribute name before matching.
    pub attr_name_snake_case: bool,
}

/// A loaded, checked config.
#[derive(Debug)]
pub struct Rules {
    /// Lowercase metric names.
    pub lowercase_output_name: bool,
    /// Lowercase label names.
    pub lowercase_output_label_names: bool,
    /// A name ending in `_total` makes a counter.
    pub infer_counter_type_from_name: bool,
    /// ObjectName patterns read through Jolokia (`*:*` when none is given).
    pub include: Vec<String>,
    /// ObjectName patterns dropped from what `include` found.
    pub exclude: Vec<matching::ObjectNamePattern>,
    /// The rules, in order.
    pub rules: Vec<Rule>,
}

impl Rules {
    /// Reads and checks `path`. Every problem names the file, its line and the rule.
    pub fn load(path: &Path) -> Result<Rules, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            path: path.to_path_buf(),
            location: None,
            field: None,
            msg: e.to_string(),
        })?;
        Rules::parse(path, &text)
    }

    /// Parses and checks `text`, naming `path` in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Rules, ConfigError> {
        // An empty file is jmx_exporter's "collect everything" config.
        let file: File = if text.lines().all(|l| {
            let l = l.trim();
            l.is_empty() || l.starts_with('#') || l == "---"
        }) {
            File::default()
        } else {
            vigie_kit::config::parse(path, text)?
        };
        let err = |field: String, msg: String| ConfigError::at_field(path, text, &field, msg);
        let include = match (file.include_object_names, file.whitelist_object_names) {
            (Some(names), _) => (names, "includeObjectNames"),
            (None, Some(names)) => (names, "whitelistObjectNames"),
            (None, None) => (vec!["*:*".to_owned()], ""),
        };
        for (i, name) in include.0.iter().enumerate() {
            matching::ObjectNamePattern::parse(name).map_err(|e| err(format!("{}[{i}]", include.1), e))?;
        }
        let exclude = match (file.exclude_object_names, file.blacklist_object_names) {
            (Some(names), _) => (names, "excludeObjectNames"),
            (None, Some(names)) => (names, "blacklistObjectNames"),
            (None, None) => (Vec::new(), ""),
        };
        let exclude = exclude
            .0
            .iter()
            .enumerate()
            .map(|(i, n)| matching::ObjectNamePattern::parse(n).map_err(|e| err(format!("{}[{i}]", exclude.1), e)))
            .collect::<Result<Vec<_>, _>>()?;
        let mut rules = Vec::new();
        match file.rules {
            None => rules.push(Rule::default_rule()),
            Some(list) => {
                for (i, r) in list.into_iter().enumerate() {
                    let at =
                        |field: &str, msg: String| err(format!("rules[{i}].{field}"), format!("rule {}: {msg}", i + 1));
                    rules.push(Rule::compile(r, &at)?);
                }
            }
        }
        Ok(Rules {
            lowercase_output_name: file.lowercase_output_name,
            lowercase_output_label_names: file.lowercase_output_label_names,
            infer_counter_type_from_name: file.infer_counter_type_from_name,
            include: include.0,
            exclude,
            rules,
        })
    }
}

impl Rule {
    fn default_rule() -> Rule {
        Rule {
            pattern: None,
            groups: 0,
            name: None,
            value: None,
            value_factor: 1.0,
            labels: Vec::new(),
            help: None,
            kind: Type::Untyped,
            attr_name_snake_case: false,
        }
    }

    fn compile(r: RuleFile, at: &dyn Fn(&str, String) -> ConfigError) -> Result<Rule, ConfigError> {
        if (r.labels.is_some() || r.help.is_some()) && r.name.is_none() {
            let field = if r.labels.is_some() { "labels" } else { "help" };
            return Err(at(field, "help and labels need a name".into()));
        }
        if r.name.is_some() && r.pattern.is_none() {
            return Err(at("name", "a name needs a pattern".into()));
        }
        let pattern = match &r.pattern {
            None => None,
            Some(p) => Some(Regex::new(&format!("^.*(?:{p}).*$")).map_err(|e| {
                at("pattern", format!("invalid regular expression {p:?}: {}", one_line(&e.to_string())))
            })?),
        };
        let groups = pattern.as_ref().map_or(0, |p| p.captures_len() - 1);
        let names: Vec<String> =
            pattern.as_ref().map(|p| p.capture_names().flatten().map(str::to_owned).collect()).unwrap_or_default();
        let check =
            |field: &str, template: &str| java::check_template(template, groups, &names).map_err(|e| at(field, e));
        if let Some(n) = &r.name {
            check("name", n)?;
        }
        if let Some(h) = &r.help {
            check("help", h)?;
        }
        let value = r.value.as_ref().map(Scalar::text);
        if let Some(v) = &value {
            check("value", v)?;
        }
        let labels: Vec<(String, String)> = r.labels.unwrap_or_default().into_iter().collect();
        for (k, v) in &labels {
            check("labels", k)?;
            check("labels", v)?;
        }
        let value_factor = match &r.value_factor {
            None => 1.0,
            Some(f) => java::java_parse_double(&f.text())
                .ok_or_else(|| at("valueFactor", format!("not a number: {:?}", f.text())))?,
        };
        let kind = match r.kind.as_deref() {
            Some("GAUGE") => Type::Gauge,
            Some("COUNTER") => Type::Counter,
            _ => Type::Untyped,
        };
        Ok(Rule {
            pattern,
            groups,
            name: r.name,
            value,
            value_factor,
            labels,
            help: r.help,
            kind,
            attr_name_snake_case: r.attr_name_snake_case,
        })
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests;
