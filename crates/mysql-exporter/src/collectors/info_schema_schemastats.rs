//! `information_schema.table_statistics` summed per schema (MariaDB and Percona with
//! `userstat=1`) → rows read and changed per schema (mysqld_exporter "info_schema.schemastats").

use vigie_kit::{BoxFuture, CollectResult, Collector, Desc, MetricSet, Registration, Scrape};

use crate::collectors::info_schema_userstats::userstat_on;
use crate::collectors::{number, text};
use crate::target::Db;

/// The registration.
pub const REG: Registration<Db> = Registration {
    name: "info_schema.schemastats",
    default_enabled: false,
    help: "If running with userstat=1, set to true to collect schema statistics",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(SchemaStats)),
};

const L: &[&str] = &["schema"];
const DESCS: [Desc; 3] = [
    Desc::counter("mysql_info_schema_schema_statistics_rows_read_total", "Rows read from the schema's tables.", L),
    Desc::counter("mysql_info_schema_schema_statistics_rows_changed_total", "Rows changed in the schema's tables.", L),
    Desc::counter(
        "mysql_info_schema_schema_statistics_rows_changed_x_indexes_total",
        "Rows changed in the schema's tables, times the indexes changed.",
        L,
    ),
];

/// Reads schema statistics.
pub struct SchemaStats;

impl Collector<Db> for SchemaStats {
    fn collect<'a>(&'a self, cx: &'a Scrape<Db>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            if cx.target.version() < 5.1 || !userstat_on(&cx.target).await {
                return Ok(());
            }
            let sql = "SELECT TABLE_SCHEMA, SUM(ROWS_READ), SUM(ROWS_CHANGED), SUM(ROWS_CHANGED_X_INDEXES) \
                       FROM information_schema.TABLE_STATISTICS GROUP BY TABLE_SCHEMA";
            for row in cx.target.query(sql).await? {
                let schema = text(&row, 0);
                for (i, desc) in DESCS.iter().enumerate() {
                    out.add(desc, &[&schema], number(&row, 1 + i));
                }
            }
            Ok(())
        })
    }
}
