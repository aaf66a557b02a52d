//! `currentOp` (Percona's currentopmetrics collector): `mongodb_currentop_fsync_lock_state`
//! (1 while the server is fsync-locked) and, for every active operation outside `admin.*`
//! and `local.*` running longer than `--collector.currentopmetrics-slow-time`,
//! `mongodb_currentop_query_uptime{opid,op,desc,database,collection,ns}` in microseconds.
//! Not on mongos or arbiters.

use std::sync::Arc;
use std::time::Instant;

use mongodb::bson::{doc, Bson, Document};
use vigie_kit::{BoxFuture, CollectResult, Collector, Kind, MetricSet, Registration, Scrape};
use vigie_mongodb_exporter::naming::Label;
use vigie_mongodb_exporter::sink::Sink;

use crate::target::{admin, number, Conn};

/// Registration.
pub const REG: Registration<Arc<Conn>> = Registration {
    name: "currentopmetrics",
    default_enabled: false,
    help: "currentOp: fsync lock state and operations slower than --collector.currentopmetrics-slow-time.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(CurrentOp)),
};

struct CurrentOp;

/// The `currentOp` command: with a slow time, only the active, slow, non-system operations.
pub fn command(slow_micros: Option<i64>) -> Document {
    let mut cmd = doc! { "currentOp": true };
    if let Some(us) = slow_micros {
        cmd.insert("active", true);
        cmd.insert("op", doc! { "$ne": "" });
        cmd.insert("ns", doc! { "$ne": "", "$not": { "$regex": "^admin.*|^local.*" } });
        cmd.insert("microsecs_running", doc! { "$exists": true, "$gte": us });
    }
    cmd
}

/// Writes the samples of one `currentOp` reply. The command's filter is checked again here:
/// a server that ignores it (SecantusDB does) must not turn every operation into a sample.
pub fn write_reply(sink: &mut Sink<'_>, topology: &[Label], reply: &Document, slow_micros: Option<i64>) {
    if let Some(min) = slow_micros {
        for op in reply.get_array("inprog").map(|a| a.as_slice()).unwrap_or_default() {
            let Bson::Document(op) = op else { continue };
            // The fields Percona requires; an operation without one of them is skipped.
            let (Some(opid), Ok(ns), Ok(kind), Ok(desc), Some(us)) = (
                op.get("opid").and_then(number),
                op.get_str("ns"),
                op.get_str("op"),
                op.get_str("desc"),
                op.get("microsecs_running").and_then(number),
            ) else {
                continue;
            };
            let system = ns.starts_with("admin") || ns.starts_with("local");
            if kind.is_empty() || ns.is_empty() || system || us < min as f64 || !op.get_bool("active").unwrap_or(true) {
                continue;
            }
            let (db, coll) = ns.split_once('.').unwrap_or((ns, ""));
            let opid = format!("{}", opid as i64);
            let labels = super::with_topology(
                topology,
                &[("opid", &opid), ("op", kind), ("desc", desc), ("database", db), ("collection", coll), ("ns", ns)],
            );
            let labels: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (k.as_ref(), v.as_str())).collect();
            super::gauge(
                sink,
                "mongodb_currentop_query_uptime",
                "How long a slow operation has been running, in microseconds.",
                Kind::Gauge,
                &labels,
                us,
            );
        }
    }
    let locked = reply.get_bool("fsyncLock").unwrap_or(false);
    super::gauge(
        sink,
        "mongodb_currentop_fsync_lock_state",
        "1 while the server is locked by fsyncLock, else 0.",
        Kind::Gauge,
        &[],
        if locked { 1.0 } else { 0.0 },
    );
}

impl Collector<Arc<Conn>> for CurrentOp {
    fn collect<'a>(&'a self, cx: &'a Scrape<Arc<Conn>>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            let started = Instant::now();
            let conn = &cx.target;
            let Some(client) = super::mongod_client(conn) else { return Ok(()) };
            let slow = conn.shared.opts.currentop_slow_micros;
            let reply = admin(client, command(slow)).await.map_err(|e| super::fail(conn, "currentOp", &e))?;
            write_reply(&mut Sink::new(out, &conn.shared.drops), conn.topology().await, &reply, slow);
            super::scrape_time(out, "currentop", started);
            Ok(())
        })
    }
}
