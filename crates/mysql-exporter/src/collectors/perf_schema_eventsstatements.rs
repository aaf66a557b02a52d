//! `performance_schema.events_statements_summary_by_digest` → per statement digest counts,
//! time, errors, rows and temporary tables, the slowest first (mysqld_exporter
//! "perf_schema.eventsstatements", with `--collect.perf_schema.eventsstatements.limit`,
//! `.timelimit` and `.digest_text_limit`).

use vigie_kit::{BoxFuture, CollectResult, Collector, Desc, MetricSet, Registration, Scrape};

use crate::collectors::{number, text, PICO};
use crate::target::Db;

const LIMIT: &str = "collect.perf_schema.eventsstatements.limit";
const TIME_LIMIT: &str = "collect.perf_schema.eventsstatements.timelimit";
const TEXT_LIMIT: &str = "collect.perf_schema.eventsstatements.digest_text_limit";

fn int_arg(name: &'static str, default: &'static str, help: &'static str) -> clap::Arg {
    clap::Arg::new(name).long(name).value_name("N").value_parser(clap::value_parser!(u32)).default_value(default).help(help)
}

/// The registration.
pub const REG: Registration<Db> = Registration {
    name: "perf_schema.eventsstatements",
    default_enabled: false,
    help: "Collect metrics from performance_schema.events_statements_summary_by_digest",
    args: |cmd| {
        cmd.arg(int_arg(LIMIT, "250", "Most statement digests to report, slowest first."))
            .arg(int_arg(TIME_LIMIT, "86400", "Report only digests seen within this many seconds."))
            .arg(int_arg(TEXT_LIMIT, "120", "Longest normalized statement text in the digest_text label."))
    },
    build: |m| {
        let get = |name: &str, default: u32| m.get_one::<u32>(name).copied().unwrap_or(default);
        Ok(Box::new(EventsStatements {
            limit: get(LIMIT, 250),
            time_limit: get(TIME_LIMIT, 86400),
            text_limit: get(TEXT_LIMIT, 120),
        }))
    },
};

const L: &[&str] = &["schema", "digest", "digest_text"];
/// One per column after DIGEST_TEXT, in query order; the second is in picoseconds.
const DESCS: [Desc; 12] = [
    Desc::counter("mysql_perf_schema_events_statements_total", "Statements run with this digest.", L),
    Desc::counter("mysql_perf_schema_events_statements_seconds_total", "Seconds spent in statements with this digest.", L),
    Desc::counter("mysql_perf_schema_events_statements_errors_total", "Errors of statements with this digest.", L),
    Desc::counter("mysql_perf_schema_events_statements_warnings_total", "Warnings of statements with this digest.", L),
    Desc::counter("mysql_perf_schema_events_statements_rows_affected_total", "Rows changed by statements with this digest.", L),
    Desc::counter("mysql_perf_schema_events_statements_rows_sent_total", "Rows returned by statements with this digest.", L),
    Desc::counter("mysql_perf_schema_events_statements_rows_examined_total", "Rows read by statements with this digest.", L),
    Desc::counter("mysql_perf_schema_events_statements_tmp_disk_tables_total", "On-disk temporary tables made by statements with this digest.", L),
    Desc::counter("mysql_perf_schema_events_statements_tmp_tables_total", "Temporary tables made by statements with this digest.", L),
    Desc::counter("mysql_perf_schema_events_statements_sort_merge_passes_total", "Sort merge passes of statements with this digest.", L),
    Desc::counter("mysql_perf_schema_events_statements_sort_rows_total", "Rows sorted by statements with this digest.", L),
    Desc::counter("mysql_perf_schema_events_statements_no_index_used_total", "Statements with this digest that scanned a table without an index.", L),
];

/// Reads statement digests.
pub struct EventsStatements {
    limit: u32,
    time_limit: u32,
    text_limit: u32,
}

impl Collector<Db> for EventsStatements {
    fn collect<'a>(&'a self, cx: &'a Scrape<Db>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            if cx.target.version() < 5.6 {
                return Ok(());
            }
            let sql = format!(
                "SELECT ifnull(SCHEMA_NAME, 'NONE') AS SCHEMA_NAME, DIGEST, LEFT(DIGEST_TEXT, {}) AS DIGEST_TEXT, \
                 COUNT_STAR, SUM_TIMER_WAIT, SUM_ERRORS, SUM_WARNINGS, SUM_ROWS_AFFECTED, SUM_ROWS_SENT, SUM_ROWS_EXAMINED, \
                 SUM_CREATED_TMP_DISK_TABLES, SUM_CREATED_TMP_TABLES, SUM_SORT_MERGE_PASSES, SUM_SORT_ROWS, SUM_NO_INDEX_USED \
                 FROM (SELECT * FROM performance_schema.events_statements_summary_by_digest \
                 WHERE SCHEMA_NAME NOT IN ('mysql', 'performance_schema', 'information_schema') \
                 AND LAST_SEEN > DATE_SUB(NOW(), INTERVAL {} SECOND) ORDER BY LAST_SEEN DESC) Q \
                 GROUP BY Q.SCHEMA_NAME, Q.DIGEST, Q.DIGEST_TEXT, Q.COUNT_STAR, Q.SUM_TIMER_WAIT, Q.SUM_ERRORS, \
                 Q.SUM_WARNINGS, Q.SUM_ROWS_AFFECTED, Q.SUM_ROWS_SENT, Q.SUM_ROWS_EXAMINED, Q.SUM_CREATED_TMP_DISK_TABLES, \
                 Q.SUM_CREATED_TMP_TABLES, Q.SUM_SORT_MERGE_PASSES, Q.SUM_SORT_ROWS, Q.SUM_NO_INDEX_USED \
                 ORDER BY SUM_TIMER_WAIT DESC LIMIT {}",
                self.text_limit, self.time_limit, self.limit
            );
            for row in cx.target.query(&sql).await? {
                let (schema, digest, digest_text) = (text(&row, 0), text(&row, 1), text(&row, 2));
                let labels = [schema.as_str(), digest.as_str(), digest_text.as_str()];
                for (i, desc) in DESCS.iter().enumerate() {
                    let v = number(&row, i + 3);
                    // Column i + 3 feeds DESCS[i]: on-disk temporary tables go to
                    // tmp_disk_tables_total, as in 0.15+ (0.14 swapped the two).
                    out.add(desc, &labels, if i == 1 { v / PICO } else { v });
                }
            }
            Ok(())
        })
    }
}
