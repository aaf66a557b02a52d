//! Percona's collectors, in its `--help` order, and what they share: the checked write of
//! flattened documents (with the compatible-mode names), `collector_scrape_time_ms`, and the
//! database and collection lists.

use std::sync::Arc;
use std::time::Instant;

use mongodb::bson::{doc, Document};
use mongodb::Client;
use vigie_kit::{CollectError, Kind, MetricSet};
use vigie_mongodb_exporter::naming::Flat;
use vigie_mongodb_exporter::sink::Sink;

use crate::target::Conn;

vigie_kit::collectors! { Arc<Conn>;
    general: on,
    diagnosticdata: off,
    replicasetstatus: off,
    dbstats: off,
    topmetrics: off,
    collstats: off,
    indexstats: off,
}

/// Writes `collector_scrape_time_ms{collector,exporter="mongodb"}` (Percona's name).
pub fn scrape_time(out: &mut MetricSet, collector: &str, started: Instant) {
    out.family("collector_scrape_time_ms", "Time a collector took to read its data, in milliseconds.", Kind::Gauge)
        .push(&[("collector", collector), ("exporter", "mongodb")], started.elapsed().as_secs_f64() * 1000.0);
}

/// Writes flattened samples (and their old names in compatible mode) through the checks.
pub fn write(sink: &mut Sink<'_>, conn: &Conn, flat: Flat) {
    for inv in &flat.invalid {
        sink.invalid(inv);
    }
    for m in vigie_mongodb_exporter::compat::with_old(flat.metrics, conn.shared.opts.compatible) {
        sink.push(m);
    }
}

/// A driver error as a collector error, password scrubbed (driver messages carry no URI,
/// but a server's may echo one).
pub fn fail(conn: &Conn, what: &str, e: &mongodb::error::Error) -> CollectError {
    let msg = format!("{}: {what}: {e}", conn.hosts);
    CollectError::Other(msg)
}

/// The client of an up target, or `None` (the general collector reports the reason).
pub fn client(conn: &Conn) -> Option<&Client> {
    conn.client.as_ref()
}

/// Database names (all, with admin/config/local).
pub async fn databases(conn: &Conn, client: &Client) -> Result<Vec<String>, CollectError> {
    client.list_database_names().await.map_err(|e| fail(conn, "listDatabases", &e))
}

const SYSTEM_DBS: &[&str] = &["admin", "config", "local"];

/// Collections to read for collstats/indexstats: the listed `db.coll` entries, and in
/// discovering mode every collection of the listed databases (or of every non-system
/// database when nothing is listed).
pub async fn collections(
    conn: &Conn,
    client: &Client,
    listed: &[String],
) -> Result<Vec<(String, String)>, CollectError> {
    let mut out = Vec::new();
    let mut whole_dbs = Vec::new();
    for entry in listed {
        match entry.split_once('.') {
            Some((db, coll)) if !db.is_empty() && !coll.is_empty() => out.push((db.to_owned(), coll.to_owned())),
            _ if conn.shared.opts.discovering => whole_dbs.push(entry.clone()),
            _ => {}
        }
    }
    if conn.shared.opts.discovering {
        if listed.is_empty() {
            whole_dbs =
                databases(conn, client).await?.into_iter().filter(|d| !SYSTEM_DBS.contains(&d.as_str())).collect();
        }
        for db in whole_dbs {
            let names =
                client.database(&db).list_collection_names().await.map_err(|e| fail(conn, "listCollections", &e))?;
            for c in names.into_iter().filter(|c| !c.starts_with("system.")) {
                if !out.iter().any(|(d, x)| *d == db && *x == c) {
                    out.push((db.clone(), c));
                }
            }
        }
    }
    Ok(out)
}

/// The client for the per-database and per-collection collectors (dbstats, collstats,
/// indexstats): `None` when there is no connection or `--collector.collstats-limit` is
/// exceeded, and the collector then writes nothing.
pub async fn limited_client(conn: &Conn) -> Option<&Client> {
    let client = client(conn)?;
    (!over_limit(conn, client).await).then_some(client)
}

/// Whether `--collector.collstats-limit` is exceeded (then the per-collection and per-
/// database collectors skip, as Percona's do).
pub async fn over_limit(conn: &Conn, client: &Client) -> bool {
    let limit = conn.shared.opts.collstats_limit;
    if limit <= 0 {
        return false;
    }
    let Ok(dbs) = databases(conn, client).await else { return false };
    let mut n = 0_i64;
    for db in dbs.iter().filter(|d| !SYSTEM_DBS.contains(&d.as_str())) {
        if let Ok(c) = client.database(db).list_collection_names().await {
            n += c.len() as i64;
        }
    }
    n > limit
}

/// Runs an aggregation and collects every document.
pub async fn aggregate(
    conn: &Conn,
    client: &Client,
    db: &str,
    coll: &str,
    pipeline: Vec<Document>,
) -> Result<Vec<Document>, CollectError> {
    let mut cursor = client
        .database(db)
        .collection::<Document>(coll)
        .aggregate(pipeline)
        .await
        .map_err(|e| fail(conn, &format!("aggregate on {db}.{coll}"), &e))?;
    let mut out = Vec::new();
    while cursor.advance().await.map_err(|e| fail(conn, &format!("aggregate on {db}.{coll}"), &e))? {
        out.push(cursor.deserialize_current().map_err(|e| fail(conn, "aggregate reply", &e))?);
    }
    Ok(out)
}

/// `labels` plus the topology labels.
pub fn with_topology(conn: &Conn, labels: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut l = conn.topology.clone();
    l.extend(labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    l
}

/// `{ <cmd>: 1 }`.
pub fn cmd(name: &str) -> Document {
    doc! { name: 1 }
}
