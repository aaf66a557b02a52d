//! `/sys/class/net/<iface>/*` → `node_network_{up,info,mtu_bytes,speed_bytes,…}{device}`
//! (node_exporter "netclass" names, sysfs variant, its default).

use std::io::{ErrorKind, Read};
use std::path::Path;

use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

use super::netdev::{add_bool_flag, bool_flag};

mod rtnl;

/// The registration.
pub const REG: Registration = Registration {
    name: "netclass",
    default_enabled: true,
    help: "Exposes network interface info from /sys/class/net/.",
    args: |cmd| {
        let cmd = cmd
            .arg(
                clap::Arg::new("collector.netclass.ignored-devices")
                    .long("collector.netclass.ignored-devices")
                    .value_name("REGEXP")
                    .default_value("^$")
                    .help("Regexp of net devices to ignore for netclass collector."),
            )
            .arg(
                clap::Arg::new("collector.netclass.ignore-invalid-speed")
                    .long("collector.netclass.ignore-invalid-speed")
                    .action(clap::ArgAction::SetTrue)
                    .help("Leave out node_network_speed_bytes where the kernel reports no valid speed."),
            );
        let cmd = add_bool_flag(cmd, "collector.netclass.netlink", "Read the attributes with rtnetlink rather than sysfs (not supported).");
        add_bool_flag(cmd, "collector.netclass_rtnl.with-stats", "With the netlink variant, also expose each device's counters (not supported).")
    },
    build: |m| {
        if bool_flag(m, "collector.netclass.netlink", false) {
            return Err("--collector.netclass.netlink is not supported; the sysfs variant (node_exporter's default) is".into());
        }
        let pattern = m.get_one::<String>("collector.netclass.ignored-devices").map_or("^$", String::as_str);
        let ignored = crate::collectors::Pattern::new(pattern).map_err(|e| format!("--collector.netclass.ignored-devices: {e}"))?;
        let ignored = crate::collectors::Remembered::new(ignored);
        Ok(Box::new(Netclass { ignored, ignore_invalid_speed: m.get_flag("collector.netclass.ignore-invalid-speed"), fixed: Default::default(), addr_assign: Default::default(), use_netlink: true }))
    },
};

const DEVICE: &[&str] = &["device"];
const UP: Desc = Desc::gauge("node_network_up", "1 if the interface's operstate is \"up\", else 0.", DEVICE);
const INFO: Desc = Desc::gauge(
    "node_network_info",
    "Textual interface attributes from sysfs as labels; always 1.",
    &["device", "address", "broadcast", "duplex", "operstate", "ifalias"],
);
const SPEED: Desc = Desc::gauge("node_network_speed_bytes", "Link speed in bytes per second (negative: unknown).", DEVICE);

/// The numeric attributes: sysfs file and family.
static NUMERIC: [(&str, Desc); 16] = [
    ("addr_assign_type", Desc::gauge("node_network_address_assign_type", "How the hardware address was assigned (sysfs addr_assign_type).", DEVICE)),
    ("carrier", Desc::gauge("node_network_carrier", "Physical link state (sysfs carrier).", DEVICE)),
    ("carrier_changes", Desc::counter("node_network_carrier_changes_total", "Link state changes (sysfs carrier_changes).", DEVICE)),
    ("carrier_up_count", Desc::counter("node_network_carrier_up_changes_total", "Times the link came up (sysfs carrier_up_count).", DEVICE)),
    ("carrier_down_count", Desc::counter("node_network_carrier_down_changes_total", "Times the link went down (sysfs carrier_down_count).", DEVICE)),
    ("dev_id", Desc::gauge("node_network_device_id", "Device id among ports sharing an address (sysfs dev_id).", DEVICE)),
    ("dormant", Desc::gauge("node_network_dormant", "Whether the interface is dormant (sysfs dormant).", DEVICE)),
    ("flags", Desc::gauge("node_network_flags", "Interface flags bitmask (sysfs flags).", DEVICE)),
    ("ifindex", Desc::gauge("node_network_iface_id", "Interface index (sysfs ifindex).", DEVICE)),
    ("iflink", Desc::gauge("node_network_iface_link", "Index of the underlying link (sysfs iflink).", DEVICE)),
    ("link_mode", Desc::gauge("node_network_iface_link_mode", "Link mode (sysfs link_mode).", DEVICE)),
    ("mtu", Desc::gauge("node_network_mtu_bytes", "Maximum transmission unit in bytes (sysfs mtu).", DEVICE)),
    ("name_assign_type", Desc::gauge("node_network_name_assign_type", "How the interface name was assigned (sysfs name_assign_type).", DEVICE)),
    ("netdev_group", Desc::gauge("node_network_net_dev_group", "Interface group (sysfs netdev_group).", DEVICE)),
    ("tx_queue_len", Desc::gauge("node_network_transmit_queue_length", "Transmit queue length in packets (sysfs tx_queue_len).", DEVICE)),
    ("type", Desc::gauge("node_network_protocol_type", "Hardware type, ARPHRD_* (sysfs type).", DEVICE)),
];

/// Reads `/sys/class/net`.
pub struct Netclass {
    ignored: crate::collectors::Remembered,
    ignore_invalid_speed: bool,
    /// Per device name: its ifindex when read, and its creation-time attributes.
    fixed: std::sync::Mutex<std::collections::HashMap<String, (Option<i64>, Fixed)>>,
    /// Per device name (netlink variant): ifindex, address and addr_assign_type when read.
    #[allow(clippy::type_complexity)]
    addr_assign: std::sync::Mutex<std::collections::HashMap<String, (Option<i64>, String, Option<i64>)>>,
    /// Read from rtnetlink where sysfs is the live /sys.
    use_netlink: bool,
}

/// One attribute read as node_exporter's sysfs reader does: one read of at most 128 bytes,
/// trimmed. `Ok(None)` where it skips the file (absent, no permission, EINVAL, EOPNOTSUPP:
/// `carrier` and `speed` of a down link).
pub fn read_attr(path: &Path, buf: &mut [u8; 128]) -> Result<Option<String>, CollectError> {
    let skip = |e: &std::io::Error| {
        matches!(e.kind(), ErrorKind::NotFound | ErrorKind::PermissionDenied | ErrorKind::InvalidInput | ErrorKind::Unsupported)
            || matches!(e.raw_os_error(), Some(22 | 95))
    };
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if skip(&e) => return Ok(None),
        Err(e) => return Err(CollectError::io(path, e)),
    };
    match file.read(buf) {
        Ok(n) => Ok(Some(String::from_utf8_lossy(&buf[..n]).trim().to_owned())),
        Err(e) if skip(&e) => Ok(None),
        Err(e) => Err(CollectError::io(path, e)),
    }
}

/// An unsigned integer as Go's `strconv.ParseUint(s, 0, 64)` reads it (see [`parse_int`]).
pub fn parse_uint(s: &str) -> Option<u64> {
    if s.starts_with(['-', '+']) {
        return None;
    }
    let lower = s.get(..2).map(str::to_ascii_lowercase);
    let (radix, body) = match lower.as_deref() {
        Some("0x") => (16, &s[2..]),
        Some("0o") => (8, &s[2..]),
        Some("0b") => (2, &s[2..]),
        _ if s.len() > 1 && s.starts_with('0') => (8, &s[1..]),
        _ => (10, s),
    };
    if body.is_empty() || body.starts_with(['+', '-']) {
        return None;
    }
    u64::from_str_radix(body, radix).ok()
}

/// An integer as Go's `strconv.ParseInt(s, 0, 64)` reads it: `0x` hex, `0o`/leading-`0`
/// octal, `0b` binary, else decimal (sysfs `flags` is `0x1003`).
pub fn parse_int(s: &str) -> Option<i64> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let lower = digits.get(..2).map(str::to_ascii_lowercase);
    let (radix, body) = match lower.as_deref() {
        Some("0x") => (16, &digits[2..]),
        Some("0o") => (8, &digits[2..]),
        Some("0b") => (2, &digits[2..]),
        _ if digits.len() > 1 && digits.starts_with('0') => (8, &digits[1..]),
        _ => (10, digits),
    };
    if body.is_empty() || body.starts_with(['+', '-']) {
        return None;
    }
    let v = i64::from_str_radix(body, radix).ok()?;
    Some(if neg { -v } else { v })
}

/// What sysfs `flags` has when the device is open (the kernel then answers `carrier`,
/// `dormant`, `speed` and `duplex`; otherwise EINVAL, which node_exporter skips).
const IFF_UP: i64 = 0x1;

/// Attributes fixed when the kernel creates a device: `dev_id`, `name_assign_type`.
type Fixed = (Option<i64>, Option<i64>);

/// One device's attribute files, opened relative to its directory (one path walk per
/// device, not per file).
struct DeviceDir {
    fd: rustix::fd::OwnedFd,
    path: std::path::PathBuf,
    buf: [u8; 128],
}

impl DeviceDir {
    fn open(path: std::path::PathBuf) -> Result<DeviceDir, CollectError> {
        use rustix::fs::{Mode, OFlags};
        let fd = rustix::fs::open(&path, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
            .map_err(|e| CollectError::io(&path, e.into()))?;
        Ok(DeviceDir { fd, path, buf: [0; 128] })
    }

    /// As [`read_attr`], relative to the device directory.
    fn text(&mut self, attr: &str) -> Result<Option<&str>, CollectError> {
        use rustix::fs::{Mode, OFlags};
        use rustix::io::Errno;
        let skip = |e: Errno| matches!(e, Errno::NOENT | Errno::ACCESS | Errno::PERM | Errno::INVAL | Errno::OPNOTSUPP);
        let fd = match rustix::fs::openat(&self.fd, attr, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()) {
            Ok(fd) => fd,
            Err(e) if skip(e) => return Ok(None),
            Err(e) => return Err(CollectError::io(self.path.join(attr), e.into())),
        };
        match rustix::io::read(&fd, &mut self.buf[..]) {
            Ok(n) => Ok(Some(std::str::from_utf8(&self.buf[..n]).map(str::trim).unwrap_or(""))),
            Err(e) if skip(e) => Ok(None),
            Err(e) => Err(CollectError::io(self.path.join(attr), e.into())),
        }
    }

    fn int(&mut self, attr: &str) -> Result<Option<i64>, CollectError> {
        Ok(self.text(attr)?.and_then(parse_int))
    }
}

impl Netclass {
    fn device(&self, name: &str, mut dir: DeviceDir, out: &mut MetricSet) -> CollectResult {
        let operstate = dir.text("operstate")?.unwrap_or_default().to_owned();
        let address = dir.text("address")?.unwrap_or_default().to_owned();
        let broadcast = dir.text("broadcast")?.unwrap_or_default().to_owned();
        let ifalias = dir.text("ifalias")?.unwrap_or_default().to_owned();
        let flags = dir.int("flags")?;
        let running = flags.is_some_and(|f| f & IFF_UP != 0);
        let duplex = if running { dir.text("duplex")?.unwrap_or_default().to_owned() } else { String::new() };
        out.add(&UP, &[name], if operstate == "up" { 1.0 } else { 0.0 });
        out.add(&INFO, &[name, &address, &broadcast, &duplex, &operstate, &ifalias], 1.0);
        let ifindex = dir.int("ifindex")?;
        let fixed = {
            let mut cache = self.fixed.lock().unwrap_or_else(|e| e.into_inner());
            match cache.get(name) {
                Some((index, fixed)) if ifindex.is_some() && *index == ifindex => *fixed,
                _ => {
                    let fixed = (dir.int("dev_id")?, dir.int("name_assign_type")?);
                    cache.insert(name.to_owned(), (ifindex, fixed));
                    fixed
                }
            }
        };
        for (attr, desc) in &NUMERIC {
            let value = match *attr {
                "flags" => flags,
                "ifindex" => ifindex,
                "dev_id" => fixed.0,
                "name_assign_type" => fixed.1,
                "carrier" | "dormant" if !running => None,
                _ => dir.int(attr)?,
            };
            if let Some(v) = value {
                out.add(desc, &[name], v as f64);
            }
        }
        if running {
            self.speed(name, dir.int("speed")?, out);
        }
        Ok(())
    }

    /// `node_network_speed_bytes` of a running device from its sysfs `speed` (Mbit/s), in
    /// both variants (netlink does not carry the speed).
    fn speed(&self, name: &str, speed: Option<i64>, out: &mut MetricSet) {
        if let Some(speed) = speed {
            if speed >= 0 || !self.ignore_invalid_speed {
                // Mbit/s to bytes/s, in integers as node_exporter computes it.
                out.add(&SPEED, &[name], (speed.saturating_mul(1_000_000) / 8) as f64);
            }
        }
    }
}

impl SyncCollector for Netclass {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        if self.use_netlink && cx.paths.sysfs == Path::new("/sys") {
            return self.collect_netlink(cx, out);
        }
        let dir = cx.paths.sys("class/net");
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::PermissionDenied) => {
                return Err(CollectError::NoData(format!("{}: {e}", dir.display())));
            }
            Err(e) => return Err(CollectError::io(&dir, e)),
        };
        let mut devices = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| CollectError::io(&dir, e))?;
            if entry.file_type().is_ok_and(|t| t.is_file()) {
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            if !self.ignored.is_match(&name) {
                devices.push(name);
            }
        }
        devices.sort_unstable();
        for device in &devices {
            let path = dir.join(device);
            let dev_dir = match DeviceDir::open(path) {
                Ok(d) => d,
                // Removed since the listing (node_exporter: "no data").
                Err(e) if e.is_not_found() => return Err(CollectError::NoData(e.to_string())),
                Err(e) => return Err(e),
            };
            self.device(device, dev_dir, out)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_style_integers() {
        assert_eq!(parse_int("0x1003"), Some(4099));
        assert_eq!(parse_int("1500"), Some(1500));
        assert_eq!(parse_int("-1"), Some(-1));
        assert_eq!(parse_int("0"), Some(0));
        assert_eq!(parse_int("010"), Some(8));
        assert_eq!(parse_int(""), None);
        assert_eq!(parse_int("0x"), None);
        assert_eq!(parse_int("up"), None);
        assert_eq!(parse_uint("0x3e8"), Some(1000));
        assert_eq!(parse_uint("0xffffffffffffffff"), Some(u64::MAX));
        assert_eq!(parse_uint("-1"), None);
        assert_eq!(parse_uint("N/A (no PMA)"), None);
    }

    fn collector(ignored: &str, ignore_invalid_speed: bool) -> Netclass {
        Netclass { ignored: crate::collectors::Remembered::new(crate::collectors::Pattern::new(ignored).unwrap()), ignore_invalid_speed, fixed: Default::default(), addr_assign: Default::default(), use_netlink: false }
    }

    #[test]
    fn fixture_tree() {
        let c = collector("^$", false);
        let text = crate::collectors::fixture_text(&c).unwrap();
        // The second scrape takes dev_id and name_assign_type from the cache: same output.
        assert_eq!(crate::collectors::fixture_text(&c).unwrap(), text);
        for line in [
            "node_network_up{device=\"eth0\"} 1\n",
            "node_network_up{device=\"lo\"} 0\n",
            "node_network_info{address=\"02:fc:00:00:00:01\",broadcast=\"ff:ff:ff:ff:ff:ff\",device=\"eth0\",duplex=\"unknown\",ifalias=\"\",operstate=\"up\"} 1\n",
            "node_network_info{address=\"00:00:00:00:00:00\",broadcast=\"00:00:00:00:00:00\",device=\"lo\",duplex=\"\",ifalias=\"\",operstate=\"unknown\"} 1\n",
            "node_network_flags{device=\"eth0\"} 4099\n",
            "node_network_flags{device=\"ifb0\"} 130\n",
            "node_network_protocol_type{device=\"lo\"} 772\n",
            "node_network_mtu_bytes{device=\"eth0\"} 1400\n",
            "node_network_speed_bytes{device=\"eth0\"} -125000\n",
            "node_network_iface_id{device=\"ifb1\"} 3\n",
            "# TYPE node_network_carrier_changes_total counter\n",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
        // carrier of a down ifb could not be read on the host: no sample, as node_exporter.
        assert!(!text.contains("node_network_carrier{device=\"ifb0\"}"), "{text}");
        assert_eq!(text.matches("# TYPE").count(), 19, "{text}");
        let text = crate::collectors::fixture_text(&collector("^ifb", true)).unwrap();
        assert!(!text.contains("ifb0") && !text.contains("node_network_speed_bytes"), "{text}");
    }

    #[test]
    fn netlink_variant_matches_sysfs_on_this_host() {
        // Both variants over the live /sys must print the same families, labels and values.
        let run = |use_netlink: bool| {
            let c = Netclass { use_netlink, ..collector("^$", false) };
            let (set, r) = vigie_kit::scheduler::collect_once(&c, vigie_kit::Paths::default());
            r.map(|()| set.encode())
        };
        let Ok(sysfs) = run(false) else { return };
        let netlink = run(true).unwrap();
        assert_eq!(netlink, sysfs);
        assert!(netlink.contains("node_network_iface_id{device=\"lo\"} 1\n"), "{netlink}");
    }

    #[test]
    fn missing_class_net_is_no_data() {
        let dir = tempfile::tempdir().unwrap();
        let paths = vigie_kit::Paths { sysfs: dir.path().into(), ..crate::collectors::fixtures() };
        let (_, r) = vigie_kit::scheduler::collect_once(&collector("^$", false), paths);
        assert!(matches!(r, Err(CollectError::NoData(_))), "{r:?}");
    }
}
