//! What a collector gets for one scrape ([`Scrape`]) and where the host's files are
//! ([`Paths`]), with the small read API collectors use: [`Scrape::read`] (once per scrape,
//! kept-open kernel files, the end of each file found without an extra read),
//! [`Scrape::read_optional`] (a subsystem this host may lack), [`Scrape::read_dir`] and
//! [`Scrape::exists`] (directory listing), [`Scrape::shared`] (a value made once per scrape)
//! and [`blocking`] (a call that may hang, bounded by the deadline).
//!
//! How kernel files are read is private (`scrape::kernel`): a call site never says how long a
//! record is or whether a file is a sysctl.

use std::borrow::Cow;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::collector::CollectError;
use crate::engine::Engine;

pub(crate) mod kernel;

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
    pub(crate) started: Instant,
    /// The running exporter's state kept between scrapes: kept-open files, the collector
    /// thread.
    pub(crate) engine: Arc<Engine>,
}

impl<T> Scrape<T> {
    /// A scrape context ending at `deadline`, with an engine of its own: for a test or a
    /// one-off run. A running exporter's scrapes come from [`Engine::scrape`], which keeps
    /// files open from one scrape to the next.
    pub fn new(deadline: Instant, paths: Arc<Paths>, target: T) -> Scrape<T> {
        Arc::new(Engine::new(paths)).scrape(deadline, target)
    }

    /// A scrape of `engine`'s exporter ([`Engine::scrape`]).
    pub(crate) fn with_engine(engine: Arc<Engine>, deadline: Instant, target: T) -> Scrape<T> {
        let paths = engine.paths().clone();
        let scrape = paths.missing.next_scrape();
        Scrape {
            deadline,
            paths,
            target,
            files: Mutex::default(),
            shared: Mutex::default(),
            scrape,
            started: Instant::now(),
            engine,
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
    /// the first call's content. A procfs file whose format the kit knows is kept open for
    /// the next scrape and read without the read(2) that returns 0 (`scrape::kernel` knows their shapes).
    pub fn read(&self, path: impl AsRef<Path>) -> Result<Arc<str>, CollectError> {
        self.read_with(path.as_ref(), false)
    }

    /// [`Scrape::read`] of a file that belongs to a subsystem this host may lack (ZFS, md,
    /// NFS): one found missing is not opened again before [`Missing::RECHECK`] scrapes.
    /// Not for files that come and go with processes (`/proc/PID`): a PID is reused.
    pub fn read_optional(&self, path: impl AsRef<Path>) -> Result<Arc<str>, CollectError> {
        self.read_with(path.as_ref(), true)
    }

    fn read_with(&self, path: &Path, remember_missing: bool) -> Result<Arc<str>, CollectError> {
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
        let text: Arc<str> = self.engine.files.text(path, &self.paths.procfs, open, |t| Arc::from(t))?;
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

/// Reads a file as text (lossy UTF-8), with the path in the error, outside any scrape: no
/// per-scrape cache and no kept descriptor (a file read once at start-up, or by a helper that
/// has no [`Scrape`]).
pub fn read_text(path: &Path) -> Result<String, CollectError> {
    kernel::read_text(path)
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn kernel_files_kept_open_are_read_anew_and_regular_files_are_not_kept() {
        // A sysctl that prints a new value at every read, kept open by the engine.
        let uuid = PathBuf::from("/proc/sys/kernel/random/uuid");
        let engine = Arc::new(Engine::new(Arc::new(Paths::default())));
        let read = |path: &Path| engine.scrape(Instant::now(), ()).read(path).unwrap();
        let (first, second) = (read(&uuid), read(&uuid));
        assert!(first.len() == 37 && second.len() == 37 && first != second, "{first} {second}");
        assert!(engine.files.keeps(&uuid));
        // Another engine (another exporter in this process) keeps nothing of this one's.
        assert!(!Engine::new(Arc::new(Paths::default())).files.keeps(&uuid));
        // A regular file is opened at each scrape: it may have been replaced.
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        for text in ["one", "two"] {
            std::fs::write(&plain, text).unwrap();
            assert_eq!(&*read(&plain), text);
        }
        assert!(!engine.files.keeps(&plain));
    }

    #[test]
    fn a_missing_subsystem_is_looked_at_again_after_recheck_scrapes() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Arc::new(Paths { sysfs: dir.path().into(), ..Paths::default() });
        let file = dir.path().join("bonding_masters");
        let scrape = || Scrape::new(Instant::now(), paths.clone(), ());
        assert!(scrape().read_optional(&file).unwrap_err().is_not_found());
        std::fs::write(&file, "bond0\n").unwrap();
        // Plain reads always look; probes trust the memo until RECHECK scrapes have passed.
        assert_eq!(&*scrape().read(&file).unwrap(), "bond0\n");
        let mut seen_at = None;
        for n in 0..Missing::RECHECK + 2 {
            if scrape().read_optional(&file).is_ok() {
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
