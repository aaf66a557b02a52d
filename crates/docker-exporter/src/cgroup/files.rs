//! Reading one container's cgroup files cheaply: each controller directory is opened once
//! (`O_PATH`, one walk of the long `/sys/fs/cgroup/<ctrl>/<parent>/<id>` path) and kept with
//! the container ([`Handles`]), then every file is opened relative to it and read with plain `read(2)` calls into a reused buffer (no
//! `statx` for a size hint, no per-scrape path cache). Profiling showed the path walks, the
//! size-hint `statx` and the extra opens costing most of a scrape.
//!
//! A file or directory that is gone (`ENOENT`, or `ENODEV` from a removed cgroup) reads as
//! `None`: the container stopped mid-scrape, or the kernel lacks the file.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustix::fd::OwnedFd;
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use vigie_kit::CollectError;

use super::{Cgroup, Dirs};

/// A cgroup's directories, opened on first use and shared by every clone of the cgroup (the
/// snapshots of one container record); closed when the record goes. A directory that could
/// not be opened for want of descriptors is opened per scrape instead.
#[derive(Clone, Default)]
pub struct Handles(Arc<OnceLock<Vec<Handle>>>);

/// A directory and its descriptor, or why it could not be opened.
type Handle = (PathBuf, Result<OwnedFd, Errno>);

impl std::fmt::Debug for Handles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Handles")
    }
}

impl PartialEq for Handles {
    /// Open descriptors are not part of what a cgroup is.
    fn eq(&self, _: &Handles) -> bool {
        true
    }
}

fn open_dir(path: &Path) -> Result<OwnedFd, Errno> {
    rustix::fs::open(path, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
}

impl Handles {
    fn get(&self, cg: &Cgroup) -> &[Handle] {
        self.0.get_or_init(|| {
            let mut paths: Vec<&PathBuf> = match &cg.dirs {
                Dirs::V2(dir) => vec![dir],
                Dirs::V1(dirs) => dirs.values().collect(),
            };
            paths.sort();
            paths.dedup();
            paths.into_iter().map(|p| (p.clone(), open_dir(p))).collect()
        })
    }
}

/// One open controller directory, or why not.
enum Slot<'a> {
    Shared(&'a OwnedFd),
    Open(OwnedFd),
    Gone,
}

/// The cgroup files of one container, for one collector's pass.
pub struct Files<'a> {
    cg: &'a Cgroup,
    dirs: Vec<(&'a Path, Slot<'a>)>,
    buf: Vec<u8>,
}

/// Whether an error means "not there (any more)".
fn gone(e: Errno) -> bool {
    matches!(e, Errno::NOENT | Errno::NODEV)
}

impl<'a> Files<'a> {
    /// Nothing opened yet.
    pub fn new(cg: &'a Cgroup) -> Files<'a> {
        Files { cg, dirs: Vec::with_capacity(2), buf: Vec::with_capacity(4096) }
    }

    fn dir(&mut self, ctrl: &str) -> Result<Option<(usize, &'a Path)>, CollectError> {
        let path: &'a Path = match &self.cg.dirs {
            Dirs::V2(dir) => dir,
            Dirs::V1(dirs) => match dirs.get(ctrl) {
                Some(d) => d,
                None => return Ok(None),
            },
        };
        if let Some(at) = self.dirs.iter().position(|(p, _)| *p == path) {
            return Ok(Some((at, path)));
        }
        let cg: &'a Cgroup = self.cg;
        let shared = cg.handles.get(cg).iter().find(|(p, _)| p == path).map(|(_, fd)| fd);
        let slot = match shared {
            Some(Ok(fd)) => Slot::Shared(fd),
            Some(Err(e)) if gone(*e) => Slot::Gone,
            // Not kept (no descriptor was free then): open it for this pass.
            _ => match open_dir(path) {
                Ok(fd) => Slot::Open(fd),
                Err(e) if gone(e) => Slot::Gone,
                Err(e) => return Err(CollectError::io(path, e.into())),
            },
        };
        self.dirs.push((path, slot));
        Ok(Some((self.dirs.len() - 1, path)))
    }

    /// The text of `file` of controller `ctrl` (v1; ignored on v2), `None` when the
    /// controller is not mounted or the file or its cgroup is gone.
    pub fn read(&mut self, ctrl: &str, file: &str) -> Result<Option<&str>, CollectError> {
        let Some((at, path)) = self.dir(ctrl)? else { return Ok(None) };
        let dir = match &self.dirs[at].1 {
            Slot::Shared(fd) => *fd,
            Slot::Open(fd) => fd,
            Slot::Gone => return Ok(None),
        };
        let err = |e: Errno| CollectError::io(path.join(file), e.into());
        let fd = match rustix::fs::openat(dir, file, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()) {
            Ok(fd) => fd,
            Err(e) if gone(e) => return Ok(None),
            Err(e) => return Err(err(e)),
        };
        self.buf.clear();
        loop {
            if self.buf.capacity() - self.buf.len() < 1024 {
                self.buf.reserve(4096);
            }
            let spare = self.buf.capacity() - self.buf.len();
            match rustix::io::read(&fd, rustix::buffer::spare_capacity(&mut self.buf)) {
                Ok(0) => break,
                // A cgroup file is one seq_file record, which the kernel hands over whole when
                // the buffer holds it: a short read is the end (no second read for EOF).
                Ok(n) if n < spare => break,
                Ok(_) => {}
                Err(Errno::INTR) => {}
                Err(e) if gone(e) => return Ok(None),
                Err(e) => return Err(err(e)),
            }
        }
        Ok(Some(std::str::from_utf8(&self.buf).unwrap_or_default()))
    }

    /// [`Files::read`] of a one-value file, parsed ([`super::single`]).
    pub fn single(&mut self, ctrl: &str, file: &str) -> Result<Option<u64>, CollectError> {
        Ok(self.read(ctrl, file)?.and_then(super::single))
    }

    /// Whether the cgroup of `ctrl` is still there (a kept directory handle outlives the
    /// directory: look for its `cgroup.procs`).
    pub fn exists(&mut self, ctrl: &str) -> Result<bool, CollectError> {
        let Some((at, path)) = self.dir(ctrl)? else { return Ok(false) };
        let dir = match &self.dirs[at].1 {
            Slot::Shared(fd) => *fd,
            Slot::Open(fd) => fd,
            Slot::Gone => return Ok(false),
        };
        match rustix::fs::accessat(dir, "cgroup.procs", rustix::fs::Access::EXISTS, rustix::fs::AtFlags::empty()) {
            Ok(()) => Ok(true),
            Err(e) if gone(e) => Ok(false),
            Err(e) => Err(CollectError::io(path.join("cgroup.procs"), e.into())),
        }
    }
}

/// Reads a whole file at `path` (not a cgroup file: `/proc/<pid>/net/dev`) the same way;
/// `None` when it is gone.
pub fn read_path(path: &Path) -> Result<Option<String>, CollectError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound || e.raw_os_error() == Some(19) => Ok(None),
        Err(e) => Err(CollectError::io(path, e)),
    }
}
