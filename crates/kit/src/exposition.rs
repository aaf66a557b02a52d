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
pub mod text;

pub use float::write_value;
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

/// A label value. Most are short (`0`, `idle`, `eth0`, a collector's name): up to
/// 22 bytes are kept in place, so a sample's values cost no allocation of
/// their own; longer ones go to the heap.
#[derive(Clone)]
pub struct LabelValue(Repr);

#[derive(Clone)]
enum Repr {
    Inline { len: u8, bytes: [u8; LabelValue::INLINE] },
    Heap(Box<str>),
}

impl LabelValue {
    /// The longest value kept in place.
    const INLINE: usize = 22;

    /// The value.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Always whole UTF-8: it was copied from a `&str` (see `From<&str>`).
            Repr::Inline { len, bytes } => std::str::from_utf8(&bytes[..*len as usize]).unwrap_or(""),
            Repr::Heap(s) => s,
        }
    }

    /// The value's bytes, without the UTF-8 check of [`LabelValue::as_str`]: comparing
    /// bytes orders UTF-8 text as comparing the text does, and sorting compares a lot.
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, bytes } => &bytes[..*len as usize],
            Repr::Heap(s) => s.as_bytes(),
        }
    }
}

impl From<&str> for LabelValue {
    fn from(s: &str) -> LabelValue {
        if s.len() <= LabelValue::INLINE {
            let mut bytes = [0u8; LabelValue::INLINE];
            bytes[..s.len()].copy_from_slice(s.as_bytes());
            LabelValue(Repr::Inline { len: s.len() as u8, bytes })
        } else {
            LabelValue(Repr::Heap(s.into()))
        }
    }
}

impl From<String> for LabelValue {
    fn from(s: String) -> LabelValue {
        if s.len() <= LabelValue::INLINE {
            LabelValue::from(s.as_str())
        } else {
            LabelValue(Repr::Heap(s.into_boxed_str()))
        }
    }
}

impl std::ops::Deref for LabelValue {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for LabelValue {
    fn eq(&self, other: &LabelValue) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for LabelValue {}

impl PartialOrd for LabelValue {
    fn partial_cmp(&self, other: &LabelValue) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for LabelValue {
    fn cmp(&self, other: &LabelValue) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl std::hash::Hash for LabelValue {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.as_str().hash(h)
    }
}

impl PartialEq<str> for LabelValue {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for LabelValue {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<String> for LabelValue {
    fn eq(&self, other: &String) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl std::fmt::Debug for LabelValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for LabelValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
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

/// The identity of a shared label set ([`Labels::shared_id`]): opaque, only compared.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SharedId(usize);

/// A label pair as samples hold it.
pub type LabelPair = (Cow<'static, str>, LabelValue);

/// A sample's label pairs: its own, or a set many samples share (an exporter that gives
/// thousands of samples the same labels copies a pointer, not the pairs, and frees nothing
/// per sample). Reads see a slice either way; changing a shared set copies it first.
#[derive(Clone, Debug)]
pub enum Labels {
    /// This sample's own pairs.
    Own(Vec<LabelPair>),
    /// Pairs shared with other samples.
    Shared(std::sync::Arc<[LabelPair]>),
}

impl Labels {
    /// The pairs as a vector of this sample's own (a shared set is copied first).
    pub fn to_mut(&mut self) -> &mut Vec<LabelPair> {
        if let Labels::Shared(shared) = self {
            *self = Labels::Own(shared.to_vec());
        }
        match self {
            Labels::Own(own) => own,
            // Replaced just above.
            Labels::Shared(_) => unreachable!("a shared label set was copied"),
        }
    }

    /// Adds a pair.
    pub fn push(&mut self, pair: LabelPair) {
        self.to_mut().push(pair);
    }

    /// Which shared set this is, if it is one: equal for two samples sharing one set, so that
    /// a check made on one (sorted, say) need not be made again on the other while the set
    /// is alive.
    pub fn shared_id(&self) -> Option<SharedId> {
        match self {
            Labels::Own(_) => None,
            Labels::Shared(shared) => Some(SharedId(shared.as_ptr() as usize)),
        }
    }
}

impl Default for Labels {
    fn default() -> Labels {
        Labels::Own(Vec::new())
    }
}

impl std::ops::Deref for Labels {
    type Target = [LabelPair];
    fn deref(&self) -> &[LabelPair] {
        match self {
            Labels::Own(own) => own,
            Labels::Shared(shared) => shared,
        }
    }
}

impl std::ops::DerefMut for Labels {
    fn deref_mut(&mut self) -> &mut [LabelPair] {
        self.to_mut()
    }
}

impl PartialEq for Labels {
    fn eq(&self, other: &Labels) -> bool {
        **self == **other
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = &'a LabelPair;
    type IntoIter = std::slice::Iter<'a, LabelPair>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl From<Vec<LabelPair>> for Labels {
    fn from(own: Vec<LabelPair>) -> Labels {
        Labels::Own(own)
    }
}

impl FromIterator<LabelPair> for Labels {
    fn from_iter<I: IntoIterator<Item = LabelPair>>(pairs: I) -> Labels {
        Labels::Own(pairs.into_iter().collect())
    }
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
mod tests {
    use super::*;

    fn go(v: f64) -> String {
        let mut s = String::new();
        write_value(&mut s, v);
        s
    }

    #[test]
    fn values_print_as_go_prints_them() {
        // Expected strings are what Go's strconv.FormatFloat(v, 'g', -1, 64) returns.
        assert_eq!(go(0.0), "0");
        assert_eq!(go(1.0), "1");
        assert_eq!(go(-3.0), "-3");
        assert_eq!(go(123456.0), "123456");
        assert_eq!(go(1150976.0), "1.150976e+06");
        assert_eq!(go(21894266880.0), "2.189426688e+10");
        assert_eq!(go(0.5), "0.5");
        assert_eq!(go(0.0001), "0.0001");
        assert_eq!(go(0.00001), "1e-05");
        assert_eq!(go(1.5e-7), "1.5e-07");
        assert_eq!(go(12.25), "12.25");
        assert_eq!(go(99999.5), "99999.5");
        assert_eq!(go(999999.5), "999999.5");
        assert_eq!(go(1e21), "1e+21");
        assert_eq!(go(-0.25), "-0.25");
        assert_eq!(go(f64::INFINITY), "+Inf");
        assert_eq!(go(f64::NEG_INFINITY), "-Inf");
        assert_eq!(go(f64::NAN), "NaN");
        assert_eq!(go(1e100), "1e+100");
        assert_eq!(go(1e6), "1e+06");
        assert_eq!(go(-1234567.0), "-1.234567e+06");
        assert_eq!(go(1606389054000.0), "1.606389054e+12");
        assert_eq!(go(9007199254740991.0), "9.007199254740991e+15");
        assert_eq!(go(9007199254740992.0), "9.007199254740992e+15");
        assert_eq!(go(123456789012345680000.0), "1.2345678901234568e+20");
        assert_eq!(go(1234567.5), "1.2345675e+06");
        assert_eq!(go(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(go(100000.0), "100000");
        assert_eq!(go(1e15), "1e+15");
        assert_eq!(go(120000000.0), "1.2e+08");
        assert_eq!(go(-0.000012), "-1.2e-05");
        assert_eq!(go(5e-324), "5e-324");
        assert_eq!(go(f64::MAX), "1.7976931348623157e+308");
    }

    const LOAD: Desc = Desc::gauge("node_load1", "1m load average.", &[]);
    const CPU: Desc = Desc::counter("node_cpu_seconds_total", "Seconds the CPUs spent in each mode.", &["cpu", "mode"]);

    #[test]
    fn encodes_sorted_and_escaped() {
        let mut set = MetricSet::new();
        set.add(&LOAD, &[], 0.25);
        set.add(&CPU, &["1", "user"], 10.0);
        set.add(&CPU, &["0", "user"], 2.0);
        set.add(&CPU, &["0", "idle"], 3.0);
        let f = set.family("a_text", "Quote \" and back\\slash\nnewline.", Kind::Untyped);
        f.push(&[("path", "C:\\x\"y\"\n")], 1.0);
        f.push(&[("b", "2"), ("a", "1")], 2.0);
        let text = set.encode();
        // One label sorts before two, as client_golang sorts (label count first).
        let want = "# HELP a_text Quote \" and back\\\\slash\\nnewline.\n# TYPE a_text untyped\n\
a_text{path=\"C:\\\\x\\\"y\\\"\\n\"} 1\na_text{a=\"1\",b=\"2\"} 2\n\
# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.\n# TYPE node_cpu_seconds_total counter\n\
node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 3\nnode_cpu_seconds_total{cpu=\"0\",mode=\"user\"} 2\n\
node_cpu_seconds_total{cpu=\"1\",mode=\"user\"} 10\n\
# HELP node_load1 1m load average.\n# TYPE node_load1 gauge\nnode_load1 0.25\n";
        assert_eq!(text, want);
    }

    #[test]
    fn shared_labels_encode_as_own_ones_and_copy_on_change() {
        let pairs: Vec<LabelPair> = vec![("b".into(), "2".into()), ("a".into(), "1".into())];
        let shared: std::sync::Arc<[LabelPair]> = pairs.clone().into();
        let (mut own_set, mut shared_set) = (MetricSet::new(), MetricSet::new());
        for (set, labels) in
            [(&mut own_set, Labels::Own(pairs.clone())), (&mut shared_set, Labels::Shared(shared.clone()))]
        {
            let f = set.family("x", "X.", Kind::Gauge);
            f.samples.push(Sample { suffix: "".into(), labels, value: 1.0 });
            f.samples.push(Sample { suffix: "".into(), labels: Labels::Shared(shared.clone()), value: 2.0 });
        }
        // Unsorted pairs: the encoder sorts the shared ones through a copy of their own.
        assert_eq!(own_set.encode(), shared_set.encode());
        assert_eq!(&*shared, &pairs[..], "the shared set itself is left as it was");
        let mut l = Labels::Shared(shared.clone());
        l.push(("c".into(), "3".into()));
        assert!(matches!(l, Labels::Own(_)));
        assert_eq!(l.len(), 3);
        assert_eq!(shared.len(), 2);
        assert_eq!(Labels::Shared(shared.clone()), Labels::Own(pairs));
    }

    #[test]
    fn escapes_short_and_long_texts_alike() {
        // Up to 16 bytes the check is a plain loop, past it memchr: both sides of the edge,
        // with and without something to escape, in a HELP (quotes kept) and a label value.
        for text in [
            "ab",
            "a\"b",
            "a\\b\nc",
            "0123456789abcdef",
            "0123456789abcde\"",
            "0123456789abcdef\"",
            "x\"y\\z\n-long-enough-text",
        ] {
            let want_help: String = text.replace('\\', "\\\\").replace('\n', "\\n");
            let want_value = want_help.replace('"', "\\\"");
            let (mut help, mut value) = (Vec::new(), Vec::new());
            text::escape_into(&mut help, text.as_bytes(), false);
            text::escape_into(&mut value, text.as_bytes(), true);
            assert_eq!(String::from_utf8(help).unwrap(), want_help, "{text:?}");
            assert_eq!(String::from_utf8(value).unwrap(), want_value, "{text:?}");
        }
    }

    #[test]
    fn families_sort_by_whole_name() {
        // Shared prefixes, names that are prefixes of others, ties in the first 8 bytes
        // after the shared prefix, non-ASCII bytes.
        let names = [
            "mongodb_ss_wt_cache_bytes_read",
            "mongodb_ss_wt_cache_bytes",
            "mongodb_ss_wt_cache_bytes_written",
            "mongodb_ss_wt",
            "mongodb_ss_wt_cache_bytes_read_into",
            "mongodb_ss_opcounters",
            "mongodb_ss_wt_cachf",
            "mongodb_ss_é",
            "mongodb_ss_",
        ];
        let family = |n: &'static str| Family {
            name: Cow::Borrowed(n),
            help: Cow::Borrowed(""),
            kind: Kind::Gauge,
            samples: Vec::new(),
        };
        let families: Vec<Family> = names.iter().map(|n| family(n)).collect();
        let memo = SortMemo::default();
        let sorted = |mut families: Vec<Family>| {
            let mut want: Vec<&str> = families.iter().map(|f| &*f.name).collect();
            want.sort();
            let want: Vec<String> = want.into_iter().map(str::to_owned).collect();
            let hashes: Vec<u64> = families.iter().map(|f| family_hash(&f.name)).collect();
            text::sort_by_name(&mut families, &hashes, &memo);
            assert_eq!(families.iter().map(|f| f.name.to_string()).collect::<Vec<_>>(), want);
        };
        // A full sort, then the same names again (by remembered ranks), then a set with a
        // new name and one gone (a full sort again).
        sorted(families);
        sorted(names.iter().rev().map(|n| family(n)).collect());
        sorted(names.iter().skip(1).chain(["mongodb_ss_wt_cache_bytes_r"].iter()).map(|n| family(n)).collect());
        // The same input three times: the second and third reuse the first's permutation,
        // the third also finds the same static names in order as the second left them.
        for _ in 0..3 {
            sorted(names.iter().rev().map(|n| family(n)).collect());
        }
        // The same names, but owned (compared, never taken for the static ones), and the
        // static ones again.
        let owned = |n: &&str| Family { name: Cow::Owned(n.to_string()), ..family("") };
        sorted(names.iter().rev().map(owned).collect());
        sorted(names.iter().rev().map(|n| family(n)).collect());
    }

    #[test]
    fn merge_joins_families_of_the_same_name() {
        let mut a = MetricSet::new();
        a.add(&CPU, &["0", "user"], 1.0);
        let mut b = MetricSet::new();
        b.add(&CPU, &["1", "user"], 1.0);
        b.add(&LOAD, &[], 1.0);
        a.merge(b);
        assert_eq!(a.families().len(), 2);
        assert_eq!(a.sample_count(), 3);
    }

    #[test]
    fn merge_drops_a_family_whose_help_or_type_disagrees() {
        let mut a = MetricSet::new();
        a.add(&LOAD, &[], 1.0);
        let mut b = MetricSet::new();
        b.family("node_load1", "Mine.", Kind::Gauge).push(&[("src", "textfile")], 42.0);
        b.family("node_load1_x", "Other.", Kind::Untyped).push(&[], 1.0);
        let mut c = MetricSet::new();
        c.family("node_load1", "1m load average.", Kind::Counter).push(&[("src", "x")], 7.0);
        a.merge(b);
        a.merge(c);
        assert_eq!(a.sample_count(), 2);
        let text = a.encode();
        assert!(text.contains("node_load1 1\n") && !text.contains("42") && !text.contains(" 7\n"), "{text}");

        // A first set smaller than the second is merged the other way round, with the same
        // outcome: the first's family wins, and its samples come first.
        let mut small = MetricSet::new();
        small.add(&LOAD, &[], 1.0);
        small.family("hist", "H.", Kind::Histogram).push_suffixed("_sum", &[], 1.0);
        let mut big = MetricSet::new();
        big.family("node_load1", "Mine.", Kind::Gauge).push(&[("src", "textfile")], 42.0);
        big.family("hist", "H.", Kind::Histogram).push_suffixed("_sum", &[], 2.0);
        for i in 0..5 {
            big.family(format!("other_{i}"), "O.", Kind::Gauge).push(&[], 3.0);
        }
        small.merge(big);
        assert_eq!(small.sample_count(), 8);
        let text = small.encode();
        assert!(text.contains("node_load1 1\n") && !text.contains("42"), "{text}");
        assert!(text.contains("hist_sum 1\nhist_sum 2\n"), "{text}");
    }

    #[test]
    fn label_values_inline_or_not_compare_as_their_text() {
        let texts = ["", "0", "idle", "é", "ab", "a\u{10FFFF}", &"x".repeat(22), &"x".repeat(23), &"é".repeat(12)];
        let values: Vec<LabelValue> = texts.iter().map(|t| LabelValue::from(*t)).collect();
        for (t, v) in texts.iter().zip(&values) {
            assert_eq!(v.as_str(), *t);
            assert_eq!(LabelValue::from(t.to_string()).as_str(), *t);
            assert!(*v == *t && v == &t.to_string());
        }
        for (a, x) in texts.iter().zip(&values) {
            for (b, y) in texts.iter().zip(&values) {
                assert_eq!(x.cmp(y), a.cmp(b), "{a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn empty_families_are_not_written() {
        let mut set = MetricSet::new();
        set.family("x", "y", Kind::Gauge);
        assert_eq!(set.encode(), "");
    }
}
