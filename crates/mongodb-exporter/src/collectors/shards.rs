//! Chunk counts read through a mongos from the `config` database (Percona's shards
//! collector): `mongodb_mongos_sharding_chunks_total`, `…_shard_chunks_total{shard}` and
//! `mongodb_shards_collection_chunks_count{database,collection,shard}`. Only on mongos.
//!
//! Also the compatible-mode mongos families the diagnosticdata collector adds
//! ([`compat_families`]): sharded databases and collections, balancer state, changelog
//! events of the last 10 minutes, shards, and each shard's part of every database.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use mongodb::bson::{doc, Bson, DateTime, Document};
use mongodb::Client;
use vigie_kit::{BoxFuture, CollectError, CollectResult, Collector, Kind, MetricSet, Registration, Scrape};
use vigie_mongodb_exporter::sink::Sink;

use crate::target::{admin, number, Conn, NodeType};

/// Registration.
pub const REG: Registration<Arc<Conn>> = Registration {
    name: "shards",
    default_enabled: false,
    help: "Chunks per shard and per sharded collection, read through a mongos.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Shards)),
};

struct Shards;

async fn docs(
    conn: &Conn,
    client: &Client,
    coll: &str,
    pipeline: Vec<Document>,
) -> Result<Vec<Document>, CollectError> {
    super::aggregate(conn, client, "config", coll, pipeline).await
}

async fn count(client: &Client, coll: &str, filter: Document) -> Result<u64, mongodb::error::Error> {
    client.database("config").collection::<Document>(coll).count_documents(filter).await
}

/// The chunk filter for one `config.collections` entry: by `uuid` where chunks carry it
/// (entries with a `timestamp`, MongoDB 5.0+), else by namespace.
pub fn chunk_filter(entry: &Document) -> Option<Document> {
    match (entry.contains_key("timestamp"), entry.get("uuid"), entry.get_str("_id")) {
        (true, Some(uuid), _) => Some(doc! { "uuid": uuid.clone() }),
        (false, _, Ok(ns)) => Some(doc! { "ns": ns }),
        _ => None,
    }
}

impl Collector<Arc<Conn>> for Shards {
    fn collect<'a>(&'a self, cx: &'a Scrape<Arc<Conn>>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            let started = Instant::now();
            let conn = &cx.target;
            let Some(client) = super::data_client(conn) else { return Ok(()) };
            if conn.node != NodeType::Mongos {
                return Ok(());
            }
            let mut sink = Sink::new(out, &conn.shared.drops);
            let mut failed = None;
            match count(client, "chunks", doc! {}).await {
                Ok(n) => super::gauge(&mut sink, "mongodb_mongos_sharding_chunks_total", "Chunks in the cluster.", Kind::Gauge, &[], n as f64),
                Err(e) => failed = Some(super::fail(conn, "count of config.chunks", &e)),
            }
            let per_shard = vec![doc! { "$group": { "_id": "$shard", "count": { "$sum": 1 } } }];
            match docs(conn, client, "chunks", per_shard).await {
                Ok(rows) => {
                    for r in rows {
                        if let (Ok(shard), Some(n)) = (r.get_str("_id"), r.get("count").and_then(number)) {
                            super::gauge(&mut sink, "mongodb_mongos_sharding_shard_chunks_total", "Chunks held by a shard.", Kind::Gauge, &[("shard", shard)], n);
                        }
                    }
                }
                Err(e) => failed = Some(e),
            }
            let dbs = super::databases(conn, client).await?;
            for db in dbs {
                let prefix = format!("^{}\\.", regex_escape(&db));
                let filter = doc! { "$match": { "_id": { "$regex": prefix, "$options": "i" } } };
                let entries = match docs(conn, client, "collections", vec![filter]).await {
                    Ok(e) => e,
                    Err(e) => {
                        failed = Some(e);
                        continue;
                    }
                };
                for entry in entries {
                    let (Ok(ns), Some(filter)) = (entry.get_str("_id"), chunk_filter(&entry)) else { continue };
                    if entry.get_bool("dropped").unwrap_or(false) {
                        continue;
                    }
                    let coll = ns.strip_prefix(&format!("{db}.")).unwrap_or(ns);
                    let pipeline = vec![
                        doc! { "$match": filter },
                        doc! { "$group": { "_id": "$shard", "cnt": { "$sum": 1 } } },
                        doc! { "$sort": { "_id": 1 } },
                    ];
                    match docs(conn, client, "chunks", pipeline).await {
                        Ok(rows) => {
                            for r in rows {
                                let (Ok(shard), Some(n)) = (r.get_str("_id"), r.get("cnt").and_then(number)) else { continue };
                                let labels = vec![
                                    ("collection".into(), coll.into()),
                                    ("database".into(), db.as_str().into()),
                                    ("shard".into(), shard.into()),
                                ];
                                let d = doc! { "count": n };
                                super::write(&mut sink, conn, "shards collection chunks", &d, &labels, false);
                            }
                        }
                        Err(e) => failed = Some(e),
                    }
                }
            }
            drop(sink);
            super::scrape_time(out, "shards", started);
            failed.map_or(Ok(()), Err)
        })
    }
}

fn regex_escape(s: &str) -> String {
    s.chars().fold(String::new(), |mut o, c| {
        if !c.is_ascii_alphanumeric() && c != '_' && c != '-' {
            o.push('\\');
        }
        o.push(c);
        o
    })
}

/// The compatible-mode mongos families (the 0.1x exporter's `mongodb_mongos_*`). Each one
/// the server cannot give is left out, as Percona does.
pub async fn compat_families(sink: &mut Sink<'_>, client: &Client) {
    let g = |sink: &mut Sink<'_>, name: &str, help: &str, labels: &[(&str, &str)], v: f64| {
        super::gauge(sink, name, help, Kind::Gauge, labels, v)
    };
    for (kind, partitioned) in [("partitioned", true), ("unpartitioned", false)] {
        if let Ok(n) = count(client, "databases", doc! { "partitioned": partitioned }).await {
            g(sink, "mongodb_mongos_sharding_databases_total", "Databases in the cluster, by whether sharding is enabled on them.", &[("type", kind)], n as f64);
        }
    }
    if let Ok(n) = count(client, "collections", doc! { "dropped": false }).await {
        g(sink, "mongodb_mongos_sharding_collections_total", "Sharded collections that are not dropped.", &[], n as f64);
    }
    if let Ok(status) = admin(client, doc! { "balancerStatus": 1 }).await {
        let enabled = status.get_str("mode") == Ok("full");
        g(sink, "mongodb_mongos_sharding_balancer_enabled", "1 when the balancer is enabled (mode full).", &[], f64::from(u8::from(enabled)));
        // Percona writes 1 when the balancer is *not* in a round; the 0.1x exporter (whose
        // name this is) wrote 1 when it is. We follow the name.
        let running = status.get_bool("inBalancerRound").unwrap_or(false);
        g(sink, "mongodb_mongos_sharding_chunks_is_balancer_running", "1 while the balancer is in a balancing round.", &[], f64::from(u8::from(running)));
    }
    let since = SystemTime::now().checked_sub(Duration::from_secs(600)).unwrap_or(SystemTime::UNIX_EPOCH);
    let pipeline = vec![
        doc! { "$match": { "time": { "$gt": DateTime::from_system_time(since) } } },
        doc! { "$group": { "_id": { "event": "$what", "note": "$details.note" }, "count": { "$sum": 1 } } },
    ];
    if let Ok(mut cursor) = client.database("config").collection::<Document>("changelog").aggregate(pipeline).await {
        while let Ok(true) = cursor.advance().await {
            let Ok(row) = cursor.deserialize_current() else { continue };
            let Ok(id) = row.get_document("_id") else { continue };
            let mut event = id.get_str("event").unwrap_or("").to_owned();
            if let Ok(note) = id.get_str("note") {
                if !note.is_empty() {
                    event = format!("{event}.{note}");
                }
            }
            if let Some(n) = row.get("count").and_then(number) {
                g(sink, "mongodb_mongos_sharding_changelog_10min_total", "Sharding changelog events of the last 10 minutes, by event.", &[("event", &event)], n);
            }
        }
    }
    if let Ok(dbs) = client.list_database_names().await {
        for db in dbs {
            let Ok(stats) = client.database(&db).run_command(doc! { "dbStats": 1, "scale": 1 }).await else { break };
            write_raw_dbstats(sink, &stats);
        }
    }
    if let Ok(n) = count(client, "shards", doc! {}).await {
        g(sink, "mongodb_mongos_sharding_shards_total", "Shards in the cluster.", &[], n as f64);
    }
    if let Ok(n) = count(client, "shards", doc! { "draining": true }).await {
        g(sink, "mongodb_mongos_sharding_shards_draining_total", "Shards being drained.", &[], n as f64);
    }
}

/// `mongodb_mongos_db_*{db,shard}` from the per-shard `raw` part of a mongos `dbStats` reply.
pub fn write_raw_dbstats(sink: &mut Sink<'_>, stats: &Document) {
    let Ok(raw) = stats.get_document("raw") else { return };
    for (shard, part) in raw {
        let Bson::Document(part) = part else { continue };
        let db = part.get_str("db").unwrap_or("");
        let shard = shard.split('/').next().unwrap_or(shard);
        let labels = [("db", db), ("shard", shard)];
        for (name, key, help) in [
            ("mongodb_mongos_db_data_size_bytes", "dataSize", "Uncompressed size of the database's data on a shard, in bytes."),
            ("mongodb_mongos_db_indexes_total", "indexes", "Indexes of the database on a shard."),
            ("mongodb_mongos_db_index_size_bytes", "indexSize", "Size of the database's indexes on a shard, in bytes."),
            ("mongodb_mongos_db_collections_total", "collections", "Collections of the database on a shard."),
        ] {
            let v = part.get(key).and_then(number).unwrap_or(0.0);
            super::gauge(sink, name, help, Kind::Gauge, &labels, v);
        }
    }
}
