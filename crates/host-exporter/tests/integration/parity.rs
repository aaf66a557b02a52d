//! Parity with node_exporter 1.5 on this host: both exporters run side by side with their
//! default collectors; every family node_exporter shows, we show with the same TYPE and the
//! same label names, except the differences listed with a reason in `tests/parity-allow.txt`.
//! Then `promtool check metrics`: our output parses, every family has HELP, and it draws no
//! lint warning that node_exporter's own output does not draw too.

use std::collections::{BTreeMap, BTreeSet};

use vigie_kit::testing::{self, Running, TempDir};

use super::common::{self, Shape};

/// One line of `parity-allow.txt`.
#[derive(Debug)]
struct Allowed {
    pattern: String,
    what: String,
    reason: String,
}

impl Allowed {
    fn matches(&self, family: &str) -> bool {
        match self.pattern.strip_suffix('*') {
            Some(prefix) => family.starts_with(prefix),
            None => family == self.pattern,
        }
    }
}

fn allow_list() -> Vec<Allowed> {
    let path = common::crate_dir().join("tests/parity-allow.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (pattern, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let (what, reason) = rest.trim_start().split_once(char::is_whitespace).unwrap_or((rest.trim(), ""));
        let reason = reason.trim();
        let at = format!("{}:{}", path.display(), n + 1);
        assert!(["missing", "type", "labels", "any"].contains(&what), "{at}: <what> must be missing|type|labels|any");
        assert!(!reason.is_empty(), "{at}: every allowed difference needs a reason");
        out.push(Allowed { pattern: pattern.into(), what: what.into(), reason: reason.into() });
    }
    out
}

fn allowed<'a>(list: &'a [Allowed], family: &str, what: &str) -> Option<&'a Allowed> {
    list.iter().find(|a| a.matches(family) && (a.what == what || a.what == "any"))
}

#[test]
fn allow_list_is_well_formed() {
    let list = allow_list();
    assert!(list.iter().any(|a| a.pattern == "go_*"), "go_* must be listed");
    assert!(allowed(&list, "go_goroutines", "missing").is_some());
    assert!(allowed(&list, "node_load1", "missing").is_none());
    assert!(allowed(&list, "node_exporter_build_info", "type").is_none());
}

/// node_exporter and ours, started side by side on free loopback ports, each with an empty
/// textfile directory (Debian's default directory may hold users' files).
struct Pair {
    theirs: Running,
    ours: Running,
    _textfiles: TempDir,
}

fn pair() -> Option<Pair> {
    let node_exporter = common::node_exporter()?;
    let textfiles = TempDir::new("vigie-parity-textfile").expect("temp dir");
    let textfile_flag = format!("--collector.textfile.directory={}", textfiles.path().display());
    let theirs =
        Running::spawn(&node_exporter, |addr| vec![format!("--web.listen-address={addr}"), textfile_flag.clone()])
            .unwrap_or_else(|e| panic!("{e}"));
    let extra: Vec<String> = common::accepts(&textfile_flag).then(|| textfile_flag.clone()).into_iter().collect();
    let ours = common::spawn_ours(&extra);
    Some(Pair { theirs, ours, _textfiles: textfiles })
}

#[test]
fn every_node_exporter_family_has_our_type_and_labels() {
    let Some(pair) = pair() else { return };
    let (their_text, our_text) = (pair.theirs.scrape(), pair.ours.scrape());
    let (theirs, ours) = (common::shapes("node_exporter", &their_text), common::shapes("ours", &our_text));
    let allow = allow_list();
    let report = compare(&theirs, &ours, &allow);
    // Families only we show are not an error (node_exporter may lack what this host has
    // not), but a typo in a name shows up here first.
    let extra: Vec<&String> = ours.keys().filter(|f| !theirs.contains_key(*f)).collect();
    if !extra.is_empty() {
        println!("note: {} families only in our output: {extra:?}", extra.len());
    }
    let unused: Vec<&str> =
        allow.iter().filter(|a| !theirs.keys().any(|f| a.matches(f))).map(|a| a.pattern.as_str()).collect();
    let used: BTreeSet<String> = allow
        .iter()
        .filter(|a| theirs.keys().any(|f| a.matches(f)))
        .map(|a| format!("{} ({}): {}", a.pattern, a.what, a.reason))
        .collect();
    for a in &used {
        println!("allowed: {a}");
    }
    if !unused.is_empty() {
        println!("note: parity-allow.txt entries matching no node_exporter family on this host: {unused:?}");
    }
    if !report.is_empty() {
        let lacking: Vec<String> =
            common::collectors(&their_text).difference(&common::collectors(&our_text)).cloned().collect();
        panic!(
            "{report}\nnode_exporter collectors that ran here and that we lack ({}): {}\n\
             Fix the exporter, or list a deliberate difference with its reason in tests/parity-allow.txt.",
            lacking.len(),
            lacking.join(", ")
        );
    }
}

/// The mismatches, grouped: missing families (by name prefix), wrong types, wrong label sets.
fn compare(theirs: &BTreeMap<String, Shape>, ours: &BTreeMap<String, Shape>, allow: &[Allowed]) -> String {
    let mut missing: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let (mut types, mut labels) = (Vec::new(), Vec::new());
    for (name, (kind, label_names)) in theirs {
        match ours.get(name) {
            None if allowed(allow, name, "missing").is_none() => {
                // node_cpu_seconds_total → node_cpu: usually one collector.
                let group = name.splitn(3, '_').take(2).collect::<Vec<_>>().join("_");
                missing.entry(group).or_default().push(name);
            }
            None => {}
            Some((our_kind, our_labels)) => {
                if our_kind != kind && allowed(allow, name, "type").is_none() {
                    types.push(format!("  {name}: node_exporter {} / ours {}", kind.as_str(), our_kind.as_str()));
                }
                if our_labels != label_names && allowed(allow, name, "labels").is_none() {
                    let want: Vec<_> = label_names.difference(our_labels).collect();
                    let extra: Vec<_> = our_labels.difference(label_names).collect();
                    labels.push(format!("  {name}: we lack {want:?}, we add {extra:?}"));
                }
            }
        }
    }
    let mut out = String::new();
    let n_missing: usize = missing.values().map(Vec::len).sum();
    if n_missing > 0 {
        out.push_str(&format!("{n_missing} node_exporter families missing from our output:\n"));
        for (group, names) in &missing {
            out.push_str(&format!("  {group}_* ({}): {}\n", names.len(), names.join(", ")));
        }
    }
    if !types.is_empty() {
        out.push_str(&format!("{} families with another TYPE:\n{}\n", types.len(), types.join("\n")));
    }
    if !labels.is_empty() {
        out.push_str(&format!("{} families with other label names:\n{}\n", labels.len(), labels.join("\n")));
    }
    out
}

#[test]
fn compare_reports_each_kind_of_mismatch() {
    use vigie_kit::Kind;
    let shape = |k: Kind, l: &[&str]| (k, l.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>());
    let theirs = BTreeMap::from([
        ("node_a_x".to_string(), shape(Kind::Gauge, &[])),
        ("node_b".to_string(), shape(Kind::Counter, &["cpu"])),
        ("node_c".to_string(), shape(Kind::Gauge, &["device"])),
        ("go_goroutines".to_string(), shape(Kind::Gauge, &[])),
    ]);
    let ours = BTreeMap::from([
        ("node_b".to_string(), shape(Kind::Gauge, &["cpu"])),
        ("node_c".to_string(), shape(Kind::Gauge, &["dev"])),
    ]);
    let report = compare(&theirs, &ours, &allow_list());
    assert!(
        report.contains("1 node_exporter families missing") && report.contains("node_a_* (1): node_a_x"),
        "{report}"
    );
    assert!(report.contains("node_b: node_exporter counter / ours gauge"), "{report}");
    assert!(report.contains("node_c: we lack [\"device\"], we add [\"dev\"]"), "{report}");
    assert!(!report.contains("go_goroutines"), "{report}");
    assert!(compare(&ours, &ours, &[]).is_empty());
}

#[test]
fn promtool_finds_nothing_in_ours_that_it_does_not_find_in_node_exporter() {
    let Some(promtool) = common::promtool() else { return };
    let Some(pair) = pair() else { return };
    let (their_text, our_text) = (pair.theirs.scrape(), pair.ours.scrape());
    let lint = |who: &str, text: &str| {
        testing::promtool_check_metrics(&promtool, text).unwrap_or_else(|e| panic!("promtool on {who}'s output: {e}"))
    };
    let (theirs, ours) = (lint("node_exporter", &their_text), lint("our", &our_text));
    assert!(ours.errors.is_empty(), "promtool cannot parse our output: {:?}", ours.errors);
    let parsed = vigie_kit::parse::parse(&our_text).expect("our output parses");
    let no_help: Vec<&str> =
        parsed.families.iter().filter(|f| f.help.trim().is_empty()).map(|f| f.name.as_ref()).collect();
    assert!(no_help.is_empty(), "families without HELP: {no_help:?}");
    let theirs_flagged: BTreeSet<&str> = theirs.problems.iter().map(|(m, _)| m.as_str()).collect();
    let new: Vec<String> = ours
        .problems
        .iter()
        .filter(|(m, _)| !theirs_flagged.contains(m.as_str()))
        .map(|(m, msg)| format!("  {m}: {msg}"))
        .collect();
    assert!(
        new.is_empty(),
        "promtool check metrics warns about {} metrics of ours that it accepts from node_exporter:\n{}",
        new.len(),
        new.join("\n")
    );
}
