//! `top` → `mongodb_top_<op>_{time,count}{database,collection}` (µs and counts; Percona's
//! topmetrics collector). Not on mongos.

use std::sync::Arc;
use std::time::Instant;

use mongodb::bson::Bson;
use vigie_kit::{BoxFuture, CollectResult, Collector, MetricSet, Registration, Scrape};
use vigie_mongodb_exporter::naming::Label;
use vigie_mongodb_exporter::sink::Sink;

use crate::target::{admin, Conn, NodeType};

/// Registration.
pub const REG: Registration<Arc<Conn>> = Registration {
    name: "topmetrics",
    default_enabled: false,
    help: "top: time and count of operations per collection, mongodb_top_*{database,collection}.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Top)),
};

struct Top;

/// Writes one `top` reply's `totals`.
pub fn write_top(sink: &mut Sink<'_>, conn: &Conn, topology: &[Label], reply: &mongodb::bson::Document) {
    let Ok(totals) = reply.get_document("totals") else { return };
    for (ns, v) in totals {
        let Bson::Document(d) = v else { continue };
        let (db, coll) = ns.split_once('.').unwrap_or((ns.as_str(), ""));
        let labels = super::with_topology(topology, &[("database", db), ("collection", coll)]);
        super::write(sink, conn, "top", d, &labels, false);
    }
}

impl Collector<Arc<Conn>> for Top {
    fn collect<'a>(&'a self, cx: &'a Scrape<Arc<Conn>>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            let started = Instant::now();
            let conn = &cx.target;
            let Some(client) = super::data_client(conn) else { return Ok(()) };
            if conn.node == NodeType::Mongos || super::over_limit(conn, client).await {
                return Ok(());
            }
            let reply = admin(client, super::cmd("top")).await.map_err(|e| super::fail(conn, "top", &e))?;
            write_top(&mut Sink::new(out, &conn.shared.drops), conn, conn.topology().await, &reply);
            super::scrape_time(out, "top", started);
            Ok(())
        })
    }
}
