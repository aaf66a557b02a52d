//! `/proc/net/sockstat`, `/proc/net/sockstat6` → `node_sockstat_*` (node_exporter "sockstat"
//! names), with `<PROTO>_mem_bytes` = pages × the page size.

use vigie_kit::{CollectError, CollectResult, Desc, Kind, MetricSet, Registration, Scrape, SyncCollector};

/// The registration.
pub const REG: Registration = Registration {
    name: "sockstat",
    default_enabled: true,
    help: "Exposes various statistics from /proc/net/sockstat.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Sockstat { page_size: rustix::param::page_size() as f64 })),
};

const USED: Desc = Desc::gauge("node_sockstat_sockets_used", "Sockets in use (IPv4 file).", &[]);
const HELP: &str = "A socket count (or memory, in pages or bytes) from /proc/net/sockstat or sockstat6.";

/// Reads both sockstat files.
pub struct Sockstat {
    page_size: f64,
}

/// One line of a sockstat file.
#[derive(Debug, PartialEq)]
pub enum Line<'a> {
    /// `sockets: used N`.
    Used(i64),
    /// `PROTO: key value …`.
    Proto(&'a str, Vec<(&'a str, i64)>),
}

/// The lines of a sockstat file.
pub fn parse(text: &str) -> Result<Vec<Line<'_>>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split(' ').collect();
        if fields.len() < 3 || fields.len() % 2 == 0 {
            return Err(format!("line {}: malformed {line:?}", n + 1));
        }
        let mut pairs = Vec::with_capacity(fields.len() / 2);
        for kv in fields[1..].chunks_exact(2) {
            let v = kv[1].parse().map_err(|_| format!("line {}: invalid value {:?}", n + 1, kv[1]))?;
            pairs.push((kv[0], v));
        }
        let proto = fields[0].trim_end_matches(':');
        if proto == "sockets" {
            out.push(Line::Used(pairs.iter().find(|(k, _)| *k == "used").map_or(0, |p| p.1)));
        } else {
            out.push(Line::Proto(proto, pairs));
        }
    }
    Ok(out)
}

impl Sockstat {
    fn emit(&self, lines: &[Line<'_>], v6: bool, out: &mut MetricSet) {
        for line in lines {
            match line {
                Line::Used(used) if !v6 => out.add(&USED, &[], *used as f64),
                Line::Used(_) => {}
                Line::Proto(proto, pairs) => {
                    // node_exporter always reports inuse (0 when absent), then the others it knows.
                    let inuse = pairs.iter().find(|(k, _)| *k == "inuse").map_or(0, |p| p.1);
                    self.push(out, proto, "inuse", inuse as f64);
                    for (key, value) in pairs {
                        if matches!(*key, "orphan" | "tw" | "alloc" | "mem" | "memory") {
                            self.push(out, proto, key, *value as f64);
                        }
                        if *key == "mem" {
                            self.push(out, proto, "mem_bytes", *value as f64 * self.page_size);
                        }
                    }
                }
            }
        }
    }

    fn push(&self, out: &mut MetricSet, proto: &str, key: &str, value: f64) {
        out.family(format!("node_sockstat_{proto}_{key}"), HELP, Kind::Gauge).push(&[], value);
    }
}

impl SyncCollector for Sockstat {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        for (file, v6) in [("net/sockstat", false), ("net/sockstat6", true)] {
            let path = cx.paths.proc(file);
            let text = match cx.read(&path) {
                Ok(text) => text,
                // A missing file (no IPv6) is skipped, as node_exporter does.
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e),
            };
            let lines = parse(&text).map_err(|e| CollectError::parse(&path, e))?;
            self.emit(&lines, v6, out);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sockstat() {
        let lines = parse("sockets: used 14\nTCP: inuse 4 orphan 0 tw 2 alloc 4 mem 199\nFRAG: inuse 0 memory 0\n").unwrap();
        assert_eq!(lines[0], Line::Used(14));
        assert_eq!(lines[1], Line::Proto("TCP", vec![("inuse", 4), ("orphan", 0), ("tw", 2), ("alloc", 4), ("mem", 199)]));
        assert!(parse("TCP: inuse\n").unwrap_err().contains("line 1"));
        assert!(parse("TCP: inuse x\n").unwrap_err().contains("\"x\""));
    }

    #[test]
    fn malformed_file_is_named() {
        let c = Sockstat { page_size: 4096.0 };
        let err = crate::collectors::proc_error(&c, &[("net/sockstat", "sockets: used 1\n"), ("net/sockstat6", "TCP6: inuse\n")]);
        assert!(err.contains("net/sockstat6") && err.contains("line 1"), "{err}");
    }

    #[test]
    fn fixture_tree() {
        let c = Sockstat { page_size: 4096.0 };
        let text = crate::collectors::fixture_text(&c).unwrap();
        let sockstat = std::fs::read_to_string(crate::collectors::fixtures().proc("net/sockstat")).unwrap();
        let Some(Line::Used(used)) = parse(&sockstat).unwrap().into_iter().next() else { panic!() };
        assert!(text.contains(&format!("node_sockstat_sockets_used {used}\n")), "{text}");
        let Some(Line::Proto("TCP", pairs)) = parse(&sockstat).unwrap().into_iter().nth(1) else { panic!() };
        let mem = pairs.iter().find(|p| p.0 == "mem").unwrap().1;
        assert!(text.contains(&format!("node_sockstat_TCP_mem_bytes {}\n", mem * 4096)), "{text}");
        assert!(text.contains("# TYPE node_sockstat_TCP6_inuse gauge\nnode_sockstat_TCP6_inuse 0\n"), "{text}");
        assert!(text.contains("node_sockstat_FRAG6_memory 0\n"), "{text}");
        // The same 20 families as node_exporter 1.5 on this host.
        assert_eq!(text.matches("# TYPE").count(), 20, "{text}");
    }
}
