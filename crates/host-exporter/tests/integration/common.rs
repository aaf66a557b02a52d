//! What the host exporter's integration tests share: where the binary and the fixtures are,
//! how to start it, and how to reduce an exposition to family → (type, label names).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use vigie_kit::testing::{self, Running};
use vigie_kit::Kind;

/// The install command `tests/run` uses, quoted when something is missing.
pub const INSTALL: &str = "apt-get install -y prometheus-node-exporter prometheus openssl curl";

/// Our release (or debug, under plain `cargo test`) binary.
pub fn ours() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_vigie-host-exporter"))
}

/// `crates/host-exporter`.
pub fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `crates/host-exporter/tests/fixtures/<rel>`.
pub fn fixture(rel: &str) -> PathBuf {
    crate_dir().join("tests/fixtures").join(rel)
}

/// Debian's node_exporter 1.5, or `None` after printing why the test is skipped.
pub fn node_exporter() -> Option<PathBuf> {
    testing::program(&["prometheus-node-exporter", "node_exporter"], INSTALL)
}

/// promtool (Debian package `prometheus`), or `None` after printing why.
pub fn promtool() -> Option<PathBuf> {
    testing::program(&["promtool"], INSTALL)
}

/// Starts our binary on a free loopback port with `extra` flags.
pub fn spawn_ours(extra: &[String]) -> Running {
    Running::spawn(&ours(), |addr| {
        let mut args = vec![format!("--web.listen-address={addr}")];
        args.extend(extra.iter().cloned());
        args
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

/// Whether our binary accepts `flag` (e.g. a collector option that lands with its collector):
/// `--version` exits 0 only once every flag before it parsed.
pub fn accepts(flag: &str) -> bool {
    testing::run_to_exit(&ours(), &[flag, "--version"], Duration::from_secs(30)).is_ok_and(|o| o.status.success())
}

/// Our `--help` text.
pub fn help() -> &'static str {
    static HELP: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HELP.get_or_init(|| {
        let out = testing::run_to_exit(&ours(), &["--help"], Duration::from_secs(30)).expect("--help runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    })
}

/// A family's shape: its TYPE and the union of its samples' label names.
pub type Shape = (Kind, BTreeSet<String>);

/// Parses an exposition into family name → shape. Panics (with `who`) on a parse error.
pub fn shapes(who: &str, text: &str) -> BTreeMap<String, Shape> {
    let parsed = vigie_kit::parse::parse(text).unwrap_or_else(|e| panic!("{who}'s /metrics does not parse: {e}"));
    parsed
        .families
        .into_iter()
        .map(|f| {
            let labels = f.samples.iter().flat_map(|s| s.labels.iter().map(|(k, _)| k.to_string())).collect();
            (f.name.to_string(), (f.kind, labels))
        })
        .collect()
}

/// The `collector` label values of a `*_scrape_collector_success` family.
pub fn collectors(text: &str) -> BTreeSet<String> {
    let Ok(parsed) = vigie_kit::parse::parse(text) else { return BTreeSet::new() };
    parsed
        .families
        .iter()
        .filter(|f| f.name == "node_scrape_collector_success")
        .flat_map(|f| f.samples.iter())
        .filter_map(|s| s.labels.iter().find(|(k, _)| k == "collector").map(|(_, v)| v.to_string()))
        .collect()
}
