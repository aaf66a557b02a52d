//! Percona's / MariaDB's `QUERY_RESPONSE_TIME` plugin tables →
//! `mysql_info_schema_{,read_,write_}query_response_time_seconds` histograms, when
//! `query_response_time_stats` is on (mysqld_exporter "info_schema.query_response_time").

use vigie_kit::exposition::write_value;
use vigie_kit::{BoxFuture, CollectError, CollectResult, Collector, Kind, MetricSet, Registration, Scrape};

use crate::collectors::{bytes, number, text};
use crate::target::Db;

/// The registration.
pub const REG: Registration<Db> = Registration {
    name: "info_schema.query_response_time",
    default_enabled: true,
    help: "Collect query response time distribution if query_response_time_stats is ON.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(QueryResponseTime)),
};

const TABLES: [(&str, &str, &str); 3] = [
    (
        "SELECT TIME, COUNT, TOTAL FROM INFORMATION_SCHEMA.QUERY_RESPONSE_TIME",
        "mysql_info_schema_query_response_time_seconds",
        "Queries by how long they took, in seconds.",
    ),
    (
        "SELECT TIME, COUNT, TOTAL FROM INFORMATION_SCHEMA.QUERY_RESPONSE_TIME_READ",
        "mysql_info_schema_read_query_response_time_seconds",
        "Read queries by how long they took, in seconds.",
    ),
    (
        "SELECT TIME, COUNT, TOTAL FROM INFORMATION_SCHEMA.QUERY_RESPONSE_TIME_WRITE",
        "mysql_info_schema_write_query_response_time_seconds",
        "Write queries by how long they took, in seconds.",
    ),
];

/// Reads the response time tables.
pub struct QueryResponseTime;

impl Collector<Db> for QueryResponseTime {
    fn collect<'a>(&'a self, cx: &'a Scrape<Db>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            if cx.target.version() < 5.5 {
                return Ok(());
            }
            // No plugin: the variable does not exist. Like the incumbent, that is success.
            let Ok(rows) = cx.target.query("SELECT @@query_response_time_stats").await else { return Ok(()) };
            if rows.first().and_then(|r| bytes(r, 0)).is_none_or(|b| b == b"0") {
                return Ok(());
            }
            for (i, (sql, name, help)) in TABLES.iter().enumerate() {
                match cx.target.query(sql).await {
                    Ok(rows) => histogram(out, name, help, &rows),
                    Err(e) if i == 0 => return Err(e),
                    Err(CollectError::Other(_)) | Err(_) => {}
                }
            }
            Ok(())
        })
    }
}

/// Rows are (upper bound, count in that bucket, total seconds); buckets are cumulative in
/// the output, the overflow row (`TOO LONG`, bound 0 after parsing) only counts.
fn histogram(out: &mut MetricSet, name: &'static str, help: &'static str, rows: &[mysql_async::Row]) {
    let mut buckets: Vec<(f64, f64)> = Vec::new();
    let (mut count, mut sum) = (0.0, 0.0);
    for row in rows {
        let bound: f64 = text(row, 0).trim().parse().unwrap_or(0.0);
        count += number(row, 1);
        sum += text(row, 2).trim().parse().unwrap_or(0.0);
        if bound != 0.0 {
            buckets.push((bound, count));
        }
    }
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let family = out.family(name, help, Kind::Histogram);
    let mut le = String::new();
    for (bound, cumulative) in buckets {
        le.clear();
        write_value(&mut le, bound);
        family.push_suffixed("_bucket", &[("le", &le)], cumulative);
    }
    family.push_suffixed("_bucket", &[("le", "+Inf")], count);
    family.push_suffixed("_sum", &[], sum);
    family.push_suffixed("_count", &[], count);
}
