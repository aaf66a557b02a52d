//! cgroup memory accounting → `container_memory_*` (cAdvisor "memory" names). v1:
//! `memory.usage_in_bytes`, `memory.max_usage_in_bytes`, `memory.failcnt`,
//! `memory.kmem.usage_in_bytes`, `memory.stat` (the `total_*` keys under `use_hierarchy`, known
//! from the container's [`crate::cgroup::Limits`]);
//! v2: `memory.current`, `memory.peak`, `memory.swap.current`, `memory.stat`,
//! `memory.events`. Values libcontainer leaves at zero on one version are zero here too.

use vigie_kit::{BoxFuture, CollectResult, Collector, Desc, MetricSet, Registration, Scrape};

use super::{emit, per_container, Conn};
use crate::cgroup::{keyed, Files};
use crate::engine::Running;

/// The registration.
pub const REG: Registration<Conn> = Registration {
    name: "memory",
    default_enabled: true,
    help: "Memory usage, working set, RSS, cache, swap and failures per container.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Memory)),
};

const CACHE: Desc = Desc::gauge("container_memory_cache", "Page cache memory, in bytes.", &[]);
const RSS: Desc = Desc::gauge("container_memory_rss", "Anonymous memory (RSS), in bytes.", &[]);
const KERNEL: Desc = Desc::gauge("container_memory_kernel_usage", "Kernel memory charged to the container, in bytes.", &[]);
const MAPPED: Desc = Desc::gauge("container_memory_mapped_file", "Memory-mapped file pages, in bytes.", &[]);
const SWAP: Desc = Desc::gauge("container_memory_swap", "Swap used by the container, in bytes.", &[]);
const FAILCNT: Desc = Desc::counter("container_memory_failcnt", "Times the memory usage hit its limit.", &[]);
const USAGE: Desc =
    Desc::gauge("container_memory_usage_bytes", "Memory usage in bytes, page cache included, recently used or not.", &[]);
const MAX_USAGE: Desc = Desc::gauge("container_memory_max_usage_bytes", "Highest memory usage seen, in bytes.", &[]);
const WORKING_SET: Desc =
    Desc::gauge("container_memory_working_set_bytes", "Memory usage minus inactive file pages, in bytes.", &[]);
const ACTIVE_FILE: Desc = Desc::gauge("container_memory_total_active_file_bytes", "Active file pages, in bytes.", &[]);
const INACTIVE_FILE: Desc = Desc::gauge("container_memory_total_inactive_file_bytes", "Inactive file pages, in bytes.", &[]);
const FAILURES: Desc = Desc::counter(
    "container_memory_failures_total",
    "Page faults, by type (pgfault, pgmajfault) and scope (container, hierarchy).",
    &["failure_type", "scope"],
);
const EVENTS_HIGH: Desc =
    Desc::counter("container_memory_events_high_total", "Times usage went over memory.high (cgroup v2).", &[]);
const EVENTS_MAX: Desc =
    Desc::counter("container_memory_events_max_total", "Times usage was about to go over memory.max (cgroup v2).", &[]);
const DIRTY: Desc = Desc::gauge("container_memory_file_dirty_bytes", "Dirty file pages, in bytes (cgroup v2).", &[]);
const WRITEBACK: Desc =
    Desc::gauge("container_memory_file_writeback_bytes", "File pages under writeback, in bytes (cgroup v2).", &[]);
const PGSCAN: Desc = Desc::counter("container_memory_pgscan_total", "Pages scanned by reclaim (cgroup v2).", &[]);
const PGSTEAL: Desc = Desc::counter("container_memory_pgsteal_total", "Pages reclaimed (cgroup v2).", &[]);
const REFAULT_FILE: Desc =
    Desc::counter("container_memory_workingset_refault_file_total", "Refaults of evicted file pages.", &[]);
const REFAULT_ANON: Desc =
    Desc::counter("container_memory_workingset_refault_anon_total", "Refaults of evicted anonymous pages.", &[]);

/// Reads memory accounting.
pub struct Memory;

impl Collector<Conn> for Memory {
    fn collect<'a>(&'a self, cx: &'a Scrape<Conn>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        per_container(cx, out, |_, r, out| container(r, out))
    }
}

/// The `memory.stat` keys the families use, parsed in one pass over the file.
#[derive(Default)]
struct Stat {
    cache: u64,
    rss: u64,
    mapped: u64,
    swap: u64,
    kernel: u64,
    active_file: Option<u64>,
    inactive_file: Option<u64>,
    dirty: u64,
    writeback: u64,
    pgscan: u64,
    pgsteal: u64,
    refault_file: u64,
    refault_anon: u64,
    pgfault: u64,
    pgmajfault: u64,
}

impl Stat {
    /// v1 keys are `cache`, `rss`… or, under `use_hierarchy`, `total_cache`…; the working set
    /// always uses `total_inactive_file`, as cAdvisor does. v2 keys are its own.
    fn parse(text: &str, v2: bool, hierarchy: bool) -> Stat {
        let mut s = Stat::default();
        for line in text.lines() {
            let Some((k, v)) = line.split_once(' ') else { continue };
            let Ok(v) = v.trim().parse::<u64>() else { continue };
            let own = if hierarchy { k.strip_prefix("total_") } else if k.starts_with("total_") { None } else { Some(k) };
            match (v2, k) {
                (true, "file") => s.cache = v,
                (true, "anon") => s.rss = v,
                (true, "file_mapped") => s.mapped = v,
                (true, "kernel") => s.kernel = v,
                (true, "active_file") => s.active_file = Some(v),
                (true, "inactive_file") => s.inactive_file = Some(v),
                (true, "file_dirty") => s.dirty = v,
                (true, "file_writeback") => s.writeback = v,
                (true, "pgscan") => s.pgscan = v,
                (true, "pgsteal") => s.pgsteal = v,
                (false, "total_active_file") => s.active_file = Some(v),
                (false, "total_inactive_file") => s.inactive_file = Some(v),
                _ => {}
            }
            // Both versions have these keys (v1 also under `total_`, not used).
            match k {
                "workingset_refault_file" => s.refault_file = v,
                "workingset_refault_anon" => s.refault_anon = v,
                "pgfault" => s.pgfault = v,
                "pgmajfault" => s.pgmajfault = v,
                _ => {}
            }
            if !v2 {
                match own {
                    Some("cache") => s.cache = v,
                    Some("rss") => s.rss = v,
                    Some("mapped_file") => s.mapped = v,
                    Some("swap") => s.swap = v,
                    _ => {}
                }
            }
        }
        s
    }
}

/// One container's samples.
fn container(r: &Running, out: &mut MetricSet) -> CollectResult {
    let (cg, base) = (&r.cgroup, &r.labels);
    let v2 = cg.is_v2();
    let mut files = Files::new(cg);
    let Some(text) = files.read("memory", "memory.stat")? else { return Ok(()) };
    let stat = Stat::parse(text, v2, r.container.limits.use_hierarchy);
    let (usage, max_usage, failcnt, kernel, swap, high, max);
    if v2 {
        let (high_events, max_events) =
            files.read("memory", "memory.events")?.map_or((0, 0), |t| (keyed(t, "high").unwrap_or(0), keyed(t, "max").unwrap_or(0)));
        usage = files.single("memory", "memory.current")?.unwrap_or(0);
        max_usage = files.single("memory", "memory.peak")?.unwrap_or(0);
        failcnt = max_events;
        kernel = stat.kernel;
        swap = files.single("memory", "memory.swap.current")?.unwrap_or(0);
        (high, max) = (high_events, max_events);
    } else {
        usage = files.single("memory", "memory.usage_in_bytes")?.unwrap_or(0);
        max_usage = files.single("memory", "memory.max_usage_in_bytes")?.unwrap_or(0);
        failcnt = files.single("memory", "memory.failcnt")?.unwrap_or(0);
        kernel = files.single("memory", "memory.kmem.usage_in_bytes")?.unwrap_or(0);
        swap = stat.swap;
        (high, max) = (0, 0);
    }
    let working_set = stat.inactive_file.map_or(usage, |i| usage.saturating_sub(i));
    for (desc, v) in [
        (&CACHE, stat.cache),
        (&RSS, stat.rss),
        (&KERNEL, kernel),
        (&MAPPED, stat.mapped),
        (&SWAP, swap),
        (&FAILCNT, failcnt),
        (&USAGE, usage),
        (&MAX_USAGE, max_usage),
        (&WORKING_SET, working_set),
        (&ACTIVE_FILE, stat.active_file.unwrap_or(0)),
        (&INACTIVE_FILE, stat.inactive_file.unwrap_or(0)),
        (&EVENTS_HIGH, high),
        (&EVENTS_MAX, max),
        (&DIRTY, stat.dirty),
        (&WRITEBACK, stat.writeback),
        (&PGSCAN, stat.pgscan),
        (&PGSTEAL, stat.pgsteal),
        (&REFAULT_FILE, stat.refault_file),
        (&REFAULT_ANON, stat.refault_anon),
    ] {
        emit(out, desc, base, &[], v as f64);
    }
    // cAdvisor reports the container's own pgfault counters under both scopes.
    for scope in ["container", "hierarchy"] {
        emit(out, &FAILURES, base, &["pgfault", scope], stat.pgfault as f64);
        emit(out, &FAILURES, base, &["pgmajfault", scope], stat.pgmajfault as f64);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::testing::run;

    fn value(text: &str, family: &str) -> f64 {
        let line = text.lines().find(|l| l.starts_with(&format!("{family}{{"))).unwrap_or_else(|| panic!("{family}: {text}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    }

    #[test]
    fn v1_captured() {
        let text = run(&Memory, "v1");
        let usage = value(&text, "container_memory_usage_bytes");
        assert!(usage > 0.0, "{text}");
        assert_eq!(value(&text, "container_memory_rss"), 61440.0);
        assert_eq!(value(&text, "container_memory_working_set_bytes"), usage, "no inactive file pages here");
        assert!(text.contains("failure_type=\"pgfault\"") && text.contains("scope=\"hierarchy\""), "{text}");
        assert_eq!(text.matches("\ncontainer_memory_failures_total{").count(), 4);
    }

    #[test]
    fn v2_constructed() {
        let text = run(&Memory, "v2");
        assert_eq!(value(&text, "container_memory_usage_bytes"), 8_388_608.0);
        assert_eq!(value(&text, "container_memory_working_set_bytes"), 8_388_608.0 - 1_048_576.0);
        assert_eq!(value(&text, "container_memory_cache"), 2_097_152.0);
        assert_eq!(value(&text, "container_memory_rss"), 5_242_880.0);
        assert_eq!(value(&text, "container_memory_failcnt"), 3.0);
        assert_eq!(value(&text, "container_memory_max_usage_bytes"), 9_437_184.0);
        assert_eq!(value(&text, "container_memory_swap"), 4096.0);
        assert_eq!(value(&text, "container_memory_events_high_total"), 2.0);
        assert_eq!(value(&text, "container_memory_pgscan_total"), 77.0);
    }
}
