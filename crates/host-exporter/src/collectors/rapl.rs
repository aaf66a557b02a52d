//! `/sys/class/powercap/*` → `node_rapl_<zone>_joules_total` (node_exporter "rapl" names).
//!
//! Each powercap zone with a `name` file (`package-0`, `core`, `dram`…) gives a counter in
//! joules labelled `index` (the `-N` suffix of the name, else the count of earlier zones of
//! that name) and `path` (the zone's directory under `--path.sysfs`), or, with
//! `--collector.rapl.enable-zone-label`, one `node_rapl_joules_total` with `rapl_zone`.
//! No powercap class, or `energy_uj` readable by root only (kernels ≥ 5.10): no data, as in
//! node_exporter.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

use vigie_kit::exposition::Kind;
use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

const ZONE_LABEL: &str = "collector.rapl.enable-zone-label";

/// The registration.
pub const REG: Registration = Registration {
    name: "rapl",
    default_enabled: true,
    help: "Exposes various statistics from /sys/class/powercap.",
    args: |cmd| {
        cmd.arg(
            clap::Arg::new(ZONE_LABEL)
                .long(ZONE_LABEL)
                .action(clap::ArgAction::SetTrue)
                .help("Expose one node_rapl_joules_total family with a rapl_zone label."),
        )
    },
    build: |m| Ok(Box::new(Rapl { zone_label: m.get_flag(ZONE_LABEL) })),
};

const JOULES: Desc =
    Desc::counter("node_rapl_joules_total", "Energy a RAPL zone used, in joules.", &["index", "path", "rapl_zone"]);

/// Reads `/sys/class/powercap`.
pub struct Rapl {
    /// `--collector.rapl.enable-zone-label`.
    pub zone_label: bool,
}

/// One zone: its name less the `-N` suffix, its index and its directory.
struct Zone {
    name: String,
    index: u64,
    path: String,
}

impl SyncCollector for Rapl {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let zones = zones(cx, &cx.paths.sys("class/powercap"))?;
        let mut values = Vec::with_capacity(zones.len());
        for z in &zones {
            let file = Path::new(&z.path).join("energy_uj");
            match read_uint(&file) {
                Ok(uj) => values.push(uj as f64 / 1e6),
                Err(e) if e.kind() == ErrorKind::PermissionDenied => {
                    return Err(CollectError::NoData(format!("{}: {e}", file.display())))
                }
                Err(e) => return Err(CollectError::io(file, e)),
            }
        }
        for (z, joules) in zones.iter().zip(values) {
            let index = z.index.to_string();
            if self.zone_label {
                out.add(&JOULES, &[&index, &z.path, &z.name], joules);
            } else {
                let name = format!("node_rapl_{}_joules_total", sanitize(&z.name));
                let help = format!("Energy the RAPL {} zones used, in joules.", z.name);
                out.family(name, help, Kind::Counter).push(&[("index", &index), ("path", &z.path)], joules);
            }
        }
        Ok(())
    }
}

/// The zones of `dir`, as procfs' `GetRaplZones` finds them (in name order).
fn zones(cx: &Scrape, dir: &Path) -> Result<Vec<Zone>, CollectError> {
    let absent = |e: &std::io::Error| matches!(e.kind(), ErrorKind::NotFound | ErrorKind::PermissionDenied);
    let entries = match cx.read_dir(dir) {
        Ok(e) => e,
        Err(e) if absent(&e) => return Err(CollectError::NoData(format!("{}: {e}", dir.display()))),
        Err(e) => return Err(CollectError::io(dir, e)),
    };
    let mut names: Vec<String> = entries.flatten().filter_map(|e| e.file_name().to_str().map(str::to_owned)).collect();
    names.sort_unstable();
    let mut uses: HashMap<String, u64> = HashMap::new();
    let mut zones = Vec::new();
    for entry in names {
        let zdir = dir.join(&entry);
        let Ok(raw) = std::fs::read_to_string(zdir.join("name")) else { continue };
        let (name, index) = split_index(raw.trim(), &uses);
        // procfs requires this file even though node_exporter does not expose it.
        let max = zdir.join("max_energy_range_uj");
        match read_uint(&max) {
            Ok(_) => {}
            Err(e) if absent(&e) => return Err(CollectError::NoData(format!("{}: {e}", max.display()))),
            Err(e) => return Err(CollectError::io(max, e)),
        }
        uses.insert(name.clone(), index + 1);
        zones.push(Zone { name, index, path: zdir.display().to_string() });
    }
    Ok(zones)
}

/// `package-1` → (`package`, 1); a name without a numeric `-N` keeps its name and takes the
/// next index of that name.
fn split_index(name: &str, uses: &HashMap<String, u64>) -> (String, u64) {
    let parts: Vec<&str> = name.split('-').collect();
    if let [base, n] = parts[..] {
        if let Ok(i) = n.parse::<i64>() {
            // Go's strconv.Atoi: a negative index would be kept as is; none exist in practice.
            return (base.to_owned(), i.max(0) as u64);
        }
    }
    (name.to_owned(), uses.get(name).copied().unwrap_or(0))
}

fn read_uint(path: &Path) -> std::io::Result<u64> {
    let text = std::fs::read_to_string(path)?;
    text.trim()
        .parse()
        .map_err(|_| std::io::Error::new(ErrorKind::InvalidData, format!("invalid number {:?}", text.trim())))
}

/// node_exporter's `SanitizeMetricName`: each run of characters outside `[0-9A-Za-z_]`,
/// with the underscores around it, becomes one `_`.
pub fn sanitize(name: &str) -> String {
    static INVALID: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new("_*[^0-9A-Za-z_]+_*").ok());
    match INVALID.as_ref() {
        Some(re) => re.replace_all(name, "_").into_owned(),
        None => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_tree() {
        // Expected: node_exporter 1.5's output on the same (constructed) tree, HELP aside.
        let paths = crate::collectors::fixtures();
        let base = paths.sys("class/powercap").display().to_string();
        let text = crate::collectors::fixture_text(&Rapl { zone_label: false }).unwrap();
        let want = format!(
            "# TYPE node_rapl_core_joules_total counter\n\
node_rapl_core_joules_total{{index=\"0\",path=\"{base}/intel-rapl:0:0\"}} 23.456789\n\
# TYPE node_rapl_package_joules_total counter\n\
node_rapl_package_joules_total{{index=\"0\",path=\"{base}/intel-rapl:0\"}} 123.456789\n"
        );
        assert_eq!(crate::collectors::without_help(&text), want);

        let text = crate::collectors::fixture_text(&Rapl { zone_label: true }).unwrap();
        let want = format!(
            "# TYPE node_rapl_joules_total counter\n\
node_rapl_joules_total{{index=\"0\",path=\"{base}/intel-rapl:0\",rapl_zone=\"package\"}} 123.456789\n\
node_rapl_joules_total{{index=\"0\",path=\"{base}/intel-rapl:0:0\",rapl_zone=\"core\"}} 23.456789\n"
        );
        assert_eq!(crate::collectors::without_help(&text), want);
    }

    #[test]
    fn names_and_indexes() {
        let mut uses = HashMap::new();
        assert_eq!(split_index("package-1", &uses), ("package".to_owned(), 1));
        assert_eq!(split_index("dram", &uses), ("dram".to_owned(), 0));
        uses.insert("dram".to_owned(), 1);
        assert_eq!(split_index("dram", &uses), ("dram".to_owned(), 1));
        assert_eq!(split_index("a-b-1", &uses), ("a-b-1".to_owned(), 0));
        assert_eq!(sanitize("psys"), "psys");
        assert_eq!(sanitize("a-b"), "a_b");
        assert_eq!(sanitize("a__-_b"), "a_b");
        assert_eq!(sanitize("a__b-"), "a__b_");
        assert_eq!(sanitize("a.-.b"), "a_b");
        assert_eq!(sanitize("a-_-b"), "a__b");
    }

    #[test]
    fn no_powercap_is_no_data() {
        let dir = tempfile::tempdir().unwrap();
        let paths = vigie_kit::Paths { sysfs: dir.path().to_owned(), ..crate::collectors::fixtures() };
        let (_, result) = vigie_kit::scheduler::collect_once(&Rapl { zone_label: false }, paths);
        assert!(matches!(result, Err(CollectError::NoData(_))), "{result:?}");
    }
}
