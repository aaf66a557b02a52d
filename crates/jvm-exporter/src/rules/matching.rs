//! Matching one MBean attribute against the rules, as jmx_exporter's `JmxCollector.Receiver`
//! does: the match string, Java-style `$n` replacement, safe names, the default format, and
//! ObjectName patterns for `excludeObjectNames`.

use super::java::{expand, java_double, java_parse_double, safe_name, snake_case};
use super::{Rule, Rules, Type};

/// An MBean as jmx_exporter sees it: domain and key properties in registration order, values
/// as written (quoted values keep their quotes).
#[derive(Debug, Clone)]
pub struct Bean {
    /// `java.lang`.
    pub domain: String,
    /// `[("type", "Memory")]`.
    pub props: Vec<(String, String)>,
    /// `<type=Memory>`, built once per bean.
    brackets: String,
}

impl Bean {
    /// Parses `domain:k=v,k2="v,2"`; `None` without a colon.
    pub fn parse(object_name: &str) -> Option<Bean> {
        let (domain, keys) = object_name.split_once(':')?;
        let props: Vec<(String, String)> = split_props(keys)
            .into_iter()
            .filter_map(|kv| kv.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
            .collect();
        let inner: Vec<String> = props.iter().map(|(k, v)| format!("{k}={v}")).collect();
        Some(Bean { domain: domain.to_owned(), brackets: format!("<{}>", inner.join(", ")), props })
    }

    /// A property's value.
    fn prop(&self, key: &str) -> Option<&str> {
        self.props.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// Splits a key property list on the commas outside quoted values.
fn split_props(keys: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in keys.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(&keys[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < keys.len() {
        out.push(&keys[start..]);
    }
    out
}

/// An ObjectName pattern (`*:*`, `java.lang:type=MemoryPool,*`, `Catalina:name="http-*",*`).
#[derive(Debug, Clone)]
pub struct ObjectNamePattern {
    domain: String,
    props: Vec<(String, String)>,
    /// Ends in `,*` (or is `*`): other properties may be present.
    open: bool,
}

impl ObjectNamePattern {
    /// Parses a pattern; the error says what is wrong.
    pub fn parse(text: &str) -> Result<ObjectNamePattern, String> {
        let (domain, keys) = text.split_once(':').ok_or_else(|| format!("{text:?} is not an ObjectName (no ':')"))?;
        let mut props = Vec::new();
        let mut open = false;
        for kv in split_props(keys) {
            if kv == "*" {
                open = true;
            } else if let Some((k, v)) = kv.split_once('=') {
                if k.is_empty() {
                    return Err(format!("{text:?}: empty property name"));
                }
                props.push((k.to_owned(), v.to_owned()));
            } else {
                return Err(format!("{text:?}: property {kv:?} has no '='"));
            }
        }
        if props.is_empty() && !open {
            return Err(format!("{text:?}: no properties (use {domain}:* for every MBean of the domain)"));
        }
        Ok(ObjectNamePattern { domain: domain.to_owned(), props, open })
    }

    /// Whether `bean` matches, as `ObjectName.apply` decides.
    pub fn matches(&self, bean: &Bean) -> bool {
        glob(&self.domain, &bean.domain)
            && self.props.iter().all(|(k, v)| bean.prop(k).is_some_and(|bv| glob(v, bv)))
            && (self.open || self.props.len() == bean.props.len())
    }
}

/// `*` and `?` wildcards.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// An attribute value as jmx_exporter sees it.
#[derive(Debug, Clone, Copy)]
pub enum Value<'a> {
    /// A JSON integer (Java `Long`/`Integer`) or float (`Double`).
    Number(&'a serde_json::Number),
    /// `Boolean`.
    Bool(bool),
    /// `String` (and enums, which Jolokia writes as their name).
    Str(&'a str),
}

impl Value<'_> {
    /// As Java's `toString` prints it (the `: value` of the match string).
    fn text(&self) -> String {
        match self {
            Value::Number(n) if n.is_f64() => java_double(n.as_f64().unwrap_or(f64::NAN)),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Str(s) => (*s).to_owned(),
        }
    }
}

/// One sample produced by a rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Matched {
    /// Metric name.
    pub name: String,
    /// The match string (for `_objectname` when labels collide).
    pub match_name: String,
    /// Type.
    pub kind: Type,
    /// HELP.
    pub help: String,
    /// Label pairs.
    pub labels: Vec<(String, String)>,
    /// Value.
    pub value: f64,
}

impl Rules {
    /// Matches one attribute (`keys`: composite path, `attr`: attribute or composite key).
    pub fn record(&self, bean: &Bean, keys: &[&str], attr: &str, value: Value<'_>) -> Option<Matched> {
        let value_text = value.text();
        let help_default = format!(
            "{}:name={},type={},attribute={attr}",
            bean.domain,
            bean.prop("name").unwrap_or("null"),
            bean.prop("type").unwrap_or("null")
        );
        let keys_text = format!("<{}>", keys.join(", "));
        for rule in &self.rules {
            let attr_name = if rule.attr_name_snake_case { snake_case(attr) } else { attr.to_owned() };
            let match_name = format!("{}{}{keys_text}{attr_name}: {value_text}", bean.domain, bean.brackets);
            let caps = match &rule.pattern {
                None => None,
                Some(p) => match p.captures(&match_name) {
                    Some(c) => Some(c),
                    None => continue,
                },
            };
            let mut fixed = None;
            if let Some(v) = rule.value.as_deref().filter(|v| !v.is_empty()) {
                // Not a number after substitution: jmx_exporter drops the attribute.
                fixed = Some(java_parse_double(&expand(v, caps.as_ref())?)?);
            }
            let number = match (fixed, value) {
                (Some(f), _) => f * rule.value_factor,
                (None, Value::Number(n)) => n.as_f64()? * rule.value_factor,
                (None, Value::Bool(b)) => f64::from(u8::from(b)),
                (None, Value::Str(_)) => return None,
            };
            let Some(name_template) = &rule.name else {
                return Some(self.default_export(bean, keys, &attr_name, match_name, help_default, rule, number));
            };
            let caps = caps.as_ref();
            let mut name = safe_name(&expand(name_template, caps)?);
            if name.is_empty() {
                return None;
            }
            if self.lowercase_output_name {
                name = name.to_lowercase();
            }
            let kind = self.infer(&name, rule.kind);
            let help = match &rule.help {
                Some(h) => expand(h, caps)?,
                None => help_default,
            };
            let mut labels = Vec::with_capacity(rule.labels.len());
            for (k, v) in &rule.labels {
                let mut k = safe_name(&expand(k, caps)?);
                let v = expand(v, caps)?;
                if self.lowercase_output_label_names {
                    k = k.to_lowercase();
                }
                if !k.is_empty() && !v.is_empty() {
                    labels.push((k, v));
                }
            }
            return Some(Matched { name, match_name, kind, help, labels, value: number });
        }
        None
    }

    fn infer(&self, name: &str, kind: Type) -> Type {
        if self.infer_counter_type_from_name && name.ends_with("_total") {
            Type::Counter
        } else {
            kind
        }
    }

    /// `domain_firstPropValue_key1_…_attr{otherProps…}`.
    #[allow(clippy::too_many_arguments)]
    fn default_export(
        &self,
        bean: &Bean,
        keys: &[&str],
        attr: &str,
        match_name: String,
        help: String,
        rule: &Rule,
        value: f64,
    ) -> Matched {
        let mut name = bean.domain.clone();
        if let Some((_, v)) = bean.props.first() {
            name.push('_');
            name.push_str(v);
        }
        for k in keys {
            name.push('_');
            name.push_str(k);
        }
        name.push('_');
        name.push_str(attr);
        let mut name = safe_name(&name);
        if self.lowercase_output_name {
            name = name.to_lowercase();
        }
        let labels = bean
            .props
            .iter()
            .skip(1)
            .map(|(k, v)| {
                let k = safe_name(k);
                (if self.lowercase_output_label_names { k.to_lowercase() } else { k }, v.clone())
            })
            .collect();
        let kind = self.infer(&name, rule.kind);
        Matched { name, match_name, kind, help, labels, value }
    }
}
