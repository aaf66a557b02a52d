//! `/sys/class/nvme/*` → `node_nvme_info` (node_exporter "nvme" names).
//!
//! A host without `/sys/class/nvme` (no NVMe driver loaded) is "no data" (success 0), as in
//! node_exporter 1.5; so is a controller directory lacking one of the four files read.

use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

/// The registration.
pub const REG: Registration = Registration {
    name: "nvme",
    default_enabled: true,
    help: "Exposes NVMe info from /sys/class/nvme/",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Nvme)),
};

const INFO: Desc = Desc::gauge(
    "node_nvme_info",
    "NVMe controller identity and state (from /sys/class/nvme); always 1.",
    &["device", "firmware_revision", "model", "serial", "state"],
);

/// Reads `/sys/class/nvme`.
pub struct Nvme;

impl SyncCollector for Nvme {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let class = cx.paths.sys("class/nvme");
        let no_data = |e: CollectError| if e.is_not_found() { CollectError::NoData(e.to_string()) } else { e };
        let entries = cx.read_dir(&class).map_err(|e| no_data(CollectError::io(&class, e)))?;
        let mut names = Vec::new();
        for entry in entries {
            names.push(entry.map_err(|e| CollectError::io(&class, e))?.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        for name in &names {
            let dir = class.join(name);
            let read = |file: &str| -> Result<String, CollectError> {
                let path = dir.join(file);
                vigie_kit::scrape::read_text(&path).map(|t| t.trim().to_owned()).map_err(no_data)
            };
            let labels = [read("firmware_rev")?, read("model")?, read("serial")?, read("state")?];
            out.add(&INFO, &[name, &labels[0], &labels[1], &labels[2], &labels[3]], 1.0);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_tree() {
        let text = crate::collectors::fixture_text(&Nvme).unwrap();
        assert!(
            text.contains("node_nvme_info{device=\"nvme0\",firmware_revision=\"1B2QEXM7\",model=\"Samsung SSD 970 EVO Plus 1TB\",serial=\"S4EWNX0R123456A\",state=\"live\"} 1\n"),
            "{text}"
        );
        assert_eq!(text.matches("node_nvme_info{").count(), 1, "{text}");
    }

    #[test]
    fn absent_class_or_file_is_no_data() {
        let dir = tempfile::tempdir().unwrap();
        let paths = vigie_kit::Paths { sysfs: dir.path().into(), ..crate::collectors::fixtures() };
        let (_, result) = vigie_kit::scheduler::collect_once(&Nvme, crate::collectors::fresh(&paths));
        assert!(matches!(result, Err(CollectError::NoData(_))), "{result:?}");
        std::fs::create_dir_all(dir.path().join("class/nvme/nvme0")).unwrap();
        let (_, result) = vigie_kit::scheduler::collect_once(&Nvme, crate::collectors::fresh(&paths));
        assert!(matches!(&result, Err(CollectError::NoData(m)) if m.contains("firmware_rev")), "{result:?}");
        std::fs::remove_dir(dir.path().join("class/nvme/nvme0")).unwrap();
        let (set, result) = vigie_kit::scheduler::collect_once(&Nvme, paths);
        assert!(result.is_ok() && set.sample_count() == 0);
    }
}
