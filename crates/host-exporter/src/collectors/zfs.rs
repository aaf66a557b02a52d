//! `/proc/spl/kstat/zfs/*` → `node_zfs_*` (node_exporter "zfs" names).
//!
//! The names are made the way node_exporter 1.5 makes them, not listed by hand: each uint64
//! (type 4) statistic `<stat>` of the kstat file `<file>` becomes the untyped family
//! `node_<subsystem>_<stat>`, where `<subsystem>` is node_exporter's name for the file
//! (`arcstats` → `zfs_arc`, see [`KSTATS`]) and `<stat>` keeps only what follows its last
//! `.`, with `-` turned into `_`. Per pool: `<pool>/io` gives `node_zfs_zpool_<column>`
//! {zpool}, each `<pool>/objset-*` gives `node_zfs_zpool_dataset_<stat>`{zpool, dataset}, and
//! `<pool>/state` gives `node_zfs_zpool_state`{zpool, state} (1 for the pool's state, 0 for
//! the five others).
//!
//! As in 1.5: no `spl/kstat/zfs` directory is "no data" (success 0, this VM); a kstat file
//! that is absent or unreadable is skipped; one without a `name type data` header, a
//! non-numeric uint64 value, or an unreadable pool file fails the collector.

use std::path::Path;

use vigie_kit::{CollectError, CollectResult, Kind, MetricSet, Registration, Scrape, SyncCollector};

/// The registration.
pub const REG: Registration = Registration {
    name: "zfs",
    default_enabled: true,
    help: "Exposes ZFS performance statistics.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Zfs)),
};

/// node_exporter's subsystem name for each kstat file it reads.
pub const KSTATS: [(&str, &str); 11] = [
    ("zfs_abd", "abdstats"),
    ("zfs_arc", "arcstats"),
    ("zfs_dbuf", "dbuf_stats"),
    ("zfs_dmu_tx", "dmu_tx"),
    ("zfs_dnode", "dnodestats"),
    ("zfs_fm", "fm"),
    ("zfs_vdev_cache", "vdev_cache_stats"),
    ("zfs_vdev_mirror", "vdev_mirror_stats"),
    ("zfs_xuio", "xuio_stats"),
    ("zfs_zfetch", "zfetchstats"),
    ("zfs_zil", "zil"),
];

/// The pool states node_exporter reports, lower-cased.
const STATES: [&str; 6] = ["online", "degraded", "faulted", "offline", "removed", "unavail"];

/// Statistics of one kstat file: name and value, in file order.
pub type Stats<'a> = Vec<(&'a str, u64)>;

/// The metric-name part node_exporter derives from a statistic's name.
pub fn metric_name(stat: &str) -> String {
    stat.rsplit('.').next().unwrap_or(stat).replace('-', "_")
}

/// The uint64 statistics of a named kstat file (`name type data` table), in file order.
pub fn parse_kstat(text: &str) -> Result<Stats<'_>, String> {
    let mut header = false;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let parts: Vec<&str> = line.split_ascii_whitespace().collect();
        if !header {
            header = parts == ["name", "type", "data"];
            continue;
        }
        if parts.len() >= 3 && parts[1] == "4" {
            let v = parts[2].parse().map_err(|_| format!("line {}: {}: invalid uint64 {:?}", n + 1, parts[0], parts[2]))?;
            out.push((parts[0], v));
        }
    }
    if header {
        Ok(out)
    } else {
        Err("no \"name type data\" header".into())
    }
}

/// The columns and values of a pool's `io` kstat: the header row (starting `nread`, 12 or
/// more columns) and every row after it.
pub fn parse_io(text: &str) -> Result<Stats<'_>, String> {
    let mut columns: Option<Vec<&str>> = None;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let parts: Vec<&str> = line.split_ascii_whitespace().collect();
        let Some(cols) = &columns else {
            if parts.len() >= 12 && parts[0] == "nread" {
                columns = Some(parts);
            }
            continue;
        };
        if parts.len() < cols.len() {
            return Err(format!("line {}: {} values for {} columns", n + 1, parts.len(), cols.len()));
        }
        for (col, v) in cols.iter().zip(&parts) {
            let v = v.parse().map_err(|_| format!("line {}: {col}: invalid uint64 {v:?}", n + 1))?;
            out.push((*col, v));
        }
    }
    Ok(out)
}

/// A dataset's `objset-*` kstat: its dataset name (the `dataset_name` row, a string; empty
/// if the file has none) and its uint64 statistics.
pub fn parse_objset(text: &str) -> Result<(&str, Stats<'_>), String> {
    let dataset = text
        .lines()
        .map(|line| line.split_ascii_whitespace().collect::<Vec<_>>())
        .find(|parts| parts.len() >= 3 && parts[0] == "dataset_name")
        .map_or("", |parts| parts[2]);
    Ok((dataset, parse_kstat(text)?))
}

/// Reads `/proc/spl/kstat/zfs`.
pub struct Zfs;

fn add(out: &mut MetricSet, name: String, help: String, kind: Kind, labels: &[(&'static str, &str)], v: f64) {
    out.family(name, help, kind).push(labels, v);
}

impl SyncCollector for Zfs {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let base = cx.paths.proc("spl/kstat/zfs");
        let entries = cx.read_dir(&base).map_err(|e| CollectError::NoData(format!("{}: {e}", base.display())))?;
        let mut pools = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| CollectError::io(&base, e))?;
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                pools.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        pools.sort();

        for (subsystem, file) in KSTATS {
            let path = base.join(file);
            let Ok(text) = cx.read(&path) else { continue };
            let stats = parse_kstat(&text).map_err(|msg| CollectError::parse(&path, msg))?;
            for (stat, v) in stats {
                let help = format!("ZFS statistic {stat} of the {file} kstat.");
                add(out, format!("node_{subsystem}_{}", metric_name(stat)), help, Kind::Untyped, &[], v as f64);
            }
        }

        for pool in &pools {
            let dir = base.join(pool);
            let read = |path: &Path| cx.read(path);
            let io = dir.join("io");
            if io.exists() {
                let text = read(&io)?;
                for (col, v) in parse_io(&text).map_err(|msg| CollectError::parse(&io, msg))? {
                    let help = format!("ZFS pool I/O statistic {col}.");
                    add(out, format!("node_zfs_zpool_{}", metric_name(col)), help, Kind::Untyped, &[("zpool", pool)], v as f64);
                }
            }
            let mut objsets = std::fs::read_dir(&dir)
                .map_err(|e| CollectError::io(&dir, e))?
                .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
                .filter(|name| name.starts_with("objset-"))
                .collect::<Vec<_>>();
            objsets.sort();
            for objset in &objsets {
                let path = dir.join(objset);
                let text = read(&path)?;
                let (dataset, stats) = parse_objset(&text).map_err(|msg| CollectError::parse(&path, msg))?;
                for (stat, v) in stats {
                    let help = format!("ZFS dataset statistic {stat}.");
                    let labels = [("zpool", pool.as_str()), ("dataset", dataset)];
                    add(out, format!("node_zfs_zpool_dataset_{}", metric_name(stat)), help, Kind::Untyped, &labels, v as f64);
                }
            }
            let state_path = dir.join("state");
            if state_path.exists() {
                let text = read(&state_path)?;
                let state = text.lines().next().unwrap_or("").to_lowercase();
                let family = out.family("node_zfs_zpool_state", "Whether a ZFS pool is in this state (1) or not (0).", Kind::Gauge);
                for s in STATES {
                    family.push(&[("zpool", pool), ("state", s)], if state == s { 1.0 } else { 0.0 });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_node_exporter() {
        assert_eq!(metric_name("hits"), "hits");
        assert_eq!(metric_name("l2_rw-clash"), "l2_rw_clash");
        assert_eq!(metric_name("a.b-c"), "b_c");
    }

    #[test]
    fn parses_kstats() {
        let text = "12 1 0x01 3 144 1 2\nname type data\nhits 4 10\nc_min 3 -5\nmisses 4 2\n";
        assert_eq!(parse_kstat(text).unwrap(), vec![("hits", 10), ("misses", 2)]);
        assert!(parse_kstat("hits 4 10\n").unwrap_err().contains("header"));
        assert!(parse_kstat("name type data\nhits 4 x\n").unwrap_err().contains("line 2"));
        let io = "1 3 0x00 1 80 2 3\nnread nwritten reads writes wtime wlentime wupdate rtime rlentime rupdate wcnt rcnt\n\
                  1 2 3 4 5 6 7 8 9 10 11 12\n";
        let io = parse_io(io).unwrap();
        assert_eq!((io.len(), io[0], io[11]), (12, ("nread", 1), ("rcnt", 12)));
        assert!(parse_io("nread a b c d e f g h i j k\n1 2\n").unwrap_err().contains("line 2"));
        let (ds, stats) = parse_objset("x\nname type data\ndataset_name 7 tank/a\nwrites 4 3\n").unwrap();
        assert_eq!((ds, stats), ("tank/a", vec![("writes", 3)]));
    }

    #[test]
    fn fixture_tree() {
        let text = crate::collectors::fixture_text(&Zfs).unwrap();
        for line in [
            "# TYPE node_zfs_arc_hits untyped\nnode_zfs_arc_hits 8.772612e+06\n",
            "node_zfs_arc_c_max 4.125110272e+09\n",
            "node_zfs_zil_zil_commit_count 13\n",
            "node_zfs_abd_struct_size 2.52544e+06\n",
            "node_zfs_zpool_nread{zpool=\"tank\"} 1.88416e+06\n",
            "node_zfs_zpool_rcnt{zpool=\"tank\"} 0\n",
            "node_zfs_zpool_dataset_nwritten{dataset=\"tank/home\",zpool=\"tank\"} 12302\n",
            "node_zfs_zpool_dataset_writes{dataset=\"tank\",zpool=\"tank\"} 0\n",
            "# TYPE node_zfs_zpool_state gauge\n",
            "node_zfs_zpool_state{state=\"online\",zpool=\"tank\"} 1\n",
            "node_zfs_zpool_state{state=\"unavail\",zpool=\"tank\"} 0\n",
        ] {
            assert!(text.contains(line), "missing {line}in\n{text}");
        }
        // The int64 (type 3) row is not exposed.
        assert!(!text.contains("node_zfs_arc_memory_available_bytes"), "{text}");
        assert_eq!(text.matches("node_zfs_zpool_state{").count(), 6);
    }

    #[test]
    fn absent_is_no_data_and_bad_kstat_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let paths = vigie_kit::Paths { procfs: dir.path().into(), ..crate::collectors::fixtures() };
        let (_, result) = vigie_kit::scheduler::collect_once(&Zfs, crate::collectors::fresh(&paths));
        assert!(matches!(result, Err(CollectError::NoData(_))), "{result:?}");
        let base = dir.path().join("spl/kstat/zfs");
        std::fs::create_dir_all(&base).unwrap();
        let (set, result) = vigie_kit::scheduler::collect_once(&Zfs, crate::collectors::fresh(&paths));
        assert!(result.is_ok() && set.sample_count() == 0, "{result:?}");
        std::fs::write(base.join("arcstats"), "no header here\n").unwrap();
        let (_, result) = vigie_kit::scheduler::collect_once(&Zfs, paths);
        let err = result.unwrap_err().to_string();
        assert!(err.contains("arcstats") && err.contains("header"), "{err}");
    }
}
