//! Label pairs as samples hold them: [`LabelValue`] (short values in place, no allocation)
//! and [`Labels`] (a sample's own pairs, or a set many samples share, compared by its
//! opaque [`SharedId`]).

use std::borrow::Cow;

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
