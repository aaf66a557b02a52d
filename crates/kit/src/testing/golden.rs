//! Golden expositions: an exporter's whole output over a captured or replayed input, diffed
//! against `tests/golden/<name>.prom` ([`assert_golden`]; `VIGIE_UPDATE_GOLDEN=1` rewrites
//! it) and checked by `promtool check metrics`; and the helpers that make that output stable
//! (every collector of a registry over one input, volatile families dropped, live values
//! masked).

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{program, UPDATE_GOLDEN_ENV};

/// Compares `actual` with the golden file at `path`; with `VIGIE_UPDATE_GOLDEN=1`, writes it
/// instead. The panic message lists the lines only in the golden (`-`) and only in the
/// output (`+`), and says how to accept the change.
pub fn assert_golden(path: &Path, actual: &str) {
    if std::env::var(UPDATE_GOLDEN_ENV).is_ok_and(|v| v == "1") {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Err(e) = std::fs::write(path, actual) {
            panic!("cannot write golden file {}: {e}", path.display());
        }
        println!("golden file {} rewritten", path.display());
        return;
    }
    let expected = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => panic!("golden file {}: {e}; create it with {UPDATE_GOLDEN_ENV}=1 cargo test", path.display()),
    };
    if expected == actual {
        return;
    }
    let diff = line_diff(&expected, actual);
    panic!(
        "output differs from golden file {}:\n{diff}\nIf the change is intended, rewrite it with {UPDATE_GOLDEN_ENV}=1 \
         cargo test and review the diff.",
        path.display()
    );
}

/// The exposition of every collector of `registry` that the command line `args` enables
/// (`args[0]` is the program name; `extra` adds the exporter's own flags), each run once over
/// `paths` and `target` on a fresh single-thread runtime, their samples merged. The
/// per-collector success and duration families are left out (durations change every run); a
/// collector that fails panics, naming it, since a golden input must not make one fail.
/// What the exporters' golden tests feed [`assert_golden_exposition`].
pub fn registry_exposition<T: Clone + Send + Sync + 'static>(
    exporter: &crate::Exporter,
    registry: Vec<crate::Registration<T>>,
    extra: fn(clap::Command) -> clap::Command,
    args: &[&str],
    paths: crate::Paths,
    target: T,
) -> String {
    let args = args.iter().map(|a| a.to_string()).collect();
    let (settings, _) = crate::settings_with(exporter, registry, extra, args).unwrap_or_else(|e| panic!("{e}"));
    let paths = std::sync::Arc::new(paths);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    let mut all = crate::MetricSet::new();
    for c in &settings.collectors {
        let cx = crate::Scrape::new(Instant::now() + Duration::from_secs(30), paths.clone(), target.clone());
        let mut out = crate::MetricSet::new();
        if let Err(e) = runtime.block_on(c.collector.collect(&cx, &mut out)) {
            panic!("collector {} failed over the golden input: {e}", c.name);
        }
        all.merge(out);
    }
    all.encode()
}

/// `text` (an exposition) without the families named in `volatile` (a trailing `*` makes a
/// prefix), each given with why it changes between runs: their HELP, TYPE and sample lines
/// are dropped as they are, so that the rest is the encoder's own bytes.
pub fn without_families(text: &str, volatile: &[(&str, &str)]) -> String {
    let dropped = |family: &str| {
        volatile.iter().any(|(p, _)| match p.strip_suffix('*') {
            Some(prefix) => family.starts_with(prefix),
            None => family == *p,
        })
    };
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let name = match line.strip_prefix("# HELP ").or_else(|| line.strip_prefix("# TYPE ")) {
            Some(rest) => rest.split(' ').next().unwrap_or(""),
            None => line.split(['{', ' ']).next().unwrap_or(""),
        };
        if !dropped(name) {
            out.push_str(line);
        }
    }
    out
}

/// `text` (an exposition) with every sample's value replaced by `0`: for a golden file taken
/// from a live service, whose families, label sets and order are stable from one run to the
/// next but whose counters are not. HELP and TYPE lines are kept as they are.
pub fn masked_values(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        match line.rsplit_once(' ') {
            Some((series, _)) if !line.starts_with('#') => {
                out.push_str(series);
                out.push_str(" 0\n");
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// [`assert_golden`] of an exposition, then `promtool check metrics` of the golden file (when
/// promtool is on `PATH`, else [`skip`]): it must parse and every family must have HELP. The
/// incumbents' own names draw lint warnings (camelCase, no unit suffix), which are allowed.
pub fn assert_golden_exposition(path: &Path, actual: &str) {
    assert_golden(path, actual);
    let Some(promtool) = program(&["promtool"], "apt-get install -y prometheus") else { return };
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let lint = promtool_check_metrics(&promtool, &text).unwrap_or_else(|e| panic!("promtool: {e}"));
    assert!(lint.errors.is_empty(), "promtool cannot parse {}: {:?}", path.display(), lint.errors);
    let no_help: Vec<&String> = lint.problems.iter().filter(|(_, m)| m.contains("no help")).map(|(n, _)| n).collect();
    assert!(no_help.is_empty(), "families without HELP in {}: {no_help:?}", path.display());
}

/// Lines only in `old` (`-`) and only in `new` (`+`), each side in its own order, counting
/// repeated lines. Enough for expositions, whose lines are sorted and mostly unique.
pub fn line_diff(old: &str, new: &str) -> String {
    use std::collections::HashMap;
    let count = |t: &str| {
        let mut m: HashMap<String, usize> = HashMap::new();
        for l in t.lines() {
            *m.entry(l.to_owned()).or_default() += 1;
        }
        m
    };
    let (mut in_old, mut in_new) = (count(old), count(new));
    let mut out = String::new();
    for l in old.lines() {
        let seen_new = in_new.get_mut(l).filter(|n| **n > 0);
        match seen_new {
            Some(n) => *n -= 1,
            None => out.push_str(&format!("- {l}\n")),
        }
    }
    for l in new.lines() {
        match in_old.get_mut(l).filter(|n| **n > 0) {
            Some(n) => *n -= 1,
            None => out.push_str(&format!("+ {l}\n")),
        }
    }
    if out.is_empty() {
        out.push_str("(same lines, different order or trailing newline)\n");
    }
    out
}

/// What `promtool check metrics` said about an exposition.
#[derive(Debug, Clone, Default)]
pub struct Lint {
    /// promtool's exit code: 0 clean, 3 lint problems, 1 a parse error.
    pub code: i32,
    /// `error while linting: …` lines (parse errors).
    pub errors: Vec<String>,
    /// Lint problems as (metric name, message).
    pub problems: Vec<(String, String)>,
}

/// Runs `promtool check metrics` (found on `PATH`) on `text`.
pub fn promtool_check_metrics(promtool: &Path, text: &str) -> std::io::Result<Lint> {
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stdin = child.stdin.take().ok_or_else(|| std::io::Error::other("no stdin"))?;
    let input = text.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output()?;
    let _ = writer.join();
    let mut lint = Lint { code: out.status.code().unwrap_or(-1), ..Lint::default() };
    for line in String::from_utf8_lossy(&out.stdout).lines().chain(String::from_utf8_lossy(&out.stderr).lines()) {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        // A metric name never contains a space or a colon-space; promtool's own errors start
        // with "error" (e.g. "error while linting: text format parsing error in line 3: …").
        if line.starts_with("error") {
            lint.errors.push(line.to_owned());
        } else {
            let (metric, msg) = line.split_once(' ').unwrap_or((line, ""));
            lint.problems.push((metric.to_owned(), msg.to_owned()));
        }
    }
    Ok(lint)
}
