//! /proc/pressure/{cpu,io,memory} → node_pressure_* (node_exporter "pressure" names).

use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

/// The registration.
pub const REG: Registration = Registration {
    name: "pressure",
    default_enabled: true,
    help: "Exposes pressure stall statistics from /proc/pressure/.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Pressure)),
};

const CPU: Desc = Desc::counter(
    "node_pressure_cpu_waiting_seconds_total",
    "Time some runnable task waited for a CPU, in seconds.",
    &[],
);
const IO: Desc = Desc::counter("node_pressure_io_waiting_seconds_total", "Time some task waited for I/O, in seconds.", &[]);
const IO_FULL: Desc = Desc::counter(
    "node_pressure_io_stalled_seconds_total",
    "Time every non-idle task was stalled on I/O at once, in seconds.",
    &[],
);
const MEM: Desc =
    Desc::counter("node_pressure_memory_waiting_seconds_total", "Time some task waited for memory, in seconds.", &[]);
const MEM_FULL: Desc = Desc::counter(
    "node_pressure_memory_stalled_seconds_total",
    "Time every non-idle task was stalled on memory at once, in seconds.",
    &[],
);

/// Reads `/proc/pressure/*`.
pub struct Pressure;

/// EOPNOTSUPP: the kernel has PSI built but disabled (`psi=0`).
const EOPNOTSUPP: i32 = 95;

impl SyncCollector for Pressure {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        for (resource, some, full) in [("cpu", &CPU, None), ("io", &IO, Some(&IO_FULL)), ("memory", &MEM, Some(&MEM_FULL))] {
            let path = cx.paths.proc(format!("pressure/{resource}"));
            let text = match cx.read(&path) {
                Ok(text) => text,
                Err(CollectError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound || source.raw_os_error() == Some(EOPNOTSUPP) =>
                {
                    // As node_exporter: no PSI (kernel < 4.20, CONFIG_PSI off or psi=0).
                    return Err(CollectError::NoData(format!("{}: {source}", path.display())));
                }
                Err(e) => return Err(e),
            };
            let totals = parse(&text).map_err(|msg| CollectError::parse(&path, msg))?;
            if let Some(us) = totals.some {
                out.add(some, &[], seconds(us));
            }
            if let (Some(desc), Some(us)) = (full, totals.full) {
                out.add(desc, &[], seconds(us));
            }
        }
        Ok(())
    }
}

// Two divisions, as node_exporter does, so the printed value is the same to the last digit.
fn seconds(us: u64) -> f64 {
    us as f64 / 1000.0 / 1000.0
}

/// The `total=` microseconds of a pressure file's `some` and `full` lines.
#[derive(Debug, Default, PartialEq)]
pub struct Totals {
    /// `some … total=`.
    pub some: Option<u64>,
    /// `full … total=`.
    pub full: Option<u64>,
}

/// Parses a `/proc/pressure/<resource>` file.
pub fn parse(text: &str) -> Result<Totals, String> {
    let mut totals = Totals::default();
    for (n, line) in text.lines().enumerate() {
        let slot = match line.split(' ').next() {
            Some("some") => &mut totals.some,
            Some("full") => &mut totals.full,
            _ => continue,
        };
        let total = line
            .split_ascii_whitespace()
            .find_map(|f| f.strip_prefix("total="))
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("line {}: no total= count: {line:?}", n + 1))?;
        *slot = Some(total);
    }
    Ok(totals)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_totals() {
        let text = "some avg10=3.06 avg60=1.21 avg300=0.72 total=4828460\nfull avg10=3.05 avg60=1.12 avg300=0.62 total=4286242\n";
        assert_eq!(parse(text), Ok(Totals { some: Some(4828460), full: Some(4286242) }));
        assert!(parse("some avg10=1 total=x\n").unwrap_err().starts_with("line 1"));
        // node_exporter printed 11.626021000000001 for this total on this VM: two divisions.
        assert_eq!(seconds(11626021).to_string(), "11.626021000000001");
    }

    #[test]
    fn fixture_tree() {
        let text = crate::collectors::fixture_text(&Pressure).unwrap();
        for line in [
            "node_pressure_cpu_waiting_seconds_total 18.387311\n",
            "node_pressure_io_waiting_seconds_total 4.82846\n",
            "node_pressure_io_stalled_seconds_total 4.2862420000000006\n",
            "node_pressure_memory_waiting_seconds_total 0\n",
            "node_pressure_memory_stalled_seconds_total 0\n",
        ] {
            assert!(text.contains(line), "{line}: {text}");
        }
        assert!(!text.contains("cpu_stalled"), "{text}");
    }

    #[test]
    fn no_psi_is_no_data() {
        let dir = tempfile::tempdir().unwrap();
        let paths = vigie_kit::Paths { procfs: dir.path().into(), ..vigie_kit::Paths::default() };
        let (_, result) = vigie_kit::scheduler::collect_once(&Pressure, paths);
        assert!(matches!(result, Err(CollectError::NoData(_))), "{result:?}");
    }
}
