//! Reading procfs and sysfs files cheaply, private to [`crate::scrape`]: which files are kept
//! open from one scrape to the next, how each one's end is recognised without the read(2)
//! that returns 0, and the read buffers. A collector never sees any of it: it calls
//! [`crate::Scrape::read`] and this module works the file's shape out from where it is.
//!
//! Everything here belongs to one running exporter ([`KernelFiles`], held by its
//! [`crate::Engine`]): two exporters in one process share no descriptor and no buffer.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::collector::CollectError;
use crate::fasthash::FastMap;

/// How the kernel hands out a file, which says when a read shorter than asked has reached
/// the end. Without it a reader must read until read(2) returns 0: one more system call per
/// file, and for a seq_file over a table (`/proc/net/udp`) one more walk of the whole table,
/// as the kernel looks for the record after the last one from the start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
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

/// The procfs seq_files (relative to `--path.procfs`) whose records have a known bound,
/// each from the kernel's format with every field at its widest, rounded up. A file that is
/// neither here nor in [`ONE_RECORD`] is read until read(2) returns 0: correct for any
/// file, one system call dearer. The bound lives here, beside the reader that relies on it,
/// so that no call site can pass one too small and silently cut a file short.
const RECORDS: &[(&str, usize)] = &[
    ("diskstats", 512),
    ("vmstat", 128),
    ("net/arp", 256),
    ("net/softnet_stat", 256),
    ("net/stat/nf_conntrack", 256),
    // 158 bytes for IPv4 (fixed-width fields, every number at its widest), 210 for IPv6.
    ("net/udp", 256),
    ("net/udp6", 256),
];

/// The procfs files printed whole by `single_open` (relative to `--path.procfs`).
const ONE_RECORD: &[&str] = &[
    "loadavg",
    "meminfo",
    "stat",
    "net/netstat",
    "net/snmp",
    "net/snmp6",
    "net/sockstat",
    "net/sockstat6",
    "pressure/cpu",
    "pressure/io",
    "pressure/memory",
    "pressure/irq",
];

/// The smallest buffer the kernel fills for one read of a seq_file: a page.
const SEQ_BUFFER: usize = 4096;

/// The first read of a [`Shape::Sysctl`] file: more than any value the exporters read.
const SYSCTL_READ: usize = 1024;

/// What a buffer keeps between reads; a larger file's buffer is dropped.
const KEEP_BUFFER: usize = 256 * 1024;

/// The first read's size: all of most `/proc` and `/sys` files.
const FIRST_READ: usize = 16 * 1024;

/// At most this many files are kept (the exporters read a few dozen per scrape).
const MAX_KEPT: usize = 256;

/// At most this many idle buffers are kept: one per thread reading at once.
const MAX_BUFFERS: usize = 8;

impl Shape {
    /// The shape of `path`, a file on procfs (`procfs` is the tree's root) or sysfs
    /// (`on_sysfs`).
    fn of(path: &Path, procfs: &Path, on_sysfs: bool) -> Shape {
        if on_sysfs {
            // A sysfs attribute is printed whole into one page.
            return Shape::OneRecord;
        }
        let Ok(rel) = path.strip_prefix(procfs) else {
            return Shape::Plain;
        };
        if rel.starts_with("sys") {
            return Shape::Sysctl;
        }
        if let Some(&(_, max)) = RECORDS.iter().find(|(name, _)| rel == Path::new(name)) {
            return Shape::Records(max);
        }
        if ONE_RECORD.iter().any(|name| rel == Path::new(name)) {
            return Shape::OneRecord;
        }
        Shape::Plain
    }

    /// Whether a read that asked for `asked` bytes and got `got` (> 0) reached the end.
    pub(crate) fn ends_at(self, asked: usize, got: usize) -> bool {
        got < asked
            && match self {
                Shape::Plain => false,
                Shape::OneRecord | Shape::Sysctl => true,
                Shape::Records(max) => got.saturating_add(max) < SEQ_BUFFER,
            }
    }
}

/// Kernel files kept open from one scrape to the next, and the read buffers. A procfs or
/// sysfs file read again from offset 0 is printed anew (a seq_file starts over, a sysctl
/// handler runs again), so each scrape saves the open(2) and close(2), and the path walk, of
/// every file it keeps: the procfs files whose shape is known (never a regular file, which
/// may be replaced by another). A kept file whose object the kernel removed (a module unloaded, a
/// device gone) fails its next read and is opened again by path.
#[derive(Debug, Default)]
pub(crate) struct KernelFiles {
    kept: Mutex<FastMap<PathBuf, (std::fs::File, Shape)>>,
    /// Buffers zeroed once and reused: `/proc` and `/sys` files report size 0, so
    /// `std::fs::read` would ask their size, then start with 32-byte reads and double (a
    /// seq_file such as `/proc/net/udp` is walked again on every read). One large first
    /// read into a kept buffer gets most files in one call.
    buffers: Mutex<Vec<Vec<u8>>>,
}

impl KernelFiles {
    /// The kept file for `path`, taken out while it is read: another thread reading the
    /// same path meanwhile opens its own.
    fn take(&self, path: &Path) -> Option<(std::fs::File, Shape)> {
        self.kept.lock().ok()?.remove(path)
    }

    fn put(&self, path: &Path, file: std::fs::File, shape: Shape) {
        let Ok(mut kept) = self.kept.lock() else { return };
        if kept.len() < MAX_KEPT && !kept.contains_key(path) {
            kept.insert(path.to_path_buf(), (file, shape));
        }
    }

    /// Whether `path` is kept open (for tests).
    #[cfg(test)]
    pub(crate) fn keeps(&self, path: &Path) -> bool {
        self.kept.lock().is_ok_and(|k| k.contains_key(path))
    }

    /// `f` over the text of `path` (under the procfs tree `procfs`): read from its kept
    /// descriptor when one is kept, else from `open()`, and then kept when it is on procfs
    /// or sysfs. A kept file that fails (its device or module went away) is dropped and
    /// opened anew.
    pub(crate) fn text<R>(
        &self,
        path: &Path,
        procfs: &Path,
        open: impl FnOnce() -> io::Result<std::fs::File>,
        f: impl Fn(&str) -> R,
    ) -> Result<R, CollectError> {
        if let Some((file, shape)) = self.take(path) {
            if let Ok(r) = self.read(path, &file, shape, &f) {
                self.put(path, file, shape);
                return Ok(r);
            }
        }
        let file = open().map_err(|e| CollectError::io(path, e))?;
        let on = kernel_fs(&file);
        let on_sysfs = on == Some(true);
        let shape = on.map_or(Shape::Plain, |on_sysfs| Shape::of(path, procfs, on_sysfs));
        let r = self.read(path, &file, shape, &f)?;
        // Kept: the procfs files of the tables and the sysctls, fixed paths read at every
        // scrape. Not sysfs attributes, though their shape is known: many belong to devices
        // that come and go (a veth, a USB disk), and a kept one would hold its slot after
        // its device is gone, as no read of its path comes to drop it.
        if shape != Shape::Plain && !on_sysfs {
            self.put(path, file, shape);
        }
        Ok(r)
    }

    /// Reads `file` whole into a kept buffer and hands its text to `f`.
    fn read<R>(
        &self,
        path: &Path,
        file: &std::fs::File,
        shape: Shape,
        f: impl FnOnce(&str) -> R,
    ) -> Result<R, CollectError> {
        let mut buf = self.buffers.lock().ok().and_then(|mut b| b.pop()).unwrap_or_default();
        let result = read_into(path, file, shape, &mut buf).map(|filled| text_of(&buf[..filled], f));
        if buf.len() <= KEEP_BUFFER {
            if let Ok(mut buffers) = self.buffers.lock() {
                if buffers.len() < MAX_BUFFERS {
                    buffers.push(buf);
                }
            }
        }
        result
    }
}

/// Reads a file outside any scrape (no kept descriptor, a buffer of its own), as text
/// (lossy UTF-8), with the path in the error.
pub(crate) fn read_text(path: &Path) -> Result<String, CollectError> {
    let file = std::fs::File::open(path).map_err(|e| CollectError::io(path, e))?;
    let mut buf = Vec::new();
    let filled = read_into(path, &file, Shape::Plain, &mut buf)?;
    Ok(text_of(&buf[..filled], str::to_owned))
}

fn text_of<R>(bytes: &[u8], f: impl FnOnce(&str) -> R) -> R {
    match std::str::from_utf8(bytes) {
        Ok(text) => f(text),
        Err(_) => f(&String::from_utf8_lossy(bytes)),
    }
}

/// `Some(true)` for a file on sysfs, `Some(false)` on procfs, `None` elsewhere: only those
/// two print their files anew at each read.
fn kernel_fs(file: &std::fs::File) -> Option<bool> {
    const SYSFS_MAGIC: rustix::fs::FsWord = 0x6265_6572;
    let fs = rustix::fs::fstatfs(file).ok()?;
    match fs.f_type {
        SYSFS_MAGIC => Some(true),
        rustix::fs::PROC_SUPER_MAGIC => Some(false),
        _ => None,
    }
}

/// Reads `file` from offset 0 (pread, so that a kept file is read from its start) into
/// `buf`, growing it, until its shape says the end is reached; returns the length read.
pub(crate) fn read_into(
    path: &Path,
    file: &std::fs::File,
    shape: Shape,
    buf: &mut Vec<u8>,
) -> Result<usize, CollectError> {
    use std::os::unix::fs::FileExt as _;
    if buf.len() < FIRST_READ {
        buf.resize(FIRST_READ, 0);
    }
    let mut filled = 0;
    loop {
        if filled == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let end = if filled == 0 && shape == Shape::Sysctl { SYSCTL_READ } else { buf.len() };
        match file.read_at(&mut buf[filled..end], filled as u64) {
            Ok(0) => return Ok(filled),
            Ok(n) => {
                let asked = end - filled;
                filled += n;
                if shape.ends_at(asked, n) {
                    return Ok(filled);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(CollectError::io(path, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            let mut buf = Vec::new();
            let n = read_into(&file, &std::fs::File::open(&file).unwrap(), shape, &mut buf).unwrap();
            assert_eq!(&buf[..n], text.as_bytes(), "{shape:?}");
        }
    }

    #[test]
    fn the_shape_is_worked_out_from_where_the_file_is() {
        let proc = Path::new("/host/proc");
        let of = |rel: &str| Shape::of(&proc.join(rel), proc, false);
        assert_eq!(of("sys/fs/file-nr"), Shape::Sysctl);
        assert_eq!(of("net/udp"), Shape::Records(256));
        assert_eq!(of("diskstats"), Shape::Records(512));
        assert_eq!(of("meminfo"), Shape::OneRecord);
        // Unknown, or a process's file: read to the end.
        assert_eq!(of("mounts"), Shape::Plain);
        assert_eq!(of("net/stat/arp_cache"), Shape::Plain);
        assert_eq!(of("4242/stat"), Shape::Plain);
        assert_eq!(Shape::of(Path::new("/proc/meminfo"), proc, false), Shape::Plain, "outside --path.procfs");
        assert_eq!(Shape::of(Path::new("/sys/class/net/lo/mtu"), proc, true), Shape::OneRecord);
    }

    #[test]
    fn every_listed_seq_file_has_records_within_its_bound() {
        // On this machine: each file's longest line is shorter than its bound.
        for (name, max) in RECORDS {
            let Ok(text) = std::fs::read_to_string(Path::new("/proc").join(name)) else { continue };
            assert!(text.lines().all(|l| l.len() < *max), "{name}");
        }
    }
}
