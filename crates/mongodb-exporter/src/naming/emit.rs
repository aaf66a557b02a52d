//! The generic naming of [`super::flatten`] written straight into a [`Sink`], with what
//! depends only on a value's path worked out once per process: a server sends the same
//! paths at every scrape, so the name, HELP, type, promoted label, always-on rename and
//! compatible-mode rows of each path are kept in a table ([`Plan`]) and a scrape only
//! hashes the path, copies the labels and pushes the value. Names and HELP texts of kept
//! plans live for the life of the process (packed in leaked blocks, [`MAX_TEXT`] bytes at
//! most, [`MAX_PLANS`] paths at most; past either limit a path is named sample by sample by
//! the reference walk), so a scrape allocates no name of its own.
//!
//! What is written is exactly what [`super::flatten`] then [`crate::compat::old_samples`]
//! give for the same document, in the same order (tested on the real captures).

use std::borrow::Cow;
use std::hash::Hasher as _;
use std::sync::{LazyLock, Mutex};

use mongodb::bson::{Bson, Document};
use vigie_kit::fasthash::{FastMap, FxHasher};
use vigie_kit::{Declared, LabelValue, Labels as SampleLabels};

use super::{generic, renamed, scalar, value_of, visit, Flat, Invalid, Label, Shared};
use crate::compat::{self, find, map_label, OldRow};
use crate::sink::Sink;

/// Paths whose plans are kept; a server that invents new keys at every scrape (none seen)
/// stops adding here and is named sample by sample.
pub const MAX_PLANS: usize = 16_384;
/// Bytes of names and HELP texts kept for the life of the process.
pub const MAX_TEXT: usize = 2 << 20;
/// Prefixes whose family counts are kept.
const MAX_PREFIXES: usize = 64;
/// Size of one leaked block of texts.
const BLOCK: usize = 32 << 10;

/// Writes every scalar of `doc` under `prefix`, with `labels`, through `sink`: the generic
/// samples and, when `compatible`, each one's old-style samples right after it (what
/// [`super::flatten`], [`crate::compat::old_samples`] and [`Sink::push`] give, sample by
/// sample). Values no sample can carry are counted by the sink.
pub fn write(sink: &mut Sink<'_>, prefix: &str, doc: &Document, labels: &[Label], histograms: bool, compatible: bool) {
    let mut cache = CACHE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    write_with(&mut cache, sink, prefix, doc, labels, histograms, compatible);
}

fn write_with(
    cache: &mut Cache,
    sink: &mut Sink<'_>,
    prefix: &str,
    doc: &Document,
    labels: &[Label],
    histograms: bool,
    compatible: bool,
) {
    // The families this prefix added last time: the set grows once, not by doubling.
    let (families, key) = (sink.family_count(), path_hash(prefix, ""));
    sink.reserve_families(cache.families.get(&key).map_or(0, |&n| n as usize));
    // Plans are made in document order and a server sends its keys in the same order at
    // every scrape: the plan after the last one found is tried before the hash table.
    let mut next = 0;
    visit(prefix, doc, labels, histograms, &mut |prefix, key, v, labels| {
        let value = match value_of(v) {
            None => return,
            Some(value) => value,
        };
        let guess = cache.plans.get(next).is_some_and(|p| p.is(prefix, key));
        let at = match guess {
            true => next,
            false => match cache.find(prefix, key) {
                Some(at) => at,
                None => match cache.add(prefix, key) {
                    Some(at) => at,
                    None => return alone(sink, prefix, key, v, labels, compatible),
                },
            },
        };
        next = at + 1;
        let plan = &cache.plans[at];
        match value {
            Ok(x) => plan.push(&cache.outs, sink, labels, x, compatible),
            Err(t) => sink.invalid(&Invalid {
                name: plan.family.name().to_owned(),
                why: format!("{prefix}{key}: unsupported BSON type {t}"),
            }),
        }
    });
    if cache.families.len() < MAX_PREFIXES || cache.families.contains_key(&key) {
        cache.families.insert(key, (sink.family_count() - families) as u32);
    }
}

/// One value named by the reference walk (a path past the limits).
fn alone(sink: &mut Sink<'_>, prefix: &str, key: &str, v: &Bson, labels: &[Label], compatible: bool) {
    let mut flat = Flat::default();
    scalar(prefix, key, v, labels, &mut flat);
    push_flat(sink, flat, compatible);
}

/// A reference walk's invalid values and samples (in compatible mode each followed by its
/// old-style twins) through the sink.
fn push_flat(sink: &mut Sink<'_>, flat: Flat, compatible: bool) {
    for inv in &flat.invalid {
        sink.invalid(inv);
    }
    for m in flat.metrics {
        let old = if compatible { compat::old_samples(&m) } else { Vec::new() };
        sink.push(m);
        for o in old {
            sink.push(o);
        }
    }
}

/// What one path (a parent path with its trailing dot, then a key) gives.
struct Plan {
    /// The generic family, declared once: its name, its HELP (the whole path, or for a
    /// promoted key the parent path) and its type.
    family: Declared,
    /// The promoted-key label (`conn_type="current"`…, the value being the key), set on
    /// the walk's labels.
    promoted: Option<(&'static str, LabelValue)>,
    /// Length of the parent path.
    split: u32,
    /// When the path is renamed or has old-style names, the samples to write, in order, at
    /// `outs[start..start + len]` of the table; else only the generic sample.
    outs: (u32, u32),
    /// The next plan whose path has the same hash.
    next: Option<u32>,
}

/// One sample of a renamed path or one with old-style names.
struct Out {
    /// Its family, declared once.
    family: Declared,
    labels: Labels,
    /// Compatible mode only.
    old: bool,
}

enum Labels {
    /// The walk's labels with the promoted one set.
    Walk,
    /// The same, names and values renamed (a compatible-mode row).
    Mapped { names: &'static [(&'static str, &'static str)], values: &'static [(&'static str, &'static str)] },
    /// This one only (an always-on rename, or a compatible-mode row with one label), and
    /// the one-pair set every sample of the row shares.
    Fixed { name: &'static str, value: &'static str, set: Shared },
}

impl Labels {
    fn fixed(name: &'static str, value: &'static str) -> Labels {
        Labels::Fixed { name, value, set: vec![(Cow::Borrowed(name), LabelValue::from(value))].into() }
    }
}

impl Plan {
    /// Whether this is the plan of `prefix` + `key`.
    fn is(&self, prefix: &str, key: &str) -> bool {
        if self.split as usize != prefix.len() {
            return false;
        }
        match &self.promoted {
            Some((_, k)) => {
                k.as_bytes() == key.as_bytes() && prefix.strip_suffix('.').unwrap_or(prefix) == self.family.help()
            }
            None => {
                let help = self.family.help();
                help.len() == prefix.len() + key.len()
                    && help.as_bytes()[..prefix.len()] == *prefix.as_bytes()
                    && help.as_bytes()[prefix.len()..] == *key.as_bytes()
            }
        }
    }

    /// Pushes the samples of one value.
    fn push(&self, outs: &[Out], sink: &mut Sink<'_>, labels: &Shared, value: f64, compatible: bool) {
        let (start, len) = (self.outs.0 as usize, self.outs.1 as usize);
        if len == 0 {
            let labels = self.walk_labels(labels);
            sink.push_kept(&self.family, labels, value);
            return;
        }
        for out in &outs[start..start + len] {
            if out.old && !compatible {
                continue;
            }
            let labels = match out.labels {
                Labels::Walk => self.walk_labels(labels),
                Labels::Mapped { names, values } => {
                    let mut l = self.walk_labels(labels);
                    for pair in l.to_mut() {
                        *pair = map_label(names, values, pair);
                    }
                    l
                }
                Labels::Fixed { ref set, .. } => SampleLabels::Shared(set.clone()),
            };
            sink.push_kept(&out.family, labels, value);
        }
    }

    /// `labels` with the promoted label set (its value replaced when the name is there,
    /// else inserted before the first greater name: sorted labels stay sorted); without a
    /// promoted label, the walk's shared set itself.
    fn walk_labels(&self, labels: &Shared) -> SampleLabels {
        let Some((name, value)) = &self.promoted else { return SampleLabels::Shared(labels.clone()) };
        let mut l = Vec::with_capacity(labels.len() + 1);
        l.extend_from_slice(labels);
        match l.iter_mut().find(|(k, _)| k == name) {
            Some(pair) => pair.1 = value.clone(),
            None => {
                let at = l.iter().position(|(k, _)| **k > **name).unwrap_or(l.len());
                l.insert(at, (Cow::Borrowed(*name), value.clone()));
            }
        }
        SampleLabels::Own(l)
    }
}

/// The plans kept, found by the hash of their path.
#[derive(Default)]
struct Cache {
    plans: Vec<Plan>,
    outs: Vec<Out>,
    index: FastMap<u64, u32>,
    /// Families the last write of a prefix added, by the prefix's hash (a guess: a prefix
    /// whose hash another has gets the other's count).
    families: FastMap<u64, u32>,
    /// The free end of the current block of texts.
    block: &'static mut [u8],
    text_bytes: usize,
}

static CACHE: LazyLock<Mutex<Cache>> = LazyLock::new(Mutex::default);

fn path_hash(prefix: &str, key: &str) -> u64 {
    let mut h = FxHasher::default();
    h.write(prefix.as_bytes());
    h.write(key.as_bytes());
    h.finish()
}

impl Cache {
    fn find(&self, prefix: &str, key: &str) -> Option<usize> {
        let mut at = self.index.get(&path_hash(prefix, key)).copied();
        while let Some(i) = at {
            let plan = &self.plans[i as usize];
            if plan.is(prefix, key) {
                return Some(i as usize);
            }
            at = plan.next;
        }
        None
    }

    /// `s` copied into the current block of texts (a new block when it does not fit),
    /// there for good.
    fn keep(&mut self, s: &str) -> &'static str {
        if s.len() > self.block.len() {
            let size = BLOCK.max(s.len());
            self.block = Box::leak(vec![0u8; size].into_boxed_slice());
            self.text_bytes += size;
        }
        let (text, rest) = std::mem::take(&mut self.block).split_at_mut(s.len());
        self.block = rest;
        text.copy_from_slice(s.as_bytes());
        // Copied from a `&str`: always UTF-8.
        std::str::from_utf8(text).unwrap_or("")
    }

    /// Builds and keeps the plan of a path not kept yet, unless a limit is reached.
    fn add(&mut self, prefix: &str, key: &str) -> Option<usize> {
        if self.plans.len() >= MAX_PLANS || self.text_bytes >= MAX_TEXT {
            return None;
        }
        let (name, help, kind, promoted) = generic(prefix, key);
        let (name, help) = (self.keep(&name), self.keep(&help));
        let start = self.outs.len();
        let generic: Vec<Out> = match renamed().get(name) {
            Some(rows) => rows
                .iter()
                .map(|(new, label, v)| Out {
                    family: Declared::new(new, new, kind),
                    labels: Labels::fixed(label, v),
                    old: false,
                })
                .collect(),
            None => vec![Out { family: Declared::new(name, help, kind), labels: Labels::Walk, old: false }],
        };
        for g in generic {
            let olds: Vec<Out> = compat::old_rows(g.family.name())
                .map(|row| match row {
                    OldRow::Mapped { old, names, values } => Out {
                        family: Declared::new(old, g.family.help(), kind),
                        labels: match g.labels {
                            Labels::Fixed { name, value, .. } => {
                                Labels::fixed(find(names, name).unwrap_or(name), find(values, value).unwrap_or(value))
                            }
                            _ => Labels::Mapped { names, values },
                        },
                        old: true,
                    },
                    OldRow::Fixed { old, label, value } => {
                        Out { family: Declared::new(old, old, kind), labels: Labels::fixed(label, value), old: true }
                    }
                })
                .collect();
            let plain = olds.is_empty() && matches!(g.labels, Labels::Walk);
            if !plain || self.outs.len() > start {
                self.outs.push(g);
            }
            self.outs.extend(olds);
        }
        let at = self.plans.len();
        let next = self.index.insert(path_hash(prefix, key), at as u32);
        self.plans.push(Plan {
            family: Declared::new(name, help, kind),
            promoted: promoted.map(|l| (l, LabelValue::from(key))),
            split: prefix.len() as u32,
            outs: (start as u32, (self.outs.len() - start) as u32),
            next,
        });
        Some(at)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::fixture;
    use crate::sink::{Drops, Reason};
    use mongodb::bson::{doc, Bson};
    use vigie_kit::MetricSet;

    /// The reference: flatten, then each sample and its old-style ones through the sink.
    fn reference(
        prefix: &str,
        d: &Document,
        labels: &[Label],
        histograms: bool,
        compatible: bool,
    ) -> (String, [u64; 3]) {
        let (drops, mut out) = (Drops::default(), MetricSet::new());
        let flat = super::super::flatten(prefix, d, labels, histograms);
        push_flat(&mut Sink::new(&mut out, &drops), flat, compatible);
        (out.encode(), counts(&drops))
    }

    fn planned(prefix: &str, d: &Document, labels: &[Label], histograms: bool, compatible: bool) -> (String, [u64; 3]) {
        let (drops, mut out) = (Drops::default(), MetricSet::new());
        write(&mut Sink::new(&mut out, &drops), prefix, d, labels, histograms, compatible);
        (out.encode(), counts(&drops))
    }

    fn counts(d: &Drops) -> [u64; 3] {
        [d.count(Reason::InvalidValue), d.count(Reason::Inconsistent), d.count(Reason::Duplicate)]
    }

    #[test]
    fn same_output_as_the_reference_walk() {
        // Sorted (as the exporter's topology labels are) and not.
        let topo: Vec<Label> = vec![
            ("cl_id".into(), "".into()),
            ("cl_role".into(), "".into()),
            ("rs_nm".into(), "rs0".into()),
            ("rs_state".into(), "1".into()),
        ];
        let mut unsorted = topo.clone();
        unsorted.swap(0, 3);
        let odd = doc! { "serverStatus": { "x": Bson::Null, "connections": { "current": 1, "bad": Bson::Decimal128(mongodb::bson::Decimal128::from_bytes([0; 16])) } } };
        let index = doc! { "storageStats": { "indexSizes": { "_id_": 4096, "a_1": 8192 }, "indexDetails": { "_id_": { "cache": { "bytes read into cache": 5 } } }, "count": 3 } };
        let cases = [
            ("", fixture("getDiagnosticData.data-4.2.8-rs-primary.json").unwrap()),
            ("", fixture("getDiagnosticData.data-8.3.excerpt.json").unwrap()),
            ("", odd),
            ("collstats", index),
        ];
        for ((prefix, d), topo) in cases.iter().flat_map(|c| [(c, &topo), (c, &unsorted)]) {
            for histograms in [false, true] {
                for compatible in [false, true] {
                    let want = reference(prefix, d, topo, histograms, compatible);
                    assert!(want.0.lines().count() > 2, "{prefix}: {}", want.0);
                    // Twice: plans built, then plans found.
                    for round in 0..2 {
                        let got = planned(prefix, d, topo, histograms, compatible);
                        assert_eq!(
                            got.1, want.1,
                            "{prefix} histograms {histograms} compatible {compatible} round {round}"
                        );
                        if got.0 != want.0 {
                            let diff: Vec<_> =
                                got.0.lines().zip(want.0.lines()).filter(|(a, b)| a != b).take(5).collect();
                            panic!("{prefix} histograms {histograms} compatible {compatible} round {round}: {diff:#?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn past_the_limits_each_sample_is_named_alone() {
        let d = fixture("getDiagnosticData.data-4.2.8-rs-primary.json").unwrap();
        let want = reference("", &d, &[], false, true);
        // Room for a few texts only: the first paths get plans, the others are named alone.
        let mut cache = Cache { text_bytes: MAX_TEXT - 1, ..Cache::default() };
        for _ in 0..2 {
            let (drops, mut out) = (Drops::default(), MetricSet::new());
            write_with(&mut cache, &mut Sink::new(&mut out, &drops), "", &d, &[], false, true);
            assert_eq!((out.encode(), counts(&drops)), want);
        }
        assert!(!cache.plans.is_empty() && cache.plans.len() < 100, "{} plans", cache.plans.len());
    }
}
