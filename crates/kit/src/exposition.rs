//! The metric model collectors write into: [`MetricSet`] holds [`Family`]s of [`Sample`]s,
//! built from compile-time [`Desc`]s or names known at run time. An exporter that writes the
//! same run-time names at every scrape declares each once ([`Declared`]) and gets back an
//! opaque handle that finds its family without hashing the name again.
//!
//! Turning a set into text is [`text`] (sorting and the 0.0.4 writer) and [`float`] (values
//! printed as Go prints them). The output is byte-for-byte what Go's `client_golang` writes
//! for the same samples: families sorted by name, label pairs by name, samples by label
//! values, values as `1.150976e+06`, `+Inf`, `NaN`. That keeps a `diff` against an incumbent
//! exporter's `/metrics` down to real differences.

use std::borrow::Cow;

pub mod float;
mod labels;
pub mod text;

pub use float::write_value;
pub use labels::{LabelPair, LabelValue, Labels, SharedId};
pub use text::SortMemo;

/// The type a family declares on its `# TYPE` line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A value that only goes up (resets on restart).
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// No declared type (node_exporter's textfile and some legacy families).
    Untyped,
    /// Quantiles plus `_sum` and `_count`.
    Summary,
    /// Buckets plus `_sum` and `_count`.
    Histogram,
}

impl Kind {
    /// The word on the `# TYPE` line.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Untyped => "untyped",
            Kind::Summary => "summary",
            Kind::Histogram => "histogram",
        }
    }

    /// Parses the word on a `# TYPE` line.
    pub fn parse(word: &str) -> Option<Kind> {
        Some(match word {
            "counter" => Kind::Counter,
            "gauge" => Kind::Gauge,
            "untyped" => Kind::Untyped,
            "summary" => Kind::Summary,
            "histogram" => Kind::Histogram,
            _ => return None,
        })
    }
}

/// A metric family known at compile time: name, help, type and label names.
///
/// Collectors declare these as `const`s and push samples against them every scrape.
#[derive(Debug)]
pub struct Desc {
    /// Full metric name, e.g. `node_load1`.
    pub name: &'static str,
    /// HELP text.
    pub help: &'static str,
    /// Declared type.
    pub kind: Kind,
    /// Label names, in the order [`MetricSet::add`] takes their values.
    pub labels: &'static [&'static str],
}

impl Desc {
    /// A counter family.
    pub const fn counter(name: &'static str, help: &'static str, labels: &'static [&'static str]) -> Desc {
        Desc { name, help, kind: Kind::Counter, labels }
    }

    /// A gauge family.
    pub const fn gauge(name: &'static str, help: &'static str, labels: &'static [&'static str]) -> Desc {
        Desc { name, help, kind: Kind::Gauge, labels }
    }

    /// An untyped family.
    pub const fn untyped(name: &'static str, help: &'static str, labels: &'static [&'static str]) -> Desc {
        Desc { name, help, kind: Kind::Untyped, labels }
    }
}

/// One sample: an optional name suffix (`_bucket`, `_sum`, `_count` for histograms and
/// summaries), its label pairs and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// Appended to the family name (empty for plain counters and gauges).
    pub suffix: Cow<'static, str>,
    /// Label pairs, in the order they were given (the encoder sorts them by name).
    pub labels: Labels,
    /// The value.
    pub value: f64,
}

/// A named family of samples.
#[derive(Clone, Debug, PartialEq)]
pub struct Family {
    /// Metric name.
    pub name: Cow<'static, str>,
    /// HELP text.
    pub help: Cow<'static, str>,
    /// Declared type.
    pub kind: Kind,
    /// Samples in insertion order.
    pub samples: Vec<Sample>,
}

impl Family {
    /// Adds a sample with the given label pairs.
    pub fn push(&mut self, labels: &[(&'static str, &str)], value: f64) {
        self.push_suffixed("", labels, value);
    }

    /// Adds a sample whose name is the family name plus `suffix` (`_bucket`, `_sum`, `_count`).
    /// Label names are compile-time strings, kept by reference.
    pub fn push_suffixed(&mut self, suffix: &str, labels: &[(&'static str, &str)], value: f64) {
        let labels = labels.iter().map(|(k, v)| (Cow::Borrowed(*k), LabelValue::from(*v))).collect();
        self.samples.push(Sample { suffix: suffix_cow(suffix), labels, value });
    }

    /// [`Family::push_suffixed`] for label names known only at run time (a registry's,
    /// a textfile's): each name is copied.
    pub fn push_dynamic(&mut self, suffix: &str, labels: &[(&str, &str)], value: f64) {
        let labels = labels.iter().map(|(k, v)| (Cow::Owned((*k).to_owned()), LabelValue::from(*v))).collect();
        self.samples.push(Sample { suffix: suffix_cow(suffix), labels, value });
    }
}

/// A sample's name suffix, without an allocation for the usual ones.
fn suffix_cow(suffix: &str) -> Cow<'static, str> {
    match suffix {
        "" => Cow::Borrowed(""),
        "_sum" => Cow::Borrowed("_sum"),
        "_count" => Cow::Borrowed("_count"),
        "_bucket" => Cow::Borrowed("_bucket"),
        other => Cow::Owned(other.to_owned()),
    }
}

/// A family declared once, for good, by an exporter whose family names are only known at run
/// time but then kept (the mongodb exporter's names, built from the server's documents):
/// [`MetricSet::declared`] finds its family from the opaque id worked out here, without
/// hashing the name at each sample.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Declared {
    name: &'static str,
    help: &'static str,
    kind: Kind,
    /// The family's index key; private, so that it always belongs to `name`.
    id: u64,
}

impl Declared {
    /// Declares family `name`, with `help` and `kind`.
    pub fn new(name: &'static str, help: &'static str, kind: Kind) -> Declared {
        Declared { name, help, kind, id: family_hash(name) }
    }

    /// Its name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Its help.
    pub fn help(&self) -> &'static str {
        self.help
    }

    /// Its type.
    pub fn kind(&self) -> Kind {
        self.kind
    }
}

/// What one collector (or one scrape) produced: families by name.
#[derive(Debug, Default)]
pub struct MetricSet {
    families: Vec<Family>,
    /// Family position by the hash of its name ([`family_hash`]): a family created costs no
    /// copy of its name, and growing the map rehashes numbers, not names. Two names of one
    /// hash (never seen in practice) put the second in `collided`.
    index: crate::fasthash::FastMap<u64, usize>,
    collided: Vec<usize>,
}

impl MetricSet {
    /// An empty set.
    pub fn new() -> MetricSet {
        MetricSet::default()
    }

    /// Adds one sample of a compile-time family; `values` pairs up with `desc.labels`.
    pub fn add(&mut self, desc: &'static Desc, values: &[&str], value: f64) {
        debug_assert_eq!(desc.labels.len(), values.len(), "label values for {}", desc.name);
        let labels = desc.labels.iter().zip(values).map(|(k, v)| (Cow::Borrowed(*k), LabelValue::from(*v))).collect();
        let family = self.family(desc.name, desc.help, desc.kind);
        family.samples.push(Sample { suffix: Cow::Borrowed(""), labels, value });
    }

    /// Adds one sample of a compile-time family whose label values are already owned.
    pub fn add_owned(&mut self, desc: &'static Desc, values: Vec<String>, value: f64) {
        debug_assert_eq!(desc.labels.len(), values.len(), "label values for {}", desc.name);
        let labels =
            desc.labels.iter().map(|k| Cow::Borrowed(*k)).zip(values.into_iter().map(LabelValue::from)).collect();
        let family = self.family(desc.name, desc.help, desc.kind);
        family.samples.push(Sample { suffix: Cow::Borrowed(""), labels, value });
    }

    /// The family called `name`, created with `help` and `kind` if it does not exist yet.
    /// For families whose names are only known at run time (meminfo fields, textfiles).
    pub fn family(
        &mut self,
        name: impl Into<Cow<'static, str>>,
        help: impl Into<Cow<'static, str>>,
        kind: Kind,
    ) -> &mut Family {
        let name = name.into();
        let hash = family_hash(&name);
        self.family_of_hash(name, hash, help.into(), kind)
    }

    /// [`MetricSet::family`] of a family declared once ([`Declared`]): its name is not hashed
    /// again (an exporter that writes the same names at every scrape finds each family by its
    /// handle, not by hashing the name once per sample).
    pub fn declared(&mut self, family: &Declared) -> &mut Family {
        self.family_of_hash(Cow::Borrowed(family.name), family.id, Cow::Borrowed(family.help), family.kind)
    }

    /// The family called `name`, whose hash is `hash`, created with `help` and `kind` if it
    /// does not exist yet.
    fn family_of_hash(
        &mut self,
        name: Cow<'static, str>,
        hash: u64,
        help: Cow<'static, str>,
        kind: Kind,
    ) -> &mut Family {
        let at = match self.find_hashed(&name, hash) {
            Some(at) => at,
            None => self.push_new(Family { name, help, kind, samples: Vec::new() }, hash),
        };
        &mut self.families[at]
    }

    /// Room for `n` more families (a set about as large as the last scrape's grows once).
    pub fn reserve(&mut self, n: usize) {
        self.families.reserve(n);
        self.index.reserve(n);
    }

    /// The position of the family called `name`.
    fn find(&self, name: &str) -> Option<usize> {
        self.find_hashed(name, family_hash(name))
    }

    /// [`MetricSet::find`] with the name's hash already worked out.
    fn find_hashed(&self, name: &str, hash: u64) -> Option<usize> {
        let at = *self.index.get(&hash)?;
        if self.families[at].name == name {
            return Some(at);
        }
        self.collided.iter().copied().find(|&i| self.families[i].name == name)
    }

    /// Adds a family not in the set yet, whose name hashes to `hash`; returns its position.
    fn push_new(&mut self, family: Family, hash: u64) -> usize {
        let at = self.families.len();
        self.families.push(family);
        match self.index.entry(hash) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(at);
            }
            std::collections::hash_map::Entry::Occupied(_) => self.collided.push(at),
        }
        at
    }

    /// Whether a family of that name exists.
    pub fn contains(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    /// The families, in insertion order.
    pub fn families(&self) -> &[Family] {
        &self.families
    }

    /// Number of samples over all families.
    pub fn sample_count(&self) -> usize {
        self.families.iter().map(|f| f.samples.len()).sum()
    }

    /// Moves every sample of `other` into this set. A family already present keeps its help
    /// and type; the other's samples join it if they agree, and are dropped (logged)
    /// otherwise, as client_golang's registry drops a metric whose help or type differs
    /// from the family's first (a textfile redefining `node_load1`, say).
    pub fn merge(&mut self, mut other: MetricSet) {
        if other.families.len() > self.families.len() {
            // Fewer families to look up and index the other way round: the larger set takes
            // this one's families in, this one's still coming first (an empty set: nothing
            // to take in, the other set is taken whole).
            std::mem::swap(self, &mut other);
            self.merge_earlier(other);
            return;
        }
        for family in other.families {
            let hash = family_hash(&family.name);
            if let Some(at) = self.find_hashed(&family.name, hash) {
                let first = &mut self.families[at];
                if first.kind != family.kind || first.help != family.help {
                    dropped(&family, first);
                    continue;
                }
                first.samples.extend(family.samples);
            } else {
                self.push_new(family, hash);
            }
        }
    }

    /// [`MetricSet::merge`] of a set that came before this one: on a disagreement its family
    /// wins, and its samples go first.
    fn merge_earlier(&mut self, earlier: MetricSet) {
        for mut family in earlier.families {
            let hash = family_hash(&family.name);
            if let Some(at) = self.find_hashed(&family.name, hash) {
                let later = &mut self.families[at];
                if later.kind != family.kind || later.help != family.help {
                    dropped(later, &family);
                } else {
                    family.samples.append(&mut later.samples);
                }
                *later = family;
            } else {
                self.push_new(family, hash);
            }
        }
    }
}

/// Logs the samples of `family` dropped because `first`, of the same name, came first with
/// another help or type.
fn dropped(family: &Family, first: &Family) {
    if !family.samples.is_empty() {
        tracing::error!(
            metric = %family.name,
            err = format!(
                "has help {:?} and type {} but should have {:?} and {}",
                family.help,
                family.kind.as_str(),
                first.help,
                first.kind.as_str()
            ),
            "Dropped samples of an inconsistent metric family."
        );
    }
}

/// The index key of a family name.
pub(crate) fn family_hash(name: &str) -> u64 {
    use std::hash::Hasher as _;
    let mut h = crate::fasthash::FxHasher::default();
    h.write(name.as_bytes());
    h.finish()
}

#[cfg(test)]
mod tests;
