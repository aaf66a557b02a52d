//! The standard `process_*` families about the exporter itself, with the names and meaning of
//! Prometheus' client libraries: CPU seconds, open and max file descriptors, resident and
//! virtual memory, start time. Read from this process's own `/proc/self` (never
//! `--path.procfs`, which may point at a host tree).

use std::sync::{Mutex, OnceLock};

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

/// `btime` from `/proc/stat`: boot time, seconds since the epoch.
pub fn parse_btime(text: &str) -> Option<u64> {
    text.lines().find_map(|l| l.strip_prefix("btime ")).and_then(|v| v.trim().parse().ok())
}

/// When this process started, seconds since the epoch: boot time plus the start ticks of
/// `/proc/self/stat`. Read once: it never changes.
fn start_time() -> Option<f64> {
    static START: OnceLock<Option<f64>> = OnceLock::new();
    *START.get_or_init(|| {
        let btime = std::fs::read_to_string("/proc/stat").ok().as_deref().and_then(parse_btime)?;
        let stat = std::fs::read_to_string("/proc/self/stat").ok().as_deref().and_then(parse_stat)?;
        Some(btime as f64 + stat.start_ticks as f64 / USER_HZ)
    })
}

/// `/proc/self/fd`, opened once and listed again from its start on every scrape: a path
/// lookup in procfs costs more than the listing. The lock keeps two scrapes at once from
/// moving the directory's offset under each other.
fn fd_dir() -> Option<&'static Mutex<rustix::fd::OwnedFd>> {
    static FDS: OnceLock<Option<Mutex<rustix::fd::OwnedFd>>> = OnceLock::new();
    FDS.get_or_init(|| {
        use rustix::fs::{Mode, OFlags, CWD};
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        rustix::fs::openat(CWD, "/proc/self/fd", flags, Mode::empty()).ok().map(Mutex::new)
    })
    .as_ref()
}

/// Resident and virtual size from `/proc/self/statm`, opened once and read again from its
/// start on every scrape, as [`fd_dir`] is: a fact of this process, so kept beside it, not by
/// an exporter's engine. One read gets all of it: it is printed whole (`single_open`).
fn statm() -> Option<(u64, u64)> {
    use std::os::unix::fs::FileExt as _;
    static STATM: OnceLock<Option<std::fs::File>> = OnceLock::new();
    let file = STATM.get_or_init(|| std::fs::File::open("/proc/self/statm").ok()).as_ref()?;
    let mut buf = [0u8; 256];
    let n = file.read_at(&mut buf, 0).ok()?;
    parse_statm(std::str::from_utf8(&buf[..n]).ok()?)
}

/// Resident and virtual size in bytes, from `/proc/self/statm` (`size resident …`, in pages).
pub fn parse_statm(text: &str) -> Option<(u64, u64)> {
    let mut f = text.split_ascii_whitespace().map(|v| v.parse::<u64>().ok());
    let (size, resident) = (f.next()??, f.next()??);
    Some((size * page_size(), resident * page_size()))
}

/// Open descriptors: the entries of the kept `/proc/self/fd` (its own descriptor included,
/// as a client library's fresh `opendir` counts its own).
fn count_fds(dir: &rustix::fd::OwnedFd) -> Option<usize> {
    use std::mem::MaybeUninit;
    rustix::fs::seek(dir, rustix::fs::SeekFrom::Start(0)).ok()?;
    let mut buf = [MaybeUninit::<u8>::uninit(); 4096];
    let mut entries = rustix::fs::RawDir::new(dir, &mut buf);
    let mut n = 0;
    while let Some(entry) = entries.next() {
        let entry = entry.ok()?;
        let name = entry.file_name().to_bytes();
        n += usize::from(name != b"." && name != b"..");
    }
    Some(n)
}

/// Writes the `process_*` families of this process. Values that cannot be read are skipped,
/// as client libraries do: these families are about the exporter, not what it watches.
/// CPU time and limits come from system calls, memory and descriptors from descriptors kept
/// open: no file is opened per scrape.
pub fn collect(out: &mut MetricSet) {
    use rustix::process::{getrlimit, Resource};
    let cpu = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    out.add(&CPU, &[], cpu.tv_sec as f64 + cpu.tv_nsec as f64 / 1e9);
    if let Some((vsize, rss)) = statm() {
        out.add(&VSIZE, &[], vsize as f64);
        out.add(&RSS, &[], rss as f64);
    }
    if let Some(n) = fd_dir().and_then(|dir| count_fds(&dir.lock().unwrap_or_else(std::sync::PoisonError::into_inner)))
    {
        out.add(&OPEN_FDS, &[], n as f64);
    }
    if let Some(start) = start_time() {
        out.add(&START, &[], start);
    }
    // Unlimited reads as the largest u64, as client_golang's procfs gives it.
    let limit = |r| getrlimit(r).current.unwrap_or(u64::MAX) as f64;
    out.add(&MAX_FDS, &[], limit(Resource::Nofile));
    out.add(&VMAX, &[], limit(Resource::As));
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
    fn btime_and_statm() {
        assert_eq!(parse_btime("cpu 1 2\nbtime 1700000000\n"), Some(1_700_000_000));
        // Captured from this machine's /proc/self/statm.
        let page = page_size();
        assert_eq!(parse_statm("5836 1467 1179 187 0 478 0\n"), Some((5836 * page, 1467 * page)));
        assert_eq!(parse_statm("5836"), None);
    }

    #[test]
    fn own_process_is_measured() {
        let mut set = MetricSet::new();
        collect(&mut set);
        for name in [
            "process_cpu_seconds_total",
            "process_open_fds",
            "process_max_fds",
            "process_resident_memory_bytes",
            "process_virtual_memory_bytes",
            "process_virtual_memory_max_bytes",
            "process_start_time_seconds",
        ] {
            assert!(set.contains(name), "{name}");
        }
        let value = |name: &str| set.families().iter().find(|f| f.name == name).unwrap().samples[0].value;
        // The same figures as the /proc files a client library reads.
        let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
        let row = limits.lines().find(|l| l.starts_with("Max open files")).unwrap();
        let soft: f64 = row["Max open files".len()..].split_whitespace().next().unwrap().parse().unwrap();
        assert_eq!(value("process_max_fds"), soft);
        let stat = parse_stat(&std::fs::read_to_string("/proc/self/stat").unwrap()).unwrap();
        assert!(value("process_virtual_memory_bytes") > 0.0);
        let rss = (stat.rss_pages * page_size()) as f64;
        assert!((value("process_resident_memory_bytes") - rss).abs() < rss / 2.0, "{rss}");
        assert!(value("process_open_fds") >= 3.0);
        let cpu = stat.cpu_ticks as f64 / USER_HZ;
        assert!((value("process_cpu_seconds_total") - cpu).abs() < 0.5, "{cpu}");
    }
}
