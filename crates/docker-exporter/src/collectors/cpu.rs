//! cgroup CPU accounting → `container_cpu_usage_seconds_total{cpu}`,
//! `container_cpu_{user,system}_seconds_total`, `container_cpu_cfs_*` (cAdvisor "cpu" and
//! "percpu" names). v1: `cpuacct.usage`, `cpuacct.usage_percpu`, `cpuacct.stat` (USER_HZ
//! ticks), `cpu.stat`; v2: `cpu.stat` (microseconds). The CFS families exist only for a
//! container with a quota, as in cAdvisor.

use clap::{Arg, ArgAction, ArgMatches, Command};
use vigie_kit::{CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

use super::{emit, read, Conn};
use crate::cgroup::{self, keyed};

const PERCPU: &str = "collector.cpu.percpu";

/// The registration.
pub const REG: Registration<Conn> = Registration {
    name: "cpu",
    default_enabled: true,
    help: "CPU usage, user/system time and CFS throttling per container.",
    args: |cmd: Command| {
        cmd.arg(
            Arg::new(PERCPU)
                .long(PERCPU)
                .value_name("BOOL")
                .num_args(0..=1)
                .default_value("true")
                .default_missing_value("true")
                .value_parser(clap::value_parser!(bool))
                .action(ArgAction::Set)
                .help("Per-CPU usage (cpu=\"cpu00\"…) on cgroup v1, as cAdvisor's \"percpu\" metrics; false: one cpu=\"total\" sample. v2 has only the total."),
        )
    },
    build: |m: &ArgMatches| Ok(Box::new(Cpu { percpu: m.get_one::<bool>(PERCPU).copied().unwrap_or(true) })),
};

const USAGE: Desc = Desc::counter("container_cpu_usage_seconds_total", "CPU time used by the container, in seconds.", &["cpu"]);
const USER: Desc = Desc::counter("container_cpu_user_seconds_total", "CPU time spent in user mode, in seconds.", &[]);
const SYSTEM: Desc = Desc::counter("container_cpu_system_seconds_total", "CPU time spent in kernel mode, in seconds.", &[]);
const PERIODS: Desc = Desc::counter("container_cpu_cfs_periods_total", "CFS enforcement periods that have elapsed.", &[]);
const THROTTLED: Desc =
    Desc::counter("container_cpu_cfs_throttled_periods_total", "CFS periods in which the container was throttled.", &[]);
const THROTTLED_SECS: Desc =
    Desc::counter("container_cpu_cfs_throttled_seconds_total", "Time the container spent throttled, in seconds.", &[]);
const BURSTS: Desc = Desc::counter("container_cpu_cfs_burst_periods_total", "CFS periods in which a burst happened.", &[]);
const BURST_SECS: Desc =
    Desc::counter("container_cpu_cfs_burst_seconds_total", "Time the container ran in bursts beyond its quota, in seconds.", &[]);

/// Linux's USER_HZ: `cpuacct.stat` counts in these ticks.
const TICKS_PER_SECOND: f64 = 100.0;

/// Reads CPU accounting.
pub struct Cpu {
    percpu: bool,
}

impl SyncCollector<Conn> for Cpu {
    fn collect_sync(&self, cx: &Scrape<Conn>, out: &mut MetricSet) -> CollectResult {
        for r in &cx.target.running {
            let (cg, base) = (&r.cgroup, &r.labels);
            let Some(stat) = read(cx, cg, "cpu", "cpu.stat")? else { continue };
            let ns = |v: Option<u64>| v.unwrap_or(0) as f64 / 1e9;
            let us = |v: Option<u64>| v.unwrap_or(0) as f64 / 1e6;
            let (throttled_secs, burst_secs, has_quota);
            if cg.is_v2() {
                let total = us(keyed(&stat, "usage_usec"));
                if total > 0.0 {
                    emit(out, &USAGE, base, &["total"], total);
                }
                emit(out, &USER, base, &[], us(keyed(&stat, "user_usec")));
                emit(out, &SYSTEM, base, &[], us(keyed(&stat, "system_usec")));
                throttled_secs = us(keyed(&stat, "throttled_usec"));
                burst_secs = us(keyed(&stat, "burst_usec"));
                has_quota = read(cx, cg, "cpu", "cpu.max")?.and_then(|t| cgroup::cpu_max(&t)).is_some_and(|(q, _)| q.is_some());
            } else {
                self.usage_v1(cx, r, out)?;
                if let Some(t) = read(cx, cg, "cpuacct", "cpuacct.stat")? {
                    emit(out, &USER, base, &[], keyed(&t, "user").unwrap_or(0) as f64 / TICKS_PER_SECOND);
                    emit(out, &SYSTEM, base, &[], keyed(&t, "system").unwrap_or(0) as f64 / TICKS_PER_SECOND);
                }
                throttled_secs = ns(keyed(&stat, "throttled_time"));
                burst_secs = ns(keyed(&stat, "burst_time"));
                has_quota = read(cx, cg, "cpu", "cpu.cfs_quota_us")?
                    .and_then(|t| cgroup::single_signed(&t))
                    .is_some_and(|q| q > 0);
            }
            if has_quota {
                emit(out, &PERIODS, base, &[], keyed(&stat, "nr_periods").unwrap_or(0) as f64);
                emit(out, &THROTTLED, base, &[], keyed(&stat, "nr_throttled").unwrap_or(0) as f64);
                emit(out, &THROTTLED_SECS, base, &[], throttled_secs);
                emit(out, &BURSTS, base, &[], keyed(&stat, "nr_bursts").unwrap_or(0) as f64);
                emit(out, &BURST_SECS, base, &[], burst_secs);
            }
        }
        Ok(())
    }
}

impl Cpu {
    fn usage_v1(&self, cx: &Scrape<Conn>, r: &crate::engine::Running, out: &mut MetricSet) -> CollectResult {
        let (cg, base) = (&r.cgroup, &r.labels);
        if self.percpu {
            if let Some(t) = read(cx, cg, "cpuacct", "cpuacct.usage_percpu")? {
                let per: Vec<u64> = t.split_ascii_whitespace().filter_map(|v| v.parse().ok()).collect();
                if !per.is_empty() {
                    // cAdvisor skips CPUs the container never ran on.
                    for (i, v) in per.iter().enumerate().filter(|(_, v)| **v > 0) {
                        emit(out, &USAGE, base, &[&format!("cpu{i:02}")], *v as f64 / 1e9);
                    }
                    return Ok(());
                }
            }
        }
        if let Some(total) = read(cx, cg, "cpuacct", "cpuacct.usage")?.and_then(|t| cgroup::single(&t)) {
            if total > 0 {
                emit(out, &USAGE, base, &["total"], total as f64 / 1e9);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::testing::run;

    #[test]
    fn v1_captured() {
        let text = run(&Cpu { percpu: true }, "v1");
        // cpuacct.usage_percpu "29229431719 10810566622", cpuacct.stat user 3954 system 47.
        assert!(text.contains("container_cpu_usage_seconds_total{cpu=\"cpu00\",id=\"/vigie-test/0ba3a770abc125387988d7ae77c0aaa060111e3439354645acaf8d22196ff1d5\",image=\"vigie/busybox:test\",name=\"busy\"} 29.229431719\n"), "{text}");
        assert!(text.contains("container_cpu_user_seconds_total{") && text.contains("} 39.54\n"), "{text}");
        assert!(text.contains("container_cpu_cfs_throttled_periods_total{") , "{text}");
        let total = run(&Cpu { percpu: false }, "v1");
        assert!(total.contains("cpu=\"total\"") && !total.contains("cpu00"), "{total}");
    }

    #[test]
    fn v2_constructed() {
        let text = run(&Cpu { percpu: true }, "v2");
        assert!(text.contains("{cpu=\"total\",id=\"/system.slice/docker-4f3c.scope\",image=\"vigie/busybox:test\",name=\"busy\"} 12.5\n"), "{text}");
        assert!(text.contains("container_cpu_cfs_throttled_periods_total{id=\"/system.slice/docker-4f3c.scope\",image=\"vigie/busybox:test\",name=\"busy\"} 90\n"), "{text}");
        assert!(text.contains("container_cpu_cfs_throttled_seconds_total{") && text.contains("} 4.5\n"), "{text}");
    }
}
