//! Following one log file as `tail -F` does, without losing or repeating a line when it is
//! rotated. Polled: each [`Follower::poll`] reads what was appended since the last one.
//!
//! - Rotation by rename (logrotate's default, then `nginx -s reopen`): the path names a new
//!   file. The old one stays open and is read until it has been idle for [`GRACE`], since
//!   nginx workers keep writing to it until each has reopened its logs; the new file is read
//!   from its start.
//! - Truncation (`copytruncate`, `: > access.log`): the file is shorter than what was read,
//!   or the bytes just before the read offset changed. Lines appended after the last poll
//!   and before the truncation are then only in the copy: a sibling `NAME.1`/`NAME-…` whose
//!   bytes before that offset are the ones read is read from the offset to its end. Then the
//!   file is read again from its start.
//! - A file that does not exist yet is waited for, then read from its start. A file present
//!   when the exporter starts is read from its end (or from its start, if asked), as the
//!   incumbent does.
//!
//! Lines are cut at `\n`; one longer than [`MAX_LINE`] is skipped whole and reported as
//! [`Line::Broken`], as is a partial line cut by a rotation, so memory stays bounded.

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::{FileExt as _, MetadataExt as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use memchr::memchr;

/// Longest line kept; a longer one is counted as malformed, never buffered whole.
pub const MAX_LINE: usize = 64 * 1024;

/// How long a renamed-away file is still read after its last growth.
pub const GRACE: Duration = Duration::from_secs(30);

/// Bytes before the read offset kept to recognise the same file (or its copy) later.
const RECENT: usize = 256;

/// Bytes read per `read_at`.
const CHUNK: usize = 1 << 20;

/// What the follower hands over.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// A whole line, without its `\n`.
    Full(&'a [u8]),
    /// A line over [`MAX_LINE`], or one cut short by a rotation.
    Broken,
}

/// What one poll did.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress {
    /// The read budget was used up: poll again at once.
    More,
    /// Everything written so far was read.
    CaughtUp,
    /// The file does not exist (yet).
    Missing,
}

/// One open file and where reading it stands.
struct Open {
    file: File,
    id: (u64, u64),
    offset: u64,
    partial: Vec<u8>,
    skipping: bool,
    recent: Vec<u8>,
    grew: Instant,
}

impl Open {
    fn at(path: &Path, at_end: bool) -> io::Result<Open> {
        let file = File::open(path)?;
        let meta = file.metadata()?;
        let offset = if at_end { meta.len() } else { 0 };
        let mut open = Open {
            file,
            id: (meta.dev(), meta.ino()),
            offset,
            partial: Vec::new(),
            skipping: false,
            recent: Vec::new(),
            grew: Instant::now(),
        };
        if offset > 0 {
            let from = offset.saturating_sub(RECENT as u64);
            open.recent = read_exact_at(&open.file, from, (offset - from) as usize)?;
        }
        Ok(open)
    }

    /// Reads up to `budget` bytes from the offset; returns how many were read.
    fn read(&mut self, budget: usize, buf: &mut Vec<u8>, sink: &mut dyn FnMut(Line<'_>)) -> io::Result<usize> {
        let mut total = 0;
        while total < budget {
            buf.resize(CHUNK.min(budget - total), 0);
            let n = self.file.read_at(buf, self.offset)?;
            if n == 0 {
                break;
            }
            self.offset += n as u64;
            self.feed(&buf[..n], sink);
            total += n;
        }
        if total > 0 {
            self.grew = Instant::now();
        }
        Ok(total)
    }

    fn feed(&mut self, data: &[u8], sink: &mut dyn FnMut(Line<'_>)) {
        let mut rest = data;
        while let Some(nl) = memchr(b'\n', rest) {
            let piece = &rest[..nl];
            if self.skipping || self.partial.len() + piece.len() > MAX_LINE {
                sink(Line::Broken);
            } else if self.partial.is_empty() {
                sink(Line::Full(piece));
            } else {
                self.partial.extend_from_slice(piece);
                sink(Line::Full(&self.partial));
            }
            self.partial.clear();
            self.skipping = false;
            rest = &rest[nl + 1..];
        }
        if !self.skipping {
            if self.partial.len() + rest.len() > MAX_LINE {
                self.partial.clear();
                self.skipping = true;
            } else {
                self.partial.extend_from_slice(rest);
            }
        }
        if data.len() >= RECENT {
            self.recent.clear();
            self.recent.extend_from_slice(&data[data.len() - RECENT..]);
        } else {
            self.recent.extend_from_slice(data);
            let extra = self.recent.len().saturating_sub(RECENT);
            self.recent.drain(..extra);
        }
    }

    /// A partial line left at the end of a file that will not grow again.
    fn finish(&mut self, sink: &mut dyn FnMut(Line<'_>)) {
        if !self.partial.is_empty() || self.skipping {
            sink(Line::Broken);
        }
        self.partial.clear();
        self.skipping = false;
    }

    /// Whether `other` holds, just before our offset, the bytes we read last.
    fn continues_in(&self, other: &File, len: u64) -> bool {
        if len < self.offset {
            return false;
        }
        let from = self.offset - self.recent.len() as u64;
        read_exact_at(other, from, self.recent.len()).is_ok_and(|b| b == self.recent)
    }
}

fn read_exact_at(file: &File, at: u64, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0; len];
    file.read_exact_at(&mut buf, at)?;
    Ok(buf)
}

/// Follows one path.
pub struct Follower {
    path: PathBuf,
    cur: Option<Open>,
    old: Option<Open>,
    /// Whether the path was looked at once (a file there at start is read from its end).
    started: bool,
    from_start: bool,
    buf: Vec<u8>,
}

impl Follower {
    /// Follows `path`; with `from_start`, a file already there is read from its start.
    pub fn new(path: PathBuf, from_start: bool) -> Follower {
        Follower { path, cur: None, old: None, started: false, from_start, buf: Vec::new() }
    }

    /// Reads what was appended (at most about `budget` bytes) and hands each line to `sink`.
    pub fn poll(&mut self, budget: usize, sink: &mut dyn FnMut(Line<'_>)) -> io::Result<Progress> {
        let mut more = false;
        if let Some(old) = &mut self.old {
            let n = old.read(budget, &mut self.buf, sink)?;
            more |= n >= budget;
            if n == 0 && old.grew.elapsed() > GRACE {
                old.finish(sink);
                self.old = None;
            }
        }
        let first = !std::mem::replace(&mut self.started, true);
        let meta = match fs::metadata(&self.path) {
            Ok(m) => Some(m),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        match (&mut self.cur, meta) {
            (None, None) => return Ok(Progress::Missing),
            (None, Some(_)) => match Open::at(&self.path, first && !self.from_start) {
                Ok(o) => self.cur = Some(o),
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Progress::Missing),
                Err(e) => return Err(e),
            },
            // Renamed away, the new file not there yet: keep reading the old one.
            (Some(_), None) => {}
            (Some(cur), Some(meta)) if cur.id != (meta.dev(), meta.ino()) => {
                // Renamed: whatever is left in the old file is read before the new one.
                cur.read(usize::MAX, &mut self.buf, sink)?;
                if let Some(mut older) = self.old.take() {
                    older.read(usize::MAX, &mut self.buf, sink)?;
                    older.finish(sink);
                }
                self.old = self.cur.take();
                match Open::at(&self.path, false) {
                    Ok(o) => self.cur = Some(o),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
            (Some(cur), Some(meta)) => {
                if !cur.continues_in(&cur.file, meta.len()) {
                    self.recover_truncated(sink);
                }
            }
        }
        if let Some(cur) = &mut self.cur {
            more |= cur.read(budget, &mut self.buf, sink)? >= budget;
        }
        Ok(if more { Progress::More } else { Progress::CaughtUp })
    }

    /// The current file was truncated: read the rest from its copy, if one is found, then
    /// start over at offset 0.
    fn recover_truncated(&mut self, sink: &mut dyn FnMut(Line<'_>)) {
        let Some(cur) = &mut self.cur else { return };
        if let Some(copy) = find_copy(&self.path, cur) {
            // The copy is complete (copied, then truncated): read it to its end.
            let mut from_copy = Open {
                file: copy,
                id: (0, 0),
                offset: cur.offset,
                partial: std::mem::take(&mut cur.partial),
                skipping: cur.skipping,
                recent: Vec::new(),
                grew: Instant::now(),
            };
            if let Err(e) = from_copy.read(usize::MAX, &mut self.buf, sink) {
                tracing::warn!(file = %self.path.display(), err = %e, "Reading the truncated log's copy failed.");
            }
            from_copy.finish(sink);
        } else {
            cur.finish(sink);
        }
        cur.offset = 0;
        cur.partial.clear();
        cur.skipping = false;
        cur.recent.clear();
    }
}

/// The copy `copytruncate` made of `cur`'s file: a sibling named `NAME.…` or `NAME-…`, not
/// compressed, whose bytes just before `cur`'s offset are the ones `cur` read last.
fn find_copy(path: &Path, cur: &Open) -> Option<File> {
    let name = path.file_name()?.to_str()?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let compressed = [".gz", ".bz2", ".xz", ".zst"];
    for entry in fs::read_dir(dir).ok()?.flatten() {
        let file_name = entry.file_name();
        let Some(other) = file_name.to_str() else { continue };
        let Some(suffix) = other.strip_prefix(name) else { continue };
        if !(suffix.starts_with('.') || suffix.starts_with('-')) || compressed.iter().any(|c| suffix.ends_with(c)) {
            continue;
        }
        let Ok(file) = File::open(entry.path()) else { continue };
        let Ok(meta) = file.metadata() else { continue };
        if (meta.dev(), meta.ino()) != cur.id && cur.continues_in(&file, meta.len()) {
            return Some(file);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn lines(f: &mut Follower) -> Vec<String> {
        let mut out = Vec::new();
        while {
            let p = f
                .poll(1 << 20, &mut |l| {
                    out.push(match l {
                        Line::Full(b) => String::from_utf8_lossy(b).into_owned(),
                        Line::Broken => "<broken>".to_owned(),
                    })
                })
                .unwrap();
            p == Progress::More
        } {}
        out
    }

    fn append(path: &Path, text: &str) {
        fs::OpenOptions::new().create(true).append(true).open(path).unwrap().write_all(text.as_bytes()).unwrap();
    }

    #[test]
    fn starts_at_end_then_reads_appends_and_partial_lines() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("access.log");
        append(&log, "old 1\nold 2\n");
        let mut f = Follower::new(log.clone(), false);
        assert!(lines(&mut f).is_empty());
        append(&log, "a\nb");
        assert_eq!(lines(&mut f), ["a"]);
        append(&log, "c\n");
        assert_eq!(lines(&mut f), ["bc"]);
        let mut again = Follower::new(log, true);
        assert_eq!(lines(&mut again), ["old 1", "old 2", "a", "bc"]);
    }

    #[test]
    fn missing_file_appears_later_and_is_read_from_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("later.log");
        let mut f = Follower::new(log.clone(), false);
        assert_eq!(f.poll(100, &mut |_| {}).unwrap(), Progress::Missing);
        append(&log, "first\n");
        assert_eq!(lines(&mut f), ["first"]);
    }

    #[test]
    fn rename_rotation_reads_the_old_files_tail_then_the_new_file() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("access.log");
        append(&log, "");
        let mut f = Follower::new(log.clone(), false);
        assert!(lines(&mut f).is_empty());
        append(&log, "1\n");
        assert_eq!(lines(&mut f), ["1"]);
        append(&log, "2\n");
        fs::rename(&log, dir.path().join("access.log.1")).unwrap();
        // A worker that has not reopened yet still writes to the renamed file.
        append(&dir.path().join("access.log.1"), "3\n");
        assert_eq!(lines(&mut f), ["2", "3"]);
        append(&log, "4\n");
        append(&dir.path().join("access.log.1"), "5\n");
        let mut got = lines(&mut f);
        got.sort();
        assert_eq!(got, ["4", "5"]);
        append(&log, "6\n");
        assert_eq!(lines(&mut f), ["6"]);
    }

    #[test]
    fn copytruncate_reads_the_unread_tail_from_the_copy_once() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("access.log");
        append(&log, "");
        let mut f = Follower::new(log.clone(), false);
        assert!(lines(&mut f).is_empty());
        append(&log, "1\n2\n");
        assert_eq!(lines(&mut f), ["1", "2"]);
        append(&log, "3\n4\n");
        fs::copy(&log, dir.path().join("access.log.1")).unwrap();
        fs::OpenOptions::new().write(true).open(&log).unwrap().set_len(0).unwrap();
        append(&log, "5\n");
        assert_eq!(lines(&mut f), ["3", "4", "5"]);
        // Truncated and refilled past the old offset with other bytes between two polls.
        append(&log, "6\n");
        assert_eq!(lines(&mut f), ["6"]);
        fs::write(&log, "7777\n8\n").unwrap();
        assert_eq!(lines(&mut f), ["7777", "8"]);
    }

    #[test]
    fn overlong_lines_are_skipped_whole() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("access.log");
        append(&log, "");
        let mut f = Follower::new(log.clone(), false);
        assert!(lines(&mut f).is_empty());
        let big = "x".repeat(1 << 20);
        append(&log, &format!("a\n{big}"));
        assert_eq!(lines(&mut f), ["a"]);
        append(&log, &format!("{big}\nb\n"));
        assert_eq!(lines(&mut f), ["<broken>", "b"]);
    }
}
