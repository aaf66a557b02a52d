//! `information_schema.user_statistics` (MariaDB and Percona with `userstat=1`) → per user
//! connection, time, byte, row and command counters (mysqld_exporter
//! "info_schema.userstats"). Also the shared code of "info_schema.clientstats".

use vigie_kit::{BoxFuture, CollectResult, Collector, Kind, MetricSet, Registration, Scrape};

use crate::collectors::{number, text};
use crate::target::{Db, Session};

/// The registration.
pub const REG: Registration<Db> = Registration {
    name: "info_schema.userstats",
    default_enabled: false,
    help: "If running with userstat=1, set to true to collect user statistics",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(UserStats)),
};

/// (column, name suffix, kind, help) of the columns the incumbent knows; others become
/// untyped `<prefix>_<column>` families.
const COLUMNS: [(&str, &str, Kind, &str); 26] = [
    ("TOTAL_CONNECTIONS", "total_connections", Kind::Counter, "Connections opened."),
    ("CONCURRENT_CONNECTIONS", "concurrent_connections", Kind::Gauge, "Connections open now."),
    ("CONNECTED_TIME", "connected_time_seconds_total", Kind::Counter, "Seconds with at least one connection open."),
    ("BUSY_TIME", "busy_seconds_total", Kind::Counter, "Seconds of activity on the connections."),
    ("CPU_TIME", "cpu_time_seconds_total", Kind::Counter, "CPU seconds spent serving the connections."),
    ("BYTES_RECEIVED", "bytes_received_total", Kind::Counter, "Bytes received from the connections."),
    ("BYTES_SENT", "bytes_sent_total", Kind::Counter, "Bytes sent to the connections."),
    ("BINLOG_BYTES_WRITTEN", "binlog_bytes_written_total", Kind::Counter, "Bytes the connections wrote to the binary log."),
    ("ROWS_READ", "rows_read_total", Kind::Counter, "Rows read by the connections."),
    ("ROWS_SENT", "rows_sent_total", Kind::Counter, "Rows sent to the connections."),
    ("ROWS_DELETED", "rows_deleted_total", Kind::Counter, "Rows deleted by the connections."),
    ("ROWS_INSERTED", "rows_inserted_total", Kind::Counter, "Rows inserted by the connections."),
    ("ROWS_FETCHED", "rows_fetched_total", Kind::Counter, "Rows fetched by the connections."),
    ("ROWS_UPDATED", "rows_updated_total", Kind::Counter, "Rows updated by the connections."),
    ("TABLE_ROWS_READ", "table_rows_read_total", Kind::Counter, "Rows read from tables by the connections."),
    ("SELECT_COMMANDS", "select_commands_total", Kind::Counter, "SELECT statements run by the connections."),
    ("UPDATE_COMMANDS", "update_commands_total", Kind::Counter, "UPDATE statements run by the connections."),
    ("OTHER_COMMANDS", "other_commands_total", Kind::Counter, "Other statements run by the connections."),
    ("COMMIT_TRANSACTIONS", "commit_transactions_total", Kind::Counter, "COMMITs issued by the connections."),
    ("ROLLBACK_TRANSACTIONS", "rollback_transactions_total", Kind::Counter, "ROLLBACKs issued by the connections."),
    ("DENIED_CONNECTIONS", "denied_connections_total", Kind::Counter, "Connections refused."),
    ("LOST_CONNECTIONS", "lost_connections_total", Kind::Counter, "Connections ended uncleanly."),
    ("ACCESS_DENIED", "access_denied_total", Kind::Counter, "Statements refused for lack of privileges."),
    ("EMPTY_QUERIES", "empty_queries_total", Kind::Counter, "Empty queries sent by the connections."),
    ("TOTAL_SSL_CONNECTIONS", "total_ssl_connections_total", Kind::Counter, "Connections opened over TLS."),
    // Known for clients only (the incumbent's user table lacks it).
    ("MAX_STATEMENT_TIME_EXCEEDED", "max_statement_time_exceeded_total", Kind::Counter, "Statements stopped by max_statement_time."),
];

/// Whether `userstat` (or Percona's `userstat_running`) is on; off or absent means the
/// statistics tables are empty or missing, and the scraper writes nothing.
pub async fn userstat_on(db: &Session) -> bool {
    let sql = "SHOW GLOBAL VARIABLES WHERE Variable_Name='userstat' OR Variable_Name='userstat_running'";
    match db.query(sql).await {
        Ok(rows) => rows.first().is_some_and(|r| text(r, 1) != "OFF"),
        Err(e) => {
            tracing::debug!(err = %e, "Detailed statistics are not available.");
            false
        }
    }
}

/// Writes `SELECT * FROM information_schema.<table>`: column 0 is the `label`, the others
/// `mysql_info_schema_<prefix>_<suffix>`. `max_statement_time` says whether
/// MAX_STATEMENT_TIME_EXCEEDED is a known column (clients) or an untyped one (users).
pub async fn collect(
    db: &Session,
    out: &mut MetricSet,
    table: &str,
    prefix: &str,
    label: &'static str,
    max_statement_time: bool,
) -> CollectResult {
    if !userstat_on(db).await {
        return Ok(());
    }
    for row in db.query(&format!("SELECT * FROM information_schema.{table}")).await? {
        let who = text(&row, 0);
        for (i, col) in row.columns_ref().iter().enumerate().skip(1) {
            let column = col.name_str();
            let known = COLUMNS
                .iter()
                .find(|(c, ..)| *c == column)
                .filter(|(c, ..)| max_statement_time || *c != "MAX_STATEMENT_TIME_EXCEEDED");
            let family = match known {
                Some((_, suffix, kind, help)) => out.family(format!("mysql_info_schema_{prefix}_{suffix}"), *help, *kind),
                None => out.family(
                    format!("mysql_info_schema_{prefix}_{}", column.to_lowercase()),
                    format!("Column {column} of information_schema.{table}."),
                    Kind::Untyped,
                ),
            };
            family.push(&[(label, &who)], number(&row, i));
        }
    }
    Ok(())
}

/// Reads user statistics.
pub struct UserStats;

impl Collector<Db> for UserStats {
    fn collect<'a>(&'a self, cx: &'a Scrape<Db>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            if cx.target.version() < 5.1 {
                return Ok(());
            }
            collect(&cx.target, out, "user_statistics", "user_statistics", "user", false).await
        })
    }
}
