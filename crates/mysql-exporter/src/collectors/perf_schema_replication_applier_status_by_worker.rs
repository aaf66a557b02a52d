//! `performance_schema.replication_applier_status_by_worker` → per applier worker, the
//! commit and apply timestamps of the last and the current transaction (MySQL 8.0;
//! mysqld_exporter "perf_schema.replication_applier_status_by_worker"). MariaDB's table
//! lacks these columns: the scraper fails there, as the incumbent's does.

use vigie_kit::{BoxFuture, CollectResult, Collector, Desc, MetricSet, Registration, Scrape};

use crate::collectors::{parse_datetime, text};
use crate::target::Db;

/// The registration.
pub const REG: Registration<Db> = Registration {
    name: "perf_schema.replication_applier_status_by_worker",
    default_enabled: false,
    help: "Collect metrics from performance_schema.replication_applier_status_by_worker",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(ApplierByWorker)),
};

const L: &[&str] = &["channel_name", "member_id"];
/// (column, family), in query order after CHANNEL_NAME and WORKER_ID.
const COLUMNS: [(&str, Desc); 7] = [
    ("LAST_APPLIED_TRANSACTION_ORIGINAL_COMMIT_TIMESTAMP", Desc::gauge("mysql_perf_schema_last_applied_transaction_original_commit_timestamp_seconds", "When the last transaction this worker applied was committed on the original source (Unix seconds).", L)),
    ("LAST_APPLIED_TRANSACTION_IMMEDIATE_COMMIT_TIMESTAMP", Desc::gauge("mysql_perf_schema_last_applied_transaction_immediate_commit_timestamp_seconds", "When the last transaction this worker applied was committed on the immediate source (Unix seconds).", L)),
    ("LAST_APPLIED_TRANSACTION_START_APPLY_TIMESTAMP", Desc::gauge("mysql_perf_schema_last_applied_transaction_start_apply_timestamp_seconds", "When this worker started applying its last transaction (Unix seconds).", L)),
    ("LAST_APPLIED_TRANSACTION_END_APPLY_TIMESTAMP", Desc::gauge("mysql_perf_schema_last_applied_transaction_end_apply_timestamp_seconds", "When this worker finished applying its last transaction (Unix seconds).", L)),
    ("APPLYING_TRANSACTION_ORIGINAL_COMMIT_TIMESTAMP", Desc::gauge("mysql_perf_schema_applying_transaction_original_commit_timestamp_seconds", "When the transaction being applied was committed on the original source (Unix seconds).", L)),
    ("APPLYING_TRANSACTION_IMMEDIATE_COMMIT_TIMESTAMP", Desc::gauge("mysql_perf_schema_applying_transaction_immediate_commit_timestamp_seconds", "When the transaction being applied was committed on the immediate source (Unix seconds).", L)),
    ("APPLYING_TRANSACTION_START_APPLY_TIMESTAMP", Desc::gauge("mysql_perf_schema_applying_transaction_start_apply_timestamp_seconds", "When this worker first tried to apply the current transaction (Unix seconds).", L)),
];

/// Reads the applier workers.
pub struct ApplierByWorker;

impl Collector<Db> for ApplierByWorker {
    fn collect<'a>(&'a self, cx: &'a Scrape<Db>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            if cx.target.version() < 5.7 {
                return Ok(());
            }
            let columns: Vec<&str> = COLUMNS.iter().map(|(c, _)| *c).collect();
            let sql = format!(
                "SELECT CHANNEL_NAME, WORKER_ID, {} FROM performance_schema.replication_applier_status_by_worker",
                columns.join(", ")
            );
            for row in cx.target.query(&sql).await? {
                let (channel, worker) = (text(&row, 0), text(&row, 1));
                for (i, (_, desc)) in COLUMNS.iter().enumerate() {
                    // A zero or unset timestamp is 0, as the incumbent writes it.
                    out.add(desc, &[&channel, &worker], parse_datetime(&text(&row, 2 + i)).unwrap_or(0.0));
                }
            }
            Ok(())
        })
    }
}
