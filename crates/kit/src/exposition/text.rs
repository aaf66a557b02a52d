//! The Prometheus text format 0.0.4 writer: sorts a [`MetricSet`] as client_golang sorts
//! (families by name, label pairs by name, samples by label values) and writes HELP, TYPE
//! and sample lines with client_golang's escaping. Sorting remembers the last order in a
//! [`SortMemo`], which the running exporter keeps per target ([`crate::Engine::encode`]).

use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use super::float::value_into;
use super::{family_hash, Family, Kind, MetricSet, Sample, SharedId};

/// What the last encodings of one target's sets learnt: the family order (see
/// `sort_by_name`) and the largest text, the best guess of the next one's size.
#[derive(Debug, Default)]
pub struct SortMemo {
    learnt: Mutex<Option<Learnt>>,
    largest: AtomicUsize,
}

/// What the last sorts learnt.
#[derive(Debug)]
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

impl MetricSet {
    /// Writes the whole set as Prometheus text format 0.0.4, sorted as client_golang sorts.
    pub fn encode(self) -> String {
        // Valid UTF-8 by construction: every byte written comes from a `&str` or is ASCII.
        String::from_utf8(self.encode_bytes()).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// [`MetricSet::encode`] as bytes, ready for an HTTP body, without a UTF-8 check of the
    /// whole text.
    pub fn encode_bytes(self) -> Vec<u8> {
        self.encode_bytes_with(&SortMemo::default())
    }

    /// [`MetricSet::encode_bytes`], sorting with what `memo` learnt from the sets encoded
    /// before (the same target's last scrapes): much cheaper when the families are the same.
    pub fn encode_bytes_with(mut self, memo: &SortMemo) -> Vec<u8> {
        // Each family's name hash, as the index already holds it.
        let mut hashes = vec![0u64; self.families.len()];
        for (&hash, &at) in &self.index {
            hashes[at] = hash;
        }
        for &at in &self.collided {
            hashes[at] = family_hash(&self.families[at].name);
        }
        sort_by_name(&mut self.families, &hashes, memo);
        // The largest answer so far is the best guess of this one's size: the text is written
        // once, never copied into a bigger buffer halfway.
        let guess = memo.largest.load(Ordering::Relaxed).max(64 + self.sample_count() * 64);
        let mut out = Vec::with_capacity(guess);
        let mut checked = SharedId::default();
        for family in &mut self.families {
            if family.samples.is_empty() {
                continue;
            }
            for sample in &mut family.samples {
                // A set shared with the sample before, found sorted there, is not checked
                // again (that sample holds it: the pointer is still that set's).
                if sample.labels.len() < 2 || sample.labels.shared_id() == Some(checked) {
                    continue;
                }
                if !sample.labels.is_sorted_by(|a, b| a.0 <= b.0) {
                    sample.labels.sort_by(|a, b| a.0.cmp(&b.0));
                }
                checked = sample.labels.shared_id().unwrap_or(checked);
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
        memo.largest.fetch_max(out.len(), Ordering::Relaxed);
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
pub(crate) fn sort_by_name(families: &mut Vec<Family>, hashes: &[u64], memo: &SortMemo) {
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
    let mut learnt = memo.learnt.lock().unwrap_or_else(PoisonError::into_inner);
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
pub(super) fn escape_into(out: &mut Vec<u8>, text: &[u8], quote: bool) {
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
