//! `dbStats{scale:1}` of every database → `mongodb_dbstats_*{database}` (Percona's dbstats
//! collector; `--collector.dbstatsfreestorage` adds `freeStorage:1`).

use std::sync::Arc;
use std::time::Instant;

use mongodb::bson::doc;
use vigie_kit::{BoxFuture, CollectResult, Collector, MetricSet, Registration, Scrape};
use vigie_mongodb_exporter::sink::Sink;

use crate::target::Conn;

/// Registration.
pub const REG: Registration<Arc<Conn>> = Registration {
    name: "dbstats",
    default_enabled: false,
    help: "dbStats of every database: mongodb_dbstats_*{database}.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(DbStats)),
};

struct DbStats;

impl Collector<Arc<Conn>> for DbStats {
    fn collect<'a>(&'a self, cx: &'a Scrape<Arc<Conn>>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            let started = Instant::now();
            let conn = &cx.target;
            let topology = conn.topology().await;
            let Some(client) = super::limited_client(conn).await else { return Ok(()) };
            let dbs = super::databases(conn, client).await?;
            let mut sink = Sink::new(out, &conn.shared.drops);
            let mut failed = None;
            for db in dbs {
                let mut cmd = doc! { "dbStats": 1, "scale": 1 };
                if conn.shared.opts.free_storage {
                    cmd.insert("freeStorage", 1);
                }
                match client.database(&db).run_command(cmd).await {
                    Ok(stats) => {
                        let labels = super::with_topology(topology, &[("database", &db)]);
                        super::write(&mut sink, conn, "dbstats", &stats, &labels, false);
                    }
                    // One database's failure does not hide the others.
                    Err(e) => failed = Some(super::fail(conn, &format!("dbStats on {db}"), &e)),
                }
            }
            drop(sink);
            super::scrape_time(out, "dbstats", started);
            failed.map_or(Ok(()), Err)
        })
    }
}
