//! `/sys/class/thermal/{thermal_zone*,cooling_device*}` → `node_thermal_zone_temp`,
//! `node_cooling_device_{cur,max}_state` (node_exporter "thermal_zone" names).
//!
//! As node_exporter (procfs): a zone whose `temp` answers ENODATA is skipped; any other
//! unreadable or malformed file fails the collector. No zones at all is success with no
//! samples. Files whose values are not exposed (`policy`, `mode`, `passive`) are not read.

use std::path::{Path, PathBuf};

use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

/// The registration.
pub const REG: Registration = Registration {
    name: "thermal_zone",
    default_enabled: true,
    help: "Exposes thermal zone & cooling device statistics from /sys/class/thermal.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(ThermalZone)),
};

const ZONE_TEMP: Desc = Desc::gauge("node_thermal_zone_temp", "Temperature of a thermal zone, in °C.", &["zone", "type"]);
const CUR_STATE: Desc =
    Desc::gauge("node_cooling_device_cur_state", "Current throttling state of a cooling device.", &["name", "type"]);
const MAX_STATE: Desc =
    Desc::gauge("node_cooling_device_max_state", "Highest throttling state of a cooling device.", &["name", "type"]);

/// Reads `/sys/class/thermal`.
pub struct ThermalZone;

impl SyncCollector for ThermalZone {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let class = cx.paths.sys("class/thermal");
        let (zones, devices) = list(&class);
        for (num, dir) in zones {
            let kind = attr(&dir.join("type"))?;
            let temp = match std::fs::read_to_string(dir.join("temp")) {
                Ok(text) => int(&dir.join("temp"), &text)?,
                // Some zones (e.g. unplugged sensors) answer ENODATA: node_exporter skips them.
                Err(e) if e.raw_os_error() == Some(rustix::io::Errno::NODATA.raw_os_error()) => continue,
                Err(e) => return Err(CollectError::io(dir.join("temp"), e)),
            };
            out.add(&ZONE_TEMP, &[&num, &kind], temp as f64 / 1000.0);
        }
        for (num, dir) in devices {
            let kind = attr(&dir.join("type"))?;
            let max = int(&dir.join("max_state"), &attr(&dir.join("max_state"))?)?;
            let cur = int(&dir.join("cur_state"), &attr(&dir.join("cur_state"))?)?;
            out.add(&CUR_STATE, &[&num, &kind], cur as f64);
            out.add(&MAX_STATE, &[&num, &kind], max as f64);
        }
        Ok(())
    }
}

/// An entry's number (the text after its prefix) and path.
type Numbered = (String, PathBuf);

/// The `thermal_zone<N>` and `cooling_device<N>` entries of `class`, each as (the text after
/// the prefix, path), sorted by name as Go's `filepath.Glob` returns them.
fn list(class: &Path) -> (Vec<Numbered>, Vec<Numbered>) {
    let mut names: Vec<String> = match std::fs::read_dir(class) {
        Ok(entries) => entries.flatten().filter_map(|e| e.file_name().to_str().map(str::to_owned)).collect(),
        Err(_) => Vec::new(),
    };
    names.sort_unstable();
    let pick = |prefix: &str| -> Vec<Numbered> {
        names
            .iter()
            .filter_map(|n| {
                let rest = n.strip_prefix(prefix)?;
                rest.starts_with(|c: char| c.is_ascii_digit()).then(|| (rest.to_owned(), class.join(n)))
            })
            .collect()
    };
    (pick("thermal_zone"), pick("cooling_device"))
}

/// A one-line sysfs attribute, whitespace trimmed.
fn attr(path: &Path) -> Result<String, CollectError> {
    let text = vigie_kit::scrape::read_text(path)?;
    Ok(text.trim().to_owned())
}

/// A decimal integer attribute.
pub fn int(path: &Path, text: &str) -> Result<i64, CollectError> {
    let t = text.trim();
    t.parse().map_err(|_| CollectError::parse(path, format!("invalid integer {t:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_tree() {
        // Expected: node_exporter 1.5's output on the same (constructed) tree, HELP aside.
        let text = crate::collectors::fixture_text(&ThermalZone).unwrap();
        let want = "# TYPE node_cooling_device_cur_state gauge\n\
node_cooling_device_cur_state{name=\"0\",type=\"Processor\"} 1\n\
# TYPE node_cooling_device_max_state gauge\n\
node_cooling_device_max_state{name=\"0\",type=\"Processor\"} 3\n\
# TYPE node_thermal_zone_temp gauge\n\
node_thermal_zone_temp{type=\"acpitz\",zone=\"1\"} -2.5\n\
node_thermal_zone_temp{type=\"x86_pkg_temp\",zone=\"0\"} 45\n";
        assert_eq!(crate::collectors::without_help(&text), want);
    }

    #[test]
    fn absent_class_is_success_without_samples_and_bad_values_fail() {
        let dir = tempfile::tempdir().unwrap();
        let paths = vigie_kit::Paths { sysfs: dir.path().to_owned(), ..crate::collectors::fixtures() };
        let (set, result) = vigie_kit::scheduler::collect_once(&ThermalZone, paths.clone());
        assert!(result.is_ok() && set.sample_count() == 0, "{result:?}");

        let cd = dir.path().join("class/thermal/cooling_device3");
        std::fs::create_dir_all(&cd).unwrap();
        std::fs::write(cd.join("type"), "Fan\n").unwrap();
        std::fs::write(cd.join("max_state"), "7\n").unwrap();
        std::fs::write(cd.join("cur_state"), "busy\n").unwrap();
        let (_, result) = vigie_kit::scheduler::collect_once(&ThermalZone, paths);
        let err = result.unwrap_err().to_string();
        assert!(err.contains("cooling_device3/cur_state") && err.contains("busy"), "{err}");
    }
}
