//! `$indexStats` of the chosen collections → `mongodb_indexstats_accesses_ops{database,
//! collection,key_name}` (+ `_building` when present), Percona's indexstats collector.

use std::sync::Arc;
use std::time::Instant;

use mongodb::bson::{doc, Bson, Document};
use vigie_kit::{BoxFuture, CollectResult, Collector, MetricSet, Registration, Scrape};
use vigie_mongodb_exporter::sink::Sink;

use crate::target::Conn;

/// Registration.
pub const REG: Registration<Arc<Conn>> = Registration {
    name: "indexstats",
    default_enabled: false,
    help: "$indexStats of --mongodb.indexstats-colls (or every collection with --discovering-mode).",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(IndexStats)),
};

struct IndexStats;

/// The part of one `$indexStats` document Percona keeps.
pub fn kept(d: &Document) -> Document {
    let mut out = Document::new();
    if let Some(Bson::Document(acc)) = d.get("accesses") {
        if let Some(ops) = acc.get("ops") {
            out.insert("accesses", doc! { "ops": ops.clone() });
        }
    }
    if let Some(b) = d.get("building") {
        out.insert("building", b.clone());
    }
    out
}

impl Collector<Arc<Conn>> for IndexStats {
    fn collect<'a>(&'a self, cx: &'a Scrape<Arc<Conn>>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            let started = Instant::now();
            let conn = &cx.target;
            let topology = conn.topology().await;
            let Some(client) = super::limited_client(conn).await else { return Ok(()) };
            let colls = super::collections(conn, client, &conn.shared.opts.indexstats_colls).await?;
            let mut sink = Sink::new(out, &conn.shared.drops);
            let mut failed = None;
            for (db, coll) in colls {
                match super::aggregate(conn, client, &db, &coll, vec![doc! { "$indexStats": {} }]).await {
                    Ok(docs) => {
                        for d in docs {
                            let mut key = d.get_str("name").unwrap_or("").to_owned();
                            if conn.shared.opts.desc_index {
                                key = key.replace("-1", "DESC");
                            }
                            let labels = super::with_topology(topology, &[("database", &db), ("collection", &coll), ("key_name", &key)]);
                            super::write(&mut sink, conn, "indexstats", &kept(&d), &labels, false);
                        }
                    }
                    Err(e) => failed = Some(e),
                }
            }
            drop(sink);
            super::scrape_time(out, "indexstats", started);
            failed.map_or(Ok(()), Err)
        })
    }
}
