//! `/sys/fs/btrfs/<uuid>/…` → `node_btrfs_*` (node_exporter "btrfs" names).
//!
//! What node_exporter 1.5 reads from sysfs: the label, allocation per block-group type and
//! profile, the global reserve, and each device's size. Its ioctl-based per-device figures
//! (`node_btrfs_device_unused_bytes`, `node_btrfs_device_errors_total` and the
//! `btrfs_dev_uuid` label) need `BTRFS_IOC_*` ioctls that have no safe wrapper, so this
//! collector always gives what 1.5 gives when those ioctls fail: `device_size_bytes` from
//! sysfs, labelled `uuid` and `device`. As in procfs, a missing attribute file reads as 0 and
//! an unparsable one as 0. A host with no btrfs file system (`/sys/fs/btrfs` with only
//! `features`, or absent) succeeds with no samples.

use std::path::Path;

use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

/// The registration.
pub const REG: Registration = Registration {
    name: "btrfs",
    default_enabled: true,
    help: "Exposes btrfs statistics",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Btrfs)),
};

const INFO: Desc = Desc::gauge("node_btrfs_info", "A btrfs file system and its label; always 1.", &["uuid", "label"]);
const GLOBAL_RSV: Desc = Desc::gauge("node_btrfs_global_rsv_size_bytes", "Size of the global block reserve, in bytes.", &["uuid"]);
const RESERVED: Desc = Desc::gauge(
    "node_btrfs_reserved_bytes",
    "Bytes reserved in a block-group type (data, metadata, system).",
    &["uuid", "block_group_type"],
);
const USED: Desc = Desc::gauge(
    "node_btrfs_used_bytes",
    "Bytes used in a block-group type with one allocation profile.",
    &["uuid", "block_group_type", "mode"],
);
const SIZE: Desc = Desc::gauge(
    "node_btrfs_size_bytes",
    "Bytes allocated to a block-group type with one allocation profile.",
    &["uuid", "block_group_type", "mode"],
);
const RATIO: Desc = Desc::gauge(
    "node_btrfs_allocation_ratio",
    "Raw bytes written per byte stored for a block-group type and profile (2 for raid1).",
    &["uuid", "block_group_type", "mode"],
);
const DEVICE_SIZE: Desc =
    Desc::gauge("node_btrfs_device_size_bytes", "Size of a device of the file system, in bytes.", &["uuid", "device"]);

/// The block-group types, as sysfs names them under `allocation/`.
const TYPES: [&str; 3] = ["data", "metadata", "system"];

/// Raw-to-stored ratio of an allocation profile over `devices` devices (0 if unknown),
/// as procfs computes it.
pub fn ratio(profile: &str, devices: usize) -> f64 {
    let n = devices as f64;
    match profile {
        "single" | "raid0" => 1.0,
        "dup" | "raid1" | "raid10" => 2.0,
        "raid5" => n / (n - 1.0),
        "raid6" => n / (n - 2.0),
        _ => 0.0,
    }
}

/// A sysfs attribute as procfs reads it: trimmed text, "" if the file does not exist.
fn attr(path: &Path) -> Result<String, CollectError> {
    match vigie_kit::scrape::read_text(path) {
        Ok(text) => Ok(text.trim().to_owned()),
        Err(e) if e.is_not_found() => Ok(String::new()),
        Err(e) => Err(e),
    }
}

/// A numeric attribute: 0 if absent or not a number (procfs ignores the parse error).
fn value(path: &Path) -> Result<u64, CollectError> {
    Ok(attr(path)?.parse().unwrap_or(0))
}

/// Sorted names in `dir`, keeping those `keep` accepts.
fn list(dir: &Path, keep: impl Fn(&std::fs::DirEntry) -> bool) -> Result<Vec<String>, CollectError> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| CollectError::io(dir, e))? {
        let entry = entry.map_err(|e| CollectError::io(dir, e))?;
        if keep(&entry) {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// Reads `/sys/fs/btrfs`.
pub struct Btrfs;

impl SyncCollector for Btrfs {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let root = cx.paths.sys("fs/btrfs");
        // File systems are the UUID-named entries (`features` is not one).
        let filesystems = match list(&root, |e| e.file_name().to_string_lossy().contains('-')) {
            Err(e) if e.is_not_found() => return Ok(()),
            other => other?,
        };
        for dir_name in &filesystems {
            let fs = root.join(dir_name);
            let devices = list(&fs.join("devices"), |_| true)?;
            let label = attr(&fs.join("label"))?;
            let mut uuid = attr(&fs.join("metadata_uuid"))?;
            if uuid.is_empty() {
                uuid.clone_from(dir_name);
            }
            out.add(&INFO, &[&uuid, &label], 1.0);
            out.add(&GLOBAL_RSV, &[&uuid], value(&fs.join("allocation/global_rsv_size"))? as f64);
            for kind in TYPES {
                let dir = fs.join("allocation").join(kind);
                out.add(&RESERVED, &[&uuid, kind], value(&dir.join("bytes_reserved"))? as f64);
                for profile in list(&dir, |e| e.file_type().is_ok_and(|t| t.is_dir()))? {
                    let labels = [uuid.as_str(), kind, profile.as_str()];
                    out.add(&USED, &labels, value(&dir.join(&profile).join("used_bytes"))? as f64);
                    out.add(&SIZE, &labels, value(&dir.join(&profile).join("total_bytes"))? as f64);
                    out.add(&RATIO, &labels, ratio(&profile, devices.len()));
                }
            }
            for dev in &devices {
                // The size attribute counts 512-byte sectors.
                let sectors = value(&fs.join("devices").join(dev).join("size"))?;
                out.add(&DEVICE_SIZE, &[&uuid, dev], (sectors * 512) as f64);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UUID: &str = "0abb23a9-9aa2-4c6f-a9a5-7e7a3b1c2d4e";

    #[test]
    fn ratios() {
        assert_eq!((ratio("single", 3), ratio("dup", 1), ratio("raid10", 4)), (1.0, 2.0, 2.0));
        assert_eq!((ratio("raid5", 4), ratio("raid6", 4), ratio("raid1c3", 3)), (4.0 / 3.0, 2.0, 0.0));
    }

    #[test]
    fn fixture_tree() {
        let text = crate::collectors::fixture_text(&Btrfs).unwrap();
        let want = [
            format!("node_btrfs_info{{label=\"backup\",uuid=\"{UUID}\"}} 1\n"),
            format!("node_btrfs_global_rsv_size_bytes{{uuid=\"{UUID}\"}} 1.6777216e+07\n"),
            format!("node_btrfs_reserved_bytes{{block_group_type=\"metadata\",uuid=\"{UUID}\"}} 49152\n"),
            format!("node_btrfs_reserved_bytes{{block_group_type=\"system\",uuid=\"{UUID}\"}} 0\n"),
            format!("node_btrfs_used_bytes{{block_group_type=\"data\",mode=\"raid1\",uuid=\"{UUID}\"}} 8.05306368e+08\n"),
            format!("node_btrfs_size_bytes{{block_group_type=\"data\",mode=\"raid1\",uuid=\"{UUID}\"}} 2.147483648e+09\n"),
            format!("node_btrfs_size_bytes{{block_group_type=\"data\",mode=\"single\",uuid=\"{UUID}\"}} 8.388608e+06\n"),
            format!("node_btrfs_allocation_ratio{{block_group_type=\"data\",mode=\"raid1\",uuid=\"{UUID}\"}} 2\n"),
            format!("node_btrfs_allocation_ratio{{block_group_type=\"data\",mode=\"single\",uuid=\"{UUID}\"}} 1\n"),
            format!("node_btrfs_used_bytes{{block_group_type=\"metadata\",mode=\"raid1\",uuid=\"{UUID}\"}} 1.523712e+06\n"),
            format!("node_btrfs_device_size_bytes{{device=\"loop0\",uuid=\"{UUID}\"}} 5.36870912e+09\n"),
            format!("node_btrfs_device_size_bytes{{device=\"loop1\",uuid=\"{UUID}\"}} 5.36870912e+09\n"),
        ];
        for line in &want {
            assert!(text.contains(line.as_str()), "missing {line}in\n{text}");
        }
        assert_eq!(text.matches("node_btrfs_size_bytes{").count(), 4, "{text}");
        assert!(!text.contains("features"), "{text}");
    }

    #[test]
    fn no_filesystem_is_success_without_samples() {
        let dir = tempfile::tempdir().unwrap();
        let paths = vigie_kit::Paths { sysfs: dir.path().into(), ..crate::collectors::fixtures() };
        let (set, result) = vigie_kit::scheduler::collect_once(&Btrfs, paths.clone());
        assert!(result.is_ok() && set.sample_count() == 0, "{result:?}");
        std::fs::create_dir_all(dir.path().join("fs/btrfs/features")).unwrap();
        let (set, result) = vigie_kit::scheduler::collect_once(&Btrfs, paths.clone());
        assert!(result.is_ok() && set.sample_count() == 0, "{result:?}");
        // A file system directory without allocation/ is an error naming the directory.
        std::fs::create_dir_all(dir.path().join("fs/btrfs/a-b/devices")).unwrap();
        let (_, result) = vigie_kit::scheduler::collect_once(&Btrfs, paths);
        let err = result.unwrap_err().to_string();
        assert!(err.contains("a-b/allocation/data"), "{err}");
    }
}
