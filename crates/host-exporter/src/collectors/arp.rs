//! `/proc/net/arp` → `node_arp_entries{device}` (node_exporter "arp" names).

use std::collections::BTreeMap;

use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

use super::netdev::DeviceFilter;

/// The registration.
pub const REG: Registration = Registration {
    name: "arp",
    default_enabled: true,
    help: "Exposes ARP statistics from /proc/net/arp.",
    args: |cmd| {
        let text = |id: &'static str, help: &'static str| clap::Arg::new(id).long(id).value_name("REGEXP").help(help);
        cmd.arg(text("collector.arp.device-include", "Regexp of arp devices to include (mutually exclusive to device-exclude)."))
            .arg(text("collector.arp.device-exclude", "Regexp of arp devices to exclude (mutually exclusive to device-include)."))
    },
    build: |m| {
        let get = |id: &str| m.get_one::<String>(id).map(String::as_str);
        let filter = DeviceFilter::new(get("collector.arp.device-exclude"), get("collector.arp.device-include"))?;
        Ok(Box::new(Arp { filter }))
    },
};

const ENTRIES: Desc = Desc::gauge("node_arp_entries", "Entries in the ARP table, per device.", &["device"]);

/// Reads `/proc/net/arp`.
pub struct Arp {
    filter: DeviceFilter,
}

/// Entries per device (the last column), the header left out.
pub fn parse(text: &str) -> Result<BTreeMap<&str, u32>, String> {
    let mut out = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let columns: Vec<&str> = line.split_ascii_whitespace().collect();
        if columns.len() < 6 {
            return Err(format!("line {}: unexpected ARP table format", n + 1));
        }
        if columns[0] != "IP" {
            *out.entry(columns[columns.len() - 1]).or_insert(0) += 1;
        }
    }
    Ok(out)
}

impl SyncCollector for Arp {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let path = cx.paths.proc("net/arp");
        let text = cx.read(&path)?;
        for (device, count) in parse(&text).map_err(|e| CollectError::parse(&path, e))? {
            if !self.filter.ignored(device) {
                out.add(&ENTRIES, &[device], count.into());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_arp() {
        let text = "IP address       HW type     Flags       HW address            Mask     Device\n\
                    192.0.2.1        0x1         0x2         02:fc:00:00:00:05     *        eth0\n\
                    192.0.2.7        0x1         0x2         02:fc:00:00:00:07     *        eth0\n\
                    10.0.0.1         0x1         0x2         02:fc:00:00:00:09     *        br0\n";
        let m = parse(text).unwrap();
        assert_eq!(m.get("eth0"), Some(&2));
        assert_eq!(m.get("br0"), Some(&1));
        assert!(parse("IP address\n").unwrap_err().contains("line 1"));
    }

    #[test]
    fn malformed_file_is_named() {
        let err = crate::collectors::proc_error(&Arp { filter: DeviceFilter::default() }, &[("net/arp", "IP address\n")]);
        assert!(err.contains("net/arp") && err.contains("line 1"), "{err}");
    }

    #[test]
    fn fixture_tree() {
        let c = Arp { filter: DeviceFilter::default() };
        let text = crate::collectors::fixture_text(&c).unwrap();
        assert!(text.contains("# TYPE node_arp_entries gauge\nnode_arp_entries{device=\"eth0\"} 1\n"), "{text}");
        let c = Arp { filter: DeviceFilter::new(Some("eth"), None).unwrap() };
        assert!(!crate::collectors::fixture_text(&c).unwrap().contains("eth0"));
    }
}
