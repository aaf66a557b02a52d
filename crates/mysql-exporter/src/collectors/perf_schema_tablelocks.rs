//! `performance_schema.table_lock_waits_summary_by_table` → SQL and external lock waits
//! and seconds by table and lock kind (mysqld_exporter "perf_schema.tablelocks").

use vigie_kit::{BoxFuture, CollectResult, Collector, Desc, MetricSet, Registration, Scrape};

use crate::collectors::{number, text, PICO};
use crate::target::Db;

/// The registration.
pub const REG: Registration<Db> = Registration {
    name: "perf_schema.tablelocks",
    default_enabled: false,
    help: "Collect metrics from performance_schema.table_lock_waits_summary_by_table",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(TableLocks)),
};

const L: &[&str] = &["schema", "name", "operation"];
const SQL_COUNT: Desc =
    Desc::counter("mysql_perf_schema_sql_lock_waits_total", "SQL lock waits on this table, by lock kind.", L);
const SQL_SECONDS: Desc =
    Desc::counter("mysql_perf_schema_sql_lock_waits_seconds_total", "Seconds of SQL lock waits on this table, by lock kind.", L);
const EXT_COUNT: Desc =
    Desc::counter("mysql_perf_schema_external_lock_waits_total", "External (storage engine) lock waits on this table.", L);
const EXT_SECONDS: Desc = Desc::counter(
    "mysql_perf_schema_external_lock_waits_seconds_total",
    "Seconds of external (storage engine) lock waits on this table.",
    L,
);

/// Column suffixes in query order, with the family and `operation` label of each.
const KINDS: [(&str, bool, &str); 10] = [
    ("READ_NORMAL", false, "read_normal"),
    ("READ_WITH_SHARED_LOCKS", false, "read_with_shared_locks"),
    ("READ_HIGH_PRIORITY", false, "read_high_priority"),
    ("READ_NO_INSERT", false, "read_no_insert"),
    ("READ_EXTERNAL", true, "read"),
    ("WRITE_ALLOW_WRITE", false, "write_allow_write"),
    ("WRITE_CONCURRENT_INSERT", false, "write_concurrent_insert"),
    ("WRITE_LOW_PRIORITY", false, "write_low_priority"),
    ("WRITE_NORMAL", false, "write_normal"),
    ("WRITE_EXTERNAL", true, "write"),
];

/// Reads table lock waits.
pub struct TableLocks;

impl Collector<Db> for TableLocks {
    fn collect<'a>(&'a self, cx: &'a Scrape<Db>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            if cx.target.version() < 5.6 {
                return Ok(());
            }
            let counts: Vec<String> = KINDS.iter().map(|(k, _, _)| format!("COUNT_{k}")).collect();
            let timers: Vec<String> = KINDS.iter().map(|(k, _, _)| format!("SUM_TIMER_{k}")).collect();
            let sql = format!(
                "SELECT OBJECT_SCHEMA, OBJECT_NAME, {}, {} FROM performance_schema.table_lock_waits_summary_by_table \
                 WHERE OBJECT_SCHEMA NOT IN ('mysql', 'performance_schema', 'information_schema')",
                counts.join(", "),
                timers.join(", ")
            );
            for row in cx.target.query(&sql).await? {
                let (schema, name) = (text(&row, 0), text(&row, 1));
                for (i, (_, external, op)) in KINDS.iter().enumerate() {
                    let (count, seconds) = if *external { (&EXT_COUNT, &EXT_SECONDS) } else { (&SQL_COUNT, &SQL_SECONDS) };
                    out.add(count, &[&schema, &name, op], number(&row, 2 + i));
                    out.add(seconds, &[&schema, &name, op], number(&row, 2 + KINDS.len() + i) / PICO);
                }
            }
            Ok(())
        })
    }
}
