//! The metric model collectors write into ([`MetricSet`]) and the one encoder that turns it
//! into the Prometheus text format 0.0.4.
//!
//! The output is byte-for-byte what Go's `client_golang` writes for the same samples: families
//! sorted by name, label pairs by name, samples by label values, values printed as Go prints
//! them (`1.150976e+06`, `+Inf`, `NaN`). That keeps a `diff` against an incumbent exporter's
//! `/metrics` down to real differences.

use std::borrow::Cow;
use std::fmt::Write as _;

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
/// [`LabelValue::INLINE`] bytes are kept in place, so a sample's values cost no allocation of
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
    pub const INLINE: usize = 22;

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

    /// Where a shared set's pairs are (equal for two samples sharing one set).
    pub fn shared_ptr(&self) -> Option<*const LabelPair> {
        match self {
            Labels::Own(_) => None,
            Labels::Shared(shared) => Some(shared.as_ptr()),
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

    /// [`MetricSet::family`] for a name kept for good whose [`family_hash`] was worked out
    /// once (an exporter that writes the same names at every scrape hashes each once, not
    /// once per sample). `hash` must be `family_hash(name)`.
    pub fn family_hashed(&mut self, name: &'static str, hash: u64, help: &'static str, kind: Kind) -> &mut Family {
        debug_assert_eq!(hash, family_hash(name), "family_hashed: the hash of another name than {name}");
        self.family_of_hash(Cow::Borrowed(name), hash, Cow::Borrowed(help), kind)
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

    /// Writes the whole set as Prometheus text format 0.0.4, sorted as client_golang sorts.
    pub fn encode(self) -> String {
        // Valid UTF-8 by construction: every byte written comes from a `&str` or is ASCII.
        String::from_utf8(self.encode_bytes()).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// [`MetricSet::encode`] as bytes, ready for an HTTP body, without a UTF-8 check of the
    /// whole text.
    pub fn encode_bytes(mut self) -> Vec<u8> {
        // Each family's name hash, as the index already holds it.
        let mut hashes = vec![0u64; self.families.len()];
        for (&hash, &at) in &self.index {
            hashes[at] = hash;
        }
        for &at in &self.collided {
            hashes[at] = family_hash(&self.families[at].name);
        }
        sort_by_name(&mut self.families, &hashes);
        // The largest answer so far is the best guess of this one's size: the text is written
        // once, never copied into a bigger buffer halfway.
        static LARGEST: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let guess = LARGEST.load(std::sync::atomic::Ordering::Relaxed).max(64 + self.sample_count() * 64);
        let mut out = Vec::with_capacity(guess);
        let mut checked = std::ptr::null();
        for family in &mut self.families {
            if family.samples.is_empty() {
                continue;
            }
            for sample in &mut family.samples {
                // A set shared with the sample before, found sorted there, is not checked
                // again (that sample holds it: the pointer is still that set's).
                if sample.labels.len() < 2 || sample.labels.shared_ptr() == Some(checked) {
                    continue;
                }
                if !sample.labels.is_sorted_by(|a, b| a.0 <= b.0) {
                    sample.labels.sort_by(|a, b| a.0.cmp(&b.0));
                }
                checked = sample.labels.shared_ptr().unwrap_or(checked);
            }
            if !matches!(family.kind, Kind::Histogram | Kind::Summary) {
                // client_golang's order: fewer labels first, then the label values in
                // label-name order (names are not compared: a family whose samples have
                // different label names, as textfiles allow, sorts as Go sorts it).
                // Collectors mostly write in that order already: checking is cheaper.
                let order = |a: &Sample, b: &Sample| {
                    a.labels.len().cmp(&b.labels.len()).then_with(|| {
                        let pairs = a.labels.iter().zip(&b.labels);
                        pairs.map(|(x, y)| x.1.cmp(&y.1)).find(|o| o.is_ne()).unwrap_or(std::cmp::Ordering::Equal)
                    })
                };
                if !family.samples.is_sorted_by(|a, b| order(a, b).is_le()) {
                    family.samples.sort_by(order);
                }
            }
            encode_family(&mut out, family);
        }
        LARGEST.fetch_max(out.len(), std::sync::atomic::Ordering::Relaxed);
        out
    }
}

/// Sorts families by name.
///
/// An exporter answers with the same families scrape after scrape, and their names share long
/// prefixes (`mongodb_ss_wt_cache_…`): comparing them costs more than the rest of the sort.
/// So the order of the last full sort is remembered, as a rank per name hash (`hashes`, one
/// per family, in the same order), and the permutation of the last sort; when every
/// family has a rank, sorting the ranks (integers) and checking the result with one pass of
/// name comparisons replaces the full sort. Anything new, or a check that fails (a new name
/// whose hash a remembered one has), falls back to the full sort, which remembers again.
fn sort_by_name(families: &mut Vec<Family>, hashes: &[u64]) {
    use std::sync::{Mutex, PoisonError};
    /// What the last sorts learnt.
    struct Learnt {
        /// Rank of each name hash in the last full sort.
        ranks: crate::fasthash::FastMap<u64, u32>,
        /// The hashes, in the order families came, of the last sort by rank, and the
        /// positions it took them in: the same input (collectors write the same families in
        /// the same order scrape after scrape) needs no lookup and no sort at all.
        input: Vec<u64>,
        order: Vec<usize>,
        /// Each family's name as last found in order, when it is a `&'static str` (else
        /// none): two neighbours that are the same two static texts as then need no
        /// comparison (a static text never changes).
        names: Vec<Option<(usize, usize)>>,
    }
    /// Where a static name is.
    fn static_name(f: &Family) -> Option<(usize, usize)> {
        match f.name {
            Cow::Borrowed(n) => Some((n.as_ptr() as usize, n.len())),
            Cow::Owned(_) => None,
        }
    }
    /// `families` are in name order: neighbours that were already found in order last time
    /// (the same two static names) are not compared again.
    fn in_order(families: &[Family], names: &[Option<(usize, usize)>]) -> bool {
        let known = |i: usize| names.get(i).copied().flatten().filter(|n| static_name(&families[i]) == Some(*n));
        (1..families.len())
            .all(|i| (known(i - 1).is_some() && known(i).is_some()) || families[i - 1].name < families[i].name)
    }
    static LEARNT: Mutex<Option<Learnt>> = Mutex::new(None);
    let mut learnt = LEARNT.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(l) = learnt.as_mut() {
        let order = if l.input == hashes {
            Some(std::mem::take(&mut l.order))
        } else {
            let ranked: Option<Vec<(u32, usize)>> =
                hashes.iter().enumerate().map(|(i, h)| Some((*l.ranks.get(h)?, i))).collect();
            ranked.map(|mut ranked| {
                ranked.sort_unstable();
                ranked.into_iter().map(|(_, i)| i).collect()
            })
        };
        if let Some(order) = order {
            permute(families, order.iter().copied());
            if in_order(families, &l.names) {
                if l.input != hashes {
                    l.input = hashes.to_vec();
                    l.names = families.iter().map(static_name).collect();
                }
                l.order = order;
                return;
            }
        }
    }
    sort_by_whole_name(families);
    let ranks = families.iter().enumerate().map(|(rank, f)| (family_hash(&f.name), rank as u32)).collect();
    *learnt = Some(Learnt { ranks, input: Vec::new(), order: Vec::new(), names: Vec::new() });
}

/// Puts `families` in the order of the positions `order` lists.
fn permute(families: &mut Vec<Family>, order: impl Iterator<Item = usize>) {
    let mut slots: Vec<Option<Family>> = families.drain(..).map(Some).collect();
    families.extend(order.filter_map(|i| slots[i].take()));
}

/// The full sort, comparing first the 8 bytes that follow the prefix all names share, as
/// one integer, and whole names only on a tie.
fn sort_by_whole_name(families: &mut Vec<Family>) {
    let Some(first) = families.first().map(|f| f.name.as_bytes()) else { return };
    let shared = families.iter().fold(first.len(), |n, f| {
        n.min(f.name.len()).min(first.iter().zip(f.name.as_bytes()).take_while(|(a, b)| a == b).count())
    });
    // Big-endian, zero-padded: integer order is byte order, and a name that ends sooner
    // (no name holds a NUL) sorts first, as it does as a string.
    let key = |name: &str| {
        let rest = &name.as_bytes()[shared..];
        let mut k = [0u8; 8];
        let n = rest.len().min(8);
        k[..n].copy_from_slice(&rest[..n]);
        u64::from_be_bytes(k)
    };
    let mut order: Vec<(u64, usize)> = families.iter().enumerate().map(|(i, f)| (key(&f.name), i)).collect();
    order.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| families[a.1].name.cmp(&families[b.1].name)));
    permute(families, order.into_iter().map(|(_, i)| i));
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

/// The index key of a family name, the hash [`MetricSet::family_hashed`] takes.
pub fn family_hash(name: &str) -> u64 {
    use std::hash::Hasher as _;
    let mut h = crate::fasthash::FxHasher::default();
    h.write(name.as_bytes());
    h.finish()
}

fn encode_family(out: &mut Vec<u8>, family: &Family) {
    let name = family.name.as_bytes();
    out.extend_from_slice(b"# HELP ");
    out.extend_from_slice(name);
    out.push(b' ');
    escape_into(out, family.help.as_bytes(), false);
    out.extend_from_slice(b"\n# TYPE ");
    out.extend_from_slice(name);
    out.push(b' ');
    out.extend_from_slice(family.kind.as_str().as_bytes());
    out.push(b'\n');
    for sample in &family.samples {
        out.extend_from_slice(name);
        out.extend_from_slice(sample.suffix.as_bytes());
        if !sample.labels.is_empty() {
            out.push(b'{');
            for (i, (name, value)) in sample.labels.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(name.as_bytes());
                out.extend_from_slice(b"=\"");
                escape_into(out, value.as_bytes(), true);
                out.push(b'"');
            }
            out.push(b'}');
        }
        out.push(b' ');
        value_into(out, sample.value);
        out.push(b'\n');
    }
}

/// Escapes `\` and newline (and `"` inside label values), as the text format asks. Only
/// ASCII bytes are replaced, so UTF-8 text stays UTF-8.
#[inline(always)]
fn escape_into(out: &mut Vec<u8>, text: &[u8], quote: bool) {
    // Most label values are a few bytes and need nothing: a plain loop, written where the
    // encoder calls it, says so sooner than a call and memchr's dispatch do.
    if text.len() <= 16 && !text.iter().any(|&b| b == b'\\' || b == b'\n' || (quote && b == b'"')) {
        out.extend_from_slice(text);
        return;
    }
    escape_long(out, text, quote);
}

/// [`escape_into`] past its short-text check.
#[inline(never)]
fn escape_long(out: &mut Vec<u8>, mut text: &[u8], quote: bool) {
    loop {
        let at = if quote { memchr::memchr3(b'\\', b'\n', b'"', text) } else { memchr::memchr2(b'\\', b'\n', text) };
        let Some(at) = at else {
            out.extend_from_slice(text);
            return;
        };
        out.extend_from_slice(&text[..at]);
        out.extend_from_slice(match text[at] {
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            _ => b"\\\"",
        });
        text = &text[at + 1..];
    }
}

/// Writes `v` as Go's `strconv.FormatFloat(v, 'g', -1, 64)` does, with `+Inf`/`-Inf`/`NaN`.
pub fn write_value(out: &mut String, v: f64) {
    let mut bytes = Vec::with_capacity(24);
    value_into(&mut bytes, v);
    out.push_str(std::str::from_utf8(&bytes).unwrap_or("NaN"));
}

/// A small stack buffer for `{:e}`: formatting a float allocates nothing.
struct Digits {
    buf: [u8; 40],
    len: usize,
}

impl std::fmt::Write for Digits {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Writes the decimal digits of `n` at the end of `buf`; returns where they start.
fn decimal_digits(buf: &mut [u8], mut n: u64) -> usize {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return at;
        }
    }
}

/// Appends the decimal digits of `n`.
fn integer_into(out: &mut Vec<u8>, n: u64) {
    let mut buf = [0u8; 20];
    let at = decimal_digits(&mut buf, n);
    out.extend_from_slice(&buf[at..]);
}

/// [`write_value`] into bytes.
fn value_into(out: &mut Vec<u8>, v: f64) {
    if v.is_nan() {
        out.extend_from_slice(b"NaN");
        return;
    }
    if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"+Inf" } else { b"-Inf" });
        return;
    }
    // Fast path: small integers print the same in both notations.
    if v.fract() == 0.0 && v.abs() < 1e6 {
        if v < 0.0 {
            out.push(b'-');
        }
        integer_into(out, v.abs() as u64);
        return;
    }
    // Shortest round-trip digits (no leading or trailing zeros) and decimal exponent. An
    // integer below 2^53 is exact and its neighbours are at most 1 away, so its own digits
    // are the shortest that round-trip (byte counters, dates in ms: most large values); the
    // rest come from Rust's `{:e}`, which is shortest round-trip too.
    let mut d = Digits { buf: [0; 40], len: 0 };
    let exp: i32 = if v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 {
        let at = decimal_digits(&mut d.buf, v.abs() as u64);
        let count = d.buf.len() - at;
        d.buf.copy_within(at.., 0);
        d.len = count;
        count as i32 - 1
    } else {
        let _ = write!(d, "{:e}", v.abs());
        let text = &d.buf[..d.len];
        let e = text.iter().position(|&b| b == b'e').unwrap_or(text.len());
        let exp = std::str::from_utf8(&text[(e + 1).min(text.len())..]).ok().and_then(|x| x.parse().ok()).unwrap_or(0);
        // "1.2345" → "12345", in place.
        let mut n = 0;
        for i in 0..e {
            if d.buf[i].is_ascii_digit() {
                d.buf[n] = d.buf[i];
                n += 1;
            }
        }
        d.len = n;
        exp
    };
    while d.len > 1 && d.buf[d.len - 1] == b'0' {
        d.len -= 1;
    }
    let digits = &d.buf[..d.len];
    if v < 0.0 {
        out.push(b'-');
    }
    // Go's shortest 'g' switches to %e when the exponent is < -4 or >= 6 (its precision 6).
    if !(-4..6).contains(&exp) {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        if exp.abs() < 10 {
            out.push(b'0');
        }
        integer_into(out, u64::from(exp.unsigned_abs()));
    } else if exp < 0 {
        out.extend_from_slice(b"0.");
        for _ in 0..(-exp - 1) {
            out.push(b'0');
        }
        out.extend_from_slice(digits);
    } else {
        let point = exp as usize + 1;
        if digits.len() <= point {
            out.extend_from_slice(digits);
            out.resize(out.len() + point - digits.len(), b'0');
        } else {
            out.extend_from_slice(&digits[..point]);
            out.push(b'.');
            out.extend_from_slice(&digits[point..]);
        }
    }
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
            escape_into(&mut help, text.as_bytes(), false);
            escape_into(&mut value, text.as_bytes(), true);
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
        let sorted = |mut families: Vec<Family>| {
            let mut want: Vec<&str> = families.iter().map(|f| &*f.name).collect();
            want.sort();
            let want: Vec<String> = want.into_iter().map(str::to_owned).collect();
            let hashes: Vec<u64> = families.iter().map(|f| family_hash(&f.name)).collect();
            sort_by_name(&mut families, &hashes);
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
