//! `/proc/net/softnet_stat` → `node_softnet_{processed,dropped,times_squeezed}_total{cpu}`
//! (node_exporter "softnet" names; `cpu` is the line number, as in node_exporter 1.5).

use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

/// The registration.
pub const REG: Registration = Registration {
    name: "softnet",
    default_enabled: true,
    help: "Exposes statistics from /proc/net/softnet_stat.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Softnet)),
};

const CPU: &[&str] = &["cpu"];
const PROCESSED: Desc = Desc::counter("node_softnet_processed_total", "Packets processed by the CPU's softirq.", CPU);
const DROPPED: Desc = Desc::counter("node_softnet_dropped_total", "Packets dropped because the backlog was full.", CPU);
const SQUEEZED: Desc = Desc::counter("node_softnet_times_squeezed_total", "Times the softirq stopped with work left (budget or time out).", CPU);

/// Reads `/proc/net/softnet_stat`.
pub struct Softnet;

/// Per line: processed, dropped, time squeezed (the first three hex columns).
pub fn parse(text: &str) -> Result<Vec<[u32; 3]>, String> {
    text.lines()
        .enumerate()
        .map(|(n, line)| {
            let cols: Vec<&str> = line.split_ascii_whitespace().collect();
            if cols.len() < 9 {
                return Err(format!("line {}: {} columns, expected at least 9", n + 1, cols.len()));
            }
            let mut v = [0u32; 3];
            for (slot, col) in v.iter_mut().zip(&cols) {
                *slot = u32::from_str_radix(col, 16).map_err(|_| format!("line {}: invalid hex {col:?}", n + 1))?;
            }
            Ok(v)
        })
        .collect()
}

impl SyncCollector for Softnet {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let path = cx.paths.proc("net/softnet_stat");
        let text = cx.read(&path)?;
        let rows = parse(&text).map_err(|e| CollectError::parse(&path, e))?;
        for (cpu, [processed, dropped, squeezed]) in rows.into_iter().enumerate() {
            let cpu = cpu.to_string();
            out.add(&PROCESSED, &[&cpu], processed.into());
            out.add(&DROPPED, &[&cpu], dropped.into());
            out.add(&SQUEEZED, &[&cpu], squeezed.into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_softnet_stat() {
        let line = "0000001e 00000002 0000000a 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000\n";
        assert_eq!(parse(line).unwrap(), [[30, 2, 10]]);
        assert!(parse("0000001e 00000002\n").unwrap_err().contains("line 1"));
        assert!(parse(&line.replace("0000000a", "zz")).unwrap_err().contains("\"zz\""));
    }

    #[test]
    fn malformed_file_is_named() {
        let err = crate::collectors::proc_error(&Softnet, &[("net/softnet_stat", "1 2\n")]);
        assert!(err.contains("net/softnet_stat") && err.contains("line 1"), "{err}");
    }

    #[test]
    fn fixture_tree() {
        let text = crate::collectors::fixture_text(&Softnet).unwrap();
        let raw = std::fs::read_to_string(crate::collectors::fixtures().proc("net/softnet_stat")).unwrap();
        let rows = parse(&raw).unwrap();
        assert_eq!(rows.len(), 2);
        assert!(text.contains(&format!("node_softnet_processed_total{{cpu=\"1\"}} {}\n", rows[1][0])), "{text}");
        assert!(text.contains("node_softnet_dropped_total{cpu=\"0\"} 0\n"), "{text}");
        assert!(text.contains("# TYPE node_softnet_times_squeezed_total counter\n"), "{text}");
        assert_eq!(text.lines().filter(|l| !l.starts_with('#')).count(), 6);
    }
}
