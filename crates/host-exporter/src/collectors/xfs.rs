//! `/sys/fs/xfs/<device>/stats/stats` → `node_xfs_*{device}` (node_exporter "xfs" names).
//!
//! Like node_exporter 1.5 (procfs `SysStats`), only the per-filesystem files are read, found
//! as `fs/xfs/*/stats/stats`; the global `/proc/fs/xfs/stat` and `/sys/fs/xfs/stats/stats`
//! are not. A host with the xfs module loaded but no XFS mounted therefore succeeds with no
//! samples, as does a host without xfs at all. Only the lines whose counters are exposed are
//! checked (field counts as procfs requires them); absent lines give zeros.

use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

/// The registration.
pub const REG: Registration = Registration {
    name: "xfs",
    default_enabled: true,
    help: "Exposes XFS runtime statistics.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Xfs)),
};

const DEV: &[&str] = &["device"];

/// The stats lines read: their key and the field counts the kernel writes.
const LINES: [(&str, &[usize]); 8] = [
    ("extent_alloc", &[4]),
    ("abt", &[4]),
    ("blk_map", &[7]),
    ("bmbt", &[4]),
    ("dir", &[4]),
    ("ig", &[7]),
    ("rw", &[2]),
    ("vnodes", &[7, 8]),
];

/// Each exposed counter: its family, the index of its line in `LINES`, and its field.
const METRICS: [(Desc, usize, usize); 39] = [
    (Desc::counter("node_xfs_extent_allocation_extents_allocated_total", "Extents allocated.", DEV), 0, 0),
    (Desc::counter("node_xfs_extent_allocation_blocks_allocated_total", "Blocks allocated.", DEV), 0, 1),
    (Desc::counter("node_xfs_extent_allocation_extents_freed_total", "Extents freed.", DEV), 0, 2),
    (Desc::counter("node_xfs_extent_allocation_blocks_freed_total", "Blocks freed.", DEV), 0, 3),
    (Desc::counter("node_xfs_allocation_btree_lookups_total", "Free-space B-tree lookups.", DEV), 1, 0),
    (Desc::counter("node_xfs_allocation_btree_compares_total", "Free-space B-tree key comparisons.", DEV), 1, 1),
    (Desc::counter("node_xfs_allocation_btree_records_inserted_total", "Free-space B-tree records inserted.", DEV), 1, 2),
    (Desc::counter("node_xfs_allocation_btree_records_deleted_total", "Free-space B-tree records deleted.", DEV), 1, 3),
    (Desc::counter("node_xfs_block_mapping_reads_total", "Block mappings done for reads.", DEV), 2, 0),
    (Desc::counter("node_xfs_block_mapping_writes_total", "Block mappings done for writes.", DEV), 2, 1),
    (Desc::counter("node_xfs_block_mapping_unmaps_total", "Blocks unmapped (freed from files).", DEV), 2, 2),
    (Desc::counter("node_xfs_block_mapping_extent_list_insertions_total", "Extents added to in-memory extent lists.", DEV), 2, 3),
    (Desc::counter("node_xfs_block_mapping_extent_list_deletions_total", "Extents removed from in-memory extent lists.", DEV), 2, 4),
    (Desc::counter("node_xfs_block_mapping_extent_list_lookups_total", "Lookups in in-memory extent lists.", DEV), 2, 5),
    (Desc::counter("node_xfs_block_mapping_extent_list_compares_total", "Comparisons in in-memory extent lists.", DEV), 2, 6),
    (Desc::counter("node_xfs_block_map_btree_lookups_total", "Block-map B-tree lookups.", DEV), 3, 0),
    (Desc::counter("node_xfs_block_map_btree_compares_total", "Block-map B-tree key comparisons.", DEV), 3, 1),
    (Desc::counter("node_xfs_block_map_btree_records_inserted_total", "Block-map B-tree records inserted.", DEV), 3, 2),
    (Desc::counter("node_xfs_block_map_btree_records_deleted_total", "Block-map B-tree records deleted.", DEV), 3, 3),
    (Desc::counter("node_xfs_directory_operation_lookup_total", "Directory lookups not answered by the dentry cache.", DEV), 4, 0),
    (Desc::counter("node_xfs_directory_operation_create_total", "Directory entries created.", DEV), 4, 1),
    (Desc::counter("node_xfs_directory_operation_remove_total", "Directory entries removed.", DEV), 4, 2),
    (Desc::counter("node_xfs_directory_operation_getdents_total", "getdents calls on directories.", DEV), 4, 3),
    (Desc::counter("node_xfs_inode_operation_attempts_total", "Inode cache lookups.", DEV), 5, 0),
    (Desc::counter("node_xfs_inode_operation_found_total", "Inode cache lookups that found the inode.", DEV), 5, 1),
    (Desc::counter("node_xfs_inode_operation_recycled_total", "Inodes found in the cache while being reclaimed.", DEV), 5, 2),
    (Desc::counter("node_xfs_inode_operation_missed_total", "Inode cache lookups that missed.", DEV), 5, 3),
    (Desc::counter("node_xfs_inode_operation_duplicates_total", "Inodes another thread added to the cache first.", DEV), 5, 4),
    (Desc::counter("node_xfs_inode_operation_reclaims_total", "Inodes reclaimed from the cache.", DEV), 5, 5),
    (Desc::counter("node_xfs_inode_operation_attribute_changes_total", "Inode attribute changes.", DEV), 5, 6),
    (Desc::counter("node_xfs_read_calls_total", "read(2) calls on files.", DEV), 6, 1),
    (Desc::counter("node_xfs_write_calls_total", "write(2) calls on files.", DEV), 6, 0),
    (Desc::counter("node_xfs_vnode_active_total", "Vnodes in use (the kernel's active count).", DEV), 7, 0),
    (Desc::counter("node_xfs_vnode_allocate_total", "Vnodes allocated.", DEV), 7, 1),
    (Desc::counter("node_xfs_vnode_get_total", "Vnode get operations.", DEV), 7, 2),
    (Desc::counter("node_xfs_vnode_hold_total", "Vnode hold operations.", DEV), 7, 3),
    (Desc::counter("node_xfs_vnode_release_total", "Vnode release operations.", DEV), 7, 4),
    (Desc::counter("node_xfs_vnode_reclaim_total", "Vnode reclaim operations.", DEV), 7, 5),
    (Desc::counter("node_xfs_vnode_remove_total", "Vnode remove operations.", DEV), 7, 6),
];

/// The fields of the `LINES` lines of one stats file, in `LINES` order (zeros if absent).
pub type Stats = [[u64; 8]; 8];

/// Parses an XFS stats file.
pub fn parse(text: &str) -> Result<Stats, String> {
    let mut stats = [[0; 8]; 8];
    for (n, line) in text.lines().enumerate() {
        let mut fields = line.split_ascii_whitespace();
        let key = fields.next().unwrap_or("");
        let Some(at) = LINES.iter().position(|(k, _)| *k == key) else { continue };
        let mut count = 0;
        for (slot, f) in fields.enumerate() {
            let v = f.parse::<u64>().map_err(|_| format!("line {}: invalid number {f:?}", n + 1))?;
            if let Some(o) = stats[at].get_mut(slot) {
                *o = v;
            }
            count += 1;
        }
        if !LINES[at].1.contains(&count) {
            return Err(format!("line {}: {key}: expected {:?} values, found {count}", n + 1, LINES[at].1));
        }
    }
    Ok(stats)
}

/// Reads `/sys/fs/xfs/*/stats/stats`.
pub struct Xfs;

impl SyncCollector for Xfs {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let dir = cx.paths.sys("fs/xfs");
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(CollectError::io(&dir, e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| CollectError::io(&dir, e))?;
            if entry.path().join("stats/stats").is_file() {
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        names.sort();
        for name in &names {
            let path = dir.join(name).join("stats/stats");
            let text = cx.read(&path)?;
            let stats = parse(&text).map_err(|msg| CollectError::parse(&path, msg))?;
            for (desc, line, field) in &METRICS {
                out.add(desc, &[name], stats[*line][*field] as f64);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stats() {
        let path = crate::collectors::fixtures().sys("fs/xfs/vdb/stats/stats");
        let s = parse(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(&s[0][..4], &[92447, 97589, 92448, 97591]);
        assert_eq!(&s[6][..2], &[107739, 94045]);
        assert_eq!(&s[7][..8], &[4, 0, 0, 0, 23461, 23461, 23461, 0]);
        // This VM's global file (all zeros, many lines procfs does not know) parses too.
        let global = crate::collectors::fixtures().sys("fs/xfs/stats/stats");
        assert_eq!(parse(&std::fs::read_to_string(global).unwrap()).unwrap(), [[0; 8]; 8]);
        assert!(parse("dir 1 2 3\n").unwrap_err().contains("line 1"));
        assert!(parse("abt 1 2 3 4\nrw 1 x\n").unwrap_err().contains("line 2"));
        assert!(parse("vnodes 1 2 3 4 5 6 7\nunknown a b\n").is_ok());
    }

    #[test]
    fn fixture_tree() {
        let text = crate::collectors::fixture_text(&Xfs).unwrap();
        for line in [
            "node_xfs_extent_allocation_extents_allocated_total{device=\"vdb\"} 92447\n",
            "node_xfs_extent_allocation_blocks_freed_total{device=\"vdb\"} 97591\n",
            "node_xfs_allocation_btree_compares_total{device=\"vdb\"} 2.7e+06\n",
            "node_xfs_block_mapping_extent_list_compares_total{device=\"vdb\"} 0\n",
            "node_xfs_block_mapping_reads_total{device=\"vdb\"} 1.767055e+06\n",
            "node_xfs_directory_operation_getdents_total{device=\"vdb\"} 52\n",
            "node_xfs_inode_operation_attribute_changes_total{device=\"vdb\"} 5\n",
            "node_xfs_read_calls_total{device=\"vdb\"} 94045\n",
            "node_xfs_write_calls_total{device=\"vdb\"} 107739\n",
            "node_xfs_vnode_remove_total{device=\"vdb\"} 23461\n",
        ] {
            assert!(text.contains(line), "missing {line}in\n{text}");
        }
        // The global stats/stats directory is not a device.
        assert!(!text.contains("device=\"stats\""), "{text}");
        assert_eq!(text.matches("{device=").count(), 39);
    }

    #[test]
    fn no_filesystem_is_success_without_samples_and_bad_file_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let paths = vigie_kit::Paths { sysfs: dir.path().into(), ..crate::collectors::fixtures() };
        let (set, result) = vigie_kit::scheduler::collect_once(&Xfs, paths.clone());
        assert!(result.is_ok() && set.sample_count() == 0, "{result:?}");
        std::fs::create_dir_all(dir.path().join("fs/xfs/stats")).unwrap();
        std::fs::write(dir.path().join("fs/xfs/stats/stats"), "extent_alloc 1 2 3 4\n").unwrap();
        let (set, result) = vigie_kit::scheduler::collect_once(&Xfs, paths.clone());
        assert!(result.is_ok() && set.sample_count() == 0, "{result:?}");
        std::fs::create_dir_all(dir.path().join("fs/xfs/sda1/stats")).unwrap();
        std::fs::write(dir.path().join("fs/xfs/sda1/stats/stats"), "extent_alloc 1 2 3\n").unwrap();
        let (_, result) = vigie_kit::scheduler::collect_once(&Xfs, paths);
        let err = result.unwrap_err().to_string();
        assert!(err.contains("sda1/stats/stats") && err.contains("line 1"), "{err}");
    }
}
