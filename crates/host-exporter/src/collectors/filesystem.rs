//! `/proc/1/mounts` + statfs(2) → `node_filesystem_*` (node_exporter "filesystem" names).
//!
//! Mount points are read from PID 1's mount table (the host's, when the exporter runs in a
//! container with `--path.procfs` pointing at the host's `/proc`), falling back to
//! `/proc/mounts` when PID 1's is hidden (`hidepid`). Each mount point is statfs'd under
//! `--path.rootfs` on the blocking pool (all of a scrape's calls in one task), bounded by `--collector.filesystem.mount-timeout`:
//! a mount whose statfs has not returned after that long (a dead NFS server) is reported
//! with `node_filesystem_device_error 1` and not statfs'd again until the hung call
//! returns, as node_exporter's "stuck mounts" do.

use std::collections::{HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::parser::ValueSource;
use clap::{Arg, ArgMatches, Command};

use crate::collectors::{Pattern, Remembered};
use vigie_kit::{BoxFuture, CollectError, CollectResult, Collector, Desc, MetricSet, Registration, Scrape};

/// The registration.
pub const REG: Registration = Registration {
    name: "filesystem",
    default_enabled: true,
    help: "Exposes filesystem statistics, such as disk space used.",
    args,
    build: |m| Ok(Box::new(Filesystem::from_matches(m)?)),
};

const MP_EXCLUDE: &str = "collector.filesystem.mount-points-exclude";
const MP_EXCLUDE_OLD: &str = "collector.filesystem.ignored-mount-points";
const FS_EXCLUDE: &str = "collector.filesystem.fs-types-exclude";
const FS_EXCLUDE_OLD: &str = "collector.filesystem.ignored-fs-types";
const MOUNT_TIMEOUT: &str = "collector.filesystem.mount-timeout";

/// node_exporter 1.5's default: pseudo file systems' and containers' mount points.
pub const DEFAULT_MP_EXCLUDE: &str =
    "^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)";
/// node_exporter 1.5's default: file system types that hold no user data.
pub const DEFAULT_FS_EXCLUDE: &str = "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$";

fn args(cmd: Command) -> Command {
    cmd.arg(
        Arg::new(MP_EXCLUDE)
            .long(MP_EXCLUDE)
            .value_name("REGEX")
            .default_value(DEFAULT_MP_EXCLUDE)
            .help("Regexp of mount points to exclude for filesystem collector."),
    )
    .arg(Arg::new(MP_EXCLUDE_OLD).long(MP_EXCLUDE_OLD).value_name("REGEX").hide(true))
    .arg(
        Arg::new(FS_EXCLUDE)
            .long(FS_EXCLUDE)
            .value_name("REGEX")
            .default_value(DEFAULT_FS_EXCLUDE)
            .help("Regexp of filesystem types to exclude for filesystem collector."),
    )
    .arg(Arg::new(FS_EXCLUDE_OLD).long(FS_EXCLUDE_OLD).value_name("REGEX").hide(true))
    .arg(
        Arg::new(MOUNT_TIMEOUT)
            .long(MOUNT_TIMEOUT)
            .value_name("DURATION")
            .default_value("5s")
            .value_parser(vigie_kit::flags::parse_duration)
            .hide(true)
            .help("How long to wait for a mount to respond before marking it as stale."),
    )
}

const LABELS: &[&str] = &["device", "mountpoint", "fstype"];
const SIZE: Desc = Desc::gauge("node_filesystem_size_bytes", "Size of the file system, in bytes.", LABELS);
const FREE: Desc = Desc::gauge("node_filesystem_free_bytes", "Free space, in bytes.", LABELS);
const AVAIL: Desc =
    Desc::gauge("node_filesystem_avail_bytes", "Free space that users other than root may use, in bytes.", LABELS);
const FILES: Desc = Desc::gauge("node_filesystem_files", "Inodes the file system has.", LABELS);
const FILES_FREE: Desc = Desc::gauge("node_filesystem_files_free", "Free inodes.", LABELS);
const READONLY: Desc = Desc::gauge("node_filesystem_readonly", "1 if the file system is mounted read-only.", LABELS);
const DEVICE_ERROR: Desc = Desc::gauge(
    "node_filesystem_device_error",
    "1 if statfs failed or hung for this mount point (its other samples are then left out).",
    LABELS,
);

/// What statfs(2) says about a file system, sizes in blocks of `bsize` bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Usage {
    /// Block size (`f_bsize`).
    pub bsize: u64,
    /// Total blocks.
    pub blocks: u64,
    /// Free blocks.
    pub bfree: u64,
    /// Free blocks for unprivileged users.
    pub bavail: u64,
    /// Total inodes.
    pub files: u64,
    /// Free inodes.
    pub ffree: u64,
}

/// The statfs call; replaceable in tests.
pub type StatFn = Arc<dyn Fn(&Path) -> io::Result<Usage> + Send + Sync>;

fn statfs(path: &Path) -> io::Result<Usage> {
    let s = rustix::fs::statfs(path)?;
    Ok(Usage {
        bsize: u64::try_from(s.f_bsize).unwrap_or(0),
        blocks: s.f_blocks,
        bfree: s.f_bfree,
        bavail: s.f_bavail,
        files: s.f_files,
        ffree: s.f_ffree,
    })
}

/// statfs calls that have not returned yet, by mount point: when the oldest started, and
/// how many there are.
type InFlight = Arc<Mutex<HashMap<String, (Instant, usize)>>>;

/// Reads the mount table and statfs's each mount point.
pub struct Filesystem {
    mount_points_exclude: Remembered,
    fs_types_exclude: Remembered,
    mount_timeout: Duration,
    statfs: StatFn,
    in_flight: InFlight,
}

impl Filesystem {
    fn from_matches(m: &ArgMatches) -> Result<Filesystem, String> {
        let pattern = |new: &str, old: &str| -> Result<Remembered, String> {
            let explicit = |id: &str| m.value_source(id) == Some(ValueSource::CommandLine);
            let mut p = m.get_one::<String>(new).cloned().unwrap_or_default();
            if explicit(old) {
                if explicit(new) {
                    return Err(format!("--{old} and --{new} are mutually exclusive"));
                }
                tracing::warn!("--{old} is DEPRECATED, use --{new}");
                p = m.get_one::<String>(old).cloned().unwrap_or_default();
            }
            Pattern::new(&p).map(Remembered::new).map_err(|e| format!("--{new}: invalid regexp {p:?}: {e}"))
        };
        Ok(Filesystem {
            mount_points_exclude: pattern(MP_EXCLUDE, MP_EXCLUDE_OLD)?,
            fs_types_exclude: pattern(FS_EXCLUDE, FS_EXCLUDE_OLD)?,
            mount_timeout: m.get_one::<Duration>(MOUNT_TIMEOUT).copied().unwrap_or(Duration::from_secs(5)),
            statfs: Arc::new(statfs),
            in_flight: InFlight::default(),
        })
    }

    /// With node_exporter's defaults and the given statfs call.
    #[cfg(test)]
    pub fn new(statfs: StatFn, mount_timeout: Duration) -> Filesystem {
        Filesystem {
            mount_points_exclude: Remembered::new(Pattern::new(DEFAULT_MP_EXCLUDE).expect("default pattern")),
            fs_types_exclude: Remembered::new(Pattern::new(DEFAULT_FS_EXCLUDE).expect("default pattern")),
            mount_timeout,
            statfs,
            in_flight: InFlight::default(),
        }
    }

    /// Whether a statfs of `mount_point` started more than the mount timeout ago and has
    /// not returned.
    fn stuck(&self, mount_point: &str) -> bool {
        lock(&self.in_flight).get(mount_point).is_some_and(|(since, _)| since.elapsed() >= self.mount_timeout)
    }

    /// statfs of each `(mount point, path)` in turn, all in ONE task on the blocking pool
    /// (one hand-off per scrape rather than one per mount). Each call gets at most the mount
    /// timeout, counted from when the previous one returned, and never goes past the scrape
    /// deadline: a call that has not returned by then leaves its mount in `in_flight`
    /// (stuck) and the mounts after it are statfs'd by a fresh task. `None` where a call
    /// failed or has not returned.
    async fn usages(&self, cx: &Scrape, todo: Vec<(String, PathBuf)>) -> Vec<Option<Usage>> {
        let mut results: Vec<Option<Usage>> = Vec::with_capacity(todo.len());
        let todo = Arc::new(todo);
        while results.len() < todo.len() {
            let first = results.len();
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let (statfs, in_flight, list) = (self.statfs.clone(), self.in_flight.clone(), todo.clone());
            tokio::task::spawn_blocking(move || {
                for (i, (key, path)) in list.iter().enumerate().skip(first) {
                    lock(&in_flight).entry(key.clone()).or_insert((Instant::now(), 0)).1 += 1;
                    let result = statfs(path);
                    // Returned (perhaps long after the scrape gave up): usable again.
                    {
                        let mut in_flight = lock(&in_flight);
                        if let Some(entry) = in_flight.get_mut(key) {
                            entry.1 -= 1;
                            if entry.1 == 0 {
                                in_flight.remove(key);
                            }
                        }
                    }
                    // The scrape gave up on this task: leave the rest to the next one.
                    if tx.send((i, result)).is_err() {
                        return;
                    }
                }
            });
            let mut started = Instant::now();
            loop {
                let deadline = cx.deadline.min(started + self.mount_timeout);
                match tokio::time::timeout_at(deadline.into(), rx.recv()).await {
                    Ok(Some((_, result))) => {
                        let mount_point = &todo[results.len()].0;
                        results.push(match result {
                            Ok(usage) => Some(usage),
                            Err(e) => {
                                tracing::debug!(collector = "filesystem", mountpoint = %mount_point, err = %e, "statfs failed.");
                                None
                            }
                        });
                        started = Instant::now();
                        if results.len() == todo.len() {
                            break;
                        }
                    }
                    // The task ended early (it panicked): the rest are failures.
                    Ok(None) => {
                        results.resize(todo.len(), None);
                        break;
                    }
                    Err(_) => {
                        let mount_point = &todo[results.len()].0;
                        tracing::debug!(collector = "filesystem", mountpoint = %mount_point, "statfs hung; mount marked stuck.");
                        results.push(None);
                        if Instant::now() >= cx.deadline {
                            results.resize(todo.len(), None);
                        }
                        break;
                    }
                }
            }
        }
        results
    }
}

fn lock(m: &Mutex<HashMap<String, (Instant, usize)>>) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, usize)>> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One line of the mount table.
#[derive(Debug, PartialEq)]
pub struct Mount<'a> {
    /// The mounted device (`/dev/vda`, `tmpfs`, `server:/export`).
    pub device: &'a str,
    /// The mount point, with fstab(5)'s `\040` (space) and `\011` (tab) decoded.
    pub mount_point: std::borrow::Cow<'a, str>,
    /// The file system type.
    pub fstype: &'a str,
    /// The mount options (`rw,relatime`).
    pub options: &'a str,
}

/// Parses `/proc/*/mounts`.
pub fn parse(text: &str) -> Result<Vec<Mount<'_>>, String> {
    let mut mounts = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut fields = line.split_ascii_whitespace();
        match (fields.next(), fields.next(), fields.next(), fields.next()) {
            (Some(device), Some(mount_point), Some(fstype), Some(options)) => mounts.push(Mount {
                device,
                mount_point: if mount_point.contains('\\') {
                    mount_point.replace("\\040", " ").replace("\\011", "\t").into()
                } else {
                    mount_point.into()
                },
                fstype,
                options,
            }),
            _ => return Err(format!("line {}: malformed mount point information: {line:?}", n + 1)),
        }
    }
    Ok(mounts)
}

impl Collector for Filesystem {
    fn collect<'a>(&'a self, cx: &'a Scrape, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            let mut path = cx.paths.proc("1/mounts");
            let text = match cx.read(&path) {
                Err(e) if e.is_not_found() => {
                    path = cx.paths.proc("mounts");
                    cx.read(&path)?
                }
                other => other?,
            };
            let mounts = parse(&text).map_err(|msg| CollectError::parse(&path, msg))?;
            let mut seen = HashSet::new();
            // The mounts to report (mount, mount point, stuck), then one batch of statfs.
            let mut rows = Vec::new();
            let mut todo = Vec::new();
            for mount in &mounts {
                let mount_point = cx.paths.strip_root(&mount.mount_point);
                if self.mount_points_exclude.is_match(&mount_point) || self.fs_types_exclude.is_match(mount.fstype) {
                    continue;
                }
                // A mount point mounted twice alike is reported once.
                if !seen.insert((mount.device, mount_point.clone(), mount.fstype)) {
                    continue;
                }
                let stuck = self.stuck(&mount_point);
                if stuck {
                    tracing::debug!(collector = "filesystem", mountpoint = %mount_point, "Mount point still unresponsive.");
                } else {
                    let path = cx.paths.root(&*mount_point);
                    todo.push((mount_point.to_string(), path));
                }
                rows.push((mount, mount_point, stuck));
            }
            let mut usages = self.usages(cx, todo).await.into_iter();
            for (mount, mount_point, stuck) in rows {
                let labels = [mount.device, &*mount_point, mount.fstype];
                let usage = if stuck { None } else { usages.next().flatten() };
                let Some(u) = usage else {
                    out.add(&DEVICE_ERROR, &labels, 1.0);
                    continue;
                };
                out.add(&DEVICE_ERROR, &labels, 0.0);
                let bsize = u.bsize as f64;
                out.add(&SIZE, &labels, u.blocks as f64 * bsize);
                out.add(&FREE, &labels, u.bfree as f64 * bsize);
                out.add(&AVAIL, &labels, u.bavail as f64 * bsize);
                out.add(&FILES, &labels, u.files as f64);
                out.add(&FILES_FREE, &labels, u.ffree as f64);
                let ro = mount.options.split(',').any(|o| o == "ro");
                out.add(&READONLY, &labels, if ro { 1.0 } else { 0.0 });
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    fn fake(path: &Path) -> io::Result<Usage> {
        if path.ends_with("broken") {
            return Err(io::Error::from_raw_os_error(5));
        }
        Ok(Usage { bsize: 4096, blocks: 1000, bfree: 600, bavail: 500, files: 100, ffree: 40 })
    }

    #[test]
    fn parses_mounts() {
        let mounts = parse("/dev/vda / ext4 rw,relatime,discard 0 0\nsrv:/a /mnt/with\\040space nfs4 ro 0 0\n").unwrap();
        assert_eq!(mounts.len(), 2);
        assert_eq!(mounts[0], Mount { device: "/dev/vda", mount_point: "/".into(), fstype: "ext4", options: "rw,relatime,discard" });
        assert_eq!(mounts[1].mount_point, "/mnt/with space");
        let err = parse("/dev/vda / ext4 rw 0 0\n/dev/vdb /x ext4\n").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn default_patterns() {
        let f = Filesystem::new(Arc::new(fake), Duration::from_secs(5));
        for mp in ["/dev", "/dev/shm", "/proc", "/sys/fs/cgroup", "/run/credentials/x.service", "/var/lib/docker/overlay2/a"] {
            assert!(f.mount_points_exclude.is_match(mp), "{mp}");
        }
        for mp in ["/", "/devices", "/run", "/var/lib/docker", "/home"] {
            assert!(!f.mount_points_exclude.is_match(mp), "{mp}");
        }
        assert!(f.fs_types_exclude.is_match("cgroup2") && f.fs_types_exclude.is_match("overlay"));
        assert!(!f.fs_types_exclude.is_match("ext4") && !f.fs_types_exclude.is_match("tmpfs"));
    }

    #[test]
    fn flags() {
        let build = |argv: &[&str]| Filesystem::from_matches(&args(Command::new("t")).try_get_matches_from(argv).unwrap());
        let f = build(&["t"]).unwrap();
        assert_eq!(f.mount_timeout, Duration::from_secs(5));
        assert!(f.mount_points_exclude.is_match("/proc"));
        let f = build(&["t", "--collector.filesystem.ignored-mount-points=^/boot", "--collector.filesystem.mount-timeout=1s"])
            .unwrap();
        assert!(f.mount_points_exclude.is_match("/boot") && !f.mount_points_exclude.is_match("/proc"));
        assert_eq!(f.mount_timeout, Duration::from_secs(1));
        let f = build(&["t", "--collector.filesystem.ignored-fs-types=^ext4$"]).unwrap();
        assert!(f.fs_types_exclude.is_match("ext4") && !f.fs_types_exclude.is_match("proc"));
        assert!(build(&["t", "--collector.filesystem.ignored-fs-types=a", "--collector.filesystem.fs-types-exclude=b"]).is_err());
        assert!(build(&["t", "--collector.filesystem.mount-points-exclude=("]).is_err());
    }

    #[test]
    fn fixture_tree() {
        // The fixture's mount table is this VM's /proc/1/mounts plus constructed lines.
        let f = Filesystem::new(Arc::new(fake), Duration::from_secs(5));
        let text = crate::collectors::fixture_text(&f).unwrap();
        for line in [
            "node_filesystem_size_bytes{device=\"/dev/vda\",fstype=\"ext4\",mountpoint=\"/\"} 4.096e+06\n",
            "node_filesystem_free_bytes{device=\"/dev/vda\",fstype=\"ext4\",mountpoint=\"/\"} 2.4576e+06\n",
            "node_filesystem_avail_bytes{device=\"/dev/vda\",fstype=\"ext4\",mountpoint=\"/\"} 2.048e+06\n",
            "node_filesystem_files{device=\"/dev/vda\",fstype=\"ext4\",mountpoint=\"/\"} 100\n",
            "node_filesystem_files_free{device=\"/dev/vda\",fstype=\"ext4\",mountpoint=\"/\"} 40\n",
            "node_filesystem_readonly{device=\"/dev/vda\",fstype=\"ext4\",mountpoint=\"/\"} 0\n",
            "node_filesystem_device_error{device=\"/dev/vda\",fstype=\"ext4\",mountpoint=\"/\"} 0\n",
            "node_filesystem_readonly{device=\"model_tools_unavailable\",fstype=\"tmpfs\",mountpoint=\"/mnt/sandboxing/model_tools_env/v1/python\"} 1\n",
            "node_filesystem_device_error{device=\"srv:/export\",fstype=\"nfs4\",mountpoint=\"/mnt/broken\"} 1\n",
            "node_filesystem_files{device=\"tmpfs\",fstype=\"tmpfs\",mountpoint=\"/mnt/a b\"} 100\n",
        ] {
            assert!(text.contains(line), "missing {line}in\n{text}");
        }
        // /dev, /proc, /sys and cgroup mounts are excluded; a failed statfs has only device_error.
        assert!(!text.contains("mountpoint=\"/dev") && !text.contains("cgroup") && !text.contains("/sys"), "{text}");
        assert!(!text.contains("node_filesystem_size_bytes{device=\"srv:/export\""), "{text}");
        assert_eq!(text.matches("node_filesystem_device_error{").count(), 4, "{text}");
    }

    #[test]
    fn rootfs_is_stripped_from_mount_points_and_added_for_statfs() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("1")).unwrap();
        std::fs::write(dir.path().join("1/mounts"), "/dev/vda /host ext4 ro 0 0\n/dev/vdb /host/data xfs rw 0 0\n/dev/vdc /other xfs rw 0 0\n").unwrap();
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = asked.clone();
        let f = Filesystem::new(
            Arc::new(move |p: &Path| {
                log.lock().unwrap().push(p.to_path_buf());
                fake(p)
            }),
            Duration::from_secs(5),
        );
        let paths = vigie_kit::Paths { procfs: dir.path().into(), rootfs: "/host".into(), ..crate::collectors::fixtures() };
        let (set, result) = vigie_kit::scheduler::collect_once(&f, paths);
        result.unwrap();
        let text = set.encode();
        assert!(text.contains("node_filesystem_readonly{device=\"/dev/vda\",fstype=\"ext4\",mountpoint=\"/\"} 1\n"), "{text}");
        assert!(text.contains("mountpoint=\"/data\""), "{text}");
        assert!(text.contains("mountpoint=\"/other\""), "{text}");
        let asked = asked.lock().unwrap();
        assert!(asked.contains(&"/host/data".into()) && asked.contains(&"/host/".into()), "{asked:?}");
    }

    #[test]
    fn falls_back_to_proc_mounts_and_names_a_malformed_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("mounts"), "/dev/vda / ext4 rw 0 0\n").unwrap();
        let paths = vigie_kit::Paths { procfs: dir.path().into(), ..crate::collectors::fixtures() };
        let f = Filesystem::new(Arc::new(fake), Duration::from_secs(5));
        let (set, result) = vigie_kit::scheduler::collect_once(&f, paths.clone());
        result.unwrap();
        assert!(set.encode().contains("node_filesystem_size_bytes{device=\"/dev/vda\""));
        std::fs::write(dir.path().join("mounts"), "garbage\n").unwrap();
        let (_, result) = vigie_kit::scheduler::collect_once(&f, paths);
        let err = result.unwrap_err().to_string();
        assert!(err.contains("mounts") && err.contains("line 1"), "{err}");
    }

    /// Waits for `cond`, at most 30 s; then fails naming `what` (a test must not hang).
    fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
        let end = Instant::now() + Duration::from_secs(30);
        while !cond() {
            assert!(Instant::now() < end, "gave up after 30 s waiting for {what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Sets the flag when dropped: a failed assertion releases the hung statfs, else the
    /// runtime's drop would wait for that blocking task for ever.
    struct Release(Arc<AtomicBool>);
    impl Drop for Release {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    /// A statfs that hangs (a closure sleeping until released) marks its mount stuck: later
    /// scrapes report device_error 1 without calling statfs again, until the call returns.
    /// Nothing depends on how soon a thread is scheduled: the mount timeout is long enough
    /// for a loaded machine to run the healthy mount's call, and each step waits for the
    /// state it needs (bounded) rather than assuming it.
    #[test]
    fn a_hung_statfs_marks_the_mount_stuck_until_it_returns() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("1")).unwrap();
        std::fs::write(dir.path().join("1/mounts"), "srv:/x /mnt/nfs nfs4 rw 0 0\n/dev/vda / ext4 rw 0 0\n").unwrap();
        let released = Arc::new(AtomicBool::new(false));
        let calls = Arc::new(AtomicUsize::new(0));
        let (r, c) = (released.clone(), calls.clone());
        let hanging: StatFn = Arc::new(move |p: &Path| {
            if p.ends_with("mnt/nfs") {
                c.fetch_add(1, Ordering::SeqCst);
                // Hangs until released, and in any case not past a minute.
                let end = Instant::now() + Duration::from_secs(60);
                while !r.load(Ordering::SeqCst) && Instant::now() < end {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
            fake(p)
        });
        let f = Filesystem::new(hanging, Duration::from_secs(1));
        let paths = Arc::new(vigie_kit::Paths { procfs: dir.path().into(), ..crate::collectors::fixtures() });
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        // Dropped before `rt` (reverse order of declaration).
        let _release = Release(released.clone());
        let scrape = || {
            let cx = Scrape::new(Instant::now() + Duration::from_secs(60), paths.clone(), ());
            let mut out = MetricSet::new();
            rt.block_on(f.collect(&cx, &mut out)).unwrap();
            out.encode()
        };
        let nfs_error = "node_filesystem_device_error{device=\"srv:/x\",fstype=\"nfs4\",mountpoint=\"/mnt/nfs\"} ";
        let text = scrape();
        assert!(text.contains(&format!("{nfs_error}1\n")), "{text}");
        assert!(text.contains("node_filesystem_size_bytes{device=\"/dev/vda\""), "{text}");
        // The hung call may have started late, but it starts once.
        wait_for("the hung statfs to start", || calls.load(Ordering::SeqCst) > 0);
        wait_for("the mount to count as stuck", || f.stuck("/mnt/nfs"));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Still hung: skipped, not called again.
        let text = scrape();
        assert!(text.contains(&format!("{nfs_error}1\n")), "{text}");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // The call returns: the mount is statfs'd again on the next scrape.
        released.store(true, Ordering::SeqCst);
        wait_for("the hung statfs to return", || !lock(&f.in_flight).contains_key("/mnt/nfs"));
        let text = scrape();
        assert!(text.contains(&format!("{nfs_error}0\n")), "{text}");
        assert!(text.contains("node_filesystem_size_bytes{device=\"srv:/x\""), "{text}");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
