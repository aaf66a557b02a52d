//! `/proc/net/rpc/nfsd` → `node_nfsd_*` (node_exporter "nfsd" names: the kernel NFS
//! server's reply cache, I/O, thread, network, RPC and per-procedure counters).
//!
//! As in node_exporter 1.5, NFSv2 and v3 procedures are exposed without `Null`, and 33 NFSv4
//! operations by node_exporter's method names; lines the file lacks (no `proc2` on kernels
//! built without NFSv2) give zeros. Two deliberate differences from 1.5's procfs v0.8.0:
//! the v4 operations `Verify`, `Write` and `RelLockOwner` count the kernel's VERIFY, WRITE
//! and RELEASE_LOCKOWNER operations (v0.8.0 shifted them onto SETCLIENTID,
//! SETCLIENTID_CONFIRM and VERIFY; later procfs fixed it), and the `wdeleg_getattr` line of
//! kernels ≥ 6.7 is accepted rather than failing the collector. A host without the NFS
//! server has no file: "no data" (success 0), as in 1.5.

use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

use super::nfs::{V2, V3};

/// The registration.
pub const REG: Registration = Registration {
    name: "nfsd",
    default_enabled: true,
    help: "Exposes NFS kernel server statistics from /proc/net/rpc/nfsd.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Nfsd)),
};

const RC_HITS: Desc =
    Desc::counter("node_nfsd_reply_cache_hits_total", "Requests answered from the NFS server's reply cache.", &[]);
const RC_MISSES: Desc =
    Desc::counter("node_nfsd_reply_cache_misses_total", "Cacheable requests the reply cache did not hold.", &[]);
const RC_NOCACHE: Desc =
    Desc::counter("node_nfsd_reply_cache_nocache_total", "Requests the reply cache does not keep (idempotent ones).", &[]);
const FH_STALE: Desc = Desc::counter("node_nfsd_file_handles_stale_total", "Stale file handles the NFS server saw.", &[]);
const IO_READ: Desc = Desc::counter("node_nfsd_disk_bytes_read_total", "Bytes the NFS server read from disk.", &[]);
const IO_WRITTEN: Desc = Desc::counter("node_nfsd_disk_bytes_written_total", "Bytes the NFS server wrote to disk.", &[]);
const THREADS: Desc = Desc::gauge("node_nfsd_server_threads", "NFS server kernel threads running.", &[]);
const RA_SIZE: Desc =
    Desc::gauge("node_nfsd_read_ahead_cache_size_blocks", "Size of the NFS server's read-ahead cache, in blocks.", &[]);
const RA_NOT_FOUND: Desc =
    Desc::counter("node_nfsd_read_ahead_cache_not_found_total", "Read-ahead cache lookups that found nothing.", &[]);
const PACKETS: Desc = Desc::counter("node_nfsd_packets_total", "Network packets of the NFS server, by transport.", &["proto"]);
const CONNECTIONS: Desc = Desc::counter("node_nfsd_connections_total", "TCP connections the NFS server accepted.", &[]);
const RPC_ERRORS: Desc = Desc::counter("node_nfsd_rpc_errors_total", "Bad RPCs the NFS server received, by kind.", &["error"]);
const RPCS: Desc = Desc::counter("node_nfsd_server_rpcs_total", "RPCs the NFS server received.", &[]);
const REQUESTS: Desc =
    Desc::counter("node_nfsd_requests_total", "NFS procedures the server handled, by version and procedure.", &["proto", "method"]);

/// The NFSv4 operations exposed: node_exporter's method name and the kernel's operation
/// number (include/linux/nfs4.h `enum nfs_opnum4`), which indexes the `proc4ops` counts.
pub const V4_OPS: [(&str, usize); 33] = [
    ("Access", 3),
    ("Close", 4),
    ("Commit", 5),
    ("Create", 6),
    ("DelegPurge", 7),
    ("DelegReturn", 8),
    ("GetAttr", 9),
    ("GetFH", 10),
    ("Link", 11),
    ("Lock", 12),
    ("Lockt", 13),
    ("Locku", 14),
    ("Lookup", 15),
    ("LookupRoot", 16),
    ("Nverify", 17),
    ("Open", 18),
    ("OpenAttr", 19),
    ("OpenConfirm", 20),
    ("OpenDgrd", 21),
    ("PutFH", 22),
    ("Read", 25),
    ("ReadDir", 26),
    ("ReadLink", 27),
    ("Remove", 28),
    ("Rename", 29),
    ("Renew", 30),
    ("RestoreFH", 31),
    ("SaveFH", 32),
    ("SecInfo", 33),
    ("SetAttr", 34),
    ("Verify", 37),
    ("Write", 38),
    ("RelLockOwner", 39),
];

/// The server counters of `/proc/net/rpc/nfsd`; absent lines are zeros.
#[derive(Debug, Default, PartialEq)]
pub struct ServerStats {
    /// `rc`: hits, misses, nocache.
    pub reply_cache: [u64; 3],
    /// `fh`: the first value (stale handles); the kernel leaves the other four at 0.
    pub stale_handles: u64,
    /// `io`: bytes read, bytes written.
    pub io: [u64; 2],
    /// `th`: running threads.
    pub threads: u64,
    /// `ra`: cache size (first value) and not-found count (last value).
    pub read_ahead: [u64; 2],
    /// `net`: packets (all, udp, tcp), tcp connections.
    pub net: [u64; 4],
    /// `rpc`: calls, bad calls, bad format, bad auth, bad client.
    pub rpc: [u64; 5],
    /// `proc2` counts, `Null` first (`V2.len()` long).
    pub v2: Vec<u64>,
    /// `proc3` counts, `Null` first (`V3.len()` long).
    pub v3: Vec<u64>,
    /// `proc4ops` counts indexed by operation number (empty without the line).
    pub v4_ops: Vec<u64>,
}

impl ServerStats {
    /// The count of NFSv4 operation `op`, 0 if the kernel does not count it.
    pub fn v4_op(&self, op: usize) -> u64 {
        self.v4_ops.get(op).copied().unwrap_or(0)
    }
}

/// Parses `/proc/net/rpc/nfsd`, with the field counts procfs requires for each line.
pub fn parse(text: &str) -> Result<ServerStats, String> {
    let mut s = ServerStats { v2: vec![0; V2.len()], v3: vec![0; V3.len()], ..ServerStats::default() };
    for (n, line) in text.lines().enumerate() {
        let at = |msg: &str| format!("line {}: {msg}", n + 1);
        let mut fields = line.split_ascii_whitespace();
        let key = fields.next().unwrap_or("");
        // "th" is followed by the thread count, a deprecated "pool full" count and ten
        // deprecated histogram buckets printed as decimals: only the first two are numbers.
        let take = if key == "th" { 2 } else { usize::MAX };
        let values = fields
            .take(take)
            .map(|f| f.parse::<u64>().map_err(|_| at(&format!("invalid number {f:?}"))))
            .collect::<Result<Vec<u64>, String>>()?;
        if values.is_empty() || (key == "th" && values.len() < 2) {
            return Err(at("expected a key and values"));
        }
        let exact = |want: usize| -> Result<&[u64], String> {
            if values.len() == want {
                Ok(&values)
            } else {
                Err(at(&format!("{key}: expected {want} values, found {}", values.len())))
            }
        };
        // proc lines: the first value counts the ones after it.
        let counted = |min: usize| -> Result<&[u64], String> {
            let counts = &values[1..];
            if usize::try_from(values[0]).ok() != Some(counts.len()) || counts.len() < min {
                return Err(at(&format!("{key}: count {} does not match {} values", values[0], counts.len())));
            }
            Ok(counts)
        };
        match key {
            "rc" => s.reply_cache.copy_from_slice(exact(3)?),
            "fh" => s.stale_handles = exact(5)?[0],
            "io" => s.io.copy_from_slice(exact(2)?),
            "th" => s.threads = values[0],
            "ra" => {
                let v = exact(12)?;
                s.read_ahead = [v[0], v[11]];
            }
            "net" => s.net.copy_from_slice(exact(4)?),
            "rpc" => s.rpc.copy_from_slice(exact(5)?),
            "proc2" => s.v2.copy_from_slice(&counted(V2.len())?[..V2.len()]),
            "proc3" => s.v3.copy_from_slice(&counted(V3.len())?[..V3.len()]),
            "proc4" => {
                if counted(2)?.len() != 2 {
                    return Err(at("proc4: expected 2 counts"));
                }
            }
            "proc4ops" => s.v4_ops = counted(39)?.to_vec(),
            "wdeleg_getattr" => {}
            other => return Err(at(&format!("unknown line {other:?}"))),
        }
    }
    Ok(s)
}

/// Reads `/proc/net/rpc/nfsd`.
pub struct Nfsd;

impl SyncCollector for Nfsd {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let path = cx.paths.proc("net/rpc/nfsd");
        let text = match cx.read_optional(&path) {
            Err(e) if e.is_not_found() => return Err(CollectError::NoData(e.to_string())),
            other => other?,
        };
        let s = parse(&text).map_err(|msg| CollectError::parse(&path, msg))?;
        out.add(&RC_HITS, &[], s.reply_cache[0] as f64);
        out.add(&RC_MISSES, &[], s.reply_cache[1] as f64);
        out.add(&RC_NOCACHE, &[], s.reply_cache[2] as f64);
        out.add(&FH_STALE, &[], s.stale_handles as f64);
        out.add(&IO_READ, &[], s.io[0] as f64);
        out.add(&IO_WRITTEN, &[], s.io[1] as f64);
        out.add(&THREADS, &[], s.threads as f64);
        out.add(&RA_SIZE, &[], s.read_ahead[0] as f64);
        out.add(&RA_NOT_FOUND, &[], s.read_ahead[1] as f64);
        out.add(&PACKETS, &["udp"], s.net[1] as f64);
        out.add(&PACKETS, &["tcp"], s.net[2] as f64);
        out.add(&CONNECTIONS, &[], s.net[3] as f64);
        out.add(&RPC_ERRORS, &["fmt"], s.rpc[2] as f64);
        out.add(&RPC_ERRORS, &["auth"], s.rpc[3] as f64);
        out.add(&RPC_ERRORS, &["cInt"], s.rpc[4] as f64);
        out.add(&RPCS, &[], s.rpc[0] as f64);
        // node_exporter leaves out the Null procedure of v2 and v3.
        for (name, v) in V2.iter().zip(&s.v2).skip(1) {
            out.add(&REQUESTS, &["2", name], *v as f64);
        }
        for (name, v) in V3.iter().zip(&s.v3).skip(1) {
            out.add(&REQUESTS, &["3", name], *v as f64);
        }
        for (name, op) in V4_OPS {
            out.add(&REQUESTS, &["4", name], s.v4_op(op) as f64);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> String {
        std::fs::read_to_string(crate::collectors::fixtures().proc("net/rpc/nfsd")).unwrap()
    }

    #[test]
    fn parses_server_stats() {
        let s = parse(&fixture()).unwrap();
        assert_eq!(s.reply_cache, [0, 1234, 56789]);
        assert_eq!(s.stale_handles, 3);
        assert_eq!(s.io, [123456789, 987654321]);
        assert_eq!(s.threads, 8);
        assert_eq!(s.read_ahead, [0, 0]);
        assert_eq!(s.net, [60012, 0, 60012, 45]);
        assert_eq!(s.rpc, [60010, 2, 0, 2, 0]);
        assert_eq!(s.v2, vec![0; 18]); // no proc2 line: zeros
        assert_eq!(&s.v3[..3], &[2, 1200, 30]);
        assert_eq!(s.v4_ops.len(), 77);
        assert_eq!((s.v4_op(3), s.v4_op(25), s.v4_op(38), s.v4_op(39), s.v4_op(99)), (300, 2500, 3800, 7, 0));
    }

    #[test]
    fn malformed_lines_name_the_line() {
        assert!(parse("rc 1 2\n").unwrap_err().contains("line 1"));
        assert!(parse("rc 1 2 3\nproc3 5 1 2 3\n").unwrap_err().contains("line 2"));
        assert!(parse("th 8\n").unwrap_err().contains("line 1"));
        assert!(parse("bogus 1\n").unwrap_err().contains("bogus"));
        assert!(parse("io 1 x\n").unwrap_err().contains("\"x\""));
        assert!(parse("proc4 3 1 2 3\n").unwrap_err().contains("proc4"));
        assert!(parse("rc\n").is_err());
        // An older kernel's 40-operation proc4ops line (no RELEASE_LOCKOWNER count beyond
        // it is needed) and the 2.6-era "th" histogram both parse.
        let ops = format!("proc4ops 40 {}\nth 16 5 1.5 0.2 0 0 0 0 0 0 0 0\n", vec!["1"; 40].join(" "));
        let s = parse(&ops).unwrap();
        assert_eq!((s.v4_op(39), s.v4_op(40), s.threads), (1, 0, 16));
    }

    #[test]
    fn fixture_tree() {
        let text = crate::collectors::fixture_text(&Nfsd).unwrap();
        for line in [
            "node_nfsd_reply_cache_misses_total 1234\n",
            "node_nfsd_reply_cache_nocache_total 56789\n",
            "node_nfsd_file_handles_stale_total 3\n",
            "node_nfsd_disk_bytes_read_total 1.23456789e+08\n",
            "node_nfsd_disk_bytes_written_total 9.87654321e+08\n",
            "node_nfsd_server_threads 8\n",
            "node_nfsd_read_ahead_cache_size_blocks 0\n",
            "node_nfsd_packets_total{proto=\"tcp\"} 60012\n",
            "node_nfsd_packets_total{proto=\"udp\"} 0\n",
            "node_nfsd_connections_total 45\n",
            "node_nfsd_rpc_errors_total{error=\"auth\"} 2\n",
            "node_nfsd_rpc_errors_total{error=\"cInt\"} 0\n",
            "node_nfsd_server_rpcs_total 60010\n",
            "node_nfsd_requests_total{method=\"GetAttr\",proto=\"3\"} 1200\n",
            "node_nfsd_requests_total{method=\"Commit\",proto=\"3\"} 100\n",
            "node_nfsd_requests_total{method=\"FsStat\",proto=\"2\"} 0\n",
            "node_nfsd_requests_total{method=\"Access\",proto=\"4\"} 300\n",
            "node_nfsd_requests_total{method=\"Read\",proto=\"4\"} 2500\n",
            "node_nfsd_requests_total{method=\"Write\",proto=\"4\"} 3800\n",
            "node_nfsd_requests_total{method=\"Verify\",proto=\"4\"} 3700\n",
            "node_nfsd_requests_total{method=\"RelLockOwner\",proto=\"4\"} 7\n",
        ] {
            assert!(text.contains(line), "missing {line}in\n{text}");
        }
        assert!(!text.contains("method=\"Null\""), "{text}");
        assert_eq!(text.matches("node_nfsd_requests_total{").count(), 17 + 21 + 33);
    }

    #[test]
    fn absent_file_is_no_data_and_bad_file_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let paths = vigie_kit::Paths { procfs: dir.path().into(), ..crate::collectors::fixtures() };
        let (_, result) = vigie_kit::scheduler::collect_once(&Nfsd, crate::collectors::fresh(&paths));
        assert!(matches!(result, Err(CollectError::NoData(_))), "{result:?}");
        std::fs::create_dir_all(dir.path().join("net/rpc")).unwrap();
        std::fs::write(dir.path().join("net/rpc/nfsd"), "rc 1 2 3\nio 1\n").unwrap();
        let (_, result) = vigie_kit::scheduler::collect_once(&Nfsd, paths);
        let err = result.unwrap_err().to_string();
        assert!(err.contains("net/rpc/nfsd") && err.contains("line 2"), "{err}");
    }
}
