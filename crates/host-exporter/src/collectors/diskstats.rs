//! `/proc/diskstats` + udev's database → `node_disk_*` (node_exporter "diskstats" names).
//!
//! Sector counts in `/proc/diskstats` are in 512-byte units whatever the device's block size
//! (kernel `Documentation/admin-guide/iostats.rst`), and times are in milliseconds. As in
//! node_exporter 1.5, `node_disk_discarded_sectors_total` stays in sectors.

use std::collections::HashMap;

use clap::parser::ValueSource;
use clap::{Arg, ArgMatches, Command};

use crate::collectors::{Pattern, Remembered};
use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

/// The registration.
pub const REG: Registration = Registration {
    name: "diskstats",
    default_enabled: true,
    help: "Exposes disk I/O statistics.",
    args,
    build: |m| Ok(Box::new(Diskstats::from_matches(m)?)),
};

const EXCLUDE: &str = "collector.diskstats.device-exclude";
const EXCLUDE_OLD: &str = "collector.diskstats.ignored-devices";
const INCLUDE: &str = "collector.diskstats.device-include";
/// node_exporter 1.5's default: whole disks only (partitions, ram, loop and floppy devices
/// are left out).
pub const DEFAULT_EXCLUDE: &str = r"^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$";

fn args(cmd: Command) -> Command {
    cmd.arg(
        Arg::new(EXCLUDE)
            .long(EXCLUDE)
            .value_name("REGEX")
            .default_value(DEFAULT_EXCLUDE)
            .help("Regexp of diskstats devices to exclude (mutually exclusive to device-include)."),
    )
    .arg(Arg::new(EXCLUDE_OLD).long(EXCLUDE_OLD).value_name("REGEX").hide(true))
    .arg(
        Arg::new(INCLUDE)
            .long(INCLUDE)
            .value_name("REGEX")
            .help("Regexp of diskstats devices to include (mutually exclusive to device-exclude)."),
    )
}

const DEVICE: &[&str] = &["device"];

/// The per-device counters, in `/proc/diskstats` column order (after major, minor, name),
/// each with the factor that turns the kernel's unit into the exposed one.
const STATS: [(Desc, f64); 17] = [
    (Desc::counter("node_disk_reads_completed_total", "Reads completed.", DEVICE), 1.0),
    (Desc::counter("node_disk_reads_merged_total", "Adjacent reads merged into one.", DEVICE), 1.0),
    (Desc::counter("node_disk_read_bytes_total", "Bytes read.", DEVICE), 512.0),
    (Desc::counter("node_disk_read_time_seconds_total", "Seconds spent reading.", DEVICE), 0.001),
    (Desc::counter("node_disk_writes_completed_total", "Writes completed.", DEVICE), 1.0),
    (Desc::counter("node_disk_writes_merged_total", "Adjacent writes merged into one.", DEVICE), 1.0),
    (Desc::counter("node_disk_written_bytes_total", "Bytes written.", DEVICE), 512.0),
    (Desc::counter("node_disk_write_time_seconds_total", "Seconds spent writing.", DEVICE), 0.001),
    (Desc::gauge("node_disk_io_now", "I/Os in flight now.", DEVICE), 1.0),
    (Desc::counter("node_disk_io_time_seconds_total", "Seconds the device had I/O in flight.", DEVICE), 0.001),
    (
        Desc::counter(
            "node_disk_io_time_weighted_seconds_total",
            "Seconds spent on I/O, weighted by the number of I/Os in flight.",
            DEVICE,
        ),
        0.001,
    ),
    (Desc::counter("node_disk_discards_completed_total", "Discards completed.", DEVICE), 1.0),
    (Desc::counter("node_disk_discards_merged_total", "Adjacent discards merged into one.", DEVICE), 1.0),
    (Desc::counter("node_disk_discarded_sectors_total", "512-byte sectors discarded.", DEVICE), 1.0),
    (Desc::counter("node_disk_discard_time_seconds_total", "Seconds spent discarding.", DEVICE), 0.001),
    (Desc::counter("node_disk_flush_requests_total", "Flush requests completed.", DEVICE), 1.0),
    (Desc::counter("node_disk_flush_requests_time_seconds_total", "Seconds spent flushing.", DEVICE), 0.001),
];

const INFO: Desc = Desc::gauge(
    "node_disk_info",
    "Block device identity (from /sys/block and udev); always 1.",
    &["device", "major", "minor", "path", "wwn", "model", "serial", "revision"],
);
const FS_INFO: Desc = Desc::gauge(
    "node_disk_filesystem_info",
    "File system udev found on the device; always 1.",
    &["device", "type", "usage", "uuid", "version"],
);
const DM_INFO: Desc = Desc::gauge(
    "node_disk_device_mapper_info",
    "Device-mapper names of the device; always 1.",
    &["device", "name", "uuid", "vg_name", "lv_name", "lv_layer"],
);
/// udev property → family, for ATA disks.
const ATA: [(&str, Desc); 3] = [
    ("ID_ATA_WRITE_CACHE", Desc::gauge("node_disk_ata_write_cache", "1 if the ATA disk has a write cache.", DEVICE)),
    (
        "ID_ATA_WRITE_CACHE_ENABLED",
        Desc::gauge("node_disk_ata_write_cache_enabled", "1 if the ATA disk's write cache is on.", DEVICE),
    ),
    (
        "ID_ATA_ROTATION_RATE_RPM",
        Desc::gauge("node_disk_ata_rotation_rate_rpm", "Rotation speed of the ATA disk (0: solid state).", DEVICE),
    ),
];

/// Which devices are reported: node_exporter's exclude/include pair.
#[derive(Debug)]
pub struct DeviceFilter {
    exclude: Option<Remembered>,
    include: Option<Remembered>,
}

impl DeviceFilter {
    /// A filter from the two patterns (an empty pattern is no pattern).
    pub fn new(exclude: &str, include: &str) -> Result<DeviceFilter, String> {
        let compile = |p: &str| -> Result<Option<Remembered>, String> {
            if p.is_empty() {
                Ok(None)
            } else {
                Pattern::new(p).map(|re| Some(Remembered::new(re))).map_err(|e| format!("invalid regexp {p:?}: {e}"))
            }
        };
        Ok(DeviceFilter { exclude: compile(exclude)?, include: compile(include)? })
    }

    /// Whether `name` is left out.
    pub fn ignored(&self, name: &str) -> bool {
        self.exclude.as_ref().is_some_and(|r| r.is_match(name)) || self.include.as_ref().is_some_and(|r| !r.is_match(name))
    }
}

/// Reads `/proc/diskstats` and udev's `b<major>:<minor>` files.
pub struct Diskstats {
    filter: DeviceFilter,
}

impl Diskstats {
    fn from_matches(m: &ArgMatches) -> Result<Diskstats, String> {
        let explicit = |id: &str| m.value_source(id) == Some(ValueSource::CommandLine);
        let get = |id: &str| m.get_one::<String>(id).cloned().unwrap_or_default();
        let mut exclude = get(EXCLUDE);
        let include = get(INCLUDE);
        if explicit(EXCLUDE_OLD) {
            if explicit(EXCLUDE) {
                return Err(format!("--{EXCLUDE_OLD} and --{EXCLUDE} are mutually exclusive"));
            }
            tracing::warn!("--{EXCLUDE_OLD} is DEPRECATED, use --{EXCLUDE}");
            exclude = get(EXCLUDE_OLD);
        }
        if !include.is_empty() {
            if explicit(EXCLUDE) || explicit(EXCLUDE_OLD) {
                return Err("device-exclude & device-include are mutually exclusive".into());
            }
            // node_exporter 1.5 refused --device-include alone because the exclude default
            // was always set; 1.6 fixed that. We take include alone as meaning include only.
            exclude.clear();
        }
        Ok(Diskstats { filter: DeviceFilter::new(&exclude, &include)? })
    }

    /// With the default device filter.
    #[cfg(test)]
    pub fn with_defaults() -> Diskstats {
        Diskstats { filter: DeviceFilter::new(DEFAULT_EXCLUDE, "").unwrap_or(DeviceFilter { exclude: None, include: None }) }
    }
}

/// One line of `/proc/diskstats`.
#[derive(Debug, PartialEq)]
pub struct Disk<'a> {
    /// Major device number.
    pub major: u32,
    /// Minor device number.
    pub minor: u32,
    /// Kernel name (`vda`).
    pub name: &'a str,
    /// The counters present (11 before Linux 4.18, 15 before 5.5, 17 since).
    pub stats: Vec<u64>,
}

/// The lines of `/proc/diskstats` with at least the 11 classic counters; shorter lines
/// (old kernels' partition format) are skipped, as procfs does.
pub fn parse(text: &str) -> Result<Vec<Disk<'_>>, String> {
    let mut disks = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut fields = line.split_ascii_whitespace();
        let (Some(major), Some(minor), Some(name)) = (fields.next(), fields.next(), fields.next()) else {
            if line.trim().is_empty() {
                continue;
            }
            return Err(format!("line {}: fewer than 3 fields", n + 1));
        };
        let num = |f: &str| f.parse::<u64>().map_err(|_| format!("line {}: invalid number {f:?}", n + 1));
        let major = u32::try_from(num(major)?).map_err(|_| format!("line {}: major out of range", n + 1))?;
        let minor = u32::try_from(num(minor)?).map_err(|_| format!("line {}: minor out of range", n + 1))?;
        let stats = fields.take(STATS.len()).map(num).collect::<Result<Vec<_>, _>>()?;
        if stats.len() >= 11 {
            disks.push(Disk { major, minor, name, stats });
        }
    }
    Ok(disks)
}

/// The `E:KEY=value` properties of a udev database file.
pub fn parse_udev(text: &str) -> HashMap<&str, &str> {
    text.lines().filter_map(|l| l.strip_prefix("E:")?.split_once('=')).collect()
}

impl SyncCollector for Diskstats {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let path = cx.paths.proc("diskstats");
        let text = cx.read(&path)?;
        let disks = parse(&text).map_err(|msg| CollectError::parse(&path, msg))?;
        let mut udev_file = String::new();
        for disk in disks.iter().filter(|d| !self.filter.ignored(d.name)) {
            let dev = disk.name;
            let udev_path = cx.paths.udev_data.join(format!("b{}:{}", disk.major, disk.minor));
            // A device udev does not know gives empty labels, as in node_exporter.
            udev_file.clear();
            if let Ok(text) = std::fs::read_to_string(&udev_path) {
                udev_file = text;
            }
            let udev = parse_udev(&udev_file);
            let prop = |key: &str| udev.get(key).copied().unwrap_or("");
            let (major, minor) = (disk.major.to_string(), disk.minor.to_string());
            out.add(
                &INFO,
                &[
                    dev,
                    &major,
                    &minor,
                    prop("ID_PATH"),
                    prop("ID_WWN"),
                    prop("ID_MODEL"),
                    prop("ID_SERIAL_SHORT"),
                    prop("ID_REVISION"),
                ],
                1.0,
            );
            for ((desc, factor), value) in STATS.iter().zip(&disk.stats) {
                out.add(desc, &[dev], *value as f64 * factor);
            }
            if !prop("ID_FS_TYPE").is_empty() {
                let labels =
                    [dev, prop("ID_FS_TYPE"), prop("ID_FS_USAGE"), prop("ID_FS_UUID"), prop("ID_FS_VERSION")];
                out.add(&FS_INFO, &labels, 1.0);
            }
            if !prop("DM_NAME").is_empty() {
                let labels = [
                    dev,
                    prop("DM_NAME"),
                    prop("DM_UUID"),
                    prop("DM_VG_NAME"),
                    prop("DM_LV_NAME"),
                    prop("DM_LV_LAYER"),
                ];
                out.add(&DM_INFO, &labels, 1.0);
            }
            if !prop("ID_ATA").is_empty() {
                for (key, desc) in &ATA {
                    // A missing or non-numeric property is left out, as node_exporter does.
                    if let Some(value) = udev.get(key).and_then(|v| v.parse::<f64>().ok()) {
                        out.add(desc, &[dev], value);
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured from this VM: cat /proc/diskstats (lines kept verbatim).
    const CAPTURED: &str = "   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
 254       0 vda 36409 6429 3950474 14593 8786 19652 5409008 37576 0 9464 54740 4891 87 678376 1830 906 740
 253       0 zram0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
";

    #[test]
    fn parses_diskstats() {
        let disks = parse(CAPTURED).unwrap();
        assert_eq!(disks.len(), 3);
        assert_eq!((disks[1].major, disks[1].minor, disks[1].name), (254, 0, "vda"));
        assert_eq!(disks[1].stats.len(), 17);
        assert_eq!(disks[1].stats[2], 3950474);
        assert_eq!(disks[1].stats[16], 740);
        // A 4.x kernel's 14-field line gives 11 counters; an old 7-field partition line is skipped.
        let old = parse("   8       0 sda 1 2 3 4 5 6 7 8 9 10 11\n   8       1 sda1 1 2 3 4\n").unwrap();
        assert_eq!(old.len(), 1);
        assert_eq!(old[0].stats.len(), 11);
        assert!(parse(" 8 0 sda 1 x 3 4 5 6 7 8 9 10 11\n").unwrap_err().contains("line 1"));
        assert!(parse("8 0\n").unwrap_err().contains("line 1"));
    }

    #[test]
    fn default_filter_keeps_whole_disks() {
        let f = DeviceFilter::new(DEFAULT_EXCLUDE, "").unwrap();
        for ignored in ["loop0", "ram1", "sda1", "vda2", "xvda1", "nvme0n1p1", "fd0"] {
            assert!(f.ignored(ignored), "{ignored}");
        }
        for kept in ["vda", "sda", "nvme0n1", "zram0", "dm-0", "md0", "sr0"] {
            assert!(!f.ignored(kept), "{kept}");
        }
        let include = DeviceFilter::new("", "^vd").unwrap();
        assert!(include.ignored("sda") && !include.ignored("vda"));
        assert!(DeviceFilter::new("(", "").is_err());
    }

    #[test]
    fn flags() {
        let cmd = || args(Command::new("t"));
        let build = |argv: &[&str]| Diskstats::from_matches(&cmd().try_get_matches_from(argv).unwrap());
        assert!(build(&["t"]).unwrap().filter.ignored("loop0"));
        let include = build(&["t", "--collector.diskstats.device-include=^loop"]).unwrap();
        assert!(!include.filter.ignored("loop0") && include.filter.ignored("vda"));
        let old = build(&["t", "--collector.diskstats.ignored-devices=^vda$"]).unwrap();
        assert!(old.filter.ignored("vda") && !old.filter.ignored("loop0"));
        assert!(build(&["t", "--collector.diskstats.device-include=a", "--collector.diskstats.device-exclude=b"])
            .is_err());
        assert!(build(&["t", "--collector.diskstats.ignored-devices=a", "--collector.diskstats.device-exclude=b"])
            .is_err());
    }

    #[test]
    fn udev_properties() {
        let props = parse_udev("S:disk/by-id/x\nE:ID_MODEL=QEMU HARDDISK\nE:ID_PATH=pci-0000:00:05.0\nG:systemd\n");
        assert_eq!(props.get("ID_MODEL"), Some(&"QEMU HARDDISK"));
        assert_eq!(props.len(), 2);
    }

    #[test]
    fn fixture_tree() {
        let text = crate::collectors::fixture_text(&Diskstats::with_defaults()).unwrap();
        // loop devices are excluded by default.
        assert!(!text.contains("loop"), "{text}");
        for line in [
            "node_disk_read_bytes_total{device=\"vda\"} 2.391389184e+09\n",
            "node_disk_written_bytes_total{device=\"vda\"} 2.885443584e+09\n",
            "node_disk_read_time_seconds_total{device=\"vda\"} 26.003\n",
            "node_disk_io_now{device=\"vda\"} 0\n",
            "node_disk_discarded_sectors_total{device=\"vda\"} 763128\n",
            "node_disk_flush_requests_total{device=\"vda\"} 1114\n",
            "node_disk_flush_requests_time_seconds_total{device=\"vda\"} 0.875\n",
            "node_disk_reads_completed_total{device=\"zram0\"} 0\n",
            "# TYPE node_disk_io_now gauge\n",
            "# TYPE node_disk_reads_completed_total counter\n",
            // zram0 has no udev file: empty labels.
            "node_disk_info{device=\"zram0\",major=\"253\",minor=\"0\",model=\"\",path=\"\",revision=\"\",serial=\"\",wwn=\"\"} 1\n",
            // vda's udev file is constructed (an ATA disk with LVM on it).
            "node_disk_info{device=\"vda\",major=\"254\",minor=\"0\",model=\"QEMU_HARDDISK\",path=\"pci-0000:00:05.0-ata-1\",revision=\"2.5+\",serial=\"QM00001\",wwn=\"0x5000c500a1b2c3d4\"} 1\n",
            "node_disk_filesystem_info{device=\"vda\",type=\"LVM2_member\",usage=\"raid\",uuid=\"Xb3kLd-8s2A-uJ9w-QvNQ-0eEa-hZ6p-1cYtqG\",version=\"LVM2 001\"} 1\n",
            "node_disk_ata_rotation_rate_rpm{device=\"vda\"} 0\n",
            "node_disk_ata_write_cache{device=\"vda\"} 1\n",
            "node_disk_ata_write_cache_enabled{device=\"vda\"} 1\n",
            "node_disk_device_mapper_info{device=\"dm-0\",lv_layer=\"\",lv_name=\"root\",name=\"vg0-root\",uuid=\"LVM-abc\",vg_name=\"vg0\"} 1\n",
        ] {
            assert!(text.contains(line), "missing {line}in\n{text}");
        }
        // dm-0's line in the fixture is a 4.x-kernel line: no discard or flush samples.
        assert!(text.contains("node_disk_io_time_weighted_seconds_total{device=\"dm-0\"} 0.3\n"), "{text}");
        assert!(!text.contains("node_disk_discards_completed_total{device=\"dm-0\"}"), "{text}");
    }

    #[test]
    fn malformed_file_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("diskstats"), " 8 0 sda 1 2 x\n").unwrap();
        let paths = vigie_kit::Paths { procfs: dir.path().into(), ..crate::collectors::fixtures() };
        let (_, result) = vigie_kit::scheduler::collect_once(&Diskstats::with_defaults(), paths);
        let err = result.unwrap_err().to_string();
        assert!(err.contains("diskstats") && err.contains("line 1"), "{err}");
    }
}
