//! `/sys/devices/system/edac/mc/mc*` → `node_edac_*` (node_exporter "edac" names).
//!
//! Per memory controller: correctable and uncorrectable error counts, and per chip-select
//! row (`csrow="unknown"` for errors the controller could not place). No controllers: success
//! with no samples; a missing or malformed count fails the collector, as in node_exporter.

use std::path::Path;

use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

/// The registration.
pub const REG: Registration = Registration {
    name: "edac",
    default_enabled: true,
    help: "Exposes error detection and correction statistics.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Edac)),
};

const CE: Desc = Desc::counter("node_edac_correctable_errors_total", "Correctable memory errors.", &["controller"]);
const UE: Desc = Desc::counter("node_edac_uncorrectable_errors_total", "Uncorrectable memory errors.", &["controller"]);
const CSROW_CE: Desc = Desc::counter(
    "node_edac_csrow_correctable_errors_total",
    "Correctable memory errors of a chip-select row.",
    &["controller", "csrow"],
);
const CSROW_UE: Desc = Desc::counter(
    "node_edac_csrow_uncorrectable_errors_total",
    "Uncorrectable memory errors of a chip-select row.",
    &["controller", "csrow"],
);

/// Reads the EDAC memory controllers.
pub struct Edac;

impl SyncCollector for Edac {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let mc = cx.paths.sys("devices/system/edac/mc");
        for (num, dir) in numbered(cx, &mc, "mc") {
            out.add(&CE, &[&num], count(&dir.join("ce_count"))?);
            out.add(&CSROW_CE, &[&num, "unknown"], count(&dir.join("ce_noinfo_count"))?);
            out.add(&UE, &[&num], count(&dir.join("ue_count"))?);
            out.add(&CSROW_UE, &[&num, "unknown"], count(&dir.join("ue_noinfo_count"))?);
            for (row, rdir) in numbered(cx, &dir, "csrow") {
                out.add(&CSROW_CE, &[&num, &row], count(&rdir.join("ce_count"))?);
                out.add(&CSROW_UE, &[&num, &row], count(&rdir.join("ue_count"))?);
            }
        }
        Ok(())
    }
}

/// Entries `<prefix><digits…>` of `dir` as (the digits, path), in name order (Go's glob
/// `<prefix>[0-9]*`, whose number is the leading digits).
fn numbered(cx: &Scrape, dir: &Path, prefix: &str) -> Vec<(String, std::path::PathBuf)> {
    let Ok(entries) = cx.read_dir(dir) else { return Vec::new() };
    let mut names: Vec<String> = entries.flatten().filter_map(|e| e.file_name().to_str().map(str::to_owned)).collect();
    names.sort_unstable();
    names
        .into_iter()
        .filter_map(|name| {
            let rest = name.strip_prefix(prefix)?;
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            (!digits.is_empty()).then(|| (digits, dir.join(&name)))
        })
        .collect()
}

/// An unsigned decimal count file.
fn count(path: &Path) -> Result<f64, CollectError> {
    let text = vigie_kit::scrape::read_text(path)?;
    let t = text.trim();
    t.parse::<u64>().map(|v| v as f64).map_err(|_| CollectError::parse(path, format!("invalid count {t:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_tree() {
        // Expected: node_exporter 1.5's output on the same (constructed) tree, HELP aside.
        let text = crate::collectors::fixture_text(&Edac).unwrap();
        let want = "# TYPE node_edac_correctable_errors_total counter\n\
node_edac_correctable_errors_total{controller=\"0\"} 3\n\
# TYPE node_edac_csrow_correctable_errors_total counter\n\
node_edac_csrow_correctable_errors_total{controller=\"0\",csrow=\"0\"} 2\n\
node_edac_csrow_correctable_errors_total{controller=\"0\",csrow=\"unknown\"} 1\n\
# TYPE node_edac_csrow_uncorrectable_errors_total counter\n\
node_edac_csrow_uncorrectable_errors_total{controller=\"0\",csrow=\"0\"} 0\n\
node_edac_csrow_uncorrectable_errors_total{controller=\"0\",csrow=\"unknown\"} 0\n\
# TYPE node_edac_uncorrectable_errors_total counter\n\
node_edac_uncorrectable_errors_total{controller=\"0\"} 0\n";
        assert_eq!(crate::collectors::without_help(&text), want);
    }

    #[test]
    fn no_controllers_is_success_and_a_bad_count_fails() {
        let dir = tempfile::tempdir().unwrap();
        let paths = vigie_kit::Paths { sysfs: dir.path().to_owned(), ..crate::collectors::fixtures() };
        let (set, result) = vigie_kit::scheduler::collect_once(&Edac, crate::collectors::fresh(&paths));
        assert!(result.is_ok() && set.sample_count() == 0, "{result:?}");
        let mc = dir.path().join("devices/system/edac/mc/mc1");
        std::fs::create_dir_all(&mc).unwrap();
        std::fs::write(mc.join("ce_count"), "x\n").unwrap();
        // Fresh paths: the first scrape's paths remember the directory as missing.
        let paths = vigie_kit::Paths { sysfs: dir.path().to_owned(), ..crate::collectors::fixtures() };
        let (_, result) = vigie_kit::scheduler::collect_once(&Edac, paths);
        let err = result.unwrap_err().to_string();
        assert!(err.contains("mc1/ce_count") && err.contains("\"x\""), "{err}");
    }
}
