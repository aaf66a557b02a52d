//! `$collStats` (latency and storage, without the per-index WiredTiger details) of the chosen
//! collections → `mongodb_collstats_*{database,collection}` (Percona's collstats collector).

use std::sync::Arc;
use std::time::Instant;

use mongodb::bson::doc;
use vigie_kit::{BoxFuture, CollectResult, Collector, MetricSet, Registration, Scrape};
use vigie_mongodb_exporter::sink::Sink;

use crate::target::Conn;

/// Registration.
pub const REG: Registration<Arc<Conn>> = Registration {
    name: "collstats",
    default_enabled: false,
    help: "$collStats of --mongodb.collstats-colls (or every collection with --discovering-mode).",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(CollStats)),
};

struct CollStats;

impl Collector<Arc<Conn>> for CollStats {
    fn collect<'a>(&'a self, cx: &'a Scrape<Arc<Conn>>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            let started = Instant::now();
            let conn = &cx.target;
            let topology = conn.topology().await;
            let Some(client) = super::limited_client(conn).await else { return Ok(()) };
            let colls = super::collections(conn, client, &conn.shared.opts.collstats_colls).await?;
            let mut sink = Sink::new(out, &conn.shared.drops);
            let mut failed = None;
            for (db, coll) in colls {
                let mut pipeline = vec![
                    doc! { "$collStats": { "latencyStats": { "histograms": false }, "storageStats": { "scale": 1 } } },
                ];
                if !conn.shared.opts.collstats_details {
                    pipeline.push(doc! { "$project": { "storageStats.wiredTiger": 0, "storageStats.indexDetails": 0 } });
                }
                match super::aggregate(conn, client, &db, &coll, pipeline).await {
                    Ok(docs) => {
                        let labels = super::with_topology(topology, &[("database", &db), ("collection", &coll)]);
                        for d in docs {
                            super::write(&mut sink, conn, "collstats", &d, &labels, false);
                        }
                    }
                    Err(e) => failed = Some(e),
                }
            }
            drop(sink);
            super::scrape_time(out, "collstats", started);
            failed.map_or(Ok(()), Err)
        })
    }
}
