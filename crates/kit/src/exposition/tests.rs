//! Tests of the model, the writer and the float format against client_golang's output.

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
    for (set, labels) in [(&mut own_set, Labels::Own(pairs.clone())), (&mut shared_set, Labels::Shared(shared.clone()))]
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
