//! The collector contract and the scrape loop.
//!
//! A collector is one source of metrics (a `/proc` file, a SQL query). The kit runs every
//! enabled collector concurrently for each scrape, each bounded by the scrape deadline, and
//! reports `<ns>_scrape_collector_success` and `<ns>_scrape_collector_duration_seconds`
//! per collector, as node_exporter's `collector.go` does. A collector that fails, or is still
//! running at the deadline, is reported with success 0; the samples it wrote before are kept
//! and the rest of the scrape stands.

use std::borrow::Cow;
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::exposition::{Kind, MetricSet};

/// A boxed, sendable future: what [`Collector::collect`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The outcome of one collector's run.
pub type CollectResult = Result<(), CollectError>;

/// Why a collector produced nothing, or not everything.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// A file was read but its content is not what the kernel (or the service) writes.
    #[error("{path}: {msg}")]
    Parse {
        /// The file, or another name of the input.
        path: String,
        /// What was wrong, with the line where it helps.
        msg: String,
    },
    /// The source exists on some systems but not this one (node_exporter's ErrNoData):
    /// logged at debug only.
    #[error("no data: {0}")]
    NoData(String),
    /// The collector did not finish before the scrape deadline.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// Anything else, with its message.
    #[error("{0}")]
    Other(String),
}

impl CollectError {
    /// A parse error about `path`.
    pub fn parse(path: impl AsRef<Path>, msg: impl Into<String>) -> CollectError {
        CollectError::Parse { path: path.as_ref().display().to_string(), msg: msg.into() }
    }

    /// An I/O error about `path`.
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> CollectError {
        CollectError::Io { path: path.into(), source }
    }

    /// Whether the error is a file that does not exist (a missing subsystem).
    pub fn is_not_found(&self) -> bool {
        matches!(self, CollectError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }
}

/// One source of metrics. The future it returns must not block the thread for long: calls
/// that can hang (statfs on a dead NFS mount, a socket with no timeout) go through
/// [`blocking`], which bounds them by the deadline.
pub trait Collector<T = ()>: Send + Sync {
    /// Writes this scrape's samples into `out`.
    fn collect<'a>(&'a self, cx: &'a Scrape<T>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult>;

    /// The collector as a [`SyncCollector`], if it is one: [`run`] runs those off the async
    /// thread, so that a read that hangs (a FIFO, a dead NFS sysfs) stalls only its own
    /// collector.
    fn as_sync(&self) -> Option<&dyn SyncCollector<T>> {
        None
    }
}

/// A collector whose work is a few quick reads and no awaiting: most `/proc` readers.
pub trait SyncCollector<T = ()>: Send + Sync {
    /// Writes this scrape's samples into `out`.
    fn collect_sync(&self, cx: &Scrape<T>, out: &mut MetricSet) -> CollectResult;
}

impl<T: Sync, C: SyncCollector<T>> Collector<T> for C {
    fn collect<'a>(&'a self, cx: &'a Scrape<T>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move { self.collect_sync(cx, out) })
    }

    fn as_sync(&self) -> Option<&dyn SyncCollector<T>> {
        Some(self)
    }
}

/// Where the host's pseudo file systems are mounted (`--path.procfs`, `--path.sysfs`,
/// `--path.rootfs`, `--path.udev.data`), so that a containerised exporter can read the host's.
#[derive(Clone, Debug)]
pub struct Paths {
    /// `/proc` of the host.
    pub procfs: PathBuf,
    /// `/sys` of the host.
    pub sysfs: PathBuf,
    /// `/` of the host.
    pub rootfs: PathBuf,
    /// udev's database (`/run/udev/data`).
    pub udev_data: PathBuf,
    /// Files and directories found missing (a subsystem this host lacks), shared by the
    /// scrapes that use these paths.
    pub missing: Arc<Missing>,
}

impl Default for Paths {
    fn default() -> Paths {
        Paths {
            procfs: "/proc".into(),
            sysfs: "/sys".into(),
            rootfs: "/".into(),
            udev_data: "/run/udev/data".into(),
            missing: Arc::default(),
        }
    }
}

/// Paths that did not exist at some scrape. A host without bcache, InfiniBand or ZFS would
/// otherwise pay a failing open for each such subsystem on every scrape; a path found missing
/// is taken as still missing, with no system call, until [`Missing::RECHECK`] scrapes later,
/// when it is looked at again. So a subsystem that appears (a module loaded) shows up within
/// that many scrapes.
#[derive(Debug, Default)]
pub struct Missing {
    scrapes: std::sync::atomic::AtomicU64,
    seen: Mutex<crate::fasthash::FastMap<PathBuf, u64>>,
}

impl Missing {
    /// Scrapes between two looks at a missing path.
    pub const RECHECK: u64 = 10;

    /// Counts one more scrape; returns its number.
    fn next_scrape(&self) -> u64 {
        self.scrapes.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1
    }

    /// Whether `path` was found missing less than [`Missing::RECHECK`] scrapes before `scrape`.
    fn known(&self, path: &Path, scrape: u64) -> bool {
        let Ok(seen) = self.seen.lock() else { return false };
        seen.get(path).is_some_and(|&at| scrape.saturating_sub(at) < Missing::RECHECK)
    }

    /// Records what a look at `path` found at `scrape`.
    fn record(&self, path: &Path, scrape: u64, missing: bool) {
        if let Ok(mut seen) = self.seen.lock() {
            if missing {
                seen.insert(path.to_path_buf(), scrape);
            } else if !seen.is_empty() {
                seen.remove(path);
            }
        }
    }
}

/// The error a missing file gives, as the kernel words it.
fn not_found() -> io::Error {
    io::Error::from(rustix::io::Errno::NOENT)
}

impl Paths {
    /// `procfs` joined with `rel`.
    pub fn proc(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.procfs.join(rel)
    }

    /// `sysfs` joined with `rel`.
    pub fn sys(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.sysfs.join(rel)
    }

    /// `rootfs` joined with `rel` (an absolute `rel` is taken as relative to the root).
    pub fn root(&self, rel: impl AsRef<Path>) -> PathBuf {
        let rel = rel.as_ref();
        self.rootfs.join(rel.strip_prefix("/").unwrap_or(rel))
    }

    /// A mount point as seen from the host: strips `rootfs` from a path read inside it.
    pub fn strip_root<'a>(&self, mount_point: &'a str) -> Cow<'a, str> {
        let root = self.rootfs.to_string_lossy();
        if root == "/" || root.is_empty() {
            return Cow::Borrowed(mount_point);
        }
        match mount_point.strip_prefix(root.trim_end_matches('/')) {
            Some("") => Cow::Borrowed("/"),
            Some(rest) if rest.starts_with('/') => Cow::Owned(rest.to_owned()),
            _ => Cow::Borrowed(mount_point),
        }
    }
}

/// What a collector gets for one scrape: the deadline, the paths, a per-scrape file cache
/// (two collectors reading one file open it once), and the exporter's target, if any.
pub struct Scrape<T = ()> {
    /// When the scrape must be answered.
    pub deadline: Instant,
    /// Where `/proc`, `/sys` and `/` are.
    pub paths: Arc<Paths>,
    /// The exporter's per-scrape target (a connection, a URL); `()` for the host exporter.
    pub target: T,
    files: Mutex<crate::fasthash::FastMap<PathBuf, Arc<str>>>,
    /// Values made once per scrape for several collectors ([`Scrape::shared`]).
    shared: Mutex<Vec<(&'static str, Arc<dyn std::any::Any + Send + Sync>)>>,
    /// This scrape's number in `paths.missing`.
    scrape: u64,
    /// When the scrape started.
    started: Instant,
}

impl<T> Scrape<T> {
    /// A scrape context ending at `deadline`.
    pub fn new(deadline: Instant, paths: Arc<Paths>, target: T) -> Scrape<T> {
        let scrape = paths.missing.next_scrape();
        Scrape {
            deadline,
            paths,
            target,
            files: Mutex::default(),
            shared: Mutex::default(),
            scrape,
            started: Instant::now(),
        }
    }

    /// A value made once per scrape and shared by every collector that asks for it under
    /// `key` (one netlink dump for two collectors), as [`Scrape::read`] shares a file. Two
    /// collectors asking at the same moment may each make it; the first one kept wins.
    pub fn shared<V: Send + Sync + 'static>(&self, key: &'static str, make: impl FnOnce() -> V) -> Arc<V> {
        let find = |all: &[(&'static str, Arc<dyn std::any::Any + Send + Sync>)]| {
            all.iter().find(|(k, _)| *k == key).and_then(|(_, v)| v.clone().downcast::<V>().ok())
        };
        if let Some(v) = self.shared.lock().ok().and_then(|all| find(&all)) {
            return v;
        }
        let made = Arc::new(make());
        match self.shared.lock() {
            Ok(mut all) => match find(&all) {
                Some(first) => first,
                None => {
                    all.push((key, made.clone()));
                    made
                }
            },
            Err(_) => made,
        }
    }

    /// Runs `look` on `path` unless `path` was found missing at a recent scrape (then: a
    /// NotFound error, with no system call); remembers a NotFound answer.
    fn unless_missing<R>(&self, path: &Path, look: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
        let missing = &self.paths.missing;
        if missing.known(path, self.scrape) {
            return Err(not_found());
        }
        let result = look();
        missing.record(path, self.scrape, matches!(&result, Err(e) if e.kind() == io::ErrorKind::NotFound));
        result
    }

    /// `std::fs::read_dir`, except for a directory found missing at a recent scrape (see
    /// [`Missing`]).
    pub fn read_dir(&self, path: impl AsRef<Path>) -> io::Result<std::fs::ReadDir> {
        let path = path.as_ref();
        self.unless_missing(path, || std::fs::read_dir(path))
    }

    /// Whether `path` exists (and, with `dir`, is a directory), remembering a missing path
    /// as [`Scrape::read_dir`] does.
    pub fn exists(&self, path: impl AsRef<Path>, dir: bool) -> bool {
        let path = path.as_ref();
        self.unless_missing(path, || std::fs::metadata(path)).is_ok_and(|m| !dir || m.is_dir())
    }

    /// Time left before the deadline.
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Reads a whole file as text, once per scrape: a second call for the same path returns
    /// the first call's content.
    pub fn read(&self, path: impl AsRef<Path>) -> Result<Arc<str>, CollectError> {
        self.read_with(path.as_ref(), false, Shape::Plain)
    }

    /// [`Scrape::read`] of a kernel file whose [`Shape`] is known: its last read, the one
    /// that would return nothing, is skipped where a shorter read already got all of it.
    pub fn read_shaped(&self, path: impl AsRef<Path>, shape: Shape) -> Result<Arc<str>, CollectError> {
        self.read_with(path.as_ref(), false, shape)
    }

    /// [`Scrape::read`] of a file that belongs to a subsystem this host may lack (ZFS, md,
    /// NFS): one found missing is not opened again before [`Missing::RECHECK`] scrapes.
    /// Not for files that come and go with processes (`/proc/PID`): a PID is reused.
    pub fn probe(&self, path: impl AsRef<Path>) -> Result<Arc<str>, CollectError> {
        self.read_with(path.as_ref(), true, Shape::Plain)
    }

    fn read_with(&self, path: &Path, remember_missing: bool, shape: Shape) -> Result<Arc<str>, CollectError> {
        if let Some(text) = self.files.lock().ok().and_then(|files| files.get(path).cloned()) {
            return Ok(text);
        }
        let open = || {
            let open = || std::fs::File::open(path);
            if remember_missing {
                self.unless_missing(path, open)
            } else {
                open()
            }
        };
        let text: Arc<str> = kept_file_text(path, shape, open, |t| Arc::from(t))?;
        if let Ok(mut files) = self.files.lock() {
            files.insert(path.to_path_buf(), text.clone());
        }
        Ok(text)
    }

    /// [`Scrape::read`] of a file under `--path.procfs`.
    pub fn proc(&self, rel: impl AsRef<Path>) -> Result<Arc<str>, CollectError> {
        self.read(self.paths.proc(rel))
    }

    /// [`Scrape::read`] of a file under `--path.sysfs`.
    pub fn sys(&self, rel: impl AsRef<Path>) -> Result<Arc<str>, CollectError> {
        self.read(self.paths.sys(rel))
    }
}

/// Reads a file as text (lossy UTF-8), with the path in the error.
pub fn read_text(path: &Path) -> Result<String, CollectError> {
    with_file_text(path, str::to_owned)
}

/// How the kernel hands out a file, which says when a read shorter than asked has reached
/// the end. Without it a reader must read until read(2) returns 0: one more system call per
/// file, and for a seq_file over a table (`/proc/net/udp`) one more walk of the whole table,
/// as the kernel looks for the record after the last one from the start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A regular file, or a kernel file of unknown shape: read until read(2) returns 0.
    Plain,
    /// Printed whole into one buffer and handed out from it: a `single_open` seq_file
    /// (`/proc/meminfo`, `/proc/net/snmp`) or a sysfs attribute. A read that returns less
    /// than asked has returned all of it.
    OneRecord,
    /// A sysctl under `/proc/sys`: as [`Shape::OneRecord`], but the kernel allocates and
    /// zeroes a buffer as large as each read asks for, so it is read with a small one.
    Sysctl,
    /// A seq_file whose records (lines) are never longer than this many bytes, a bound
    /// from the kernel's format with every field at its widest (`/proc/net/udp`: 158). The
    /// kernel fills a buffer of at least a page with whole records and stops at the first
    /// that does not fit, or at the end: a read that left room for one more reached the end.
    Records(usize),
}

/// Kernel files kept open from one scrape to the next. A procfs or sysfs file read again
/// from offset 0 is printed anew (a seq_file starts over, a sysctl handler runs again), so
/// each scrape saves the open(2) and close(2), and the path walk, of every file it keeps:
/// [`Scrape::read_shaped`] keeps those it finds on procfs or sysfs (never a regular file,
/// which may be replaced by another). A kept file whose object the kernel removed (a
/// module unloaded, a device gone) fails its next read and is opened again by path.
struct KeptOpen(Mutex<Option<crate::fasthash::FastMap<PathBuf, std::fs::File>>>);

static KEPT_OPEN: KeptOpen = KeptOpen(Mutex::new(None));

impl KeptOpen {
    /// At most this many files are kept (the exporters read a few dozen per scrape).
    const MAX: usize = 256;

    /// The kept file for `path`, taken out while it is read: another thread reading the
    /// same path meanwhile opens its own.
    fn take(&self, path: &Path) -> Option<std::fs::File> {
        self.0.lock().ok()?.as_mut()?.remove(path)
    }

    fn put(&self, path: &Path, file: std::fs::File) {
        let Ok(mut kept) = self.0.lock() else { return };
        let kept = kept.get_or_insert_with(Default::default);
        if kept.len() < KeptOpen::MAX && !kept.contains_key(path) {
            kept.insert(path.to_path_buf(), file);
        }
    }
}

/// `f` over the text of `path`, of the given shape: read from its kept descriptor when one is
/// kept ([`KeptOpen`]), else from `open()`, and then kept when it is on procfs or sysfs and
/// its shape is known. A kept file that fails (its device or module went away) is dropped
/// and opened anew.
pub(crate) fn kept_file_text<R>(
    path: &Path,
    shape: Shape,
    open: impl FnOnce() -> io::Result<std::fs::File>,
    f: impl Fn(&str) -> R,
) -> Result<R, CollectError> {
    if let Some(file) = if shape == Shape::Plain { None } else { KEPT_OPEN.take(path) } {
        if let Ok(r) = file_text(path, &file, shape, &f) {
            KEPT_OPEN.put(path, file);
            return Ok(r);
        }
    }
    let file = open().map_err(|e| CollectError::io(path, e))?;
    let r = file_text(path, &file, shape, &f)?;
    if shape != Shape::Plain && on_kernel_fs(&file) {
        KEPT_OPEN.put(path, file);
    }
    Ok(r)
}

/// Whether `file` is on procfs or sysfs, whose files are printed anew at each read.
fn on_kernel_fs(file: &std::fs::File) -> bool {
    const SYSFS_MAGIC: rustix::fs::FsWord = 0x6265_6572;
    rustix::fs::fstatfs(file).is_ok_and(|fs| fs.f_type == rustix::fs::PROC_SUPER_MAGIC || fs.f_type == SYSFS_MAGIC)
}

/// The smallest buffer the kernel fills for one read of a seq_file: a page.
const SEQ_BUFFER: usize = 4096;

/// The first read of a [`Shape::Sysctl`] file: more than any value the exporters read.
const SYSCTL_READ: usize = 1024;

impl Shape {
    /// Whether a read that asked for `asked` bytes and got `got` (> 0) reached the end.
    fn ends_at(self, asked: usize, got: usize) -> bool {
        got < asked
            && match self {
                Shape::Plain => false,
                Shape::OneRecord | Shape::Sysctl => true,
                Shape::Records(max) => got.saturating_add(max) < SEQ_BUFFER,
            }
    }
}

/// What a thread keeps of its read buffer between reads; a larger file's buffer is dropped.
const KEEP_BUFFER: usize = 256 * 1024;

/// The first read's size: all of most `/proc` and `/sys` files.
const FIRST_READ: usize = 16 * 1024;

thread_local! {
    static READ_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Reads `path` into this thread's buffer and hands its text to `f`. `/proc` and `/sys`
/// files report size 0, so `std::fs::read` asks their size (statx, lseek), then starts with
/// 32-byte reads and doubles: a seq_file such as `/proc/net/udp` is walked again on every
/// read. One large first read gets most files in one call plus the end-of-file read, into a
/// buffer kept (zeroed once) from one read to the next.
pub(crate) fn with_file_text<R>(path: &Path, f: impl FnOnce(&str) -> R) -> Result<R, CollectError> {
    let file = std::fs::File::open(path).map_err(|e| CollectError::io(path, e))?;
    file_text(path, &file, Shape::Plain, f)
}

/// [`with_file_text`] of a file already open, of the given shape. Reads at explicit offsets
/// from 0 (pread), so that a file kept open is read from its start.
fn file_text<R>(path: &Path, file: &std::fs::File, shape: Shape, f: impl FnOnce(&str) -> R) -> Result<R, CollectError> {
    use std::os::unix::fs::FileExt as _;
    READ_BUFFER.with(|cell| {
        // A re-entrant call (none today) gets a buffer of its own rather than a panic.
        let mut own = Vec::new();
        let mut borrowed = cell.try_borrow_mut();
        let buf = match borrowed.as_mut() {
            Ok(b) => &mut **b,
            Err(_) => &mut own,
        };
        if buf.len() < FIRST_READ {
            buf.resize(FIRST_READ, 0);
        }
        let mut filled = 0;
        let result = loop {
            if filled == buf.len() {
                buf.resize(buf.len() * 2, 0);
            }
            let end = if filled == 0 && shape == Shape::Sysctl { SYSCTL_READ } else { buf.len() };
            match file.read_at(&mut buf[filled..end], filled as u64) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    let asked = end - filled;
                    filled += n;
                    if shape.ends_at(asked, n) {
                        break Ok(());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(CollectError::io(path, e)),
            }
        };
        let result = result.map(|()| match std::str::from_utf8(&buf[..filled]) {
            Ok(text) => f(text),
            Err(_) => f(&String::from_utf8_lossy(&buf[..filled])),
        });
        if buf.len() > KEEP_BUFFER {
            *buf = Vec::new();
        }
        result
    })
}

/// Runs a call that may block (statfs, a sync socket) on the blocking pool, giving up at
/// `deadline`. The call keeps running if it hangs, but the scrape does not wait for it.
pub async fn blocking<R, F>(deadline: Instant, f: F) -> Result<R, CollectError>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let started = Instant::now();
    let task = tokio::task::spawn_blocking(f);
    match tokio::time::timeout_at(deadline.into(), task).await {
        Ok(Ok(r)) => Ok(r),
        Ok(Err(e)) => Err(CollectError::Other(format!("blocking task failed: {e}"))),
        Err(_) => Err(CollectError::Timeout(started.elapsed())),
    }
}

/// Builds a collector from the parsed flags, or says why it cannot.
pub type Build<T> = fn(&clap::ArgMatches) -> Result<Box<dyn Collector<T>>, String>;

/// How a collector is known to the exporter: its name (flag `--collector.<name>`, label
/// `collector="<name>"`), whether it is on by default, its help, its own flags, and how to
/// build it from the parsed flags.
pub struct Registration<T = ()> {
    /// The collector's one name.
    pub name: &'static str,
    /// On unless `--no-collector.<name>`.
    pub default_enabled: bool,
    /// One line for `--help` and the README.
    pub help: &'static str,
    /// Adds the collector's own `--collector.<name>.<option>` flags.
    pub args: fn(clap::Command) -> clap::Command,
    /// Builds the collector from the parsed flags; an error stops the exporter at start-up.
    pub build: Build<T>,
}

/// For a registration with no flags of its own.
pub fn no_args(cmd: clap::Command) -> clap::Command {
    cmd
}

/// Declares a collector list: `collectors! { T; loadavg: on, meminfo: on, processes: off }`
/// writes a `pub mod` line per collector and a `REGISTRY` of their registrations in that order.
/// Each module defines `pub const REG: Registration<T>` (name, help, args, build) whose
/// `default_enabled` this list overrides.
#[macro_export]
macro_rules! collectors {
    ($target:ty; $($name:ident : $state:ident),* $(,)?) => {
        $(pub mod $name;)*
        /// Every collector this exporter has, in `--help` order.
        pub fn registry() -> ::std::vec::Vec<$crate::collector::Registration<$target>> {
            ::std::vec![$($crate::collector::Registration {
                default_enabled: $crate::collectors!(@on $state),
                ..$name::REG
            }),*]
        }
    };
    (@on on) => { true };
    (@on off) => { false };
}

/// The families the kit writes about each collector; their names are the incumbent's
/// (`node_scrape_collector_success`, `mysql_exporter_collector_success`…).
#[derive(Clone, Debug)]
pub struct ScrapeNames {
    /// e.g. `node_scrape_collector_success`.
    pub success: &'static str,
    /// e.g. `node_scrape_collector_duration_seconds`.
    pub duration: &'static str,
    /// The collector flags' stem: `collector` gives `--[no-]collector.<name>`.
    pub flag: &'static str,
    /// Put before the name in the `collector` label (mysqld_exporter's `collect.`).
    pub label_prefix: &'static str,
}

impl ScrapeNames {
    /// `<ns>_scrape_collector_success` and `<ns>_scrape_collector_duration_seconds`, with
    /// node_exporter's `--[no-]collector.<name>` flags and bare names as labels.
    pub const fn node_style(success: &'static str, duration: &'static str) -> ScrapeNames {
        ScrapeNames { success, duration, flag: "collector", label_prefix: "" }
    }

    /// The same names with other flags and labels: mysqld_exporter's
    /// `.prefixed("collect", "collect.")` gives `--[no-]collect.global_status` and
    /// `collector="collect.global_status"`.
    pub const fn prefixed(self, flag: &'static str, label_prefix: &'static str) -> ScrapeNames {
        ScrapeNames { flag, label_prefix, ..self }
    }
}

/// An enabled, built collector.
pub struct Enabled<T = ()> {
    /// Its name.
    pub name: &'static str,
    /// Its `collector` label value: the name, or the name behind a prefix.
    pub label: &'static str,
    /// The collector.
    pub collector: Box<dyn Collector<T>>,
    /// Log the next error at error level (only the first of a run of failures is).
    failing: std::sync::atomic::AtomicBool,
    /// A blocking thread is inside this (sync) collector: it is not started again until it
    /// returns, so a collector stuck in a read costs one thread, not one per scrape.
    busy: std::sync::atomic::AtomicBool,
}

impl<T> Enabled<T> {
    /// Wraps a built collector.
    pub fn new(name: &'static str, collector: Box<dyn Collector<T>>) -> Enabled<T> {
        Enabled {
            name,
            label: name,
            collector,
            failing: std::sync::atomic::AtomicBool::new(false),
            busy: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Wraps a built collector whose `collector` label is not its bare name.
    pub fn labelled(name: &'static str, label: &'static str, collector: Box<dyn Collector<T>>) -> Enabled<T> {
        Enabled { label, ..Enabled::new(name, collector) }
    }
}

/// Runs the collectors of `all` that `pick` accepts against `cx`, each until it ends or the
/// deadline, and returns all their samples plus the per-collector success and duration
/// families.
///
/// Async collectors run concurrently on this (async) thread. Sync collectors — most `/proc`
/// readers — run one after the other on a thread of the blocking pool, one batch per scrape
/// (one thread hand-off, not one per collector). When the batch makes no progress for
/// [`stall`], another thread takes the collectors still queued, so one stuck read (a FIFO
/// under `--path.procfs`, a hung NFS sysfs file) delays the others by at most that. At the
/// deadline the scrape answers with what finished; a collector still running reports
/// success 0, and is not started again by later scrapes until its thread comes back.
pub async fn run<T: Send + Sync + 'static>(
    all: &Arc<Vec<Enabled<T>>>,
    pick: impl Fn(&Enabled<T>) -> bool,
    cx: Arc<Scrape<T>>,
    names: &ScrapeNames,
) -> MetricSet {
    let picked: Vec<usize> = (0..all.len()).filter(|&i| pick(&all[i])).collect();
    let (sync, not_sync): (Vec<usize>, Vec<usize>) =
        picked.iter().partition(|&&i| all[i].collector.as_sync().is_some());
    let runs = not_sync.iter().map(|&i| {
        let (c, cx) = (&all[i], &cx);
        async move {
            let mut out = MetricSet::new();
            let started = Instant::now();
            let result = match tokio::time::timeout_at(cx.deadline.into(), c.collector.collect(cx, &mut out)).await {
                Ok(result) => result,
                Err(_) => Err(CollectError::Timeout(started.elapsed())),
            };
            (i, out, started.elapsed(), result)
        }
    });
    let (async_done, sync_done) = tokio::join!(futures_util::future::join_all(runs), run_sync(all, &sync, &cx));
    let mut done: Vec<Option<(MetricSet, Duration, CollectResult)>> = (0..all.len()).map(|_| None).collect();
    for (i, out, took, result) in async_done.into_iter().chain(sync_done) {
        done[i] = Some((out, took, result));
    }
    let mut set = MetricSet::new();
    let mut results = Vec::with_capacity(picked.len());
    for &i in &picked {
        let c = &all[i];
        let (out, took, result) = done[i].take().unwrap_or_else(|| {
            (
                MetricSet::new(),
                cx.deadline.saturating_duration_since(cx.started),
                Err(CollectError::Timeout(cx.started.elapsed())),
            )
        });
        set.merge(out);
        report(c, &result);
        results.push((c.label, took, result.is_ok()));
    }
    let success = set.family(names.success, "Whether a collector succeeded.", Kind::Gauge);
    for (name, _, ok) in &results {
        success.push(&[("collector", name)], if *ok { 1.0 } else { 0.0 });
    }
    let duration = set.family(names.duration, "How long a collector took, in seconds.", Kind::Gauge);
    for (name, took, _) in &results {
        duration.push(&[("collector", name)], took.as_secs_f64());
    }
    set
}

/// How long a batch of sync collectors may make no progress before another thread takes the
/// rest of its queue.
/// A quarter of the scrape's time, between 50 ms and 1 s: long enough that a busy machine
/// descheduling the thread for a while does not start a helper thread (each thread grows a
/// malloc arena of its own), short enough to leave the queued collectors most of the time.
pub fn stall(budget: Duration) -> Duration {
    (budget / 4).clamp(Duration::from_millis(50), Duration::from_secs(1))
}

type Done = (usize, MetricSet, Duration, CollectResult);

/// Runs the sync collectors `which` of `all` on the blocking pool; returns those that ended
/// before the deadline. A collector still busy from an earlier scrape is reported as such.
async fn run_sync<T: Send + Sync + 'static>(
    all: &Arc<Vec<Enabled<T>>>,
    which: &[usize],
    cx: &Arc<Scrape<T>>,
) -> Vec<Done> {
    use std::sync::atomic::Ordering;
    let mut early = Vec::new();
    let mut queue = std::collections::VecDeque::with_capacity(which.len());
    for &i in which {
        if all[i].busy.load(Ordering::Acquire) {
            let err = CollectError::Other("still running since an earlier scrape".into());
            early.push((i, MetricSet::new(), Duration::ZERO, Err(err)));
        } else {
            queue.push_back(i);
        }
    }
    if queue.is_empty() {
        return early;
    }
    let batch = Arc::new(Batch {
        expected: queue.len(),
        queue: Mutex::new(queue),
        done: Mutex::new(early),
        finished: std::sync::atomic::AtomicUsize::new(0),
        all_done: tokio::sync::Notify::new(),
    });
    let job = |all: Arc<Vec<Enabled<T>>>, cx: Arc<Scrape<T>>, batch: Arc<Batch>| -> Job {
        Box::new(move || sync_worker(&all, &cx, &batch))
    };
    COLLECTOR_THREAD.run(job(all.clone(), cx.clone(), batch.clone()));
    let spawn_worker = || {
        let work = job(all.clone(), cx.clone(), batch.clone());
        // A helper thread for the rest of this batch; it ends when the queue is empty.
        if let Err(e) = std::thread::Builder::new().name("collector-helper".into()).spawn(work) {
            tracing::error!(err = %e, "Cannot start a collector thread.");
        }
    };
    let deadline = tokio::time::Instant::from_std(cx.deadline);
    let mut seen = 0;
    let patience = stall(cx.deadline.saturating_duration_since(cx.started));
    loop {
        let stall = tokio::time::Instant::now() + patience;
        // One wake-up when the batch is over, not one per collector.
        let over = tokio::time::timeout_at(stall.min(deadline), batch.all_done.notified()).await.is_ok();
        let finished = batch.finished.load(Ordering::Acquire);
        if over || finished >= batch.expected || tokio::time::Instant::now() >= deadline {
            break;
        }
        if finished == seen && batch.queue.lock().is_ok_and(|q| !q.is_empty()) {
            // No collector ended for the stall time: a thread is stuck in one; let another take
            // what is left of the queue.
            spawn_worker();
        }
        seen = finished;
    }
    // Collectors not started by the deadline never will be (the workers check it).
    batch.done.lock().map(|mut d| std::mem::take(&mut *d)).unwrap_or_default()
}

type Job = Box<dyn FnOnce() + Send>;

/// The thread that runs the sync collectors, one scrape's batch after the other. One
/// long-lived thread, rather than whichever thread of the blocking pool is free, keeps the
/// collectors' allocations in one malloc arena: glibc gives each thread its own, and each
/// arena grows to a whole scrape's worth of samples.
struct CollectorThread {
    /// Jobs for the current thread, and since when it has been inside one.
    current: Mutex<Option<(std::sync::mpsc::Sender<Job>, Arc<InJob>)>>,
}

static COLLECTOR_THREAD: CollectorThread = CollectorThread { current: Mutex::new(None) };

/// A collector thread in a job for longer than this is taken as stuck and replaced. A batch
/// takes milliseconds; the next scrape's job may well arrive while the thread is still
/// finishing the previous one, and must then wait its turn, not start a thread.
const STUCK: Duration = Duration::from_secs(2);

/// Since when a thread has been inside a job: milliseconds after [`InJob::anchor`], plus one;
/// 0 when idle.
#[derive(Default)]
struct InJob(std::sync::atomic::AtomicU64);

impl InJob {
    fn anchor() -> Instant {
        static ANCHOR: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        *ANCHOR.get_or_init(Instant::now)
    }

    fn enter(&self) {
        let since = InJob::anchor().elapsed().as_millis() as u64 + 1;
        self.0.store(since, std::sync::atomic::Ordering::Release);
    }

    fn leave(&self) {
        self.0.store(0, std::sync::atomic::Ordering::Release);
    }

    fn stuck(&self) -> bool {
        match self.0.load(std::sync::atomic::Ordering::Acquire) {
            0 => false,
            since => {
                (InJob::anchor().elapsed().as_millis() as u64 + 1).saturating_sub(since) > STUCK.as_millis() as u64
            }
        }
    }

    /// Runs the jobs sent on `rx` until its sender is gone.
    fn serve(&self, rx: &std::sync::mpsc::Receiver<Job>) {
        while let Ok(job) = rx.recv() {
            self.enter();
            job();
            self.leave();
        }
    }
}

impl CollectorThread {
    /// Runs `job` on the collector thread; starts one if there is none, or if the current one
    /// has been inside a job for longer than [`STUCK`] (stuck in a read: it is left to end on
    /// its own, and exits then).
    fn run(&self, job: Job) {
        let Ok(mut current) = self.current.lock() else { return job() };
        let job = match current.as_ref() {
            Some((tx, in_job)) if !in_job.stuck() => match tx.send(job) {
                Ok(()) => return,
                Err(std::sync::mpsc::SendError(job)) => job,
            },
            _ => job,
        };
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let in_job = Arc::new(InJob::default());
        let flag = in_job.clone();
        let started = std::thread::Builder::new().name("collectors".into()).spawn(move || flag.serve(&rx));
        match started {
            Ok(_) => {
                let _ = tx.send(job);
                *current = Some((tx, in_job));
            }
            Err(e) => {
                tracing::error!(err = %e, "Cannot start the collector thread.");
                *current = None;
            }
        }
    }
}

/// Makes the calling thread the one that runs the sync collectors of every scrape
/// (`run_target` gives it the main thread). Returns only if the thread got stuck in a
/// collector and was replaced, once that collector returns. `then` runs once the thread is
/// registered (it starts the server, so that no scrape comes before).
pub fn collect_on_this_thread(then: impl FnOnce()) {
    let (tx, rx) = std::sync::mpsc::channel::<Job>();
    let in_job = Arc::new(InJob::default());
    match COLLECTOR_THREAD.current.lock() {
        Ok(mut current) => *current = Some((tx, in_job.clone())),
        Err(_) => return then(),
    }
    then();
    in_job.serve(&rx);
}

/// One scrape's sync collectors, shared by the threads that run them.
struct Batch {
    /// How many collectors were queued.
    expected: usize,
    /// Collectors not started yet.
    queue: Mutex<std::collections::VecDeque<usize>>,
    /// Their outcomes, as they end.
    done: Mutex<Vec<Done>>,
    /// How many have ended.
    finished: std::sync::atomic::AtomicUsize,
    /// Told when the last one ends.
    all_done: tokio::sync::Notify,
}

/// A blocking-pool thread: takes sync collectors from the batch's queue until it is empty or
/// the deadline has passed, recording each one's outcome.
fn sync_worker<T: Send + Sync>(all: &[Enabled<T>], cx: &Scrape<T>, batch: &Batch) {
    use std::sync::atomic::Ordering;
    loop {
        if Instant::now() >= cx.deadline {
            return;
        }
        let Some(i) = batch.queue.lock().ok().and_then(|mut q| q.pop_front()) else { return };
        let c = &all[i];
        let Some(sync) = c.collector.as_sync() else { continue };
        c.busy.store(true, Ordering::Release);
        let mut out = MetricSet::new();
        let started = Instant::now();
        let mut result = sync.collect_sync(cx, &mut out);
        let took = started.elapsed();
        c.busy.store(false, Ordering::Release);
        if result.is_ok() && Instant::now() > cx.deadline {
            result = Err(CollectError::Timeout(took));
        }
        if let Ok(mut done) = batch.done.lock() {
            done.push((i, out, took, result));
        }
        if batch.finished.fetch_add(1, Ordering::AcqRel) + 1 == batch.expected {
            batch.all_done.notify_one();
        }
    }
}

fn report<T>(c: &Enabled<T>, result: &CollectResult) {
    use std::sync::atomic::Ordering;
    match result {
        Ok(()) => {
            if c.failing.swap(false, Ordering::Relaxed) {
                tracing::info!(collector = c.name, "Collector recovered.");
            }
        }
        Err(CollectError::NoData(why)) => {
            tracing::debug!(collector = c.name, err = %why, "Collector returned no data.");
        }
        Err(e) => {
            if c.failing.swap(true, Ordering::Relaxed) {
                tracing::debug!(collector = c.name, err = %e, "Collector failed again.");
            } else {
                tracing::error!(collector = c.name, err = %e, "Collector failed.");
            }
        }
    }
}

/// Runs one collector once over `paths` (a fixture tree, in tests) with a 10 s deadline,
/// on a fresh single-thread runtime; returns what it wrote and its result.
pub fn collect_once(collector: &dyn Collector, paths: Paths) -> (MetricSet, CollectResult) {
    let cx = Scrape::new(Instant::now() + Duration::from_secs(10), Arc::new(paths), ());
    let mut out = MetricSet::new();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    let result = match runtime {
        Ok(rt) => rt.block_on(collector.collect(&cx, &mut out)),
        Err(e) => Err(CollectError::Other(e.to_string())),
    };
    (out, result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exposition::Desc;

    struct Fine;
    const FINE: Desc = Desc::gauge("t_fine", "A value.", &[]);
    impl SyncCollector for Fine {
        fn collect_sync(&self, _: &Scrape, out: &mut MetricSet) -> CollectResult {
            out.add(&FINE, &[], 1.0);
            Ok(())
        }
    }

    struct Broken;
    impl SyncCollector for Broken {
        fn collect_sync(&self, _: &Scrape, out: &mut MetricSet) -> CollectResult {
            out.add(&FINE, &[], 2.0);
            Err(CollectError::parse("/proc/x", "line 1: nonsense"))
        }
    }

    struct Slow;
    impl Collector for Slow {
        fn collect<'a>(&'a self, _: &'a Scrape, _: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
            Box::pin(async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok(())
            })
        }
    }

    const NAMES: ScrapeNames = ScrapeNames::node_style("t_success", "t_duration_seconds");

    #[tokio::test]
    async fn a_failing_or_slow_collector_never_fails_the_scrape() {
        let collectors = Arc::new(vec![
            Enabled::new("fine", Box::new(Fine) as Box<dyn Collector>),
            Enabled::new("broken", Box::new(Broken)),
            Enabled::new("slow", Box::new(Slow)),
        ]);
        let deadline = Instant::now() + Duration::from_millis(200);
        let cx = Arc::new(Scrape::new(deadline, Arc::new(Paths::default()), ()));
        let text = run(&collectors, |_| true, cx, &NAMES).await.encode();
        assert!(text.contains("t_success{collector=\"fine\"} 1\n"), "{text}");
        assert!(text.contains("t_success{collector=\"broken\"} 0\n"), "{text}");
        assert!(text.contains("t_success{collector=\"slow\"} 0\n"), "{text}");
        // The broken collector's sample written before the error is kept.
        assert!(text.contains("t_fine 2\n") && text.contains("t_fine 1\n"), "{text}");
        assert!(Instant::now() < deadline + Duration::from_secs(2));
    }

    /// Blocks in its first run until the test lets it go, as a read of a FIFO would.
    struct Stuck {
        runs: std::sync::atomic::AtomicUsize,
        release: Mutex<std::sync::mpsc::Receiver<()>>,
    }
    impl SyncCollector for Stuck {
        fn collect_sync(&self, _: &Scrape, out: &mut MetricSet) -> CollectResult {
            if self.runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                let _ = self.release.lock().unwrap().recv();
            }
            out.add(&FINE, &[], 3.0);
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_stuck_sync_collector_fails_alone_and_is_not_started_twice() {
        let (release, rx) = std::sync::mpsc::channel();
        let stuck = Arc::new(Stuck { runs: Default::default(), release: Mutex::new(rx) });
        struct Shared(Arc<Stuck>);
        impl SyncCollector for Shared {
            fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
                self.0.collect_sync(cx, out)
            }
        }
        // "stuck" is first in the queue: the collectors after it run on another thread once
        // the batch has made no progress for the stall time.
        let collectors = Arc::new(vec![
            Enabled::new("stuck", Box::new(Shared(stuck.clone())) as Box<dyn Collector>),
            Enabled::new("fine", Box::new(Fine)),
            Enabled::new("broken", Box::new(Broken)),
        ]);
        let paths = Arc::new(Paths::default());
        let scrape = |ms: u64| {
            let cx = Arc::new(Scrape::new(Instant::now() + Duration::from_millis(ms), paths.clone(), ()));
            run(&collectors, |_| true, cx, &NAMES)
        };
        let text = scrape(1000).await.encode();
        assert!(text.contains("t_success{collector=\"stuck\"} 0\n"), "{text}");
        assert!(text.contains("t_success{collector=\"fine\"} 1\n"), "{text}");
        assert!(text.contains("t_success{collector=\"broken\"} 0\n"), "{text}");
        assert!(text.contains("t_fine 1\n") && !text.contains("t_fine 3\n"), "{text}");
        // Still stuck: reported failed again, and not started a second time.
        let text = scrape(100).await.encode();
        assert!(text.contains("t_success{collector=\"stuck\"} 0\n"), "{text}");
        assert_eq!(stuck.runs.load(std::sync::atomic::Ordering::SeqCst), 1);
        release.send(()).unwrap();
        let mut recovered = false;
        for _ in 0..100 {
            let text = scrape(1000).await.encode();
            if text.contains("t_success{collector=\"stuck\"} 1\n") {
                assert!(text.contains("t_fine 3\n"), "{text}");
                recovered = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(recovered, "the collector never ran again once its read returned");
    }

    #[tokio::test]
    async fn blocking_calls_give_up_at_the_deadline() {
        let deadline = Instant::now() + Duration::from_millis(50);
        let r = blocking(deadline, || std::thread::sleep(Duration::from_millis(500))).await;
        assert!(matches!(r, Err(CollectError::Timeout(_))), "{r:?}");
        let r = blocking(Instant::now() + Duration::from_secs(5), || 7).await;
        assert_eq!(r.ok(), Some(7));
    }

    #[test]
    fn files_are_read_once_per_scrape() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("stat");
        std::fs::write(&file, "one").unwrap();
        let cx = Scrape::new(Instant::now(), Arc::new(Paths::default()), ());
        assert_eq!(&*cx.read(&file).unwrap(), "one");
        std::fs::write(&file, "two").unwrap();
        assert_eq!(&*cx.read(&file).unwrap(), "one");
        let err = cx.read(dir.path().join("missing")).unwrap_err();
        assert!(err.is_not_found() && err.to_string().contains("missing"), "{err}");
    }

    #[test]
    fn shared_values_are_made_once_per_scrape() {
        let made = std::sync::atomic::AtomicUsize::new(0);
        let make = || made.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        let cx = Scrape::new(Instant::now(), Arc::new(Paths::default()), ());
        assert_eq!((*cx.shared("links", make), *cx.shared("links", make)), (1, 1));
        assert_eq!(*cx.shared("addrs", make), 2);
        let next = Scrape::new(Instant::now(), cx.paths.clone(), ());
        assert_eq!(*next.shared("links", make), 3);
    }

    #[test]
    fn a_short_read_ends_a_file_only_where_its_shape_says_so() {
        assert!(!Shape::Plain.ends_at(16384, 10));
        assert!(Shape::OneRecord.ends_at(16384, 16383) && !Shape::OneRecord.ends_at(16384, 16384));
        assert!(Shape::Sysctl.ends_at(1024, 3) && !Shape::Sysctl.ends_at(1024, 1024));
        // Room for one more 128-byte record in the kernel's page: the end; no room: read on.
        assert!(Shape::Records(128).ends_at(16384, 3967));
        assert!(!Shape::Records(128).ends_at(16384, 3968) && !Shape::Records(128).ends_at(16384, 4064));
        // Whatever the shape, a file longer than one read is read whole.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("long");
        let text: String = (0..3000).map(|i| format!("{i:>9}\n")).collect();
        std::fs::write(&file, &text).unwrap();
        for shape in [Shape::Plain, Shape::OneRecord, Shape::Sysctl, Shape::Records(10)] {
            let cx = Scrape::new(Instant::now(), Arc::new(Paths::default()), ());
            assert_eq!(&*cx.read_shaped(&file, shape).unwrap(), text, "{shape:?}");
        }
    }

    #[test]
    fn kernel_files_kept_open_are_read_anew_and_regular_files_are_not_kept() {
        use std::io::{Seek as _, SeekFrom};
        // /proc/self/fdinfo/N shows the offset of our own descriptor N.
        let dir = tempfile::tempdir().unwrap();
        let mut file = std::fs::File::create(dir.path().join("f")).unwrap();
        let info = PathBuf::from(format!("/proc/self/fdinfo/{}", std::os::fd::AsRawFd::as_raw_fd(&file)));
        let paths = Arc::new(Paths::default());
        let pos = |want: u64| {
            let cx = Scrape::new(Instant::now(), paths.clone(), ());
            let text = cx.read_shaped(&info, Shape::OneRecord).unwrap();
            assert!(text.starts_with(&format!("pos:\t{want}\n")), "{text}");
        };
        pos(0);
        assert!(KEPT_OPEN.0.lock().unwrap().as_ref().is_some_and(|k| k.contains_key(&info)));
        file.seek(SeekFrom::Start(10)).unwrap();
        pos(10);
        file.seek(SeekFrom::Start(20)).unwrap();
        pos(20);
        // A regular file is opened at each scrape: it may have been replaced.
        let plain = dir.path().join("plain");
        for text in ["one", "two"] {
            std::fs::write(&plain, text).unwrap();
            let cx = Scrape::new(Instant::now(), paths.clone(), ());
            assert_eq!(&*cx.read_shaped(&plain, Shape::OneRecord).unwrap(), text);
        }
        assert!(!KEPT_OPEN.0.lock().unwrap().as_ref().is_some_and(|k| k.contains_key(&plain)));
    }

    #[test]
    fn a_missing_subsystem_is_looked_at_again_after_recheck_scrapes() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Arc::new(Paths { sysfs: dir.path().into(), ..Paths::default() });
        let file = dir.path().join("bonding_masters");
        let scrape = || Scrape::new(Instant::now(), paths.clone(), ());
        assert!(scrape().probe(&file).unwrap_err().is_not_found());
        std::fs::write(&file, "bond0\n").unwrap();
        // Plain reads always look; probes trust the memo until RECHECK scrapes have passed.
        assert_eq!(&*scrape().read(&file).unwrap(), "bond0\n");
        let mut seen_at = None;
        for n in 0..Missing::RECHECK + 2 {
            if scrape().probe(&file).is_ok() {
                seen_at = Some(n);
                break;
            }
        }
        assert!(seen_at.is_some_and(|n| n > 0 && n < Missing::RECHECK), "{seen_at:?}");
        assert!(scrape().read_dir(dir.path().join("nope")).is_err());
        assert!(scrape().exists(dir.path(), true) && !scrape().exists(&file, true));
    }

    #[test]
    fn strip_root_maps_mount_points_back_to_the_host() {
        let paths = Paths { rootfs: "/host".into(), ..Paths::default() };
        assert_eq!(paths.strip_root("/host"), "/");
        assert_eq!(paths.strip_root("/host/boot"), "/boot");
        assert_eq!(paths.strip_root("/hostile"), "/hostile");
        assert_eq!(Paths::default().strip_root("/boot"), "/boot");
        assert_eq!(paths.root("/etc/os-release"), PathBuf::from("/host/etc/os-release"));
    }
}
