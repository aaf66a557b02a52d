//! `sys.x$user_summary` → per user statements, latency, table scans, file I/O, connections
//! and memory (mysqld_exporter 0.15+ "sys.user_summary").

use vigie_kit::{BoxFuture, CollectResult, Collector, Desc, MetricSet, Registration, Scrape};

use crate::collectors::{number, text, PICO};
use crate::target::Db;

/// The registration.
pub const REG: Registration<Db> = Registration {
    name: "sys.user_summary",
    default_enabled: false,
    help: "Collect per user metrics from sys.x$user_summary. See https://dev.mysql.com/doc/refman/5.7/en/sys-user-summary.html for details",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(UserSummary)),
};

const L: &[&str] = &["user"];
/// (column, family, scale), in query order after `user`.
const COLUMNS: [(&str, Desc, f64); 10] = [
    ("statements", Desc::counter("mysql_sys_statements_total", "Statements the user ran.", L), 1.0),
    ("statement_latency", Desc::counter("mysql_sys_statement_latency", "Seconds spent in the user's timed statements.", L), 1.0 / PICO),
    ("table_scans", Desc::counter("mysql_sys_table_scans_total", "Full table scans by the user's statements.", L), 1.0),
    ("file_ios", Desc::counter("mysql_sys_file_ios_total", "File I/O events of the user.", L), 1.0),
    ("file_io_latency", Desc::counter("mysql_sys_file_io_seconds_total", "Seconds spent in the user's timed file I/O.", L), 1.0 / PICO),
    ("current_connections", Desc::gauge("mysql_sys_current_connections", "Connections the user holds now.", L), 1.0),
    ("total_connections", Desc::counter("mysql_sys_connections_total", "Connections the user opened.", L), 1.0),
    ("unique_hosts", Desc::counter("mysql_sys_unique_hosts_total", "Distinct hosts the user connected from.", L), 1.0),
    ("current_memory", Desc::gauge("mysql_sys_current_memory_bytes", "Bytes allocated for the user now.", L), 1.0),
    ("total_memory_allocated", Desc::counter("mysql_sys_memory_allocated_bytes_total", "Bytes allocated for the user so far.", L), 1.0),
];

/// Reads the per-user summary.
pub struct UserSummary;

impl Collector<Db> for UserSummary {
    fn collect<'a>(&'a self, cx: &'a Scrape<Db>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            if cx.target.version() < 5.7 {
                return Ok(());
            }
            let columns: Vec<&str> = COLUMNS.iter().map(|(c, ..)| *c).collect();
            let sql = format!("SELECT user, {} FROM sys.x$user_summary", columns.join(", "));
            for row in cx.target.query(&sql).await? {
                let user = text(&row, 0);
                for (i, (_, desc, scale)) in COLUMNS.iter().enumerate() {
                    out.add(desc, &[&user], number(&row, 1 + i) * scale);
                }
            }
            Ok(())
        })
    }
}
