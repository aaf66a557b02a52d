//! `/proc/net/udp`, `/proc/net/udp6` → `node_udp_queues{ip,queue}` (node_exporter
//! "udp_queues" names): bytes queued for sending and receiving, summed over sockets.

use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

/// The registration.
pub const REG: Registration = Registration {
    name: "udp_queues",
    default_enabled: true,
    help: "Exposes UDP total lengths of the rx_queue and tx_queue from /proc/net/udp and /proc/net/udp6.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(UdpQueues)),
};

const QUEUES: Desc = Desc::gauge("node_udp_queues", "Bytes of UDP datagrams the kernel holds in socket queues.", &["ip", "queue"]);

/// Reads the two UDP socket tables.
pub struct UdpQueues;

/// The summed `tx_queue` and `rx_queue` columns (hex `tx:rx`, the fifth field) of a UDP
/// socket table. Only that field of each line is looked at: the files are long on busy hosts.
pub fn parse(text: &str) -> Result<(u64, u64), String> {
    let (mut tx, mut rx) = (0u64, 0u64);
    for (n, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let field = line.split_ascii_whitespace().nth(4).ok_or_else(|| format!("line {}: too few fields", n + 1))?;
        let (t, r) = field.split_once(':').ok_or_else(|| format!("line {}: invalid queue field {field:?}", n + 1))?;
        let hex = |s: &str| u64::from_str_radix(s, 16).map_err(|_| format!("line {}: invalid queue field {field:?}", n + 1));
        tx = tx.wrapping_add(hex(t)?);
        rx = rx.wrapping_add(hex(r)?);
    }
    Ok((tx, rx))
}

impl SyncCollector for UdpQueues {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let mut missing = 0;
        for (file, ip) in [("net/udp", "v4"), ("net/udp6", "v6")] {
            let path = cx.paths.proc(file);
            let text = match cx.read(&path) {
                Ok(text) => text,
                Err(e) if e.is_not_found() => {
                    missing += 1;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let (tx, rx) = parse(&text).map_err(|e| CollectError::parse(&path, e))?;
            out.add(&QUEUES, &[ip, "tx"], tx as f64);
            out.add(&QUEUES, &[ip, "rx"], rx as f64);
        }
        if missing == 2 {
            return Err(CollectError::NoData("no /proc/net/udp nor udp6".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_queues() {
        // Captured on this VM with a UDP socket holding one unread 100-byte datagram.
        let text = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops            \n \
                    8920: 0100007F:E2C7 00000000:0000 07 00000000:00000340 00:00000000 00000000     0        0 69442 2 00000000e7224365 0         \n";
        assert_eq!(parse(text), Ok((0, 0x340)));
        let two = format!("{text}{}", text.lines().nth(1).unwrap().replace("00000000:00000340", "00000010:00000001"));
        assert_eq!(parse(&two), Ok((0x10, 0x341)));
        assert!(parse("h\n 1: a b c\n").unwrap_err().contains("line 2"));
        assert!(parse("h\n 1: a b c zz:1\n").unwrap_err().contains("zz"));
    }

    #[test]
    fn malformed_file_is_named() {
        let err = crate::collectors::proc_error(&UdpQueues, &[("net/udp6", "h\n 1: a b c x\n")]);
        assert!(err.contains("net/udp6") && err.contains("line 2"), "{err}");
    }

    #[test]
    fn fixture_tree() {
        let text = crate::collectors::fixture_text(&UdpQueues).unwrap();
        for line in ["{ip=\"v4\",queue=\"rx\"} 0\n", "{ip=\"v4\",queue=\"tx\"} 0\n", "{ip=\"v6\",queue=\"rx\"} 0\n", "{ip=\"v6\",queue=\"tx\"} 0\n"] {
            assert!(text.contains(&format!("node_udp_queues{line}")), "{text}");
        }
    }

    #[test]
    fn no_tables_is_no_data() {
        let dir = tempfile::tempdir().unwrap();
        let paths = vigie_kit::Paths { procfs: dir.path().into(), ..crate::collectors::fixtures() };
        let (_, r) = vigie_kit::collector::collect_once(&UdpQueues, paths);
        assert!(matches!(r, Err(CollectError::NoData(_))), "{r:?}");
    }
}
