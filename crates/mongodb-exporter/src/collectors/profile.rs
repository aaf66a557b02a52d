//! Slow operations the profiler recorded in the last `--collector.profile-time-ts` seconds:
//! `mongodb_profile_slow_query_count{database}`, the count of `system.profile` documents
//! with a recent `ts` in each database (Percona's profile collector). Not on mongos or
//! arbiters; `--collector.collstats-limit` applies; `--collector.profile-time-ts=0` turns it off.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use mongodb::bson::{doc, DateTime};
use vigie_kit::{BoxFuture, CollectResult, Collector, MetricSet, Registration, Scrape};
use vigie_mongodb_exporter::sink::Sink;

use crate::target::{Conn, NodeType};

/// Registration.
pub const REG: Registration<Arc<Conn>> = Registration {
    name: "profile",
    default_enabled: false,
    help: "Recent system.profile entries per database: mongodb_profile_slow_query_count{database}.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Profile)),
};

struct Profile;

impl Collector<Arc<Conn>> for Profile {
    fn collect<'a>(&'a self, cx: &'a Scrape<Arc<Conn>>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            let started = Instant::now();
            let conn = &cx.target;
            let topology = conn.topology().await;
            let window = conn.shared.opts.profile_time_ts;
            if window == 0 || conn.node == NodeType::Mongos {
                return Ok(());
            }
            let Some(client) = super::limited_client(conn).await else { return Ok(()) };
            let dbs = super::databases(conn, client).await?;
            let since = SystemTime::now().checked_sub(Duration::from_secs(window)).unwrap_or(SystemTime::UNIX_EPOCH);
            let filter = doc! { "ts": { "$gte": DateTime::from_system_time(since) } };
            let mut sink = Sink::new(out, &conn.shared.drops);
            let mut failed = None;
            for db in dbs {
                let coll = client.database(&db).collection::<mongodb::bson::Document>("system.profile");
                match coll.count_documents(filter.clone()).await {
                    Ok(n) => {
                        let labels = super::with_topology(topology, &[("database", &db)]);
                        let d = doc! { "count": n as i64 };
                        super::write(&mut sink, conn, "profile_slow_query", &d, &labels, false);
                    }
                    // Percona stops at the first database that fails; so do we, and say so.
                    Err(e) => {
                        failed = Some(super::fail(conn, &format!("count of {db}.system.profile"), &e));
                        break;
                    }
                }
            }
            drop(sink);
            super::scrape_time(out, "profile", started);
            failed.map_or(Ok(()), Err)
        })
    }
}
