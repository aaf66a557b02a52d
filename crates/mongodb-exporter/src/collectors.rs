//! Percona's collectors, in its `--help` order, and what they share: the checked write of
//! flattened documents (with the compatible-mode names), `collector_scrape_time_ms`, and the
//! database and collection lists.

use std::sync::Arc;
use std::time::Instant;

use mongodb::bson::{doc, Document};
use mongodb::Client;
use vigie_kit::{CollectError, Kind, MetricSet};
use vigie_mongodb_exporter::naming::{emit, Label};
use vigie_mongodb_exporter::sink::Sink;

use crate::target::{Conn, NodeType};

vigie_kit::collectors! { Arc<Conn>;
    general: on,
    diagnosticdata: off,
    replicasetstatus: off,
    replicasetconfig: off,
    dbstats: off,
    topmetrics: off,
    currentopmetrics: off,
    indexstats: off,
    collstats: off,
    profile: off,
    fcv: off,
    shards: off,
    pbm: off,
}

/// Writes `collector_scrape_time_ms{collector,exporter="mongodb"}` (Percona's name).
pub fn scrape_time(out: &mut MetricSet, collector: &str, started: Instant) {
    out.family("collector_scrape_time_ms", "Time a collector took to read its data, in milliseconds.", Kind::Gauge)
        .push(&[("collector", collector), ("exporter", "mongodb")], started.elapsed().as_secs_f64() * 1000.0);
}

/// Writes the samples of `doc` under `prefix` (and their old names in compatible mode)
/// through the checks.
pub fn write(sink: &mut Sink<'_>, conn: &Conn, prefix: &str, doc: &Document, labels: &[Label], histograms: bool) {
    emit::write(sink, prefix, doc, labels, histograms, conn.shared.opts.compatible);
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

/// [`client`], but `None` on an arbiter too: it answers little more than `isMaster`, and
/// Percona turns every collector but diagnosticdata and replicasetconfig off there.
pub fn data_client(conn: &Conn) -> Option<&Client> {
    if conn.node == NodeType::Arbiter {
        return None;
    }
    client(conn)
}

/// [`data_client`], but `None` on a mongos too: for the commands only a mongod answers.
pub fn mongod_client(conn: &Conn) -> Option<&Client> {
    data_client(conn).filter(|_| conn.node != NodeType::Mongos)
}

/// Writes one hand-built sample through the checks.
pub fn gauge(sink: &mut Sink<'_>, name: &str, help: &str, kind: Kind, labels: &[(&str, &str)], value: f64) {
    sink.push(vigie_mongodb_exporter::naming::Metric {
        name: name.to_owned(),
        help: help.to_owned(),
        kind,
        labels: labels.iter().map(|(k, v)| (std::borrow::Cow::Owned((*k).to_owned()), (*v).into())).collect(),
        value,
    });
}

/// Database names (all, with admin/config/local).
pub async fn databases(conn: &Conn, client: &Client) -> Result<Vec<String>, CollectError> {
    client.list_database_names().await.map_err(|e| fail(conn, "listDatabases", &e))
}

const SYSTEM_DBS: &[&str] = &["admin", "config", "local"];

/// Non-system databases and their collections (views left out, `system.*` kept), listed
/// once per scrape however many collectors ask (Percona counts the same set for
/// `--collector.collstats-limit`).
pub async fn namespaces<'c>(conn: &'c Conn, client: &Client) -> Result<&'c [(String, Vec<String>)], CollectError> {
    let listed = conn
        .namespaces
        .get_or_init(|| async {
            let dbs = databases(conn, client).await.map_err(|e| e.to_string())?;
            let mut out = Vec::new();
            for db in dbs.into_iter().filter(|d| !SYSTEM_DBS.contains(&d.as_str())) {
                // Views are left out by type here, not by a server-side filter: not every
                // wire-compatible server takes `$in` in a listCollections filter.
                let what = format!("listCollections on {db}");
                let mut cursor =
                    client.database(&db).list_collections().await.map_err(|e| fail(conn, &what, &e).to_string())?;
                let mut colls = Vec::new();
                while cursor.advance().await.map_err(|e| fail(conn, &what, &e).to_string())? {
                    let spec = cursor.deserialize_current().map_err(|e| fail(conn, &what, &e).to_string())?;
                    if spec.collection_type != mongodb::results::CollectionType::View {
                        colls.push(spec.name);
                    }
                }
                out.push((db, colls));
            }
            Ok(out)
        })
        .await;
    listed.as_deref().map_err(|e| CollectError::Other(e.clone()))
}

/// Collections to read for collstats/indexstats: the listed `db.coll` entries, and in
/// discovering mode every collection of the listed databases (or of every non-system
/// database when nothing is listed), `system.*` left out.
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
    if !conn.shared.opts.discovering {
        return Ok(out);
    }
    let all = namespaces(conn, client).await?;
    let mut found: Vec<(String, Vec<String>)> = Vec::new();
    if listed.is_empty() {
        found.extend(all.iter().cloned());
    }
    for db in whole_dbs {
        match all.iter().find(|(d, _)| *d == db) {
            Some(known) => found.push(known.clone()),
            // A system database named on purpose: listed on its own.
            None => {
                let names = client
                    .database(&db)
                    .list_collection_names()
                    .await
                    .map_err(|e| fail(conn, &format!("listCollections on {db}"), &e))?;
                found.push((db, names));
            }
        }
    }
    for (db, names) in found {
        for c in names.into_iter().filter(|c| !c.starts_with("system.")) {
            if !out.iter().any(|(d, x)| *d == db && *x == c) {
                out.push((db.clone(), c));
            }
        }
    }
    Ok(out)
}

/// The client for the collectors `--collector.collstats-limit` switches off (dbstats,
/// collstats, indexstats, topmetrics, profile): `None` when there is no connection or the
/// limit is exceeded, and the collector then writes nothing.
pub async fn limited_client(conn: &Conn) -> Option<&Client> {
    let client = data_client(conn)?;
    (!over_limit(conn, client).await).then_some(client)
}

/// Whether `--collector.collstats-limit` is exceeded. A failed listing counts as not
/// exceeded: the collectors then report their own errors.
pub async fn over_limit(conn: &Conn, client: &Client) -> bool {
    let limit = conn.shared.opts.collstats_limit;
    if limit <= 0 {
        return false;
    }
    let Ok(all) = namespaces(conn, client).await else { return false };
    all.iter().map(|(_, c)| c.len() as i64).sum::<i64>() > limit
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

/// `labels` plus the topology labels ([`Conn::topology`]).
pub fn with_topology(topology: &[Label], labels: &[(&'static str, &str)]) -> Vec<Label> {
    let mut l = topology.to_vec();
    l.extend(labels.iter().map(|(k, v)| (std::borrow::Cow::Borrowed(*k), (*v).into())));
    l
}

/// `{ <cmd>: 1 }`.
pub fn cmd(name: &str) -> Document {
    doc! { name: 1 }
}
