//! Percona Backup for MongoDB, read from the collections PBM keeps in `admin` (Percona's pbm
//! collector reads the same through PBM's SDK): `mongodb_pbm_cluster_backup_configured`
//! (a `pbmConfig` document exists), `mongodb_pbm_cluster_pitr_backup_enabled` and, per
//! backup and replica set in `pbmBackups`, `mongodb_pbm_backup_{size_bytes,
//! last_transition_ts,duration_seconds}{opid,status,name,host,replica_set,self,type}`.
//!
//! Not given: `mongodb_pbm_agent_status`. Percona computes it with PBM's own cluster-status
//! logic (agent heartbeats judged against the cluster time, through a connection to every
//! member); without PBM that judgement cannot be reproduced faithfully, so we leave the
//! family out rather than guess.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use mongodb::bson::{doc, Bson, Document};
use mongodb::options::{ReadPreference, SelectionCriteria};
use vigie_kit::{BoxFuture, CollectResult, Collector, Kind, MetricSet, Registration, Scrape};
use vigie_mongodb_exporter::sink::Sink;

use crate::target::{number, Conn};

/// Registration.
pub const REG: Registration<Arc<Conn>> = Registration {
    name: "pbm",
    default_enabled: false,
    help: "Percona Backup for MongoDB: configuration, PITR and backups (mongodb_pbm_*).",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Pbm)),
};

struct Pbm;

/// Statuses after which a backup's duration stops growing.
const FINAL: &[&str] = &["done", "canceled", "error", "down"];

/// Writes the samples for PBM's config document (if any) and its backup documents; `me` is
/// this member's `host:port` (`self="1"` where a backup ran on it).
pub fn write(sink: &mut Sink<'_>, config: Option<&Document>, backups: &[Document], me: &str, now: i64) {
    let g = |sink: &mut Sink<'_>, name: &str, help: &str, labels: &[(&str, &str)], v: f64| {
        super::gauge(sink, name, help, Kind::Gauge, labels, v)
    };
    if let Some(config) = config {
        let pitr = config.get_document("pitr").and_then(|p| p.get_bool("enabled")).unwrap_or(false);
        g(sink, "mongodb_pbm_cluster_pitr_backup_enabled", "1 when PBM's point-in-time recovery is enabled.", &[], f64::from(u8::from(pitr)));
        for b in backups {
            let s = |k: &str| b.get_str(k).unwrap_or("").to_owned();
            let (opid, name, status, kind) = (s("opid"), s("name"), s("status"), s("type"));
            let int = |k: &str| b.get(k).and_then(number).unwrap_or(0.0);
            let (size, last, start) = (int("size"), int("last_transition_ts"), int("start_ts"));
            let end = if FINAL.contains(&status.as_str()) { last } else { now as f64 };
            for rs in b.get_array("replsets").map(|a| a.as_slice()).unwrap_or_default() {
                let Bson::Document(rs) = rs else { continue };
                let host = rs.get_str("node").unwrap_or("");
                let labels = [
                    ("host", host),
                    ("name", name.as_str()),
                    ("opid", opid.as_str()),
                    ("replica_set", rs.get_str("name").unwrap_or("")),
                    ("self", if !me.is_empty() && host == me { "1" } else { "0" }),
                    ("status", status.as_str()),
                    ("type", kind.as_str()),
                ];
                g(sink, "mongodb_pbm_backup_size_bytes", "Size of a PBM backup, in bytes.", &labels, size);
                g(sink, "mongodb_pbm_backup_last_transition_ts", "When a PBM backup last changed status, in unix seconds.", &labels, last);
                g(sink, "mongodb_pbm_backup_duration_seconds", "How long a PBM backup ran (or has been running), in seconds.", &labels, end - start);
            }
        }
    }
    g(sink, "mongodb_pbm_cluster_backup_configured", "1 when PBM is configured for the cluster.", &[], f64::from(u8::from(config.is_some())));
}

impl Collector<Arc<Conn>> for Pbm {
    fn collect<'a>(&'a self, cx: &'a Scrape<Arc<Conn>>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            let started = Instant::now();
            let conn = &cx.target;
            let Some(client) = super::data_client(conn) else { return Ok(()) };
            let admin = client.database("admin");
            let pref = SelectionCriteria::ReadPreference(ReadPreference::PrimaryPreferred { options: Default::default() });
            let config = admin
                .collection::<Document>("pbmConfig")
                .find_one(doc! {})
                .selection_criteria(pref.clone())
                .await
                .map_err(|e| super::fail(conn, "find on admin.pbmConfig", &e))?;
            let mut backups = Vec::new();
            if config.is_some() {
                let mut cursor = admin
                    .collection::<Document>("pbmBackups")
                    .find(doc! {})
                    .sort(doc! { "start_ts": 1 })
                    .selection_criteria(pref)
                    .await
                    .map_err(|e| super::fail(conn, "find on admin.pbmBackups", &e))?;
                while cursor.advance().await.map_err(|e| super::fail(conn, "admin.pbmBackups", &e))? {
                    backups.push(cursor.deserialize_current().map_err(|e| super::fail(conn, "admin.pbmBackups", &e))?);
                }
            }
            let me = conn.hello.as_ref().and_then(|h| h.get_str("me").ok()).unwrap_or("");
            let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
            write(&mut Sink::new(out, &conn.shared.drops), config.as_ref(), &backups, me, now);
            super::scrape_time(out, "pbm", started);
            Ok(())
        })
    }
}
