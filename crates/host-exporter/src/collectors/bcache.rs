//! `/sys/fs/bcache/<uuid>/…` → `node_bcache_*` (node_exporter "bcache" names).
//!
//! Per cache set (`uuid`), per backing device (`backing_device`, the set's `bdev<N>` name)
//! and per cache device (`cache_device`, `cache<N>`), as node_exporter 1.5 reads them with
//! procfs: sizes are the kernel's human-readable values (`1.5M`) turned back into numbers the
//! way procfs does (a fraction digit counts 1/10.24 of the unit), and
//! `btree_read_average_duration_seconds` is the kernel's microsecond value × 1e-9, exactly as
//! 1.5 scales it. A missing attribute reads as 0; a missing `writeback_rate_debug` (or
//! `priority_stats`, with `--collector.bcache.priorityStats`) fails the collector. No
//! `/sys/fs/bcache`, or no cache set, succeeds with no samples (this VM).

use std::path::Path;

use clap::{Arg, ArgAction, Command};
use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

/// The registration.
pub const REG: Registration = Registration {
    name: "bcache",
    default_enabled: true,
    help: "Exposes bcache statistics from /sys/fs/bcache/.",
    args,
    build: |m| Ok(Box::new(Bcache { priority_stats: m.get_flag(PRIORITY) })),
};

const PRIORITY: &str = "collector.bcache.priorityStats";

fn args(cmd: Command) -> Command {
    cmd.arg(Arg::new(PRIORITY).long(PRIORITY).action(ArgAction::SetTrue).help("Expose expensive priority stats."))
}

const SET: &[&str] = &["uuid"];
const BDEV: &[&str] = &["uuid", "backing_device"];
const CACHE: &[&str] = &["uuid", "cache_device"];

/// Cache-set attributes: file (relative to the set), family, factor.
const SET_STATS: [(&str, Desc, f64); 10] = [
    ("average_key_size", Desc::gauge("node_bcache_average_key_size_sectors", "Average data per btree key, in sectors.", SET), 1.0),
    ("btree_cache_size", Desc::gauge("node_bcache_btree_cache_size_bytes", "Memory used by the btree cache, in bytes.", SET), 1.0),
    (
        "cache_available_percent",
        Desc::gauge("node_bcache_cache_available_percent", "Percentage of the cache free of dirty data.", SET),
        1.0,
    ),
    ("congested", Desc::gauge("node_bcache_congested", "Congestion of the cache set.", SET), 1.0),
    ("root_usage_percent", Desc::gauge("node_bcache_root_usage_percent", "Percentage of the btree root node in use.", SET), 1.0),
    ("tree_depth", Desc::gauge("node_bcache_tree_depth", "Depth of the btree.", SET), 1.0),
    (
        "internal/active_journal_entries",
        Desc::gauge("node_bcache_active_journal_entries", "Journal entries newer than the index.", SET),
        1.0,
    ),
    ("internal/btree_nodes", Desc::gauge("node_bcache_btree_nodes", "Nodes in the btree.", SET), 1.0),
    (
        "internal/btree_read_average_duration_us",
        Desc::gauge("node_bcache_btree_read_average_duration_seconds", "Average btree read time (node_exporter 1.5's scaling).", SET),
        1e-9,
    ),
    (
        "internal/cache_read_races",
        Desc::counter("node_bcache_cache_read_races_total", "Cache reads whose bucket was reused while being read.", SET),
        1.0,
    ),
];

/// Backing-device `stats_total` counters.
const BDEV_TOTALS: [(&str, Desc); 7] = [
    ("bypassed", Desc::counter("node_bcache_bypassed_bytes_total", "Bytes of I/O that bypassed the cache.", BDEV)),
    ("cache_hits", Desc::counter("node_bcache_cache_hits_total", "Cache hits, per I/O.", BDEV)),
    ("cache_misses", Desc::counter("node_bcache_cache_misses_total", "Cache misses, per I/O.", BDEV)),
    ("cache_bypass_hits", Desc::counter("node_bcache_cache_bypass_hits_total", "Hits of I/O meant to bypass the cache.", BDEV)),
    ("cache_bypass_misses", Desc::counter("node_bcache_cache_bypass_misses_total", "Misses of I/O meant to bypass the cache.", BDEV)),
    (
        "cache_miss_collisions",
        Desc::counter("node_bcache_cache_miss_collisions_total", "Miss insertions that raced with a write of the same data.", BDEV),
    ),
    ("cache_readaheads", Desc::counter("node_bcache_cache_readaheads_total", "Readaheads done.", BDEV)),
];

const DIRTY_DATA: Desc = Desc::gauge("node_bcache_dirty_data_bytes", "Dirty data of the backing device in the cache, in bytes.", BDEV);
const DIRTY_TARGET: Desc = Desc::gauge("node_bcache_dirty_target_bytes", "Writeback's dirty-data target, in bytes.", BDEV);
const WB_RATE: Desc = Desc::gauge("node_bcache_writeback_rate", "Writeback rate, in bytes per second.", BDEV);
const WB_PROPORTIONAL: Desc =
    Desc::gauge("node_bcache_writeback_rate_proportional_term", "Proportional term of the writeback rate controller.", BDEV);
const WB_INTEGRAL: Desc = Desc::gauge("node_bcache_writeback_rate_integral_term", "Integral term of the writeback rate controller.", BDEV);
const WB_CHANGE: Desc = Desc::gauge("node_bcache_writeback_change", "Last change of the writeback rate.", BDEV);

const IO_ERRORS: Desc = Desc::gauge("node_bcache_io_errors", "Errors of the cache device, decayed over io_error_halflife.", CACHE);
const METADATA_WRITTEN: Desc =
    Desc::counter("node_bcache_metadata_written_bytes_total", "Bytes of metadata (btree and other) written to the cache.", CACHE);
const WRITTEN: Desc = Desc::counter("node_bcache_written_bytes_total", "Bytes of data written to the cache.", CACHE);
const PRIO_UNUSED: Desc = Desc::gauge("node_bcache_priority_stats_unused_percent", "Percentage of the cache holding no data.", CACHE);
const PRIO_METADATA: Desc = Desc::gauge("node_bcache_priority_stats_metadata_percent", "Percentage of the cache holding metadata.", CACHE);

/// A kernel "human readable" number (`bch_hprint`): digits, an optional one-digit fraction
/// and an optional unit letter k, M, G, T, P, E, Z or Y (powers of 1024), as procfs reads it.
pub fn dehumanize(s: &str) -> Result<u64, String> {
    let Some(&last) = s.as_bytes().last() else { return Err("empty value".into()) };
    let bad = || format!("invalid value {s:?}");
    if last <= b'9' {
        return s.parse::<f64>().map(|v| v as u64).map_err(|_| bad());
    }
    let shift = match last {
        b'k' => 10,
        b'M' => 20,
        b'G' => 30,
        b'T' => 40,
        b'P' => 50,
        b'E' => 60,
        b'Z' => 70,
        b'Y' => 80,
        _ => -1, // procfs multiplies by 0 for an unknown unit (after parsing the number)
    };
    let mut parts = s[..s.len() - 1].split('.');
    let int: f64 = parts.next().unwrap_or("").parse().map_err(|_| bad())?;
    let frac: f64 = match parts.next() {
        Some(f) => f.parse::<f64>().map_err(|_| bad())? / 10.24,
        None => 0.0,
    };
    let unit = if shift < 0 { 0.0 } else { 2f64.powi(shift) };
    Ok(((int + frac) * unit) as u64)
}

/// [`dehumanize`] with an optional leading `-`.
pub fn dehumanize_signed(s: &str) -> Result<i64, String> {
    let v = dehumanize(s.strip_prefix('-').unwrap_or(s))? as i64;
    Ok(if s.starts_with('-') { -v } else { v })
}

/// What node_exporter exposes of `writeback_rate_debug`: rate, target, proportional,
/// integral, change.
pub fn parse_writeback_rate_debug(text: &str) -> Result<[f64; 5], String> {
    let mut out = [0.0; 5];
    for (n, line) in text.lines().enumerate() {
        let last = line.split_ascii_whitespace().last().unwrap_or("");
        let at = |e: String| format!("line {}: {e}", n + 1);
        let (slot, v) = if line.starts_with("rate:") {
            (0, dehumanize(last.trim_end_matches("/sec")).map_err(at)? as f64)
        } else if line.starts_with("target:") {
            (1, dehumanize(last).map_err(at)? as f64)
        } else if line.starts_with("proportional:") {
            (2, dehumanize_signed(last).map_err(at)? as f64)
        } else if line.starts_with("integral:") {
            (3, dehumanize_signed(last).map_err(at)? as f64)
        } else if line.starts_with("change:") {
            (4, dehumanize_signed(last.trim_end_matches("/sec")).map_err(at)? as f64)
        } else {
            continue;
        };
        out[slot] = v;
    }
    Ok(out)
}

/// `priority_stats`: the unused and metadata percentages.
pub fn parse_priority_stats(text: &str) -> Result<[f64; 2], String> {
    let mut out = [0.0; 2];
    for (n, line) in text.lines().enumerate() {
        let slot = if line.starts_with("Unused:") {
            0
        } else if line.starts_with("Metadata:") {
            1
        } else {
            continue;
        };
        let last = line.split_ascii_whitespace().last().unwrap_or("").trim_end_matches('%');
        out[slot] = last.parse::<u64>().map_err(|_| format!("line {}: invalid percentage {last:?}", n + 1))? as f64;
    }
    Ok(out)
}

/// A numeric attribute: 0 if the file does not exist.
fn value(path: &Path) -> Result<f64, CollectError> {
    match vigie_kit::scrape::read_text(path) {
        Ok(text) => dehumanize(text.strip_suffix('\n').unwrap_or(&text)).map(|v| v as f64).map_err(|e| CollectError::parse(path, e)),
        Err(e) if e.is_not_found() => Ok(0.0),
        Err(e) => Err(e),
    }
}

/// Sorted names in `dir` accepted by `keep`.
fn list(cx: &Scrape, dir: &Path, keep: impl Fn(&str) -> bool) -> Result<Vec<String>, CollectError> {
    let mut names = Vec::new();
    for entry in cx.read_dir(dir).map_err(|e| CollectError::io(dir, e))? {
        let name = entry.map_err(|e| CollectError::io(dir, e))?.file_name().to_string_lossy().into_owned();
        if keep(&name) {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// `prefix` followed by a digit (procfs's `bdev[0-9]*` and `cache[0-9]*` globs).
fn numbered(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix).is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
}

/// Reads `/sys/fs/bcache`.
pub struct Bcache {
    priority_stats: bool,
}

impl SyncCollector for Bcache {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let root = cx.paths.sys("fs/bcache");
        let sets = match list(cx, &root, |n| n.contains('-')) {
            Err(e) if e.is_not_found() => return Ok(()),
            other => other?,
        };
        for uuid in &sets {
            let set = root.join(uuid);
            for (file, desc, factor) in &SET_STATS {
                out.add(desc, &[uuid], value(&set.join(file))? * factor);
            }
            for bdev in list(cx, &set, |n| numbered(n, "bdev"))? {
                let dir = set.join(&bdev);
                let labels = [uuid.as_str(), bdev.as_str()];
                out.add(&DIRTY_DATA, &labels, value(&dir.join("dirty_data"))?);
                let path = dir.join("writeback_rate_debug");
                let text = vigie_kit::scrape::read_text(&path)?;
                let wb = parse_writeback_rate_debug(&text).map_err(|e| CollectError::parse(&path, e))?;
                for (desc, v) in [&DIRTY_TARGET, &WB_RATE, &WB_PROPORTIONAL, &WB_INTEGRAL, &WB_CHANGE].into_iter().zip([wb[1], wb[0], wb[2], wb[3], wb[4]]) {
                    out.add(desc, &labels, v);
                }
                for (file, desc) in &BDEV_TOTALS {
                    out.add(desc, &labels, value(&dir.join("stats_total").join(file))?);
                }
            }
            for cache in list(cx, &set, |n| numbered(n, "cache"))? {
                let dir = set.join(&cache);
                let labels = [uuid.as_str(), cache.as_str()];
                out.add(&IO_ERRORS, &labels, value(&dir.join("io_errors"))?);
                out.add(&METADATA_WRITTEN, &labels, value(&dir.join("metadata_written"))?);
                out.add(&WRITTEN, &labels, value(&dir.join("written"))?);
                if self.priority_stats {
                    let path = dir.join("priority_stats");
                    let text = vigie_kit::scrape::read_text(&path)?;
                    let p = parse_priority_stats(&text).map_err(|e| CollectError::parse(&path, e))?;
                    out.add(&PRIO_UNUSED, &labels, p[0]);
                    out.add(&PRIO_METADATA, &labels, p[1]);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UUID: &str = "deaddd54-c735-46d5-868e-f331c5fd7c74";

    #[test]
    fn human_numbers() {
        assert_eq!(dehumanize("542"), Ok(542));
        assert_eq!(dehumanize("1.5k"), Ok(1024 + (5.0 / 10.24 * 1024.0) as u64));
        assert_eq!(dehumanize("2M"), Ok(2 << 20));
        assert_eq!(dehumanize("3x"), Ok(0));
        assert!(dehumanize("").is_err() && dehumanize("a.bk").is_err());
        assert_eq!(dehumanize_signed("-2k"), Ok(-2048));
        let wb = parse_writeback_rate_debug(
            "rate:\t\t1.1M/sec\ndirty:\t\t20.4G\ntarget:\t\t20.4G\nproportional:\t427.5k\nintegral:\t-790.0k\nchange:\t\t321.5k/sec\nnext io:\t17ms\n",
        )
        .unwrap();
        assert_eq!(wb[0], ((1.0 + 1.0 / 10.24) * 1048576.0) as u64 as f64);
        assert_eq!(wb[3], -808960.0);
        assert!(parse_writeback_rate_debug("rate: x/sec\n").unwrap_err().contains("line 1"));
        assert_eq!(parse_priority_stats("Unused:\t\t99%\nClean:\t\t0%\nMetadata:\t0%\n"), Ok([99.0, 0.0]));
        assert!(parse_priority_stats("Unused: x%\n").is_err());
    }

    #[test]
    fn fixture_tree() {
        let text = crate::collectors::fixture_text(&Bcache { priority_stats: true }).unwrap();
        let want = [
            format!("node_bcache_average_key_size_sectors{{uuid=\"{UUID}\"}} 0\n"),
            format!("node_bcache_btree_cache_size_bytes{{uuid=\"{UUID}\"}} 1.048576e+06\n"),
            format!("node_bcache_cache_available_percent{{uuid=\"{UUID}\"}} 100\n"),
            format!("node_bcache_btree_nodes{{uuid=\"{UUID}\"}} 2\n"),
            format!("node_bcache_btree_read_average_duration_seconds{{uuid=\"{UUID}\"}} 1.4000000000000001e-05\n"),
            format!("node_bcache_dirty_data_bytes{{backing_device=\"bdev0\",uuid=\"{UUID}\"}} 0\n"),
            format!("node_bcache_writeback_rate{{backing_device=\"bdev0\",uuid=\"{UUID}\"}} 4096\n"),
            format!("node_bcache_dirty_target_bytes{{backing_device=\"bdev0\",uuid=\"{UUID}\"}} 1.2582912e+07\n"),
            format!("node_bcache_writeback_rate_integral_term{{backing_device=\"bdev0\",uuid=\"{UUID}\"}} -512\n"),
            format!("node_bcache_cache_hits_total{{backing_device=\"bdev0\",uuid=\"{UUID}\"}} 546\n"),
            format!("node_bcache_bypassed_bytes_total{{backing_device=\"bdev0\",uuid=\"{UUID}\"}} 5.24288e+06\n"),
            format!("node_bcache_written_bytes_total{{cache_device=\"cache0\",uuid=\"{UUID}\"}} 1.2582912e+07\n"),
            format!("node_bcache_io_errors{{cache_device=\"cache0\",uuid=\"{UUID}\"}} 0\n"),
            format!("node_bcache_priority_stats_unused_percent{{cache_device=\"cache0\",uuid=\"{UUID}\"}} 99\n"),
        ];
        for line in &want {
            assert!(text.contains(line.as_str()), "missing {line}in\n{text}");
        }
        let plain = crate::collectors::fixture_text(&Bcache { priority_stats: false }).unwrap();
        assert!(!plain.contains("priority_stats") && plain.contains("node_bcache_written_bytes_total"), "{plain}");
    }

    #[test]
    fn flag_and_absent_tree() {
        let m = args(Command::new("t")).try_get_matches_from(["t", "--collector.bcache.priorityStats"]).unwrap();
        assert!(m.get_flag(PRIORITY));
        let dir = tempfile::tempdir().unwrap();
        let paths = vigie_kit::Paths { sysfs: dir.path().into(), ..crate::collectors::fixtures() };
        let (set, result) = vigie_kit::scheduler::collect_once(&Bcache { priority_stats: false }, crate::collectors::fresh(&paths));
        assert!(result.is_ok() && set.sample_count() == 0, "{result:?}");
        // A backing device without writeback_rate_debug fails, naming the file.
        std::fs::create_dir_all(dir.path().join("fs/bcache/a-b/bdev0")).unwrap();
        let (_, result) = vigie_kit::scheduler::collect_once(&Bcache { priority_stats: false }, paths);
        let err = result.unwrap_err().to_string();
        assert!(err.contains("bdev0/writeback_rate_debug"), "{err}");
    }
}
