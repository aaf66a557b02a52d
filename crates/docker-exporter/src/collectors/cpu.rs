//! cgroup CPU accounting → `container_cpu_usage_seconds_total{cpu}`,
//! `container_cpu_{user,system}_seconds_total`, `container_cpu_cfs_*` (cAdvisor "cpu" and
//! "percpu" names). v1: `cpuacct.usage`, `cpuacct.usage_percpu`, `cpuacct.stat` (USER_HZ
//! ticks), `cpu.stat`; v2: `cpu.stat` (microseconds). The CFS families exist only for a
//! container with a quota, as in cAdvisor (the quota is one of the container's
//! [`crate::cgroup::Limits`], read when it is discovered).

use clap::{Arg, ArgAction, ArgMatches, Command};
use vigie_kit::{BoxFuture, CollectResult, Collector, Desc, MetricSet, Registration, Scrape};

use super::{emit, per_container, Conn};
use crate::cgroup::{keyed, Files};
use crate::engine::Running;

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

impl Collector<Conn> for Cpu {
    fn collect<'a>(&'a self, cx: &'a Scrape<Conn>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        let percpu = self.percpu;
        per_container(cx, out, move |_, r, out| container(percpu, r, out))
    }
}

/// One container's samples: `cpu.stat` plus, on v1, `cpuacct.usage_percpu` (or
/// `cpuacct.usage`) and `cpuacct.stat`. Whether it has a quota is known from its limits.
fn container(percpu: bool, r: &Running, out: &mut MetricSet) -> CollectResult {
    let (cg, base) = (&r.cgroup, &r.labels);
    let mut files = Files::new(cg);
    let Some(stat) = files.read("cpu", "cpu.stat")? else { return Ok(()) };
    let key = |k: &str| keyed(stat, k).unwrap_or(0);
    let (periods, throttled, bursts) = (key("nr_periods"), key("nr_throttled"), key("nr_bursts"));
    let (throttled_secs, burst_secs);
    if cg.is_v2() {
        let us = |k: &str| key(k) as f64 / 1e6;
        let total = us("usage_usec");
        if total > 0.0 {
            emit(out, &USAGE, base, &["total"], total);
        }
        emit(out, &USER, base, &[], us("user_usec"));
        emit(out, &SYSTEM, base, &[], us("system_usec"));
        (throttled_secs, burst_secs) = (us("throttled_usec"), us("burst_usec"));
    } else {
        let ns = |k: &str| key(k) as f64 / 1e9;
        (throttled_secs, burst_secs) = (ns("throttled_time"), ns("burst_time"));
        usage_v1(percpu, &mut files, base, out)?;
        if let Some(t) = files.read("cpuacct", "cpuacct.stat")? {
            emit(out, &USER, base, &[], keyed(t, "user").unwrap_or(0) as f64 / TICKS_PER_SECOND);
            emit(out, &SYSTEM, base, &[], keyed(t, "system").unwrap_or(0) as f64 / TICKS_PER_SECOND);
        }
    }
    if r.container.limits.cpu_quota > 0 {
        emit(out, &PERIODS, base, &[], periods as f64);
        emit(out, &THROTTLED, base, &[], throttled as f64);
        emit(out, &THROTTLED_SECS, base, &[], throttled_secs);
        emit(out, &BURSTS, base, &[], bursts as f64);
        emit(out, &BURST_SECS, base, &[], burst_secs);
    }
    Ok(())
}

/// Names `cpu00`… for the per-CPU samples, built once.
fn cpu_name(i: usize) -> std::borrow::Cow<'static, str> {
    const NAMES: [&str; 16] = [
        "cpu00", "cpu01", "cpu02", "cpu03", "cpu04", "cpu05", "cpu06", "cpu07", "cpu08", "cpu09", "cpu10", "cpu11",
        "cpu12", "cpu13", "cpu14", "cpu15",
    ];
    NAMES.get(i).map_or_else(|| format!("cpu{i:02}").into(), |n| (*n).into())
}

fn usage_v1(percpu: bool, files: &mut Files<'_>, base: &[(String, String)], out: &mut MetricSet) -> CollectResult {
    if percpu {
        if let Some(t) = files.read("cpuacct", "cpuacct.usage_percpu")? {
            let per: Vec<u64> = t.split_ascii_whitespace().filter_map(|v| v.parse().ok()).collect();
            if !per.is_empty() {
                // cAdvisor skips CPUs the container never ran on.
                for (i, v) in per.iter().enumerate().filter(|(_, v)| **v > 0) {
                    emit(out, &USAGE, base, &[cpu_name(i).as_ref()], *v as f64 / 1e9);
                }
                return Ok(());
            }
        }
    }
    if let Some(total) = files.single("cpuacct", "cpuacct.usage")? {
        if total > 0 {
            emit(out, &USAGE, base, &["total"], total as f64 / 1e9);
        }
    }
    Ok(())
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
