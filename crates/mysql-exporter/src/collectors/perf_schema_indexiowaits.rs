//! `performance_schema.table_io_waits_summary_by_index_usage` → I/O waits and seconds by
//! table, index and operation (mysqld_exporter "perf_schema.indexiowaits"). Rows without
//! an index (`index="NONE"`) also get the insert operation.

use vigie_kit::{BoxFuture, CollectResult, Collector, Desc, MetricSet, Registration, Scrape};

use crate::collectors::{number, text, PICO};
use crate::target::Db;

/// The registration.
pub const REG: Registration<Db> = Registration {
    name: "perf_schema.indexiowaits",
    default_enabled: false,
    help: "Collect metrics from performance_schema.table_io_waits_summary_by_index_usage",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(IndexIoWaits)),
};

const L: &[&str] = &["schema", "name", "index", "operation"];
const COUNT: Desc = Desc::counter("mysql_perf_schema_index_io_waits_total", "I/O wait events on this index, by operation.", L);
const SECONDS: Desc =
    Desc::counter("mysql_perf_schema_index_io_waits_seconds_total", "Seconds of I/O waits on this index, by operation.", L);
const OPERATIONS: [&str; 4] = ["fetch", "insert", "update", "delete"];

/// Reads index I/O waits.
pub struct IndexIoWaits;

impl Collector<Db> for IndexIoWaits {
    fn collect<'a>(&'a self, cx: &'a Scrape<Db>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            if cx.target.version() < 5.6 {
                return Ok(());
            }
            let sql = "SELECT OBJECT_SCHEMA, OBJECT_NAME, ifnull(INDEX_NAME, 'NONE') AS INDEX_NAME, \
                       COUNT_FETCH, COUNT_INSERT, COUNT_UPDATE, COUNT_DELETE, \
                       SUM_TIMER_FETCH, SUM_TIMER_INSERT, SUM_TIMER_UPDATE, SUM_TIMER_DELETE \
                       FROM performance_schema.table_io_waits_summary_by_index_usage \
                       WHERE OBJECT_SCHEMA NOT IN ('mysql', 'performance_schema')";
            for row in cx.target.query(sql).await? {
                let (schema, name, index) = (text(&row, 0), text(&row, 1), text(&row, 2));
                for (i, op) in OPERATIONS.iter().enumerate() {
                    // Inserts touch no existing index: only the NONE row has them.
                    if *op == "insert" && index != "NONE" {
                        continue;
                    }
                    out.add(&COUNT, &[&schema, &name, &index, op], number(&row, 3 + i));
                    out.add(&SECONDS, &[&schema, &name, &index, op], number(&row, 7 + i) / PICO);
                }
            }
            Ok(())
        })
    }
}
