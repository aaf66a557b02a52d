//! cgroup memory accounting → `container_memory_*` (cAdvisor "memory" names). v1:
//! `memory.usage_in_bytes`, `memory.max_usage_in_bytes`, `memory.failcnt`,
//! `memory.kmem.usage_in_bytes`, `memory.stat` (the `total_*` keys under `use_hierarchy`);
//! v2: `memory.current`, `memory.peak`, `memory.swap.current`, `memory.stat`,
//! `memory.events`. Values libcontainer leaves at zero on one version are zero here too.

use vigie_kit::{CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

use super::{emit, read, Conn};
use crate::cgroup::{keyed, single};

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

impl SyncCollector<Conn> for Memory {
    fn collect_sync(&self, cx: &Scrape<Conn>, out: &mut MetricSet) -> CollectResult {
        for r in &cx.target.running {
            let (cg, base) = (&r.cgroup, &r.labels);
            let Some(stat) = read(cx, cg, "memory", "memory.stat")? else { continue };
            let file = |name: &str| -> Result<u64, vigie_kit::CollectError> {
                Ok(read(cx, cg, "memory", name)?.and_then(|t| single(&t)).unwrap_or(0))
            };
            let key = |k: &str| keyed(&stat, k).unwrap_or(0);
            let (usage, max_usage, failcnt, kernel, swap, cache, rss, mapped, active, inactive, high, max);
            if cg.is_v2() {
                let events = read(cx, cg, "memory", "memory.events")?.unwrap_or_default();
                let event = |k: &str| keyed(&events, k).unwrap_or(0);
                usage = file("memory.current")?;
                max_usage = file("memory.peak")?;
                failcnt = event("max");
                kernel = key("kernel");
                swap = file("memory.swap.current")?;
                (cache, rss, mapped) = (key("file"), key("anon"), key("file_mapped"));
                (active, inactive) = (keyed(&stat, "active_file"), keyed(&stat, "inactive_file"));
                (high, max) = (event("high"), event("max"));
            } else {
                usage = file("memory.usage_in_bytes")?;
                max_usage = file("memory.max_usage_in_bytes")?;
                failcnt = file("memory.failcnt")?;
                kernel = file("memory.kmem.usage_in_bytes")?;
                let hierarchy = read(cx, cg, "memory", "memory.use_hierarchy")?.and_then(|t| single(&t)) == Some(1);
                let p = if hierarchy { "total_" } else { "" };
                swap = key(&format!("{p}swap"));
                (cache, rss, mapped) = (key(&format!("{p}cache")), key(&format!("{p}rss")), key(&format!("{p}mapped_file")));
                (active, inactive) = (keyed(&stat, "total_active_file"), keyed(&stat, "total_inactive_file"));
                (high, max) = (0, 0);
            }
            let working_set = inactive.map_or(usage, |i| usage.saturating_sub(i));
            for (desc, v) in [
                (&CACHE, cache),
                (&RSS, rss),
                (&KERNEL, kernel),
                (&MAPPED, mapped),
                (&SWAP, swap),
                (&FAILCNT, failcnt),
                (&USAGE, usage),
                (&MAX_USAGE, max_usage),
                (&WORKING_SET, working_set),
                (&ACTIVE_FILE, active.unwrap_or(0)),
                (&INACTIVE_FILE, inactive.unwrap_or(0)),
                (&EVENTS_HIGH, high),
                (&EVENTS_MAX, max),
                (&DIRTY, key("file_dirty")),
                (&WRITEBACK, key("file_writeback")),
                (&PGSCAN, key("pgscan")),
                (&PGSTEAL, key("pgsteal")),
                (&REFAULT_FILE, key("workingset_refault_file")),
                (&REFAULT_ANON, key("workingset_refault_anon")),
            ] {
                emit(out, desc, base, &[], v as f64);
            }
            // cAdvisor reports the container's own pgfault counters under both scopes.
            for scope in ["container", "hierarchy"] {
                emit(out, &FAILURES, base, &["pgfault", scope], key("pgfault") as f64);
                emit(out, &FAILURES, base, &["pgmajfault", scope], key("pgmajfault") as f64);
            }
        }
        Ok(())
    }
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
