//! `--config.file` rules over the MBeans Jolokia read for them (one pattern read per
//! `includeObjectNames` entry, in the same bulk request as everything else): walks each
//! attribute as jmx_exporter's `JmxScraper` does (composite values by key, arrays and nulls
//! skipped) and writes what the rules make of it (`rules.rs`).

use std::collections::{HashMap, HashSet};

use serde_json::Value as Json;
use vigie_kit::{CollectResult, Kind, MetricSet, Registration, Scrape, SyncCollector};

use crate::collectors::{names, Names};
use crate::rules::{Bean, Matched, Rules, Type};

/// The registration.
pub const REG: Registration<crate::Target> = Registration {
    name: "rules",
    default_enabled: true,
    help: "Any MBean, through jmx_exporter's rules in --config.file (nothing without one).",
    args: vigie_kit::collector::no_args,
    build: |m| Ok(Box::new(RulesCollector { names: names(m) })),
};

/// Applies the rules to the reply.
pub struct RulesCollector {
    names: Names,
}

/// Every matched sample of one reply, deduplicated by MBean (an MBean found by two include
/// patterns is read once, as jmx_exporter's set of names does).
pub fn matched(rules: &Rules, reads: &[(String, Json)]) -> Vec<Matched> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for (requested, value) in reads {
        let Some(map) = value.as_object() else { continue };
        // A pattern read answers {name: {attr: v}}; a read of one MBean answers {attr: v}.
        let beans: Vec<(&str, &serde_json::Map<String, Json>)> = if is_pattern(requested) {
            map.iter().filter_map(|(n, attrs)| Some((n.as_str(), attrs.as_object()?))).collect()
        } else {
            vec![(requested.as_str(), map)]
        };
        for (object_name, attrs) in beans {
            let Some(bean) = Bean::parse(object_name) else { continue };
            if rules.exclude.iter().any(|p| p.matches(&bean)) || !seen.insert(object_name.to_owned()) {
                continue;
            }
            // jmx_exporter skips these: large, and never numbers.
            let runtime = bean.domain == "java.lang" && bean.props.len() == 1 && bean.props[0] == ("type".into(), "Runtime".into());
            for (attr, v) in attrs {
                if runtime && ["SystemProperties", "ClassPath", "BootClassPath", "LibraryPath"].contains(&attr.as_str()) {
                    continue;
                }
                walk(rules, &bean, &mut Vec::new(), attr, v, &mut out);
            }
        }
    }
    out
}

fn walk<'a>(rules: &Rules, bean: &Bean, keys: &mut Vec<&'a str>, attr: &'a str, v: &'a Json, out: &mut Vec<Matched>) {
    use crate::rules::Value as V;
    let value = match v {
        Json::Number(n) => V::Number(n),
        Json::Bool(b) => V::Bool(*b),
        Json::String(s) => V::Str(s),
        // Composite data: its keys, sorted (serde_json's map is), under the attribute name.
        Json::Object(map) => {
            keys.push(attr);
            for (k, v) in map {
                walk(rules, bean, keys, k, v, out);
            }
            keys.pop();
            return;
        }
        Json::Array(_) | Json::Null => return,
    };
    out.extend(rules.record(bean, keys, attr, value));
}

/// Whether Jolokia treats `name` as a pattern (and answers a map keyed by MBean name).
pub fn is_pattern(name: &str) -> bool {
    name.contains(['*', '?'])
}

/// Writes matched samples: one family per name (type UNKNOWN when rules disagree), an
/// `_objectname` label when two samples of a name have the same labels, and in the 1.x
/// generation client_java 1.x's counter naming (`_total` taken off every name, put back on
/// counters).
pub fn write(matched: Vec<Matched>, names: Names, out: &mut MetricSet) {
    let mut by_name: HashMap<String, Vec<Matched>> = HashMap::new();
    for m in matched {
        by_name.entry(m.name.clone()).or_default().push(m);
    }
    for (name, samples) in by_name {
        let first = &samples[0];
        let kind = if samples.iter().all(|m| m.kind == first.kind) { first.kind } else { Type::Untyped };
        let mut unique = HashSet::new();
        let labels_unique = samples.iter().all(|m| unique.insert(&m.labels));
        let name = match names {
            Names::Simpleclient => name,
            Names::ClientJava1 => {
                let base = name.strip_suffix("_total").unwrap_or(&name).to_owned();
                if kind == Type::Counter { format!("{base}_total") } else { base }
            }
        };
        let kind = match kind {
            Type::Gauge => Kind::Gauge,
            Type::Counter => Kind::Counter,
            Type::Untyped => Kind::Untyped,
        };
        let help = first.help.clone();
        let family = out.family(name, help, kind);
        for m in &samples {
            let mut labels: Vec<(&str, &str)> = m.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let domain = m.match_name.rfind(':').map_or(m.match_name.as_str(), |i| &m.match_name[..i]);
            if !labels_unique {
                labels.push(("_objectname", domain));
            }
            family.push_dynamic("", &labels, m.value);
        }
    }
}

impl SyncCollector<crate::Target> for RulesCollector {
    fn collect_sync(&self, cx: &Scrape<crate::Target>, out: &mut MetricSet) -> CollectResult {
        let Some(rules) = cx.target.rules.as_deref() else { return Ok(()) };
        write(matched(rules, &cx.target.rule_reads), self.names, out);
        Ok(())
    }
}
