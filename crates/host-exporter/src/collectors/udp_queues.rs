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

/// Reads the two UDP socket tables. Each read of one walks the kernel's whole UDP hash
/// table (65,536 slots on a large host) from its first slot, empty or not: the end is
/// taken from the length of the last read (the kit knows these tables' record bound), not
/// from one more read.
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

/// Whether `sockstat` (the per-scrape copy the sockstat collector reads too) counts no
/// socket of `proto` (`UDP: inuse 0 mem 0`): the kernel counts the sockets it hashes in its
/// UDP table, per network namespace, as `/proc/net/udp` lists them, so that table is empty
/// and its walk can be skipped. Anything unreadable or unexpected says no.
fn none_in_use(cx: &Scrape, sockstat: &str, proto: &str) -> bool {
    let Ok(text) = cx.read(cx.paths.proc(sockstat)) else { return false };
    let count = text.lines().find_map(|l| l.strip_prefix(proto)?.strip_prefix(": inuse ")?.split(' ').next()?.parse::<u64>().ok());
    count == Some(0)
}

impl SyncCollector for UdpQueues {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let mut missing = 0;
        let tables = [("net/udp", "v4", "net/sockstat", "UDP"), ("net/udp6", "v6", "net/sockstat6", "UDP6")];
        for (file, ip, sockstat, proto) in tables {
            if none_in_use(cx, sockstat, proto) {
                out.add(&QUEUES, &[ip, "tx"], 0.0);
                out.add(&QUEUES, &[ip, "rx"], 0.0);
                continue;
            }
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
    fn a_long_live_table_is_read_whole() {
        // 300 sockets: ~38 KiB of /proc/net/udp, handed out a page at a time; reads that end
        // with a full page must not be taken for the end. One socket holds a datagram.
        let v4: Vec<_> = (0..300).map(|_| std::net::UdpSocket::bind("127.0.0.1:0").unwrap()).collect();
        v4[0].send_to(&[7; 100], v4[299].local_addr().unwrap()).unwrap();
        let v6: Vec<_> = (0..300).filter_map(|_| std::net::UdpSocket::bind("[::1]:0").ok()).collect();
        let cx = Scrape::new(std::time::Instant::now(), std::sync::Arc::new(vigie_kit::Paths::default()), ());
        for (file, sockets) in [("net/udp", &v4), ("net/udp6", &v6)] {
            let text = cx.read(cx.paths.proc(file)).unwrap();
            for s in sockets {
                let port = format!(":{:04X} ", s.local_addr().unwrap().port());
                assert!(text.lines().any(|l| l.split_ascii_whitespace().nth(1).is_some_and(|a| a.ends_with(&port[..5]))), "{file}: no {port} in\n{text}");
            }
        }
        // The datagram's buffer, as the kernel counts it (its size plus overhead).
        let (_, rx) = parse(&std::fs::read_to_string("/proc/net/udp").unwrap()).unwrap();
        assert!(rx >= 100, "{rx}");
    }

    #[test]
    fn live_queues_and_empty_tables() {
        // A datagram waits in a live socket: sockstat counts it, the table is read.
        let a = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        a.send_to(&[1; 300], b.local_addr().unwrap()).unwrap();
        let text = crate::collectors::fixture_text_with(&UdpQueues, vigie_kit::Paths::default()).unwrap();
        let rx: f64 = text.lines().find_map(|l| l.strip_prefix("node_udp_queues{ip=\"v4\",queue=\"rx\"} ")).unwrap().parse().unwrap();
        assert!(rx >= 300.0, "{text}");
        // sockstat counts no socket: the (here malformed) table is not read.
        let text = crate::collectors::proc_error(&UdpQueues, &[("net/sockstat", "UDP: inuse 0 mem 0\n"), ("net/udp", "h\n 1: a b c x\n"), ("net/udp6", "h\n")]);
        assert_eq!(text, "ok");
        let text = crate::collectors::proc_error(&UdpQueues, &[("net/sockstat", "UDP: inuse 1 mem 0\n"), ("net/udp", "h\n 1: a b c x\n")]);
        assert!(text.contains("net/udp") && text.contains("line 2"), "{text}");
    }

    #[test]
    fn no_tables_is_no_data() {
        let dir = tempfile::tempdir().unwrap();
        let paths = vigie_kit::Paths { procfs: dir.path().into(), ..crate::collectors::fixtures() };
        let (_, r) = vigie_kit::scheduler::collect_once(&UdpQueues, paths);
        assert!(matches!(r, Err(CollectError::NoData(_))), "{r:?}");
    }
}
