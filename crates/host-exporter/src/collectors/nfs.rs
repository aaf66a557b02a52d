//! `/proc/net/rpc/nfs` → `node_nfs_*` (node_exporter "nfs" names: the NFS client's RPC
//! and per-procedure counters).
//!
//! The `method` label values are the procedure names node_exporter 1.5 uses (its procfs
//! library's field names), in the kernel's procedure order. NFSv2, v3 and v4 requests are
//! always all exposed (zero when the file has no line for that version), as in 1.5. A host
//! without the NFS client module has no file: "no data" (success 0).

use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

/// The registration.
pub const REG: Registration = Registration {
    name: "nfs",
    default_enabled: true,
    help: "Exposes NFS client statistics from /proc/net/rpc/nfs.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Nfs)),
};

const PACKETS: Desc = Desc::counter("node_nfs_packets_total", "Network packets of the NFS client, by transport.", &["protocol"]);
const CONNECTIONS: Desc = Desc::counter("node_nfs_connections_total", "TCP connections the NFS client made.", &[]);
const RPCS: Desc = Desc::counter("node_nfs_rpcs_total", "RPCs the NFS client sent.", &[]);
const RETRANS: Desc = Desc::counter("node_nfs_rpc_retransmissions_total", "RPCs the NFS client sent again.", &[]);
const AUTH_REFRESHES: Desc =
    Desc::counter("node_nfs_rpc_authentication_refreshes_total", "RPC credential refreshes of the NFS client.", &[]);
const REQUESTS: Desc = Desc::counter("node_nfs_requests_total", "NFS procedures the client called, by version and procedure.", &["proto", "method"]);

/// NFSv2 procedures, in kernel order (after the count field).
pub const V2: &[&str] = &[
    "Null", "GetAttr", "SetAttr", "Root", "Lookup", "ReadLink", "Read", "WrCache", "Write", "Create", "Remove", "Rename",
    "Link", "SymLink", "MkDir", "RmDir", "ReadDir", "FsStat",
];
/// NFSv3 procedures.
pub const V3: &[&str] = &[
    "Null", "GetAttr", "SetAttr", "Lookup", "Access", "ReadLink", "Read", "Write", "Create", "MkDir", "SymLink", "MkNod",
    "Remove", "RmDir", "Rename", "Link", "ReadDir", "ReadDirPlus", "FsStat", "FsInfo", "PathConf", "Commit",
];
/// NFSv4 client operations (the first 59 the kernel counts; older kernels count fewer).
pub const V4: &[&str] = &[
    "Null", "Read", "Write", "Commit", "Open", "OpenConfirm", "OpenNoattr", "OpenDowngrade", "Close", "Setattr", "FsInfo",
    "Renew", "SetClientID", "SetClientIDConfirm", "Lock", "Lockt", "Locku", "Access", "Getattr", "Lookup", "LookupRoot",
    "Remove", "Rename", "Link", "Symlink", "Create", "Pathconf", "StatFs", "ReadLink", "ReadDir", "ServerCaps",
    "DelegReturn", "GetACL", "SetACL", "FsLocations", "ReleaseLockowner", "Secinfo", "FsidPresent", "ExchangeID",
    "CreateSession", "DestroySession", "Sequence", "GetLeaseTime", "ReclaimComplete", "LayoutGet", "GetDeviceInfo",
    "LayoutCommit", "LayoutReturn", "SecinfoNoName", "TestStateID", "FreeStateID", "GetDeviceList", "BindConnToSession",
    "DestroyClientID", "Seek", "Allocate", "DeAllocate", "LayoutStats", "Clone",
];

/// The client counters of `/proc/net/rpc/nfs`; absent lines are zeros.
#[derive(Debug, Default, PartialEq)]
pub struct ClientStats {
    /// `net`: packets (all, udp, tcp), tcp connections.
    pub net: [u64; 4],
    /// `rpc`: calls, retransmissions, credential refreshes.
    pub rpc: [u64; 3],
    /// `proc2`, `proc3`, `proc4` counters, `V2.len()`, `V3.len()`, `V4.len()` long.
    pub procs: [Vec<u64>; 3],
}

/// Parses `/proc/net/rpc/nfs`.
pub fn parse(text: &str) -> Result<ClientStats, String> {
    let mut stats = ClientStats { procs: [vec![0; V2.len()], vec![0; V3.len()], vec![0; V4.len()]], ..ClientStats::default() };
    for (n, line) in text.lines().enumerate() {
        let at = |msg: &str| format!("line {}: {msg}", n + 1);
        let mut fields = line.split_ascii_whitespace();
        let key = fields.next().unwrap_or("");
        let values = fields
            .map(|f| f.parse::<u64>().map_err(|_| at(&format!("invalid number {f:?}"))))
            .collect::<Result<Vec<u64>, String>>()?;
        if values.is_empty() {
            return Err(at("expected a key and values"));
        }
        match key {
            "net" => stats.net = values.try_into().map_err(|_| at("net: expected 4 values"))?,
            "rpc" => stats.rpc = values.try_into().map_err(|_| at("rpc: expected 3 values"))?,
            "proc2" | "proc3" | "proc4" => {
                let (slot, min) = match key {
                    "proc2" => (0, V2.len()),
                    "proc3" => (1, V3.len()),
                    _ => (2, 0),
                };
                // The first value counts the ones after it.
                let counts = &values[1..];
                if usize::try_from(values[0]).ok() != Some(counts.len()) || counts.len() < min {
                    return Err(at(&format!("{key}: count {} does not match {} values", values[0], counts.len())));
                }
                let out = &mut stats.procs[slot];
                for (o, v) in out.iter_mut().zip(counts) {
                    *o = *v;
                }
            }
            other => return Err(at(&format!("unknown line {other:?}"))),
        }
    }
    Ok(stats)
}

/// Reads `/proc/net/rpc/nfs`.
pub struct Nfs;

impl SyncCollector for Nfs {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let path = cx.paths.proc("net/rpc/nfs");
        let text = match cx.read_optional(&path) {
            Err(e) if e.is_not_found() => return Err(CollectError::NoData(e.to_string())),
            other => other?,
        };
        let s = parse(&text).map_err(|msg| CollectError::parse(&path, msg))?;
        out.add(&PACKETS, &["udp"], s.net[1] as f64);
        out.add(&PACKETS, &["tcp"], s.net[2] as f64);
        out.add(&CONNECTIONS, &[], s.net[3] as f64);
        out.add(&RPCS, &[], s.rpc[0] as f64);
        out.add(&RETRANS, &[], s.rpc[1] as f64);
        out.add(&AUTH_REFRESHES, &[], s.rpc[2] as f64);
        for ((proto, names), values) in [("2", V2), ("3", V3), ("4", V4)].into_iter().zip(&s.procs) {
            for (name, v) in names.iter().zip(values) {
                out.add(&REQUESTS, &[proto, name], *v as f64);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_kernel_counts() {
        assert_eq!((V2.len(), V3.len(), V4.len()), (18, 22, 59));
    }

    #[test]
    fn parses_client_stats() {
        let text = std::fs::read_to_string(crate::collectors::fixtures().proc("net/rpc/nfs")).unwrap();
        let s = parse(&text).unwrap();
        assert_eq!(s.net, [0, 0, 0, 0]);
        assert_eq!(s.rpc, [31412, 2, 0]);
        assert_eq!(s.procs[1][1], 0); // no proc3 activity
        assert_eq!(s.procs[0], vec![0; 18]); // no proc2 line: zeros
        assert_eq!(&s.procs[2][..4], &[0, 1023, 2048, 17]);
        // A 4.x kernel's shorter proc4 line is padded with zeros.
        let short = parse("proc4 3 1 2 3\n").unwrap();
        assert_eq!(&short.procs[2][..4], &[1, 2, 3, 0]);
        assert!(parse("net 1 2 3\n").unwrap_err().contains("line 1"));
        assert!(parse("rpc 1 2 3\nproc3 5 1 2 3\n").unwrap_err().contains("line 2"));
        assert!(parse("bogus 1\n").unwrap_err().contains("bogus"));
        assert!(parse("rpc 1 x 3\n").unwrap_err().contains("\"x\""));
    }

    #[test]
    fn fixture_tree() {
        let text = crate::collectors::fixture_text(&Nfs).unwrap();
        for line in [
            "node_nfs_rpcs_total 31412\n",
            "node_nfs_rpc_retransmissions_total 2\n",
            "node_nfs_packets_total{protocol=\"tcp\"} 0\n",
            "node_nfs_connections_total 0\n",
            "node_nfs_requests_total{method=\"Read\",proto=\"4\"} 1023\n",
            "node_nfs_requests_total{method=\"Write\",proto=\"4\"} 2048\n",
            "node_nfs_requests_total{method=\"Clone\",proto=\"4\"} 0\n",
            "node_nfs_requests_total{method=\"ReadDirPlus\",proto=\"3\"} 0\n",
            "node_nfs_requests_total{method=\"WrCache\",proto=\"2\"} 0\n",
        ] {
            assert!(text.contains(line), "missing {line}in\n{text}");
        }
        assert_eq!(text.matches("node_nfs_requests_total{").count(), 18 + 22 + 59);
    }

    #[test]
    fn absent_file_is_no_data() {
        let dir = tempfile::tempdir().unwrap();
        let paths = vigie_kit::Paths { procfs: dir.path().into(), ..crate::collectors::fixtures() };
        let (_, result) = vigie_kit::scheduler::collect_once(&Nfs, paths);
        assert!(matches!(result, Err(CollectError::NoData(_))), "{result:?}");
    }
}
