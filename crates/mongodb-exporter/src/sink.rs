//! Where generic samples meet: one family keeps one HELP, one type and one label-name set,
//! and one label-value set appears once. A sample that breaks this, or a value of a type
//! that cannot be a sample, is dropped, logged once per name and counted in
//! `vigie_mongodb_dropped_samples_total{reason}`; the scrape goes on. (Percona's exporter
//! fails the whole scrape on the first two: its issues #675, #748, #913, #938.)

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use vigie_kit::{Kind, MetricSet};

use crate::naming::{Flat, Invalid, Metric};

/// Why a sample was dropped: the `reason` label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// A BSON type with no numeric meaning (null, decimal128…).
    InvalidValue,
    /// Same name with another HELP, type or label-name set than the family's first sample.
    Inconsistent,
    /// Same name and label values as an earlier sample.
    Duplicate,
}

impl Reason {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::InvalidValue => "invalid_value",
            Reason::Inconsistent => "inconsistent_family",
            Reason::Duplicate => "duplicate",
        }
    }
}

/// Drop counts and the names already logged, for the life of the process.
#[derive(Debug, Default)]
pub struct Drops {
    counts: Mutex<HashMap<Reason, u64>>,
    logged: Mutex<HashSet<String>>,
}

impl Drops {
    fn record(&self, reason: Reason, name: &str, why: &str) {
        if let Ok(mut c) = self.counts.lock() {
            *c.entry(reason).or_default() += 1;
        }
        let first = self.logged.lock().map(|mut l| l.insert(format!("{}:{name}", reason.as_str()))).unwrap_or(false);
        if first {
            tracing::warn!(
                metric = name,
                reason = reason.as_str(),
                err = why,
                "Dropped a sample (logged once per metric)."
            );
        }
    }

    /// Count of drops for `reason` so far.
    pub fn count(&self, reason: Reason) -> u64 {
        self.counts.lock().map(|c| c.get(&reason).copied().unwrap_or(0)).unwrap_or(0)
    }

    /// Writes `vigie_mongodb_dropped_samples_total{reason}`.
    pub fn write(&self, out: &mut MetricSet) {
        let f = out.family(
            "vigie_mongodb_dropped_samples_total",
            "Samples left out of scrapes because a value had no numeric meaning or a name collided with another, by reason.",
            Kind::Counter,
        );
        for r in [Reason::InvalidValue, Reason::Inconsistent, Reason::Duplicate] {
            f.push(&[("reason", r.as_str())], self.count(r) as f64);
        }
    }
}

struct Shape {
    help: String,
    kind: Kind,
    labels: Vec<String>,
}

/// Checks samples into one collector's [`MetricSet`].
pub struct Sink<'a> {
    out: &'a mut MetricSet,
    drops: &'a Drops,
    shapes: HashMap<String, Shape>,
    seen: HashSet<(String, Vec<(String, String)>)>,
}

impl<'a> Sink<'a> {
    /// A sink writing into `out`, counting into `drops`.
    pub fn new(out: &'a mut MetricSet, drops: &'a Drops) -> Sink<'a> {
        Sink { out, drops, shapes: HashMap::new(), seen: HashSet::new() }
    }

    /// Every sample and invalid value of a flattened document.
    pub fn flat(&mut self, flat: Flat) {
        for inv in flat.invalid {
            self.invalid(&inv);
        }
        for m in flat.metrics {
            self.push(m);
        }
    }

    /// Counts a value that could not be a sample.
    pub fn invalid(&mut self, inv: &Invalid) {
        self.drops.record(Reason::InvalidValue, &inv.name, &inv.why);
    }

    /// Adds `m` unless it breaks its family's shape or repeats a sample; returns whether it
    /// was kept.
    pub fn push(&mut self, mut m: Metric) -> bool {
        m.labels.sort();
        let names: Vec<String> = m.labels.iter().map(|(k, _)| k.clone()).collect();
        match self.shapes.get(&m.name) {
            Some(s) if s.help != m.help || s.kind != m.kind || s.labels != names => {
                let why = format!(
                    "HELP {:?}, type {}, labels {:?} where the family has {:?}, {}, {:?}",
                    m.help,
                    m.kind.as_str(),
                    names,
                    s.help,
                    s.kind.as_str(),
                    s.labels
                );
                self.drops.record(Reason::Inconsistent, &m.name, &why);
                return false;
            }
            Some(_) => {}
            None => {
                self.shapes.insert(m.name.clone(), Shape { help: m.help.clone(), kind: m.kind, labels: names });
            }
        }
        let key = (m.name, m.labels);
        if self.seen.contains(&key) {
            let why = format!("labels {:?} already have a sample", key.1);
            self.drops.record(Reason::Duplicate, &key.0, &why);
            return false;
        }
        let (name, labels) = key;
        let pairs: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.out.family(name.clone(), m.help, m.kind).push(&pairs, m.value);
        self.seen.insert((name, labels));
        true
    }
}
