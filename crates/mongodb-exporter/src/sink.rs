//! Where generic samples meet: one family keeps one HELP, one type and one label-name set,
//! and one label-value set appears once. A sample that breaks this, or a value of a type
//! that cannot be a sample, is dropped, logged once per name and counted in
//! `vigie_mongodb_dropped_samples_total{reason}`; the scrape goes on. (Percona's exporter
//! fails the whole scrape on the first two: its issues #675, #748, #913, #938.)

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Mutex;

use vigie_kit::exposition::Sample;
use vigie_kit::{Kind, MetricSet};

use crate::naming::{Flat, Invalid, Label, Metric};

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

/// Checks samples into one collector's [`MetricSet`]. A family's shape is its first
/// sample's (the set's own family record holds HELP and type); duplicates are found through
/// a hash of name and labels, confirmed against the family's samples.
pub struct Sink<'a> {
    out: &'a mut MetricSet,
    drops: &'a Drops,
    seen: HashSet<u64, BuildHasherDefault<Prehashed>>,
}

/// The keys of `seen` are hashes already: used as they are.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A fast, non-keyed hash of a sample's name and labels (names the exporter builds itself:
/// SipHash's guard against chosen keys buys nothing here). A collision only costs a scan of
/// the family's samples.
fn key_hash(name: &str, labels: &[Label]) -> u64 {
    let mut h = vigie_kit::fasthash::FxHasher::default();
    for field in std::iter::once(name).chain(labels.iter().flat_map(|(k, v)| [&**k, &**v])) {
        h.write(field.as_bytes());
        // The length ends the field, so ("ab", "c") and ("a", "bc") differ.
        h.write_usize(field.len());
    }
    h.finish()
}

impl<'a> Sink<'a> {
    /// A sink writing into `out`, counting into `drops`.
    pub fn new(out: &'a mut MetricSet, drops: &'a Drops) -> Sink<'a> {
        Sink { out, drops, seen: HashSet::default() }
    }

    /// Room for `n` more samples' checks.
    pub fn reserve(&mut self, n: usize) {
        self.seen.reserve(n);
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
        let hash = key_hash(&m.name, &m.labels);
        let repeated = self.seen.contains(&hash);
        // HELP is moved in only for a new family (an existing one keeps its own).
        let help = if self.out.contains(&m.name) { Cow::Borrowed("") } else { Cow::Owned(std::mem::take(&mut m.help)) };
        let family = self.out.family(m.name, help, m.kind);
        if let Some(first) = family.samples.first() {
            let same_names = first.labels.len() == m.labels.len()
                && first.labels.iter().zip(&m.labels).all(|((a, _), (b, _))| a == b);
            if family.help != m.help || family.kind != m.kind || !same_names {
                let names = |l: &mut dyn Iterator<Item = &str>| l.map(str::to_owned).collect::<Vec<_>>();
                let why = format!(
                    "HELP {:?}, type {}, labels {:?} where the family has {:?}, {}, {:?}",
                    m.help,
                    m.kind.as_str(),
                    names(&mut m.labels.iter().map(|(k, _)| k.as_ref())),
                    family.help,
                    family.kind.as_str(),
                    names(&mut first.labels.iter().map(|(k, _)| k.as_ref()))
                );
                self.drops.record(Reason::Inconsistent, &family.name, &why);
                return false;
            }
            if repeated && family.samples.iter().any(|s| s.suffix.is_empty() && same_labels(&s.labels, &m.labels)) {
                let why = format!("labels {:?} already have a sample", m.labels);
                self.drops.record(Reason::Duplicate, &family.name, &why);
                return false;
            }
        }
        self.seen.insert(hash);
        family.samples.push(Sample { suffix: Cow::Borrowed(""), labels: m.labels, value: m.value });
        true
    }
}

fn same_labels(a: &[Label], b: &[Label]) -> bool {
    a == b
}
