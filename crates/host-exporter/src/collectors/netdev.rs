//! Interface counters from rtnetlink (default) or `/proc/net/dev` →
//! `node_network_{receive,transmit}_*_total{device}` (node_exporter "netdev" names).
//!
//! node_exporter 1.5 reads the counters with one `RTM_GETLINK` dump (`--collector.netdev.netlink`,
//! on by default) and folds the detailed kernel counters into the `/proc/net/dev` column names
//! unless `--collector.netdev.enable-detailed-metrics` is given. Netlink alone gives
//! `node_network_receive_nohandler_total`; `/proc/net/dev` has no such column.


use crate::collectors::{Pattern, Remembered};
use vigie_kit::{CollectError, CollectResult, Desc, Kind, MetricSet, Registration, Scrape, SyncCollector};

pub mod netlink;

/// The registration.
pub const REG: Registration = Registration {
    name: "netdev",
    default_enabled: true,
    help: "Exposes network interface statistics such as bytes transferred.",
    args,
    build: |m| {
        let include = pick(m, "collector.netdev.device-include", "collector.netdev.device-whitelist")?;
        let mut exclude = pick(m, "collector.netdev.device-exclude", "collector.netdev.device-blacklist")?;
        if include.is_none() && exclude.is_none() {
            exclude = Some(DEFAULT_EXCLUDE.to_owned());
        }
        let filter = DeviceFilter::new(exclude.as_deref(), include.as_deref())?;
        Ok(Box::new(Netdev {
            filter,
            netlink: bool_flag(m, "collector.netdev.netlink", true),
            detailed: m.get_flag("collector.netdev.enable-detailed-metrics"),
            address_info: m.get_flag("collector.netdev.address-info"),
        }))
    },
};

fn args(cmd: clap::Command) -> clap::Command {
    use clap::{Arg, ArgAction};
    let text = |id: &'static str, help: &'static str| Arg::new(id).long(id).value_name("REGEXP").help(help);
    let cmd = cmd
        .arg(text("collector.netdev.device-include", "Regexp of net devices to include (mutually exclusive to device-exclude)."))
        .arg(text("collector.netdev.device-whitelist", "Deprecated: use --collector.netdev.device-include.").hide(true))
        .arg(text("collector.netdev.device-exclude", "Regexp of net devices to exclude (mutually exclusive to device-include) [default: ^lo$ unless device-include is given]."))
        .arg(text("collector.netdev.device-blacklist", "Deprecated: use --collector.netdev.device-exclude.").hide(true))
        .arg(
            Arg::new("collector.netdev.address-info")
                .long("collector.netdev.address-info")
                .action(ArgAction::SetTrue)
                .help("Expose each device's addresses as node_network_address_info."),
        )
        .arg(
            Arg::new("collector.netdev.enable-detailed-metrics")
                .long("collector.netdev.enable-detailed-metrics")
                .action(ArgAction::SetTrue)
                .help("Expose the kernel's detailed counters under their own (incompatible) names."),
        );
    add_bool_flag(cmd, "collector.netdev.netlink", "Read the counters with rtnetlink rather than /proc/net/dev (default: on).")
}

/// Adds a kingpin-style boolean pair: `--NAME` and a hidden `--no-NAME`.
pub fn add_bool_flag(cmd: clap::Command, name: &'static str, help: &'static str) -> clap::Command {
    use clap::{Arg, ArgAction};
    let off: &'static str = Box::leak(format!("no-{name}").into_boxed_str());
    cmd.arg(Arg::new(name).long(name).action(ArgAction::SetTrue).overrides_with(off).help(help))
        .arg(Arg::new(off).long(off).action(ArgAction::SetTrue).overrides_with(name).hide(true))
}

/// Reads a pair added by [`add_bool_flag`].
pub fn bool_flag(m: &clap::ArgMatches, name: &str, default: bool) -> bool {
    let on = m.try_get_one::<bool>(name).ok().flatten().copied().unwrap_or(false);
    let off = m.try_get_one::<bool>(&format!("no-{name}")).ok().flatten().copied().unwrap_or(false);
    if on {
        true
    } else if off {
        false
    } else {
        default
    }
}

/// The new flag's value, or else the deprecated one's (both at once is an error, as in
/// node_exporter).
fn pick(m: &clap::ArgMatches, new: &str, old: &str) -> Result<Option<String>, String> {
    let get = |id: &str| m.try_get_one::<String>(id).ok().flatten().filter(|s| !s.is_empty()).cloned();
    match (get(new), get(old)) {
        (Some(_), Some(_)) => Err(format!("--{old} and --{new} are mutually exclusive")),
        (new_value, old_value) => {
            if old_value.is_some() {
                tracing::warn!("--{old} is deprecated, use --{new}");
            }
            Ok(new_value.or(old_value))
        }
    }
}

/// node_exporter's device filter: a device is ignored when it matches the exclude pattern,
/// or when an include pattern is given and it does not match it. Patterns are unanchored.
#[derive(Debug, Default)]
pub struct DeviceFilter {
    exclude: Option<Remembered>,
    include: Option<Remembered>,
}

impl DeviceFilter {
    /// From the two optional patterns (empty means none); both at once is an error.
    pub fn new(exclude: Option<&str>, include: Option<&str>) -> Result<DeviceFilter, String> {
        let compile = |p: Option<&str>| -> Result<Option<Remembered>, String> {
            match p.filter(|p| !p.is_empty()) {
                Some(p) => Pattern::new(p).map(|re| Some(Remembered::new(re))).map_err(|e| format!("invalid regexp {p:?}: {e}")),
                None => Ok(None),
            }
        };
        let filter = DeviceFilter { exclude: compile(exclude)?, include: compile(include)? };
        if filter.exclude.is_some() && filter.include.is_some() {
            return Err("device-exclude and device-include are mutually exclusive".into());
        }
        Ok(filter)
    }

    /// Whether `name` is left out.
    pub fn ignored(&self, name: &str) -> bool {
        self.exclude.as_ref().is_some_and(|r| r.is_match(name)) || self.include.as_ref().is_some_and(|r| !r.is_match(name))
    }
}

/// Reads interface counters.
pub struct Netdev {
    filter: DeviceFilter,
    netlink: bool,
    detailed: bool,
    address_info: bool,
}

const DEVICE: &[&str] = &["device"];

/// Debian's node_exporter 1.5 build (the incumbent on our hosts) leaves out the loopback
/// device unless told otherwise; upstream's default is no filter.
const DEFAULT_EXCLUDE: &str = "^lo$";

/// The `/proc/net/dev` column names (node_exporter's "legacy" names), then `receive_nohandler`
/// which only netlink gives.
static LEGACY: [Desc; 17] = [
    Desc::counter("node_network_receive_bytes_total", "Bytes received by the interface.", DEVICE),
    Desc::counter("node_network_receive_packets_total", "Packets received by the interface.", DEVICE),
    Desc::counter("node_network_receive_errs_total", "Receive errors on the interface.", DEVICE),
    Desc::counter("node_network_receive_drop_total", "Received packets dropped (including missed).", DEVICE),
    Desc::counter("node_network_receive_fifo_total", "Receive FIFO overruns.", DEVICE),
    Desc::counter("node_network_receive_frame_total", "Receive framing, length, overrun and CRC errors.", DEVICE),
    Desc::counter("node_network_receive_compressed_total", "Compressed packets received.", DEVICE),
    Desc::counter("node_network_receive_multicast_total", "Multicast packets received.", DEVICE),
    Desc::counter("node_network_transmit_bytes_total", "Bytes sent by the interface.", DEVICE),
    Desc::counter("node_network_transmit_packets_total", "Packets sent by the interface.", DEVICE),
    Desc::counter("node_network_transmit_errs_total", "Transmit errors on the interface.", DEVICE),
    Desc::counter("node_network_transmit_drop_total", "Outgoing packets dropped.", DEVICE),
    Desc::counter("node_network_transmit_fifo_total", "Transmit FIFO errors.", DEVICE),
    Desc::counter("node_network_transmit_colls_total", "Collisions seen while sending.", DEVICE),
    Desc::counter("node_network_transmit_carrier_total", "Transmit carrier, aborted, heartbeat and window errors.", DEVICE),
    Desc::counter("node_network_transmit_compressed_total", "Compressed packets sent.", DEVICE),
    Desc::counter("node_network_receive_nohandler_total", "Received packets no protocol handler took.", DEVICE),
];

/// `/proc/net/dev` columns under node_exporter's detailed names (same order as [`LEGACY`]).
const PROC_DETAILED: [&str; 16] = [
    "receive_bytes",
    "receive_packets",
    "receive_errors",
    "receive_dropped",
    "receive_fifo",
    "receive_frame",
    "receive_compressed",
    "receive_multicast",
    "transmit_bytes",
    "transmit_packets",
    "transmit_errors",
    "transmit_dropped",
    "transmit_fifo",
    "transmit_colls",
    "transmit_carrier",
    "transmit_compressed",
];

const ADDRESS_INFO: Desc =
    Desc::gauge("node_network_address_info", "An address of the interface; always 1.", &["device", "address", "netmask", "scope"]);

/// This scrape's rtnetlink link dump: made once, for netdev and netclass both.
pub fn link_dump(cx: &Scrape) -> Result<std::sync::Arc<Vec<netlink::Link>>, CollectError> {
    let dump = cx.shared("rtnetlink links", || {
        let raw = netlink::dump_links().map_err(|e| format!("rtnetlink link dump: {e}"))?;
        netlink::parse_links(&raw).map(std::sync::Arc::new).map_err(|e| format!("rtnetlink RTM_GETLINK: {e}"))
    });
    dump.as_ref().clone().map_err(CollectError::Other)
}

/// node_exporter's scope of an address (Go's `net.IP` classification).
pub fn scope(ip: std::net::IpAddr) -> &'static str {
    use std::net::IpAddr;
    let (loopback, link_local, link_local_multicast, interface_local_multicast, multicast, unspecified, broadcast) = match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            (v4.is_loopback(), v4.is_link_local(), o[0] == 224 && o[1] == 0 && o[2] == 0, false, v4.is_multicast(), v4.is_unspecified(), v4.is_broadcast())
        }
        IpAddr::V6(v6) => {
            let o = v6.octets();
            let mc = o[0] == 0xff;
            (v6.is_loopback(), o[0] == 0xfe && o[1] & 0xc0 == 0x80, mc && o[1] & 0x0f == 0x02, mc && o[1] & 0x0f == 0x01, mc, v6.is_unspecified(), false)
        }
    };
    if loopback || link_local || link_local_multicast {
        "link-local"
    } else if interface_local_multicast {
        "interface-local"
    } else if !(broadcast || unspecified || multicast) {
        "global"
    } else {
        ""
    }
}

impl SyncCollector for Netdev {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let mut links = None;
        if self.netlink {
            let dump = link_dump(cx)?;
            for link in dump.iter() {
                // The kernel sends IFLA_STATS64 for every link; skip one without.
                let (name, Some(stats)) = (&link.name, &link.stats) else { continue };
                if self.filter.ignored(name) {
                    continue;
                }
                if self.detailed {
                    for (key, value) in netlink::STATS64_NAMES.iter().zip(stats) {
                        detailed(out, key, name, *value);
                    }
                } else {
                    for (desc, value) in LEGACY.iter().zip(netlink::legacy(stats)) {
                        out.add(desc, &[name], value as f64);
                    }
                }
            }
            links = Some(dump);
        } else {
            let path = cx.paths.proc("net/dev");
            let text = cx.read(&path)?;
            for row in parse_proc(&text) {
                let (name, values) = row.map_err(|e| CollectError::parse(&path, e))?;
                if self.filter.ignored(name) {
                    continue;
                }
                for (i, value) in values.into_iter().enumerate() {
                    if self.detailed {
                        detailed(out, PROC_DETAILED[i], name, value);
                    } else {
                        out.add(&LEGACY[i], &[name], value as f64);
                    }
                }
            }
        }
        if self.address_info {
            // Every interface's addresses, unfiltered, as node_exporter's net.Interfaces().
            let links = match links {
                Some(links) => links,
                None => link_dump(cx)?,
            };
            let raw = netlink::dump_addrs().map_err(|e| CollectError::Other(format!("rtnetlink address dump: {e}")))?;
            let addrs = netlink::parse_addrs(&raw).map_err(|e| CollectError::parse("rtnetlink RTM_GETADDR", e))?;
            for (index, ip, prefix) in addrs {
                if let Some(link) = links.iter().find(|l| l.index == index) {
                    let (address, netmask) = (ip.to_string(), prefix.to_string());
                    out.add(&ADDRESS_INFO, &[&link.name, &address, &netmask, scope(ip)], 1.0);
                }
            }
        }
        Ok(())
    }
}

fn detailed(out: &mut MetricSet, key: &str, device: &str, value: u64) {
    let family = out.family(format!("node_network_{key}_total"), format!("Interface counter {key}."), Kind::Counter);
    family.push(&[("device", device)], value as f64);
}

/// The rows of `/proc/net/dev`: device name and its 16 counters, in file order.
pub fn parse_proc(text: &str) -> impl Iterator<Item = Result<(&str, [u64; 16]), String>> {
    text.lines().enumerate().skip(2).filter(|(_, l)| !l.trim().is_empty()).map(|(n, line)| {
        let (name, rest) = line.split_once(':').ok_or_else(|| format!("line {}: no ':' after the device", n + 1))?;
        let mut values = [0u64; 16];
        let mut fields = rest.split_ascii_whitespace();
        for v in values.iter_mut() {
            let f = fields.next().ok_or_else(|| format!("line {}: fewer than 16 counters", n + 1))?;
            *v = f.parse().map_err(|_| format!("line {}: invalid counter {f:?}", n + 1))?;
        }
        Ok((name.trim(), values))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_net_dev() {
        let text = std::fs::read_to_string(crate::collectors::fixtures().proc("net/dev")).unwrap();
        let rows: Vec<_> = parse_proc(&text).collect::<Result<_, _>>().unwrap();
        assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), ["lo", "ifb0", "ifb1", "eth0"]);
        assert_eq!(rows[0].1[0], 77471);
        assert_eq!(rows[3].1[8], 238223);
        let bad = "h\nh\n  eth0: 1 2 3\n";
        let err = parse_proc(bad).collect::<Result<Vec<_>, _>>().unwrap_err();
        assert!(err.contains("line 3"), "{err}");
        assert!(parse_proc("h\nh\neth0 1 2\n").next().unwrap().is_err());
    }

    #[test]
    fn address_scopes() {
        let s = |a: &str| scope(a.parse().unwrap());
        assert_eq!(s("127.0.0.1"), "link-local");
        assert_eq!(s("169.254.1.1"), "link-local");
        assert_eq!(s("fe80::1"), "link-local");
        assert_eq!(s("ff02::1"), "link-local");
        assert_eq!(s("ff01::1"), "interface-local");
        assert_eq!(s("10.1.2.3"), "global");
        assert_eq!(s("2001:db8::1"), "global");
        assert_eq!(s("239.1.1.1"), "");
        assert_eq!(s("0.0.0.0"), "");
    }

    #[test]
    fn device_filter() {
        let f = DeviceFilter::new(Some("^lo$"), None).unwrap();
        assert!(f.ignored("lo") && !f.ignored("lo0") && !f.ignored("eth0"));
        let f = DeviceFilter::new(None, Some("^eth")).unwrap();
        assert!(!f.ignored("eth0") && f.ignored("lo"));
        assert!(!DeviceFilter::new(None, None).unwrap().ignored("x"));
        assert!(DeviceFilter::new(Some("a"), Some("b")).is_err());
        assert!(DeviceFilter::new(Some("("), None).is_err());
    }

    #[test]
    fn malformed_proc_net_dev_is_named() {
        let c = Netdev { filter: DeviceFilter::default(), netlink: false, detailed: false, address_info: false };
        let err = crate::collectors::proc_error(&c, &[("net/dev", "h\nh\n eth0: 1 2\n")]);
        assert!(err.contains("net/dev") && err.contains("line 3"), "{err}");
    }

    #[test]
    fn fixture_tree_proc_net_dev() {
        let c = Netdev { filter: DeviceFilter::new(Some("^lo$"), None).unwrap(), netlink: false, detailed: false, address_info: false };
        let text = crate::collectors::fixture_text(&c).unwrap();
        assert!(text.contains("node_network_receive_bytes_total{device=\"eth0\"} 9.7582432e+07\n"), "{text}");
        assert!(text.contains("node_network_transmit_packets_total{device=\"eth0\"} 2828\n"), "{text}");
        assert!(text.contains("# TYPE node_network_transmit_carrier_total counter\n"), "{text}");
        assert!(!text.contains("device=\"lo\""), "{text}");
        assert!(!text.contains("nohandler"), "{text}");
        assert_eq!(text.matches("# TYPE").count(), 16);
        assert_eq!(text.lines().filter(|l| !l.starts_with('#')).count(), 16 * 3);
        let c = Netdev { filter: DeviceFilter::default(), netlink: false, detailed: true, address_info: false };
        let text = crate::collectors::fixture_text(&c).unwrap();
        assert!(text.contains("node_network_receive_errors_total{device=\"lo\"} 0\n"), "{text}");
    }

    #[test]
    fn netlink_on_this_host() {
        // The live dump must at least list the loopback device, with counters.
        let Ok(raw) = netlink::dump_links() else { return };
        let links = netlink::parse_links(&raw).unwrap();
        assert!(links.iter().any(|l| l.name == "lo" && l.stats.is_some()), "{links:?}");
        let c = Netdev { filter: DeviceFilter::default(), netlink: true, detailed: false, address_info: true };
        let text = crate::collectors::fixture_text(&c).unwrap();
        assert!(text.contains("node_network_address_info{address=\"127.0.0.1\",device=\"lo\",netmask=\"8\",scope=\"link-local\"} 1\n"), "{text}");
        assert!(text.contains("node_network_receive_nohandler_total{device=\"lo\"} "), "{text}");
    }

    #[test]
    fn flags() {
        let cmd = args(clap::Command::new("t"));
        let m = cmd.clone().try_get_matches_from(["t"]).unwrap();
        assert!(bool_flag(&m, "collector.netdev.netlink", true));
        let m = cmd.clone().try_get_matches_from(["t", "--no-collector.netdev.netlink"]).unwrap();
        assert!(!bool_flag(&m, "collector.netdev.netlink", true));
        let m = cmd.clone().try_get_matches_from(["t", "--collector.netdev.device-blacklist", "^lo$"]).unwrap();
        assert_eq!(pick(&m, "collector.netdev.device-exclude", "collector.netdev.device-blacklist").unwrap().as_deref(), Some("^lo$"));
        let m = cmd
            .try_get_matches_from(["t", "--collector.netdev.device-exclude=a", "--collector.netdev.device-blacklist=b"])
            .unwrap();
        assert!(pick(&m, "collector.netdev.device-exclude", "collector.netdev.device-blacklist").is_err());
    }
}
