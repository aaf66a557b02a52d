//! `performance_schema.table_io_waits_summary_by_table` → I/O waits and seconds by table
//! and operation (mysqld_exporter "perf_schema.tableiowaits").

use vigie_kit::{BoxFuture, CollectResult, Collector, Desc, MetricSet, Registration, Scrape};

use crate::collectors::{number, text, PICO};
use crate::target::Db;

/// The registration.
pub const REG: Registration<Db> = Registration {
    name: "perf_schema.tableiowaits",
    default_enabled: false,
    help: "Collect metrics from performance_schema.table_io_waits_summary_by_table",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(TableIoWaits)),
};

const L: &[&str] = &["schema", "name", "operation"];
const COUNT: Desc = Desc::counter("mysql_perf_schema_table_io_waits_total", "I/O wait events on this table, by operation.", L);
const SECONDS: Desc =
    Desc::counter("mysql_perf_schema_table_io_waits_seconds_total", "Seconds of I/O waits on this table, by operation.", L);
const OPERATIONS: [&str; 4] = ["fetch", "insert", "update", "delete"];

/// Reads table I/O waits.
pub struct TableIoWaits;

impl Collector<Db> for TableIoWaits {
    fn collect<'a>(&'a self, cx: &'a Scrape<Db>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            if cx.target.version() < 5.6 {
                return Ok(());
            }
            let sql = "SELECT OBJECT_SCHEMA, OBJECT_NAME, COUNT_FETCH, COUNT_INSERT, COUNT_UPDATE, COUNT_DELETE, \
                       SUM_TIMER_FETCH, SUM_TIMER_INSERT, SUM_TIMER_UPDATE, SUM_TIMER_DELETE \
                       FROM performance_schema.table_io_waits_summary_by_table \
                       WHERE OBJECT_SCHEMA NOT IN ('mysql', 'performance_schema')";
            for row in cx.target.query(sql).await? {
                let (schema, name) = (text(&row, 0), text(&row, 1));
                for (i, op) in OPERATIONS.iter().enumerate() {
                    out.add(&COUNT, &[&schema, &name, op], number(&row, 2 + i));
                    out.add(&SECONDS, &[&schema, &name, op], number(&row, 6 + i) / PICO);
                }
            }
            Ok(())
        })
    }
}
