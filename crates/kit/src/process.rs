//! The standard `process_*` families about the exporter itself, with the names and meaning of
//! Prometheus' client libraries: CPU seconds, open and max file descriptors, resident and
//! virtual memory, start time. Read from this process's own `/proc/self` (never
//! `--path.procfs`, which may point at a host tree).

use std::path::Path;
use std::sync::OnceLock;

use crate::exposition::{Desc, MetricSet};

const CPU: Desc = Desc::counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", &[]);
const OPEN_FDS: Desc = Desc::gauge("process_open_fds", "Number of open file descriptors.", &[]);
const MAX_FDS: Desc = Desc::gauge("process_max_fds", "Maximum number of open file descriptors.", &[]);
const VSIZE: Desc = Desc::gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", &[]);
const VMAX: Desc =
    Desc::gauge("process_virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.", &[]);
const RSS: Desc = Desc::gauge("process_resident_memory_bytes", "Resident memory size in bytes.", &[]);
const START: Desc =
    Desc::gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", &[]);

/// Linux's USER_HZ: the unit of utime/stime in `/proc/PID/stat`, fixed at 100 on every
/// architecture the kernel exports to user space.
pub const USER_HZ: f64 = 100.0;

/// Fields of `/proc/PID/stat` that the process families need.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stat {
    /// utime + stime, in ticks.
    pub cpu_ticks: u64,
    /// Start time after boot, in ticks.
    pub start_ticks: u64,
    /// Virtual size in bytes.
    pub vsize: u64,
    /// Resident pages.
    pub rss_pages: u64,
}

/// Parses `/proc/PID/stat`; the command name may hold spaces and parentheses, so fields are
/// counted from the last `)`.
pub fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_ascii_whitespace().collect();
    // After ")": state is field 3 of the man page, so man field N is f[N - 3].
    let n = |i: usize| f.get(i - 3).and_then(|v| v.parse::<u64>().ok());
    Some(Stat { cpu_ticks: n(14)? + n(15)?, start_ticks: n(22)?, vsize: n(23)?, rss_pages: n(24)? })
}

/// The soft limit of a `/proc/PID/limits` row (`Max open files`), `u64::MAX` for unlimited.
pub fn parse_limit(text: &str, row: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(row))?;
    let soft = line[row.len()..].split_ascii_whitespace().next()?;
    if soft == "unlimited" {
        Some(u64::MAX)
    } else {
        soft.parse().ok()
    }
}

/// `btime` from `/proc/stat`: boot time, seconds since the epoch.
pub fn parse_btime(text: &str) -> Option<u64> {
    text.lines().find_map(|l| l.strip_prefix("btime ")).and_then(|v| v.trim().parse().ok())
}

fn boot_time() -> Option<u64> {
    static BTIME: OnceLock<Option<u64>> = OnceLock::new();
    *BTIME.get_or_init(|| std::fs::read_to_string("/proc/stat").ok().as_deref().and_then(parse_btime))
}

/// Writes the `process_*` families of this process. Reads that fail are skipped, as client
/// libraries do: these families are about the exporter, not what it watches.
pub fn collect(out: &mut MetricSet) {
    use crate::collector::with_file_text;
    let me = Path::new("/proc/self");
    let _ = with_file_text(&me.join("stat"), |text| {
        if let Some(stat) = parse_stat(text) {
            out.add(&CPU, &[], stat.cpu_ticks as f64 / USER_HZ);
            out.add(&VSIZE, &[], stat.vsize as f64);
            out.add(&RSS, &[], (stat.rss_pages * page_size()) as f64);
            if let Some(btime) = boot_time() {
                out.add(&START, &[], btime as f64 + stat.start_ticks as f64 / USER_HZ);
            }
        }
    });
    if let Ok(dir) = std::fs::read_dir(me.join("fd")) {
        out.add(&OPEN_FDS, &[], dir.count() as f64);
    }
    let _ = with_file_text(&me.join("limits"), |limits| {
        if let Some(v) = parse_limit(limits, "Max open files") {
            out.add(&MAX_FDS, &[], v as f64);
        }
        if let Some(v) = parse_limit(limits, "Max address space") {
            out.add(&VMAX, &[], v as f64);
        }
    });
}

/// The system page size in bytes.
pub fn page_size() -> u64 {
    rustix::param::page_size() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_odd_command_name() {
        // Captured from this machine's /proc/self/stat, command name edited to hold ") (".
        let text = "4242 (we) (ird) S 1 4242 4242 0 -1 4194560 1500 0 0 0 25 7 0 0 20 0 3 0 12345 23904256 1536 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0";
        let s = parse_stat(text).unwrap();
        assert_eq!(s, Stat { cpu_ticks: 32, start_ticks: 12345, vsize: 23904256, rss_pages: 1536 });
        assert!(parse_stat("1 (x) S 1").is_none());
    }

    #[test]
    fn limits_soft_values() {
        let text = "Limit                     Soft Limit           Hard Limit           Units     \n\
Max address space         unlimited            unlimited            bytes     \n\
Max open files            1024                 1048576              files     \n";
        assert_eq!(parse_limit(text, "Max open files"), Some(1024));
        assert_eq!(parse_limit(text, "Max address space"), Some(u64::MAX));
        assert_eq!(parse_btime("cpu 1 2\nbtime 1700000000\n"), Some(1_700_000_000));
    }

    #[test]
    fn own_process_is_measured() {
        let mut set = MetricSet::new();
        collect(&mut set);
        for name in [
            "process_cpu_seconds_total",
            "process_open_fds",
            "process_resident_memory_bytes",
            "process_start_time_seconds",
        ] {
            assert!(set.contains(name), "{name}");
        }
    }
}
