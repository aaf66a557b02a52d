//! Where generic samples meet: one family keeps one HELP, one type and one label-name set,
//! and one label-value set appears once. A sample that breaks this, or a value of a type
//! that cannot be a sample, is dropped, logged once per name and counted in
//! `vigie_mongodb_dropped_samples_total{reason}`; the scrape goes on. (Percona's exporter
//! fails the whole scrape on the first two: its issues #675, #748, #913, #938.)

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Mutex;

use vigie_kit::exposition::{Family, Sample, SharedId};
use vigie_kit::{Declared, Kind, Labels, MetricSet};

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
/// sample's (the set's own family record holds HELP and type); a duplicate is searched among
/// the family's samples, for a family of more than [`SMALL`] samples only when a hash of
/// name and labels was seen before.
pub struct Sink<'a> {
    out: &'a mut MetricSet,
    drops: &'a Drops,
    checks: Checks,
}

/// What the sink remembers to check samples faster.
#[derive(Default)]
struct Checks {
    /// Hashes of name and labels of the samples of large families.
    seen: HashSet<u64, BuildHasherDefault<Prehashed>>,
    /// The address of the last shared label set found sorted, held by a kept sample (so
    /// still that set's): a sample sharing it needs no check.
    sorted: SharedId,
}

/// Families up to this many samples are searched for a duplicate without hashing (most
/// have one sample).
const SMALL: usize = 16;

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
    let fields = labels.iter().flat_map(|(k, v)| [k.as_bytes(), v.as_bytes()]);
    for field in std::iter::once(name.as_bytes()).chain(fields) {
        h.write(field);
        // The length ends the field, so ("ab", "c") and ("a", "bc") differ.
        h.write_usize(field.len());
    }
    h.finish()
}

impl<'a> Sink<'a> {
    /// A sink writing into `out`, counting into `drops`.
    pub fn new(out: &'a mut MetricSet, drops: &'a Drops) -> Sink<'a> {
        Sink { out, drops, checks: Checks::default() }
    }

    /// Room for `n` more samples' checks.
    pub fn reserve(&mut self, n: usize) {
        self.checks.seen.reserve(n);
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
    pub fn push(&mut self, m: Metric) -> bool {
        self.push_parts(Cow::Owned(m.name), Cow::Owned(m.help), m.kind, m.labels, m.value)
    }

    /// [`Sink::push`] of a sample given by parts: a name and HELP kept elsewhere for good
    /// (the plans of [`crate::naming::emit`]) are borrowed, not copied.
    pub fn push_parts(
        &mut self,
        name: Cow<'static, str>,
        help: Cow<'static, str>,
        kind: Kind,
        labels: Vec<Label>,
        value: f64,
    ) -> bool {
        // An owned HELP is moved in only for a new family (an existing one keeps its own);
        // a borrowed one costs nothing to hand over and is kept for the comparison.
        let (family, help) = match help {
            Cow::Borrowed(h) => (self.out.family(name, h, kind), Cow::Borrowed(h)),
            Cow::Owned(h) if self.out.contains(&name) => (self.out.family(name, "", kind), Cow::Owned(h)),
            Cow::Owned(h) => (self.out.family(name, h, kind), Cow::Borrowed("")),
        };
        admit(family, &help, kind, labels.into(), value, self.drops, &mut self.checks)
    }

    /// [`Sink::push_parts`] of a family declared once by the caller, for good.
    pub fn push_kept(&mut self, declared: &Declared, labels: Labels, value: f64) -> bool {
        let family = self.out.declared(declared);
        admit(family, declared.help(), declared.kind(), labels, value, self.drops, &mut self.checks)
    }

    /// Families in the set written to.
    pub fn family_count(&self) -> usize {
        self.out.families().len()
    }

    /// Room for `n` more families in the set written to.
    pub fn reserve_families(&mut self, n: usize) {
        self.out.reserve(n);
    }
}

/// Adds a sample to `family` unless it breaks the family's shape (`help`, `kind`, label
/// names) or repeats a sample; returns whether it was kept.
fn admit(
    family: &mut Family,
    help: &str,
    kind: Kind,
    mut labels: Labels,
    value: f64,
    drops: &Drops,
    checks: &mut Checks,
) -> bool {
    let shared = labels.shared_id();
    if shared.is_none_or(|p| p != checks.sorted) && !labels.is_sorted() {
        labels.sort();
    }
    // Still shared: it was sorted already.
    let sorted = labels.shared_id();
    let seen = &mut checks.seen;
    if let Some(first) = family.samples.first() {
        let same_names = first.labels.len() == labels.len()
            && first.labels.iter().zip(&labels).all(|((a, _), (b, _))| same_text(a, b));
        if !same_text(&family.help, help) || family.kind != kind || !same_names {
            let names = |l: &mut dyn Iterator<Item = &str>| l.map(str::to_owned).collect::<Vec<_>>();
            let why = format!(
                "HELP {:?}, type {}, labels {:?} where the family has {:?}, {}, {:?}",
                help,
                kind.as_str(),
                names(&mut labels.iter().map(|(k, _)| k.as_ref())),
                family.help,
                family.kind.as_str(),
                names(&mut first.labels.iter().map(|(k, _)| k.as_ref()))
            );
            drops.record(Reason::Inconsistent, &family.name, &why);
            return false;
        }
        // A small family is searched; a large one's samples are found by hash first
        // (indexed when it grows past SMALL).
        let n = family.samples.len();
        let maybe = n < SMALL || {
            if n == SMALL {
                for s in &family.samples {
                    seen.insert(key_hash(&family.name, &s.labels));
                }
            }
            !seen.insert(key_hash(&family.name, &labels))
        };
        if maybe && family.samples.iter().any(|s| s.suffix.is_empty() && same_labels(&s.labels, &labels)) {
            let why = format!("labels {labels:?} already have a sample");
            drops.record(Reason::Duplicate, &family.name, &why);
            return false;
        }
    }
    // Most families hold one sample: room for one, not the four a first push makes.
    if family.samples.is_empty() {
        family.samples.reserve_exact(1);
    }
    family.samples.push(Sample { suffix: Cow::Borrowed(""), labels, value });
    if let Some(p) = sorted {
        checks.sorted = p;
    }
    true
}

/// Two texts are equal; the same kept text (one pointer) is not compared byte by byte.
fn same_text(a: &str, b: &str) -> bool {
    (a.len() == b.len() && std::ptr::eq(a.as_ptr(), b.as_ptr())) || a == b
}

fn same_labels(a: &[Label], b: &[Label]) -> bool {
    a == b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_found_in_small_and_large_families() {
        let (drops, mut out) = (Drops::default(), MetricSet::new());
        let mut sink = Sink::new(&mut out, &drops);
        let sample = |i: usize| Metric {
            name: "mongodb_x".into(),
            help: "x".into(),
            kind: Kind::Untyped,
            labels: vec![("b".into(), i.to_string().into()), ("a".into(), "same".into())],
            value: i as f64,
        };
        // Up to and past SMALL, every value once, then each value again.
        for i in 0..3 * SMALL {
            assert!(sink.push(sample(i)), "{i}");
        }
        for i in (0..3 * SMALL).rev() {
            assert!(!sink.push(sample(i)), "{i} again");
        }
        // Another label set is not a duplicate; another label name is inconsistent.
        assert!(sink.push(sample(3 * SMALL)));
        let mut odd = sample(0);
        odd.labels[0].0 = "c".into();
        assert!(!sink.push(odd));
        assert_eq!(drops.count(Reason::Duplicate), 3 * SMALL as u64);
        assert_eq!(drops.count(Reason::Inconsistent), 1);
        assert_eq!(out.sample_count(), 3 * SMALL + 1);
    }
}
