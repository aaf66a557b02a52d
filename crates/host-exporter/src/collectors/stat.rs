//! /proc/stat (all but the cpu lines) → node_boot_time_seconds, node_context_switches_total,
//! node_forks_total, node_intr_total, node_procs_*, node_softirqs_total (node_exporter "stat"
//! names).
//!
//! The cpu collector reads the same file through the scrape's cache: one read per scrape.

use crate::collectors::{bool_arg, get_bool};
use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

/// The registration.
pub const REG: Registration = Registration {
    name: "stat",
    default_enabled: true,
    help: "Exposes various statistics from /proc/stat: boot time, forks, interrupts.",
    args: |cmd| bool_arg(cmd, "collector.stat.softirq", false, "Expose node_softirqs_total per softirq vector"),
    build: |m| Ok(Box::new(Stat { softirq: get_bool(m, "collector.stat.softirq", false) })),
};

const INTR: Desc = Desc::counter("node_intr_total", "Interrupts serviced since boot.", &[]);
const CTXT: Desc = Desc::counter("node_context_switches_total", "Context switches since boot.", &[]);
const FORKS: Desc = Desc::counter("node_forks_total", "Processes and threads created since boot.", &[]);
const BTIME: Desc = Desc::gauge("node_boot_time_seconds", "When the system booted, in seconds since the Unix epoch.", &[]);
const RUNNING: Desc = Desc::gauge("node_procs_running", "Threads currently runnable.", &[]);
const BLOCKED: Desc = Desc::gauge("node_procs_blocked", "Threads currently blocked waiting for I/O.", &[]);
const SOFTIRQS: Desc = Desc::counter("node_softirqs_total", "Softirqs handled since boot, per vector.", &["vector"]);

/// The softirq vectors in `/proc/stat` order.
pub const VECTORS: [&str; 10] =
    ["hi", "timer", "net_tx", "net_rx", "block", "block_iopoll", "tasklet", "sched", "hrtimer", "rcu"];

/// Reads `/proc/stat`.
pub struct Stat {
    softirq: bool,
}

/// The system-wide lines of `/proc/stat`; a line the file lacks counts as 0, as in procfs.
#[derive(Debug, Default, PartialEq)]
pub struct Totals {
    /// `intr` first number.
    pub intr: u64,
    /// `ctxt`.
    pub ctxt: u64,
    /// `processes`.
    pub forks: u64,
    /// `btime`.
    pub btime: u64,
    /// `procs_running`.
    pub running: u64,
    /// `procs_blocked`.
    pub blocked: u64,
    /// `softirq` per vector (after the total), in [`VECTORS`] order.
    pub softirq: [u64; 10],
}

impl SyncCollector for Stat {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let path = cx.paths.proc("stat");
        let text = cx.read(&path)?;
        let t = parse(&text).map_err(|msg| CollectError::parse(&path, msg))?;
        out.add(&INTR, &[], t.intr as f64);
        out.add(&CTXT, &[], t.ctxt as f64);
        out.add(&FORKS, &[], t.forks as f64);
        out.add(&BTIME, &[], t.btime as f64);
        out.add(&RUNNING, &[], t.running as f64);
        out.add(&BLOCKED, &[], t.blocked as f64);
        if self.softirq {
            for (vector, n) in VECTORS.iter().zip(t.softirq) {
                out.add(&SOFTIRQS, &[vector], n as f64);
            }
        }
        Ok(())
    }
}

/// Parses the non-cpu lines of `/proc/stat`.
pub fn parse(text: &str) -> Result<Totals, String> {
    let mut t = Totals::default();
    for (n, line) in text.lines().enumerate() {
        let mut fields = line.split_ascii_whitespace();
        let (Some(key), Some(first)) = (fields.next(), fields.next()) else { continue };
        let slot = match key {
            "intr" => &mut t.intr,
            "ctxt" => &mut t.ctxt,
            "processes" => &mut t.forks,
            "btime" => &mut t.btime,
            "procs_running" => &mut t.running,
            "procs_blocked" => &mut t.blocked,
            "softirq" => {
                for (slot, field) in t.softirq.iter_mut().zip(fields) {
                    *slot = field.parse().map_err(|_| format!("line {}: invalid softirq count {field:?}", n + 1))?;
                }
                continue;
            }
            _ => continue,
        };
        *slot = first.parse().map_err(|_| format!("line {}: invalid {key} value {first:?}", n + 1))?;
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_totals() {
        let text = "cpu  1 2 3\nintr 327516 0 0 1\nctxt 451138\nbtime 1795344918\nprocesses 7506\n\
                    procs_running 1\nprocs_blocked 2\nsoftirq 10 1 2 3 4 5 6 7 8 9 10\n";
        let t = parse(text).unwrap();
        assert_eq!(
            t,
            Totals {
                intr: 327516,
                ctxt: 451138,
                forks: 7506,
                btime: 1795344918,
                running: 1,
                blocked: 2,
                softirq: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
            }
        );
        assert!(parse("ctxt x\n").unwrap_err().contains("line 1: invalid ctxt"));
        assert!(parse("a\nsoftirq 1 y\n").unwrap_err().contains("line 2"));
    }

    #[test]
    fn fixture_tree() {
        let text = crate::collectors::fixture_text(&Stat { softirq: false }).unwrap();
        for line in [
            "# TYPE node_intr_total counter\nnode_intr_total 327516\n",
            "node_context_switches_total 451138\n",
            "node_forks_total 14415\n",
            "node_procs_running 1\n",
            "node_procs_blocked 0\n",
            "# TYPE node_boot_time_seconds gauge\nnode_boot_time_seconds 1.795344918e+09\n",
        ] {
            assert!(text.contains(line), "{line}: {text}");
        }
        assert!(!text.contains("softirqs"), "{text}");
        let c = crate::collectors::build(&REG, &["--collector.stat.softirq"]).unwrap();
        let text = crate::collectors::fixture_text(&*c).unwrap();
        assert_eq!(text.matches("\nnode_softirqs_total{vector=").count(), 10, "{text}");
        assert!(text.contains("node_softirqs_total{vector=\"net_rx\"} 5539\n"), "{text}");
    }
}
