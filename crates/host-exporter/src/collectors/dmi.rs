//! `/sys/class/dmi/id/*` → `node_dmi_info` (node_exporter "dmi" names).
//!
//! DMI does not change while the system runs, so the files are read once, at the first
//! scrape, and the labels kept. As in node_exporter: files readable by root only
//! (`product_serial`…) are left out; no DMI directory (VMs without SMBIOS, like the one
//! these exporters are built on) gives no data, hence success 0; another read error is
//! kept and reported at every scrape (node_exporter refuses to start).

use std::sync::OnceLock;

use vigie_kit::exposition::Kind;
use vigie_kit::{CollectError, CollectResult, MetricSet, Registration, Scrape, SyncCollector};

/// The registration.
pub const REG: Registration = Registration {
    name: "dmi",
    default_enabled: true,
    help: "Expose Desktop Management Interface (DMI) info from /sys/class/dmi/id/",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Dmi::default())),
};

/// DMI file → label.
const FIELDS: &[(&str, &str)] = &[
    ("bios_date", "bios_date"),
    ("bios_release", "bios_release"),
    ("bios_vendor", "bios_vendor"),
    ("bios_version", "bios_version"),
    ("board_asset_tag", "board_asset_tag"),
    ("board_name", "board_name"),
    ("board_serial", "board_serial"),
    ("board_vendor", "board_vendor"),
    ("board_version", "board_version"),
    ("chassis_asset_tag", "chassis_asset_tag"),
    ("chassis_serial", "chassis_serial"),
    ("chassis_vendor", "chassis_vendor"),
    ("chassis_version", "chassis_version"),
    ("product_family", "product_family"),
    ("product_name", "product_name"),
    ("product_serial", "product_serial"),
    ("product_sku", "product_sku"),
    ("product_uuid", "product_uuid"),
    ("product_version", "product_version"),
    ("sys_vendor", "system_vendor"),
];

/// Reads `/sys/class/dmi/id` once.
#[derive(Default)]
pub struct Dmi {
    labels: OnceLock<Result<Vec<(&'static str, String)>, String>>,
}

impl SyncCollector for Dmi {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let labels = self.labels.get_or_init(|| read(&cx.paths.sys("class/dmi/id")));
        let labels = labels.as_ref().map_err(|e| CollectError::Other(e.clone()))?;
        if labels.is_empty() {
            return Err(CollectError::NoData("no DMI information".into()));
        }
        let pairs: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
        out.family("node_dmi_info", "Constant 1, labelled with the system's DMI (SMBIOS) identity.", Kind::Gauge)
            .push(&pairs, 1.0);
        Ok(())
    }
}

/// The labels from the regular files of `dir`; empty if `dir` does not exist.
fn read(dir: &std::path::Path) -> Result<Vec<(&'static str, String)>, String> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("{}: {e}", dir.display())),
    };
    let mut labels = Vec::new();
    for entry in entries.flatten() {
        if !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let name = entry.file_name();
        let Some(&(_, label)) = FIELDS.iter().find(|(f, _)| name.to_str() == Some(*f)) else { continue };
        let path = entry.path();
        match read_attr(&path) {
            Ok(value) => labels.push((label, value)),
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {}
            Err(e) => return Err(format!("{}: {e}", path.display())),
        }
    }
    Ok(labels)
}

/// One read of at most 128 bytes, whitespace trimmed, invalid UTF-8 replaced.
fn read_attr(path: &std::path::Path) -> std::io::Result<String> {
    use std::io::Read as _;
    let mut buf = [0u8; 128];
    let n = std::fs::File::open(path)?.read(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf[..n]).trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructed_tree() {
        // Expected: node_exporter 1.5's output on the same (constructed) tree, HELP aside.
        let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sys-dmi");
        let paths = vigie_kit::Paths { sysfs: base, ..crate::collectors::fixtures() };
        let dmi = Dmi::default();
        let (set, result) = vigie_kit::scheduler::collect_once(&dmi, paths.clone());
        result.unwrap();
        let want = "# TYPE node_dmi_info gauge\nnode_dmi_info{bios_date=\"04/01/2014\",bios_release=\"0.0\",\
bios_vendor=\"SeaBIOS\",bios_version=\"1.16.2-debian-1.16.2-1\",chassis_asset_tag=\"\",chassis_vendor=\"QEMU\",\
chassis_version=\"pc-i440fx-7.2\",product_name=\"Standard PC (i440FX + PIIX, 1996)\",\
product_version=\"pc-i440fx-7.2\",system_vendor=\"QEMU\"} 1\n";
        assert_eq!(crate::collectors::without_help(&set.encode()), want);
    }

    #[test]
    fn read_once() {
        let dir = tempfile::tempdir().unwrap();
        let id = dir.path().join("class/dmi/id");
        std::fs::create_dir_all(&id).unwrap();
        std::fs::write(id.join("sys_vendor"), "First\n").unwrap();
        let paths = vigie_kit::Paths { sysfs: dir.path().to_owned(), ..crate::collectors::fixtures() };
        let dmi = Dmi::default();
        let (set, _) = vigie_kit::scheduler::collect_once(&dmi, paths.clone());
        assert!(set.encode().contains("system_vendor=\"First\""));
        std::fs::write(id.join("sys_vendor"), "Second\n").unwrap();
        let (set, _) = vigie_kit::scheduler::collect_once(&dmi, paths);
        assert!(set.encode().contains("system_vendor=\"First\""));
    }

    #[test]
    fn no_dmi_is_no_data_as_on_this_vm() {
        // The captured tree, like this VM, has no /sys/class/dmi.
        let (_, result) = vigie_kit::scheduler::collect_once(&Dmi::default(), crate::collectors::fixtures());
        assert!(matches!(result, Err(CollectError::NoData(_))), "{result:?}");
    }
}
