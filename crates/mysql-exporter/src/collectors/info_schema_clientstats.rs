//! `information_schema.client_statistics` (MariaDB and Percona with `userstat=1`) → the
//! user statistics' counters per client host (mysqld_exporter "info_schema.clientstats").

use vigie_kit::{BoxFuture, CollectResult, Collector, MetricSet, Registration, Scrape};

use crate::collectors::info_schema_userstats::collect;
use crate::target::Db;

/// The registration.
pub const REG: Registration<Db> = Registration {
    name: "info_schema.clientstats",
    default_enabled: false,
    help: "If running with userstat=1, set to true to collect client statistics",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(ClientStats)),
};

/// Reads client statistics.
pub struct ClientStats;

impl Collector<Db> for ClientStats {
    fn collect<'a>(&'a self, cx: &'a Scrape<Db>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            if cx.target.version() < 5.5 {
                return Ok(());
            }
            collect(&cx.target, out, "client_statistics", "client_statistics", "client", true).await
        })
    }
}
