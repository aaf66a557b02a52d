//! `information_schema.table_statistics` (MariaDB and Percona with `userstat=1`) → rows
//! read and changed per table (mysqld_exporter "info_schema.tablestats").

use vigie_kit::{BoxFuture, CollectResult, Collector, Desc, MetricSet, Registration, Scrape};

use crate::collectors::info_schema_userstats::userstat_on;
use crate::collectors::{number, text};
use crate::target::Db;

/// The registration.
pub const REG: Registration<Db> = Registration {
    name: "info_schema.tablestats",
    default_enabled: false,
    help: "If running with userstat=1, set to true to collect table statistics",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(TableStats)),
};

const L: &[&str] = &["schema", "table"];
const DESCS: [Desc; 3] = [
    Desc::counter("mysql_info_schema_table_statistics_rows_read_total", "Rows read from the table.", L),
    Desc::counter("mysql_info_schema_table_statistics_rows_changed_total", "Rows changed in the table.", L),
    Desc::counter(
        "mysql_info_schema_table_statistics_rows_changed_x_indexes_total",
        "Rows changed in the table, times the indexes changed.",
        L,
    ),
];

/// Reads table statistics.
pub struct TableStats;

impl Collector<Db> for TableStats {
    fn collect<'a>(&'a self, cx: &'a Scrape<Db>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            if cx.target.version() < 5.1 || !userstat_on(&cx.target).await {
                return Ok(());
            }
            let sql = "SELECT TABLE_SCHEMA, TABLE_NAME, ROWS_READ, ROWS_CHANGED, ROWS_CHANGED_X_INDEXES \
                       FROM information_schema.table_statistics";
            for row in cx.target.query(sql).await? {
                let (schema, table) = (text(&row, 0), text(&row, 1));
                for (i, desc) in DESCS.iter().enumerate() {
                    out.add(desc, &[&schema, &table], number(&row, 2 + i));
                }
            }
            Ok(())
        })
    }
}
