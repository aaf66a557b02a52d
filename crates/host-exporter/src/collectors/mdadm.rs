//! `/proc/mdstat` → `node_md_*` (node_exporter "mdadm" names).
//!
//! node_exporter 1.5 reads only `/proc/mdstat` (not `/sys/block/md*/md`); so do we. A host
//! without the md driver has no `/proc/mdstat`: that is "no data" (success 0), as in 1.5.

use std::sync::OnceLock;

use regex::Regex;
use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

/// The registration.
pub const REG: Registration = Registration {
    name: "mdadm",
    default_enabled: true,
    help: "Exposes statistics about devices in /proc/mdstat (does nothing if no /proc/mdstat present).",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Mdadm)),
};

const STATE: Desc = Desc::gauge("node_md_state", "1 for the state the md device is in, 0 for the others.", &["device", "state"]);
const DISKS: Desc =
    Desc::gauge("node_md_disks", "Component disks of the md device, by state (active, failed, spare).", &["device", "state"]);
const DISKS_REQUIRED: Desc = Desc::gauge("node_md_disks_required", "Disks the md device is made of when complete.", &["device"]);
const BLOCKS: Desc = Desc::gauge("node_md_blocks", "Size of the md device, in 1 KiB blocks.", &["device"]);
const BLOCKS_SYNCED: Desc =
    Desc::gauge("node_md_blocks_synced", "Blocks of the md device in sync (all of them unless a sync is running).", &["device"]);

/// `node_md_state` label → the state word the parser gives.
const STATES: [(&str, &str); 5] =
    [("active", "active"), ("inactive", "inactive"), ("recovering", "recovering"), ("resync", "resyncing"), ("check", "checking")];

/// Reads `/proc/mdstat`.
pub struct Mdadm;

/// One md device of `/proc/mdstat`.
#[derive(Debug, PartialEq)]
pub struct Array<'a> {
    /// `md0`.
    pub name: &'a str,
    /// `active`, `inactive`, or the running sync: `recovering`, `resyncing`, `checking`.
    pub state: &'a str,
    /// Disks in use.
    pub active: u64,
    /// Disks marked `(F)`.
    pub failed: u64,
    /// Disks marked `(S)`.
    pub spare: u64,
    /// Disks the array needs.
    pub total: u64,
    /// Size in 1 KiB blocks.
    pub blocks: u64,
    /// Blocks in sync.
    pub synced: u64,
}

fn status_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // "<n> blocks … [<total>/<active>] [UU_]" as md.c and the raid personalities print it.
    RE.get_or_init(|| Regex::new(r"(\d+) blocks .*\[(\d+)/(\d+)\] \[[U_]+\]").expect("constant regex"))
}

fn progress_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\((\d+)/\d+\)").expect("constant regex"))
}

/// Parses `/proc/mdstat`: per device, a line `mdN : <state> <personality> <disks>`, a status
/// line, an optional bitmap line and an optional sync progress line.
pub fn parse(text: &str) -> Result<Vec<Array<'_>>, String> {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut arrays = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() || line.starts_with(' ') || line.starts_with("Personalities") || line.starts_with("unused") {
            continue;
        }
        let fields: Vec<&str> = line.split_ascii_whitespace().collect();
        let (name, mut state) = match fields[..] {
            [name, _, state, ..] => (name, state),
            _ => return Err(format!("line {}: fewer than 3 fields in md device line", i + 1)),
        };
        let (Some(status), Some(next)) = (lines.get(i + 1), lines.get(i + 2)) else {
            return Err(format!("line {}: {name}: no status line", i + 1));
        };
        if lines.len() <= i + 3 {
            return Err(format!("line {}: {name}: too few lines for an md device", i + 1));
        }
        let blocks: u64 = status
            .split_ascii_whitespace()
            .next()
            .and_then(|b| b.parse().ok())
            .ok_or_else(|| format!("line {}: {name}: no block count in {status:?}", i + 2))?;
        let failed = line.matches("(F)").count() as u64;
        let spare = line.matches("(S)").count() as u64;
        let (active, total) = if line.contains("raid0") || line.contains("linear") {
            // Striped and linear arrays print no [n/m]: every listed disk ("sda1[0]") is in use.
            let n = line.matches('[').count() as u64;
            (n, n)
        } else if line.contains("inactive") {
            (0, 0)
        } else {
            let caps = status_re()
                .captures(status)
                .ok_or_else(|| format!("line {}: {name}: no [total/active] [U_] in {status:?}", i + 2))?;
            let num = |k: usize| caps.get(k).and_then(|m| m.as_str().parse::<u64>().ok()).unwrap_or(0);
            (num(3), num(2))
        };
        let sync = if next.contains("bitmap") { lines.get(i + 3).copied().unwrap_or("") } else { next };
        let mut synced = blocks;
        let (recovering, resyncing, checking) = (sync.contains("recovery"), sync.contains("resync"), sync.contains("check"));
        if recovering || resyncing || checking {
            state = if recovering {
                "recovering"
            } else if checking {
                "checking"
            } else {
                "resyncing"
            };
            synced = if sync.contains("PENDING") || sync.contains("DELAYED") {
                0
            } else {
                progress_re()
                    .captures(sync)
                    .and_then(|c| c.get(1)?.as_str().parse().ok())
                    .ok_or_else(|| format!("{name}: no (done/total) in sync line {sync:?}"))?
            };
        }
        arrays.push(Array { name, state, active, failed, spare, total, blocks, synced });
    }
    Ok(arrays)
}

impl SyncCollector for Mdadm {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let path = cx.paths.proc("mdstat");
        let text = match cx.read_optional(&path) {
            Err(e) if e.is_not_found() => return Err(CollectError::NoData(format!("{} does not exist", path.display()))),
            other => other?,
        };
        let arrays = parse(&text).map_err(|msg| CollectError::parse(&path, msg))?;
        for a in &arrays {
            let dev = a.name;
            out.add(&DISKS_REQUIRED, &[dev], a.total as f64);
            out.add(&DISKS, &[dev, "active"], a.active as f64);
            out.add(&DISKS, &[dev, "failed"], a.failed as f64);
            out.add(&DISKS, &[dev, "spare"], a.spare as f64);
            for (label, word) in STATES {
                out.add(&STATE, &[dev, label], if a.state == word { 1.0 } else { 0.0 });
            }
            out.add(&BLOCKS, &[dev], a.blocks as f64);
            out.add(&BLOCKS_SYNCED, &[dev], a.synced as f64);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_constructed_mdstat() {
        let text = std::fs::read_to_string(crate::collectors::fixtures().proc("mdstat")).unwrap();
        let arrays = parse(&text).unwrap();
        let by_name = |n: &str| arrays.iter().find(|a| a.name == n).unwrap();
        assert_eq!(arrays.len(), 7);
        assert_eq!(
            by_name("md127"),
            &Array { name: "md127", state: "active", active: 2, failed: 0, spare: 0, total: 2, blocks: 1046528, synced: 1046528 }
        );
        assert_eq!(
            by_name("md1"),
            &Array { name: "md1", state: "recovering", active: 2, failed: 1, spare: 1, total: 3, blocks: 20953088, synced: 4207872 }
        );
        assert_eq!(by_name("md2").state, "checking");
        assert_eq!(by_name("md2").synced, 1293568);
        assert_eq!((by_name("md3").active, by_name("md3").total), (3, 3));
        assert_eq!(by_name("md4"), &Array { name: "md4", state: "inactive", active: 0, failed: 0, spare: 1, total: 0, blocks: 2095104, synced: 2095104 });
        assert_eq!((by_name("md5").state, by_name("md5").synced), ("resyncing", 0));
        assert_eq!((by_name("md6").state, by_name("md6").synced), ("resyncing", 1024));
    }

    #[test]
    fn malformed_mdstat() {
        assert!(parse("md0 : active\n").unwrap_err().contains("line 1"));
        assert!(parse("md0 : active raid1 sda1[0] sdb1[1]\n      x blocks [2/2] [UU]\n\n\n").unwrap_err().contains("line 2"));
        assert!(parse("md0 : active raid1 sda1[0] sdb1[1]\n      100 blocks super 1.2\n\n\n").unwrap_err().contains("[U_]"));
        assert_eq!(parse("Personalities : [raid1]\nunused devices: <none>\n").unwrap(), vec![]);
    }

    #[test]
    fn fixture_tree() {
        let text = crate::collectors::fixture_text(&Mdadm).unwrap();
        for line in [
            "node_md_disks{device=\"md1\",state=\"active\"} 2\n",
            "node_md_disks{device=\"md1\",state=\"failed\"} 1\n",
            "node_md_disks{device=\"md1\",state=\"spare\"} 1\n",
            "node_md_disks_required{device=\"md1\"} 3\n",
            "node_md_state{device=\"md1\",state=\"recovering\"} 1\n",
            "node_md_state{device=\"md1\",state=\"active\"} 0\n",
            "node_md_state{device=\"md2\",state=\"check\"} 1\n",
            "node_md_state{device=\"md4\",state=\"inactive\"} 1\n",
            "node_md_state{device=\"md5\",state=\"resync\"} 1\n",
            "node_md_state{device=\"md127\",state=\"active\"} 1\n",
            "node_md_blocks{device=\"md1\"} 2.0953088e+07\n",
            "node_md_blocks_synced{device=\"md1\"} 4.207872e+06\n",
        ] {
            assert!(text.contains(line), "missing {line}in\n{text}");
        }
        assert_eq!(text.matches("node_md_state{").count(), 35);
    }

    #[test]
    fn absent_mdstat_is_no_data() {
        let dir = tempfile::tempdir().unwrap();
        let paths = vigie_kit::Paths { procfs: dir.path().into(), ..crate::collectors::fixtures() };
        let (_, result) = vigie_kit::scheduler::collect_once(&Mdadm, paths);
        assert!(matches!(result, Err(CollectError::NoData(_))), "{result:?}");
    }
}
