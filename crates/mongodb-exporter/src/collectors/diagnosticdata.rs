//! `getDiagnosticData` → `mongodb_ss_*`, `mongodb_rs_*`, `mongodb_oplog_stats_*`,
//! `mongodb_sys_*`, `mongodb_start`/`_end` (Percona's diagnosticdata collector), its fixed
//! lock list, and in compatible mode the old families built by hand: version, storage
//! engine, replica-set members, oplog head/tail timestamps.

use std::sync::{Arc, LazyLock};
use std::time::Instant;

use mongodb::bson::{rawdoc, Bson, Document, RawDocumentBuf};
use mongodb::Client;
use vigie_kit::{BoxFuture, CollectResult, Collector, Kind, MetricSet, Registration, Scrape};
use vigie_mongodb_exporter::sink::Sink;

use crate::target::{build_info, command_raw, number, walk, Conn, NodeType};

/// Registration.
pub const REG: Registration<Arc<Conn>> = Registration {
    name: "diagnosticdata",
    default_enabled: false,
    help: "getDiagnosticData: serverStatus, replSetGetStatus, oplog stats and system metrics.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(DiagnosticData)),
};

struct DiagnosticData;

/// The fixed lock list: (family, lock mode label, resource label, path under serverStatus.locks).
/// The second and the acquireWaitCount rows keep the incumbent's mislabelled resource and
/// path, since dashboards read them so.
const LOCKS: &[(&str, &str, &str, [&str; 3])] = &[
    ("mongodb_ss_locks_acquireCount", "r", "ParallelBatchWriterMode", ["ParallelBatchWriterMode", "acquireCount", "r"]),
    ("mongodb_ss_locks_acquireCount", "w", "ReplicationStateTransition", ["ParallelBatchWriterMode", "acquireCount", "w"]),
    ("mongodb_ss_locks_acquireCount", "w", "ReplicationStateTransition", ["ReplicationStateTransition", "acquireCount", "w"]),
    ("mongodb_ss_locks_acquireWaitCount", "W", "ReplicationStateTransition", ["ReplicationStateTransition", "acquireCount", "W"]),
    ("mongodb_ss_locks_timeAcquiringMicros", "w", "ReplicationStateTransition", ["ReplicationStateTransition", "timeAcquiringMicros", "w"]),
    ("mongodb_ss_locks_acquireCount", "r", "Global", ["Global", "acquireCount", "r"]),
    ("mongodb_ss_locks_acquireCount", "w", "Global", ["Global", "acquireCount", "w"]),
    ("mongodb_ss_locks_acquireCount", "W", "Global", ["Global", "acquireCount", "W"]),
];

/// The lock list from a `data` document (duplicates are dropped by the sink).
pub fn locks(sink: &mut Sink<'_>, data: &Document) {
    for (name, mode, resource, path) in LOCKS {
        let full = ["serverStatus", "locks", path[0], path[1], path[2]];
        if let Some(v) = walk(data, &full).and_then(number) {
            let labels = vec![("lock_mode".into(), (*mode).into()), ("resource".into(), (*resource).into())];
            sink.push_parts((*name).into(), (*name).into(), Kind::Untyped, labels, v);
        }
    }
}

fn gauge(sink: &mut Sink<'_>, name: &str, help: &str, labels: &[(&str, &str)], value: f64) {
    super::gauge(sink, name, help, Kind::Gauge, labels, value);
}

fn ms(b: &Bson) -> Option<f64> {
    match b {
        Bson::DateTime(d) => Some(d.timestamp_millis() as f64),
        Bson::Timestamp(t) => Some(f64::from(t.time) * 1000.0),
        _ => None,
    }
}

/// Compatible-mode families computed from `data` alone (the storage engine on mongod and
/// arbiters, the members on mongod only, as Percona does).
pub fn compat_from_data(sink: &mut Sink<'_>, data: &Document, set: &str, node: NodeType) {
    let acquiring = ["r", "w"]
        .iter()
        .filter_map(|m| walk(data, &["serverStatus", "locks", "Global", "timeAcquiringMicros", m]).and_then(number))
        .sum::<f64>();
    gauge(sink, "mongodb_mongod_locks_time_acquiring_global_microseconds_total", "Microseconds spent waiting for the global lock (reads and writes).", &[], acquiring);
    let evicted = ["modified pages evicted", "unmodified pages evicted"]
        .iter()
        .map(|k| walk(data, &["serverStatus", "wiredTiger", "cache", k]).and_then(number))
        .collect::<Option<Vec<f64>>>();
    if let Some(e) = evicted {
        gauge(sink, "mongodb_mongod_wiredtiger_cache_evicted_total", "Pages evicted from the WiredTiger cache, modified or not.", &[], e.iter().sum());
    }
    if let (Some(Bson::String(engine)), NodeType::Mongod | NodeType::Arbiter) =
        (walk(data, &["serverStatus", "storageEngine", "name"]), node)
    {
        gauge(sink, "mongodb_mongod_storage_engine", "The storage engine in use, as a label.", &[("engine", engine)], 1.0);
    }
    if node != NodeType::Mongod {
        return;
    }
    let Ok(rs) = data.get_document("replSetGetStatus") else { return };
    let members: Vec<&Document> = rs.get_array("members").map(|a| a.iter().filter_map(Bson::as_document).collect()).unwrap_or_default();
    gauge(sink, "mongodb_mongod_replset_number_of_members", "Members of the replica set.", &[("set", set)], members.len() as f64);
    let primary_optime = members.iter().find(|m| m.get_str("stateStr") == Ok("PRIMARY")).and_then(|m| m.get("optimeDate")).and_then(ms);
    for m in &members {
        let name = m.get_str("name").unwrap_or("");
        let state = m.get_str("stateStr").unwrap_or("");
        let l = [("name", name), ("set", set), ("state", state)];
        if m.get_bool("self").unwrap_or(false) {
            gauge(sink, "mongodb_mongod_replset_my_name", "The name of the member this exporter watches.", &l, 1.0);
        }
        if let Some(e) = m.get("electionTime").and_then(ms).filter(|v| *v > 0.0) {
            gauge(sink, "mongodb_mongod_replset_member_election_date", "When the member was elected primary, in unix seconds.", &l, e / 1000.0);
        }
        if let (Some(p), Some(o)) = (primary_optime, m.get("optimeDate").and_then(ms)) {
            if state != "PRIMARY" {
                gauge(sink, "mongodb_mongod_replset_member_replication_lag", "Seconds the member's last applied operation is behind the primary's.", &l, ((p - o) / 1000.0).abs());
            }
        }
        if let Some(v) = m.get("pingMs").and_then(number) {
            gauge(sink, "mongodb_mongod_replset_member_ping_ms", "Round trip of the last heartbeat to the member, in milliseconds.", &l, v);
        }
        if let Some(v) = m.get("lastHeartbeat").and_then(ms) {
            gauge(sink, "mongodb_mongod_replset_member_last_heartbeat", "When the last heartbeat was sent to the member, in unix seconds.", &l, v / 1000.0);
        }
        if let Some(v) = m.get("lastHeartbeatRecv").and_then(ms) {
            gauge(sink, "mongodb_mongod_replset_member_last_heartbeat_recv", "When the last heartbeat was received from the member, in unix seconds.", &l, v / 1000.0);
        }
        if let Some(v) = m.get("configVersion").and_then(number) {
            gauge(sink, "mongodb_mongod_replset_member_config_version", "Replica-set configuration version the member has.", &l, v);
        }
    }
}

/// `{ getDiagnosticData: 1 }`.
static GET_DIAGNOSTIC_DATA: LazyLock<RawDocumentBuf> = LazyLock::new(|| rawdoc! { "getDiagnosticData": 1 });

/// The find a `find_one` sends for the oplog's newest (`$natural: -1`) or oldest entry, as a
/// plain command: its reply is one small document, without the cursor machinery.
fn oplog_end(order: i32) -> RawDocumentBuf {
    rawdoc! {
        "find": "oplog.rs", "filter": {}, "sort": { "$natural": order }, "projection": { "ts": 1 },
        "limit": 1, "singleBatch": true,
    }
}

static OPLOG_NEWEST: LazyLock<RawDocumentBuf> = LazyLock::new(|| oplog_end(-1));
static OPLOG_OLDEST: LazyLock<RawDocumentBuf> = LazyLock::new(|| oplog_end(1));

/// Compatible-mode families that need their own commands.
async fn compat_from_server(sink: &mut Sink<'_>, conn: &Conn, client: &Client, set: &str) {
    if let Ok(info) = build_info(client, &conn.facts).await {
        let version = info.get_str("version").unwrap_or("");
        let enterprise = info.get_array("modules").ok().and_then(|m| m.first()).and_then(Bson::as_str) == Some("enterprise");
        let vendor = if info.contains_key("psmdbVersion") { "Percona" } else { "MongoDB" };
        let edition = if enterprise { "Enterprise" } else { "Community" };
        gauge(sink, "mongodb_version_info", "The server's version, edition and vendor, as labels.", &[("edition", edition), ("mongodb", version), ("vendor", vendor)], 1.0);
    }
    match conn.node {
        NodeType::Mongod => {}
        NodeType::Arbiter => return arbiter(sink, conn),
        NodeType::Mongos => return super::shards::compat_families(sink, client).await,
        NodeType::Unknown => return,
    }
    // The state the topology labels carry (known from getDiagnosticData, or asked once).
    let state = conn.my_state().await.unwrap_or(6.0);
    gauge(sink, "mongodb_mongod_replset_my_state", "This member's replica-set state (6: unknown).", &[("set", set)], state);
    for (name, find, help) in [
        ("mongodb_mongod_replset_oplog_head_timestamp", &*OPLOG_NEWEST, "Timestamp of the newest oplog entry, in unix seconds."),
        ("mongodb_mongod_replset_oplog_tail_timestamp", &*OPLOG_OLDEST, "Timestamp of the oldest oplog entry, in unix seconds."),
    ] {
        let Ok(reply) = command_raw(client, "local", find).await else { continue };
        let first = walk(&reply, &["cursor", "firstBatch"]).and_then(Bson::as_array).and_then(|b| b.first());
        if let Some(ts) = first.and_then(Bson::as_document).and_then(|e| e.get_timestamp("ts").ok()) {
            gauge(sink, name, help, &[], f64::from(ts.time));
        }
    }
}

/// An arbiter's compatible-mode families, from its `isMaster` reply: state 7 and the
/// member count.
fn arbiter(sink: &mut Sink<'_>, conn: &Conn) {
    let Some(hello) = &conn.hello else { return };
    let set = hello.get_str("setName").unwrap_or("");
    let len = |k: &str| hello.get_array(k).map(Vec::len).unwrap_or(0);
    gauge(sink, "mongodb_mongod_replset_my_state", "This member's replica-set state (6: unknown).", &[("set", set)], 7.0);
    gauge(sink, "mongodb_mongod_replset_number_of_members", "Members of the replica set.", &[("set", set)], (len("hosts") + len("arbiters")) as f64);
}

/// `mongodb_security_encryption_enabled{type}` when the command line enables encryption at
/// rest: `kmip`, `vault`, `localKeyFile` (the last one present wins, as in Percona's), or "".
pub fn encryption(sink: &mut Sink<'_>, cmdline: &Document) {
    let Some(Bson::Document(security)) = walk(cmdline, &["parsed", "security"]) else { return };
    if !security.contains_key("enableEncryption") {
        return;
    }
    let kind = [("encryptionKeyFile", "localKeyFile"), ("vault", "vault"), ("kmip", "kmip")]
        .iter()
        .find(|(k, _)| security.contains_key(k))
        .map_or("", |(_, t)| t);
    gauge(sink, "mongodb_security_encryption_enabled", "1 when encryption at rest is enabled, with its key source as the type label.", &[("type", kind)], 1.0);
}

/// Tells the target's kept replies serverStatus `uptime`, `pid` and `host`: they are dropped
/// when the server restarted, and asked again from the next scrape on.
fn restarted(conn: &Conn, data: &Document) {
    let Ok(status) = data.get_document("serverStatus") else { return };
    let Some(uptime) = status.get("uptime").and_then(number) else { return };
    let pid = status.get("pid").and_then(number);
    let host = status.get_str("host").ok().map(str::to_owned);
    crate::target::lock(&conn.facts).observe(uptime, pid, host);
}

/// Merges 8.0's per-block `data` (`common`, …) into one document, as Percona does.
fn merged(data: Document) -> Document {
    if !data.contains_key("common") {
        return data;
    }
    let mut out = Document::new();
    for (_, v) in data {
        if let Bson::Document(block) = v {
            out.extend(block);
        }
    }
    out
}

impl Collector<Arc<Conn>> for DiagnosticData {
    fn collect<'a>(&'a self, cx: &'a Scrape<Arc<Conn>>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            let started = Instant::now();
            let conn = &cx.target;
            let Some(client) = super::client(conn) else { return Ok(()) };
            let compatible = conn.shared.opts.compatible;
            let data = match command_raw(client, "admin", &GET_DIAGNOSTIC_DATA).await {
                Ok(mut reply) => match reply.remove("data") {
                    Some(Bson::Document(data)) => Ok(merged(data)),
                    _ => Err(vigie_kit::CollectError::Other(format!("{}: getDiagnosticData reply has no data document", conn.hosts))),
                },
                Err(e) => Err(super::fail(conn, "getDiagnosticData", &e)),
            };
            // On a replica-set member the reply holds a replSetGetStatus: its state is the
            // scrape's, and the topology labels need no command of their own for it.
            if let Some(state) = data.as_ref().ok().and_then(|d| walk(d, &["replSetGetStatus", "myState"])).and_then(number) {
                conn.know_state(state);
            }
            let topology = conn.topology().await;
            let set = topology.iter().find(|(k, _)| k == "rs_nm").map(|(_, v)| v.to_string()).unwrap_or_default();
            let mut sink = Sink::new(out, &conn.shared.drops);
            let result = data.map(|data| {
                restarted(conn, &data);
                super::write(&mut sink, conn, "", &data, topology, conn.shared.opts.histograms);
                locks(&mut sink, &data);
                if let Some(cmdline) = &conn.cmdline {
                    encryption(&mut sink, cmdline);
                }
                if compatible {
                    compat_from_data(&mut sink, &data, &set, conn.node);
                }
            });
            if compatible {
                compat_from_server(&mut sink, conn, client, &set).await;
            }
            drop(sink);
            super::scrape_time(out, "diagnostic_data", started);
            result
        })
    }
}
