//! Percona mongodb_exporter's generic naming (its `makeMetrics`), as a pure function from a
//! BSON document to samples: prefix shortening, label-promoted keys (`conn_type`,
//! `legacy_op_type`, `csr_type`…), array members (`member_idx`, `member_state`), middle-node
//! labels (`index_name`), value conversions (dates in ms, Timestamps in s, booleans 0/1),
//! counter vs untyped, and the always-on renames (`mongodb_ss_opLatencies_ops{op_type}`,
//! `mongodb_ss_wt_concurrentTransactions_out{txn_rw}`).
//!
//! Rules as in the current release (v0.53); where they differ from v0.40 the README says so.
//! A value of a type the incumbent cannot handle (null, decimal128, regex…) is not a sample
//! but an [`Invalid`] entry, which the caller counts and drops.

use std::sync::OnceLock;

use mongodb::bson::{Bson, Document};
use std::borrow::Cow;

use vigie_kit::{Kind, LabelValue};

/// A label pair: the name is almost always one of the exporter's own (`rs_nm`,
/// `member_idx`…), borrowed; the value short enough to live in place (see [`LabelValue`]).
/// Copying the topology labels into every sample so costs no allocation.
pub type Label = (Cow<'static, str>, LabelValue);

/// One generic sample before it meets the others (see [`crate::sink`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Metric {
    /// Full name, `mongodb_…`.
    pub name: String,
    /// HELP text (the incumbent's: the BSON path the value came from).
    pub help: String,
    /// `untyped`, or `counter` when the last key ends in "count".
    pub kind: Kind,
    /// Label pairs, unsorted.
    pub labels: Vec<Label>,
    /// The value.
    pub value: f64,
}

/// A value the incumbent would turn into an invalid metric (failing its whole scrape).
#[derive(Clone, Debug, PartialEq)]
pub struct Invalid {
    /// The metric name it would have had.
    pub name: String,
    /// The BSON path and type, for the log.
    pub why: String,
}

/// What flattening a document gave.
#[derive(Debug, Default)]
pub struct Flat {
    /// Samples, in document order.
    pub metrics: Vec<Metric>,
    /// Values that could not become samples.
    pub invalid: Vec<Invalid>,
}

/// Path prefixes replaced by short names; the first match wins (the incumbent's order,
/// including entries that can never match because an earlier one does).
const PREFIXES: &[(&str, &str)] = &[
    ("serverStatus.wiredTiger.transaction", "ss_wt_txn"),
    ("serverStatus.wiredTiger", "ss_wt"),
    ("serverStatus.queues.execution", "ss_wt_concurrentTransactions"),
    ("serverStatus", "ss"),
    ("replSetGetStatus", "rs"),
    ("systemMetrics", "sys"),
    ("local.oplog.rs.stats.wiredTiger", "oplog_stats_wt"),
    ("local.oplog.rs.stats.storageStats.wiredTiger", "oplog_stats_wt"),
    ("local.oplog.rs.stats", "oplog_stats"),
    ("local.oplog.rs.stats.storageStats", "oplog_stats"),
    ("collstats_storage.wiredTiger", "collstats_storage_wt"),
    ("collstats_storage.indexDetails", "collstats_storage_idx"),
    ("collStats.storageStats", "collstats_storage"),
    ("collStats.latencyStats", "collstats_latency"),
];

/// Parent paths (with their trailing dot) whose scalar children become one family, the
/// child's key going into a label.
const KEY_LABELS: &[(&str, &str)] = &[
    ("collStats.storageStats.indexDetails.", "index_name"),
    ("globalLock.activeQueue.", "count_type"),
    ("globalLock.locks.", "lock_type"),
    ("serverStatus.asserts.", "assert_type"),
    ("serverStatus.connections.", "conn_type"),
    ("serverStatus.globalLock.currentQueue.", "count_type"),
    ("serverStatus.metrics.commands.", "cmd_name"),
    ("serverStatus.metrics.cursor.open.", "csr_type"),
    ("serverStatus.metrics.document.", "doc_op_type"),
    ("serverStatus.opLatencies.", "op_type"),
    ("serverStatus.opReadConcernCounters.", "concern_type"),
    ("serverStatus.opcounters.", "legacy_op_type"),
    ("serverStatus.opcountersRepl.", "legacy_op_type"),
    ("serverStatus.transactions.commitTypes.", "commit_type"),
    ("serverStatus.wiredTiger.concurrentTransactions.", "txn_rw_type"),
    ("serverStatus.queues.execution.", "txn_rw_type"),
    ("serverStatus.wiredTiger.perf.", "perf_bucket"),
    ("systemMetrics.disks.", "device_name"),
    ("collstats.storageStats.indexSizes.", "index_name"),
    ("config.transactions.stats.storageStats.indexSizes.", "index_name"),
    ("config.image_collection.stats.storageStats.indexSizes.", "index_name"),
];

/// Parent paths whose *document* children's keys become a label, the path segment being
/// replaced by the label name (`storageStats.indexDetails.<idx>.…`).
const NODE_LABELS: &[(&str, &str)] = &[
    ("storageStats.indexDetails.", "index_name"),
    ("config.image_collection.stats.storageStats.indexDetails.", "index_name"),
    ("config.transactions.stats.storageStats.indexDetails.", "index_name"),
    ("collstats.storageStats.indexDetails.", "index_name"),
];

/// Parent paths whose `*count` keys are not counters.
const NOT_COUNTERS: &[&str] = &["collstats.storageStats.indexSizes."];

/// `(new name, prefix, label, [(suffix, label value)])`: the always-on renames.
type Rename = (&'static str, &'static str, &'static str, &'static [(&'static str, &'static str)]);
const RENAMES: &[Rename] = &[
    (
        "mongodb_ss_opLatencies_ops",
        "mongodb_ss_opLatencies",
        "op_type",
        &[
            ("commands_ops", "commands"),
            ("reads_ops", "reads"),
            ("transactions_ops", "transactions"),
            ("writes_ops", "writes"),
        ],
    ),
    (
        "mongodb_ss_opLatencies_latency",
        "mongodb_ss_opLatencies",
        "op_type",
        &[
            ("commands_latency", "commands"),
            ("reads_latency", "reads"),
            ("transactions_latency", "transactions"),
            ("writes_latency", "writes"),
        ],
    ),
    (
        "mongodb_ss_wt_concurrentTransactions_out",
        "mongodb_ss_wt_concurrentTransactions",
        "txn_rw",
        &[("read_out", "read"), ("write_out", "write")],
    ),
    (
        "mongodb_ss_wt_concurrentTransactions_available",
        "mongodb_ss_wt_concurrentTransactions",
        "txn_rw",
        &[("read_available", "read"), ("write_available", "write")],
    ),
    (
        "mongodb_ss_wt_concurrentTransactions_totalTickets",
        "mongodb_ss_wt_concurrentTransactions",
        "txn_rw",
        &[("read_totalTickets", "read"), ("write_totalTickets", "write")],
    ),
];

fn lookup(table: &[(&'static str, &'static str)], key: &str) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// A dotted BSON path as the incumbent names it: shortened prefix, every run of characters
/// outside `[A-Za-z0-9_]` as one `_`, one trailing `_` dropped, runs of `_` collapsed, one
/// leading `_` dropped, `mongodb_` in front.
pub fn prometheusize(path: &str) -> String {
    let (short, rest) = PREFIXES
        .iter()
        .find_map(|(long, to)| path.strip_prefix(long).filter(|rest| rest.starts_with('.')).map(|rest| (*to, rest)))
        .unwrap_or(("", path));
    // Every run of other characters becomes one underscore. Byte-wise: the bytes of a
    // non-ASCII character are all outside the set, so its run is the same; the result is
    // ASCII.
    let mut out: Vec<u8> = Vec::with_capacity(8 + short.len() + rest.len());
    out.extend_from_slice(b"mongodb_");
    let mut in_run = false;
    for &b in short.as_bytes().iter().chain(rest.as_bytes()) {
        if b.is_ascii_alphanumeric() || b == b'_' {
            out.push(b);
            in_run = false;
        } else if !in_run {
            out.push(b'_');
            in_run = true;
        }
    }
    // One trailing underscore goes (the prefix's own stays), then runs of underscores
    // collapse and one leading underscore of the body goes.
    if out.len() > 8 && out.ends_with(b"_") {
        out.pop();
    }
    if out[8..].windows(2).any(|w| w == b"__") || out.get(8) == Some(&b'_') {
        let mut body: Vec<u8> = out[8..].to_vec();
        body.dedup_by(|a, b| *a == b'_' && *b == b'_');
        let body = body.strip_prefix(b"_").unwrap_or(&body);
        out.truncate(8);
        out.extend_from_slice(body);
    }
    // Only ASCII was pushed.
    String::from_utf8(out).unwrap_or_default()
}

/// The value of a scalar: `Some(Ok(v))` a sample, `None` no sample (strings, ids, binary,
/// arrays), `Some(Err(type))` a type the incumbent rejects.
pub fn value_of(v: &Bson) -> Option<Result<f64, &'static str>> {
    Some(Ok(match v {
        Bson::Double(d) => *d,
        Bson::Int32(i) => f64::from(*i),
        Bson::Int64(i) => *i as f64,
        Bson::Boolean(b) => f64::from(u8::from(*b)),
        Bson::DateTime(d) => d.timestamp_millis() as f64,
        Bson::Timestamp(t) => f64::from(t.time),
        Bson::String(_) | Bson::ObjectId(_) | Bson::Binary(_) | Bson::Array(_) | Bson::Document(_) => return None,
        Bson::Null => return Some(Err("null")),
        Bson::Decimal128(_) => return Some(Err("decimal128")),
        Bson::RegularExpression(_) => return Some(Err("regex")),
        Bson::JavaScriptCode(_) | Bson::JavaScriptCodeWithScope(_) => return Some(Err("javascript")),
        Bson::Symbol(_) => return Some(Err("symbol")),
        Bson::Undefined => return Some(Err("undefined")),
        Bson::MaxKey | Bson::MinKey => return Some(Err("min/max key")),
        Bson::DbPointer(_) => return Some(Err("dbpointer")),
    }))
}

/// Flattens `doc` under `prefix` (`""`, `dbstats`, `collstats`, `top`…) with `labels` on
/// every sample (topology, database…); `histograms` keeps `…histograms…` paths.
///
/// The reference form of the rules: collectors write through [`emit::write`], which gives
/// the same samples from names kept across scrapes.
pub fn flatten(prefix: &str, doc: &Document, labels: &[Label], histograms: bool) -> Flat {
    let mut flat = Flat::default();
    visit(prefix, doc, labels, histograms, &mut |prefix, key, v, labels| scalar(prefix, key, v, labels, &mut flat));
    flat
}

/// A walk's label set, shared by the samples of a subdocument (sorted by name).
pub(crate) type Shared = std::sync::Arc<[Label]>;

/// `labels` as a shared set, sorted by name (samples keep their labels sorted: a sorted
/// shared set is never copied to be sorted).
fn shared(mut labels: Vec<Label>) -> Shared {
    labels.sort();
    labels.into()
}

/// Walks `doc` under `prefix` as [`flatten`] does and calls `f(parent path with its
/// trailing dot, key, value, labels)` for every scalar, in document order.
pub(crate) fn visit<F>(prefix: &str, doc: &Document, labels: &[Label], histograms: bool, f: &mut F)
where
    F: FnMut(&str, &str, &Bson, &Shared),
{
    let mut path = prefix.to_owned();
    if !path.is_empty() {
        path.push('.');
    }
    walk(&mut path, doc, &shared(labels.to_vec()), histograms, f);
}

/// Whether `p`, a parent path then one key from byte `base` on, is a histogram path. The
/// parent was checked when the walk entered it (or is the fixed prefix), so a new
/// `.histograms.` must end in the key: only the bytes from `base - 11` on are searched.
fn is_histogram_key(p: &str, base: usize) -> bool {
    // After a dot (or at the start) a histogram path has "histograms" within the key: the
    // parent adds no letter to it. Most keys are not, and one substring search says so.
    static HISTOGRAMS: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new("histograms"));
    let after_dot = base == 0 || p.as_bytes().get(base - 1) == Some(&b'.');
    if after_dot && p.as_bytes().get(base..).is_some_and(|key| HISTOGRAMS.find(key).is_none()) {
        return false;
    }
    const MID: &[u8] = b".histograms.";
    let tail = &p.as_bytes()[base.saturating_sub(MID.len() - 1)..];
    // Only from a dot (a key has one or two in that stretch, often none).
    let mid = || tail.iter().enumerate().any(|(i, &b)| b == b'.' && tail[i..].starts_with(MID));
    p == "histograms" || p.ends_with(".histograms") || mid()
}

fn is_histogram_path(p: &str) -> bool {
    p == "histograms" || p.contains(".histograms.") || p.ends_with(".histograms")
}

/// `prefix` ends with a dot, or is empty at the top level.
fn walk<F>(path: &mut String, doc: &Document, labels: &Shared, histograms: bool, f: &mut F)
where
    F: FnMut(&str, &str, &Bson, &Shared),
{
    // `path` is this document's prefix on entry and on return; each key is appended to it
    // in turn (one buffer for the whole walk, not one string per key).
    let base = path.len();
    // Keyed by the parent path: looked up once per document.
    let node_label = lookup(NODE_LABELS, path);
    for (k, v) in doc {
        path.truncate(base);
        path.push_str(k);
        if !histograms && is_histogram_key(path, base) {
            continue;
        }
        let own;
        let l: &Shared = match node_label {
            Some(label) => {
                let mut copy = labels.to_vec();
                set(&mut copy, label, k);
                path.truncate(base);
                path.push_str(label);
                own = shared(copy);
                &own
            }
            None => labels,
        };
        match v {
            Bson::Document(d) => {
                path.push('.');
                walk(path, d, l, histograms, f)
            }
            Bson::Array(items) => {
                if is_histogram_path(path) && is_bucket_list(items) {
                    let p = format!("{path}.");
                    for item in items {
                        if let Bson::Document(b) = item {
                            let mut bl = l.to_vec();
                            let lower = b.get("lowerBound").map(bson_display).unwrap_or_default();
                            set(&mut bl, "lower_bound", &lower);
                            if let Some(c) = b.get("count") {
                                f(&p, "count", c, &shared(bl));
                            }
                        }
                    }
                    continue;
                }
                // The label set is shared along the array: a member without `name` keeps
                // the previous member's.
                let mut member = l.to_vec();
                let at = path.len();
                for item in items {
                    let Bson::Document(m) = item else { continue };
                    if let Ok(name) = m.get_str("name") {
                        set(&mut member, "member_idx", name);
                    }
                    if let Ok(state) = m.get_str("stateStr") {
                        set(&mut member, "member_state", state);
                    }
                    if let Ok(host) = m.get_str("host") {
                        set(&mut member, "member_idx", host);
                    }
                    path.truncate(at);
                    path.push('.');
                    walk(path, m, &shared(member.clone()), histograms, f);
                }
            }
            other => f(&path[..base], k, other, l),
        }
    }
    path.truncate(base);
}

fn is_bucket_list(items: &[Bson]) -> bool {
    !items.is_empty()
        && items
            .iter()
            .all(|i| matches!(i, Bson::Document(d) if d.contains_key("lowerBound") && d.contains_key("count")))
}

fn bson_display(v: &Bson) -> String {
    match v {
        Bson::Int32(i) => i.to_string(),
        Bson::Int64(i) => i.to_string(),
        Bson::Double(d) => d.to_string(),
        Bson::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn set(labels: &mut Vec<Label>, name: &'static str, value: &str) {
    match labels.iter_mut().find(|(k, _)| k == name) {
        Some(pair) => pair.1 = LabelValue::from(value),
        None => labels.push((Cow::Borrowed(name), LabelValue::from(value))),
    }
}

/// A parent path's promoted-key label, with the family name and HELP its children share.
struct Promoted {
    label: Option<&'static str>,
    name: String,
    help: String,
}

impl Promoted {
    fn of(prefix: &str) -> Promoted {
        match lookup(KEY_LABELS, prefix) {
            Some(label) => Promoted {
                label: Some(label),
                name: prometheusize(prefix),
                help: prefix.strip_suffix('.').unwrap_or(prefix).to_owned(),
            },
            None => Promoted { label: None, name: String::new(), help: String::new() },
        }
    }
}

/// A scalar's generic name, HELP, type and promoted-key label, from its parent path (with
/// its trailing dot, or empty) and its key.
fn generic(prefix: &str, key: &str) -> (String, String, Kind, Option<&'static str>) {
    let p = Promoted::of(prefix);
    let (name, help) = match p.label {
        Some(_) => (p.name, p.help),
        None => {
            let mut help = String::with_capacity(prefix.len() + key.len());
            help.push_str(prefix);
            help.push_str(key);
            (prometheusize(&help), help)
        }
    };
    let counter = !NOT_COUNTERS.contains(&prefix)
        && key.len() >= 5
        && key.as_bytes()[key.len() - 5..].eq_ignore_ascii_case(b"count");
    let kind = if counter { Kind::Counter } else { Kind::Untyped };
    (name, help, kind, p.label)
}

/// One scalar `key` under `prefix` (with its trailing dot, or empty).
fn scalar(prefix: &str, key: &str, v: &Bson, labels: &[Label], flat: &mut Flat) {
    let (name, help, kind, promoted) = generic(prefix, key);
    let value = match value_of(v) {
        None => return,
        Some(Err(t)) => {
            flat.invalid.push(Invalid { name, why: format!("{prefix}{key}: unsupported BSON type {t}") });
            return;
        }
        Some(Ok(x)) => x,
    };
    let mut all = labels.to_vec();
    if let Some(label) = promoted {
        set(&mut all, label, key);
    }
    let metric = Metric { name, help, kind, labels: all, value };
    match rename(&metric) {
        Some(renamed) => flat.metrics.extend(renamed),
        None => flat.metrics.push(metric),
    }
}

/// The kit's fast, non-keyed map: its keys are the exporter's own tables, looked up once or
/// twice per sample, where SipHash's guard against chosen keys buys nothing.
pub(crate) use vigie_kit::fasthash::FastMap;

/// Old name → `(new name, label, label value)` rows.
type Renamed = FastMap<String, Vec<(&'static str, &'static str, &'static str)>>;

/// The names [`RENAMES`] replace (`<prefix>_<suffix>` or `<prefix><suffix>`), each with
/// its rows in table order: built once, looked up for every sample.
fn renamed() -> &'static Renamed {
    static MAP: OnceLock<Renamed> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut map = Renamed::default();
        for (new, prefix, label, suffixes) in RENAMES {
            for (s, v) in *suffixes {
                let mut names = vec![format!("{prefix}_{s}")];
                if !s.starts_with('_') {
                    names.push(format!("{prefix}{s}"));
                }
                for name in names {
                    let rows = map.entry(name).or_default();
                    if !rows.iter().any(|(n, _, _)| n == new) {
                        rows.push((new, label, v));
                    }
                }
            }
        }
        map
    })
}

/// The always-on renames: the sample is replaced by one carrying only the rename's label.
fn rename(m: &Metric) -> Option<Vec<Metric>> {
    let rows = renamed().get(m.name.as_str())?;
    let mut out = Vec::new();
    for (new, label, v) in rows {
        out.push(Metric {
            name: (*new).to_owned(),
            help: (*new).to_owned(),
            kind: m.kind,
            labels: vec![(Cow::Borrowed(*label), LabelValue::from(*v))],
            value: m.value,
        });
    }
    (!out.is_empty()).then_some(out)
}

pub mod emit;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
