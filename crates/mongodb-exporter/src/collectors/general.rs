//! `mongodb_up{cluster_role}` (Percona's general collector, always on) and the
//! `vigie_mongodb_dropped_samples_total` counts. The up check (`isMaster`) ran when the scrape
//! connected, bounded by the scrape deadline.

use std::sync::Arc;
use std::time::Instant;

use vigie_kit::{BoxFuture, CollectResult, Collector, Kind, MetricSet, Registration, Scrape};

use crate::target::Conn;

/// Registration.
pub const REG: Registration<Arc<Conn>> = Registration {
    name: "general",
    default_enabled: true,
    help: "mongodb_up: whether the server answers isMaster (primaryPreferred).",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(General)),
};

struct General;

impl Collector<Arc<Conn>> for General {
    fn collect<'a>(&'a self, cx: &'a Scrape<Arc<Conn>>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            let started = Instant::now();
            let conn = &cx.target;
            if let Some(why) = &conn.down {
                // Logged at every failed scrape, as Percona does, at warn: the exporter
                // recovers by itself when the server comes back.
                tracing::warn!(target = %conn.hosts, err = %why, "MongoDB is down: mongodb_up 0.");
            }
            let up = if conn.down.is_none() { 1.0 } else { 0.0 };
            out.family("mongodb_up", "1 if the server answered this scrape's first command (isMaster), else 0.", Kind::Gauge)
                .push(&[("cluster_role", conn.node.as_str())], up);
            conn.shared.drops.write(out);
            super::scrape_time(out, "general", started);
            Ok(())
        })
    }
}
