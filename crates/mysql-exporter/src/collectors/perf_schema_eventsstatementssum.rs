//! `performance_schema.events_statements_summary_by_digest`, summed over every digest →
//! `mysql_perf_schema_events_statements_sum_*` (mysqld_exporter
//! "perf_schema.eventsstatementssum").

use vigie_kit::{BoxFuture, CollectResult, Collector, Desc, MetricSet, Registration, Scrape};

use crate::collectors::{number, PICO};
use crate::target::Db;

/// The registration.
pub const REG: Registration<Db> = Registration {
    name: "perf_schema.eventsstatementssum",
    default_enabled: false,
    help: "Collect metrics of grand sums from performance_schema.events_statements_summary_by_digest",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(EventsStatementsSum)),
};

/// (column, metric, help), in query order.
const COLUMNS: [(&str, Desc); 21] = [
    ("COUNT_STAR", Desc::counter("mysql_perf_schema_events_statements_sum_total", "Statements run, over all digests.", &[])),
    ("SUM_CREATED_TMP_DISK_TABLES", Desc::counter("mysql_perf_schema_events_statements_sum_created_tmp_disk_tables", "On-disk temporary tables made by statements.", &[])),
    ("SUM_CREATED_TMP_TABLES", Desc::counter("mysql_perf_schema_events_statements_sum_created_tmp_tables", "Temporary tables made by statements.", &[])),
    ("SUM_ERRORS", Desc::counter("mysql_perf_schema_events_statements_sum_errors", "Errors of statements.", &[])),
    ("SUM_LOCK_TIME", Desc::counter("mysql_perf_schema_events_statements_sum_lock_time", "Picoseconds statements waited for table locks.", &[])),
    ("SUM_NO_GOOD_INDEX_USED", Desc::counter("mysql_perf_schema_events_statements_sum_no_good_index_used", "Statements that found no good index.", &[])),
    ("SUM_NO_INDEX_USED", Desc::counter("mysql_perf_schema_events_statements_sum_no_index_used", "Statements that scanned a table without an index.", &[])),
    ("SUM_ROWS_AFFECTED", Desc::counter("mysql_perf_schema_events_statements_sum_rows_affected", "Rows changed by statements.", &[])),
    ("SUM_ROWS_EXAMINED", Desc::counter("mysql_perf_schema_events_statements_sum_rows_examined", "Rows read by statements.", &[])),
    ("SUM_ROWS_SENT", Desc::counter("mysql_perf_schema_events_statements_sum_rows_sent", "Rows returned by statements.", &[])),
    ("SUM_SELECT_FULL_JOIN", Desc::counter("mysql_perf_schema_events_statements_sum_select_full_join", "Joins that used no index.", &[])),
    ("SUM_SELECT_FULL_RANGE_JOIN", Desc::counter("mysql_perf_schema_events_statements_sum_select_full_range_join", "Joins that searched a range of the first table.", &[])),
    ("SUM_SELECT_RANGE", Desc::counter("mysql_perf_schema_events_statements_sum_select_range", "Joins that used a range of the first table.", &[])),
    ("SUM_SELECT_RANGE_CHECK", Desc::counter("mysql_perf_schema_events_statements_sum_select_range_check", "Joins without keys that checked key usage after each row.", &[])),
    ("SUM_SELECT_SCAN", Desc::counter("mysql_perf_schema_events_statements_sum_select_scan", "Joins that scanned the whole first table.", &[])),
    ("SUM_SORT_MERGE_PASSES", Desc::counter("mysql_perf_schema_events_statements_sum_sort_merge_passes", "Sort merge passes of statements.", &[])),
    ("SUM_SORT_RANGE", Desc::counter("mysql_perf_schema_events_statements_sum_sort_range", "Sorts over a range.", &[])),
    ("SUM_SORT_ROWS", Desc::counter("mysql_perf_schema_events_statements_sum_sort_rows", "Rows sorted.", &[])),
    ("SUM_SORT_SCAN", Desc::counter("mysql_perf_schema_events_statements_sum_sort_scan", "Sorts over a full table scan.", &[])),
    ("SUM_TIMER_WAIT", Desc::counter("mysql_perf_schema_events_statements_sum_timer_wait", "Seconds spent in timed statements.", &[])),
    ("SUM_WARNINGS", Desc::counter("mysql_perf_schema_events_statements_sum_warnings", "Warnings of statements.", &[])),
];

/// Reads the grand sums.
pub struct EventsStatementsSum;

impl Collector<Db> for EventsStatementsSum {
    fn collect<'a>(&'a self, cx: &'a Scrape<Db>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            if cx.target.version() < 5.7 {
                return Ok(());
            }
            let sums: Vec<String> = COLUMNS.iter().map(|(c, _)| format!("SUM({c})")).collect();
            let sql = format!("SELECT {} FROM performance_schema.events_statements_summary_by_digest", sums.join(", "));
            for row in cx.target.query(&sql).await? {
                for (i, (column, desc)) in COLUMNS.iter().enumerate() {
                    let v = number(&row, i);
                    // Only the wait time is converted; the lock time stays in picoseconds,
                    // as the incumbent leaves it.
                    out.add(desc, &[], if *column == "SUM_TIMER_WAIT" { v / PICO } else { v });
                }
            }
            Ok(())
        })
    }
}
