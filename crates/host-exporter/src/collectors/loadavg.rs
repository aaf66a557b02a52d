//! `/proc/loadavg` → `node_load1`, `node_load5`, `node_load15` (node_exporter "loadavg").

use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

/// The registration.
pub const REG: Registration = Registration {
    name: "loadavg",
    default_enabled: true,
    help: "Exposes load average.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Loadavg)),
};

const LOAD1: Desc = Desc::gauge("node_load1", "1m load average.", &[]);
const LOAD5: Desc = Desc::gauge("node_load5", "5m load average.", &[]);
const LOAD15: Desc = Desc::gauge("node_load15", "15m load average.", &[]);

/// Reads `/proc/loadavg`.
pub struct Loadavg;

impl SyncCollector for Loadavg {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let path = cx.paths.proc("loadavg");
        let text = cx.read(&path)?;
        let loads = parse(&text).map_err(|msg| CollectError::parse(&path, msg))?;
        for (desc, value) in [&LOAD1, &LOAD5, &LOAD15].into_iter().zip(loads) {
            out.add(desc, &[], value);
        }
        Ok(())
    }
}

/// The three load averages of `/proc/loadavg`.
pub fn parse(text: &str) -> Result<[f64; 3], String> {
    let mut fields = text.split_ascii_whitespace();
    let mut next = |what: &str| -> Result<f64, String> {
        let field = fields.next().ok_or_else(|| format!("missing {what} field"))?;
        field.parse().map_err(|_| format!("invalid {what} value {field:?}"))
    };
    Ok([next("1m")?, next("5m")?, next("15m")?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_loadavg() {
        // Captured from this machine: cat /proc/loadavg
        assert_eq!(parse("0.21 0.15 0.10 1/245 3321\n"), Ok([0.21, 0.15, 0.10]));
        assert!(parse("0.21 x").unwrap_err().contains("5m"));
        assert!(parse("").is_err());
    }

    #[test]
    fn fixture_tree() {
        let text = crate::collectors::fixture_text(&Loadavg).unwrap();
        assert!(text.contains("# TYPE node_load1 gauge\nnode_load1 "), "{text}");
        assert_eq!(text.matches("node_load").count(), 9);
    }
}
