//! `/proc/sys/net/netfilter/nf_conntrack_{count,max}` and `/proc/net/stat/nf_conntrack` →
//! `node_nf_conntrack_entries`, `_entries_limit`, `node_nf_conntrack_stat_*` (node_exporter
//! "conntrack" names; the statistics are summed over CPUs).

use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

/// The registration.
pub const REG: Registration = Registration {
    name: "conntrack",
    default_enabled: true,
    help: "Shows conntrack statistics (does nothing if no /proc/sys/net/netfilter/ present).",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Conntrack)),
};

const ENTRIES: Desc = Desc::gauge("node_nf_conntrack_entries", "Flow entries allocated for connection tracking now.", &[]);
const LIMIT: Desc = Desc::gauge("node_nf_conntrack_entries_limit", "Size limit of the connection tracking table.", &[]);

/// The per-CPU statistics node_exporter sums: column in `/proc/net/stat/nf_conntrack`, family.
static STATS: [(usize, Desc); 8] = [
    (2, Desc::gauge("node_nf_conntrack_stat_found", "Successful lookups of tracked connections.", &[])),
    (4, Desc::gauge("node_nf_conntrack_stat_invalid", "Packets that could not be tracked.", &[])),
    (5, Desc::gauge("node_nf_conntrack_stat_ignore", "Packets already attached to a conntrack entry.", &[])),
    (8, Desc::gauge("node_nf_conntrack_stat_insert", "Entries inserted into the table.", &[])),
    (9, Desc::gauge("node_nf_conntrack_stat_insert_failed", "Insertions that failed (entry already present).", &[])),
    (10, Desc::gauge("node_nf_conntrack_stat_drop", "Packets dropped because tracking failed.", &[])),
    (11, Desc::gauge("node_nf_conntrack_stat_early_drop", "Entries dropped to make room while the table was full.", &[])),
    (16, Desc::gauge("node_nf_conntrack_stat_search_restart", "Lookups restarted because the hash table was resized.", &[])),
];

/// Reads the conntrack sysctls and statistics.
pub struct Conntrack;

/// The statistics of `/proc/net/stat/nf_conntrack` summed over its per-CPU lines, in the
/// order of [`STATS`]. Each line has 17 hex columns; the first line is the header.
pub fn parse_stat(text: &str) -> Result<[u64; 8], String> {
    let mut sums = [0u64; 8];
    for (n, line) in text.lines().enumerate().skip(1) {
        let cols: Vec<&str> = line.split_ascii_whitespace().collect();
        if cols.len() != 17 {
            return Err(format!("line {}: {} columns, expected 17", n + 1, cols.len()));
        }
        for (sum, (col, _)) in sums.iter_mut().zip(&STATS) {
            let v = u64::from_str_radix(cols[*col], 16).map_err(|_| format!("line {}: invalid hex {:?}", n + 1, cols[*col]))?;
            *sum = sum.wrapping_add(v);
        }
    }
    Ok(sums)
}

fn no_data(e: CollectError) -> CollectError {
    if e.is_not_found() {
        CollectError::NoData(format!("conntrack probably not loaded: {e}"))
    } else {
        e
    }
}

fn read_uint(cx: &Scrape, rel: &str) -> Result<u64, CollectError> {
    let path = cx.paths.proc(rel);
    let text = cx.read(&path).map_err(no_data)?;
    text.trim().parse().map_err(|_| CollectError::parse(&path, format!("invalid number {:?}", text.trim())))
}

impl SyncCollector for Conntrack {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        out.add(&ENTRIES, &[], read_uint(cx, "sys/net/netfilter/nf_conntrack_count")? as f64);
        out.add(&LIMIT, &[], read_uint(cx, "sys/net/netfilter/nf_conntrack_max")? as f64);
        let path = cx.paths.proc("net/stat/nf_conntrack");
        let text = cx.read(&path).map_err(no_data)?;
        let sums = parse_stat(&text).map_err(|e| CollectError::parse(&path, e))?;
        for ((_, desc), v) in STATS.iter().zip(sums) {
            out.add(desc, &[], v as f64);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart\n";

    #[test]
    fn parses_and_sums_per_cpu_lines() {
        let text = format!(
            "{HEADER}00000021  00000000 00000001 00000000 00000002 00000003 00000000 00000000 00000004 00000005 00000006 00000007 00000000  00000000 00000000 00000000 00000008\n\
             00000021  00000000 00000010 00000000 00000020 00000030 00000000 00000000 00000040 00000050 00000060 00000070 00000000  00000000 00000000 00000000 00000080\n"
        );
        assert_eq!(parse_stat(&text).unwrap(), [17, 34, 51, 68, 85, 102, 119, 136]);
        assert!(parse_stat(&format!("{HEADER}0 1 2\n")).unwrap_err().contains("line 2"));
    }

    #[test]
    fn malformed_file_is_named() {
        let files = [
            ("sys/net/netfilter/nf_conntrack_count", "0\n"),
            ("sys/net/netfilter/nf_conntrack_max", "lots\n"),
        ];
        let err = crate::collectors::proc_error(&Conntrack, &files);
        assert!(err.contains("nf_conntrack_max") && err.contains("lots"), "{err}");
    }

    #[test]
    fn fixture_tree() {
        let text = crate::collectors::fixture_text(&Conntrack).unwrap();
        assert!(text.contains("node_nf_conntrack_entries 0\n"), "{text}");
        assert!(text.contains("node_nf_conntrack_entries_limit 262144\n"), "{text}");
        assert!(text.contains("node_nf_conntrack_stat_search_restart 0\n"), "{text}");
        assert_eq!(text.matches("# TYPE").count(), 10);
    }

    #[test]
    fn without_netfilter_is_no_data() {
        let dir = tempfile::tempdir().unwrap();
        let paths = vigie_kit::Paths { procfs: dir.path().into(), ..crate::collectors::fixtures() };
        let (_, r) = vigie_kit::scheduler::collect_once(&Conntrack, paths);
        assert!(matches!(r, Err(CollectError::NoData(_))), "{r:?}");
    }
}
