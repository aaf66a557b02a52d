//! /proc/schedstat → node_schedstat_* (node_exporter "schedstat" names).

use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

/// The registration.
pub const REG: Registration = Registration {
    name: "schedstat",
    default_enabled: true,
    help: "Exposes task scheduler statistics from /proc/schedstat.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Schedstat)),
};

const RUNNING: Desc =
    Desc::counter("node_schedstat_running_seconds_total", "Time each CPU spent running tasks, in seconds.", &["cpu"]);
const WAITING: Desc = Desc::counter(
    "node_schedstat_waiting_seconds_total",
    "Time tasks spent waiting to run on each CPU, in seconds.",
    &["cpu"],
);
const TIMESLICES: Desc =
    Desc::counter("node_schedstat_timeslices_total", "Timeslices each CPU has run.", &["cpu"]);

/// Reads `/proc/schedstat`.
pub struct Schedstat;

impl SyncCollector for Schedstat {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let path = cx.paths.proc("schedstat");
        let text = match cx.read_optional(&path) {
            Err(e) if e.is_not_found() => return Err(CollectError::NoData(e.to_string())),
            other => other?,
        };
        for cpu in parse(&text).map_err(|msg| CollectError::parse(&path, msg))? {
            out.add(&RUNNING, &[cpu.cpu], cpu.running_ns as f64 / 1e9);
            out.add(&WAITING, &[cpu.cpu], cpu.waiting_ns as f64 / 1e9);
            out.add(&TIMESLICES, &[cpu.cpu], cpu.timeslices as f64);
        }
        Ok(())
    }
}

/// The last three numbers of a `cpuN` line (schedstat version 15 layout).
#[derive(Debug, PartialEq)]
pub struct Cpu<'a> {
    /// N of `cpuN`.
    pub cpu: &'a str,
    /// Time spent running tasks, ns.
    pub running_ns: u64,
    /// Time tasks waited on the run queue, ns.
    pub waiting_ns: u64,
    /// Timeslices run.
    pub timeslices: u64,
}

/// Parses the `cpuN` lines (nine numbers each) of `/proc/schedstat`.
pub fn parse(text: &str) -> Result<Vec<Cpu<'_>>, String> {
    let mut cpus = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut fields = line.split_ascii_whitespace();
        let Some(cpu) = fields.next().and_then(|f| f.strip_prefix("cpu")) else { continue };
        if cpu.is_empty() || !cpu.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let numbers: Vec<u64> = fields.map(str::parse).collect::<Result<_, _>>().map_err(|_| format!("line {}: not a number: {line:?}", n + 1))?;
        if numbers.len() < 9 {
            return Err(format!("line {}: expected 9 numbers: {line:?}", n + 1));
        }
        cpus.push(Cpu { cpu, running_ns: numbers[6], waiting_ns: numbers[7], timeslices: numbers[8] });
    }
    Ok(cpus)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Constructed in the layout of the kernel's Documentation/scheduler/sched-stats.rst
    // (version 15); this VM's kernel has no /proc/schedstat.
    const TEXT: &str = "version 15\ntimestamp 4295059418\n\
                        cpu0 0 0 0 0 0 0 2045936778163039 343796328169361 4767485306\n\
                        domain0 00000003 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n\
                        cpu1 0 0 0 0 0 0 2140346530000 1089720000 124\n";

    #[test]
    fn parses_cpu_lines() {
        let cpus = parse(TEXT).unwrap();
        assert_eq!(cpus.len(), 2);
        assert_eq!(cpus[1], Cpu { cpu: "1", running_ns: 2140346530000, waiting_ns: 1089720000, timeslices: 124 });
        assert!(parse("cpu0 1 2 3\n").unwrap_err().contains("line 1"));
        assert!(parse("cpu0 1 2 3 4 5 6 7 8 x\n").unwrap_err().contains("not a number"));
    }

    #[test]
    fn absent_here_is_no_data() {
        let (_, result) = vigie_kit::scheduler::collect_once(&Schedstat, crate::collectors::fixtures());
        assert!(matches!(result, Err(CollectError::NoData(_))), "{result:?}");
    }

    #[test]
    fn constructed_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("schedstat"), TEXT).unwrap();
        let paths = vigie_kit::Paths { procfs: dir.path().into(), ..vigie_kit::Paths::default() };
        let (set, result) = vigie_kit::scheduler::collect_once(&Schedstat, paths);
        result.unwrap();
        let text = set.encode();
        assert!(text.contains("node_schedstat_running_seconds_total{cpu=\"1\"} 2140.34653\n"), "{text}");
        assert!(text.contains("node_schedstat_waiting_seconds_total{cpu=\"1\"} 1.08972\n"), "{text}");
        assert!(text.contains("node_schedstat_timeslices_total{cpu=\"0\"} 4.767485306e+09\n"), "{text}");
    }
}
