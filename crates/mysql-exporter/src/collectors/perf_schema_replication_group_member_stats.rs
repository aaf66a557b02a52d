//! `performance_schema.replication_group_member_stats` of this member → certification
//! queue and transaction counters (MySQL Group Replication; mysqld_exporter
//! "perf_schema.replication_group_member_stats"). MariaDB has no such table: the scraper fails.

use vigie_kit::{BoxFuture, CollectResult, Collector, Desc, MetricSet, Registration, Scrape};

use crate::collectors::bytes;
use crate::target::Db;

/// The registration.
pub const REG: Registration<Db> = Registration {
    name: "perf_schema.replication_group_member_stats",
    default_enabled: false,
    help: "Collect metrics from performance_schema.replication_group_member_stats",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(GroupMemberStats)),
};

const COLUMNS: [(&str, Desc); 8] = [
    ("COUNT_TRANSACTIONS_IN_QUEUE", Desc::gauge("mysql_perf_schema_transactions_in_queue", "Transactions waiting for conflict detection.", &[])),
    ("COUNT_TRANSACTIONS_CHECKED", Desc::counter("mysql_perf_schema_transactions_checked_total", "Transactions checked for conflicts.", &[])),
    ("COUNT_CONFLICTS_DETECTED", Desc::counter("mysql_perf_schema_conflicts_detected_total", "Transactions that failed the conflict check.", &[])),
    ("COUNT_TRANSACTIONS_ROWS_VALIDATING", Desc::counter("mysql_perf_schema_transactions_rows_validating_total", "Transaction rows usable for certification and not yet garbage-collected.", &[])),
    ("COUNT_TRANSACTIONS_REMOTE_IN_APPLIER_QUEUE", Desc::gauge("mysql_perf_schema_transactions_remote_in_applier_queue", "Transactions from the group waiting to be applied here.", &[])),
    ("COUNT_TRANSACTIONS_REMOTE_APPLIED", Desc::counter("mysql_perf_schema_transactions_remote_applied_total", "Transactions from the group applied here.", &[])),
    ("COUNT_TRANSACTIONS_LOCAL_PROPOSED", Desc::counter("mysql_perf_schema_transactions_local_proposed_total", "Transactions from this member sent to the group.", &[])),
    ("COUNT_TRANSACTIONS_LOCAL_ROLLBACK", Desc::counter("mysql_perf_schema_transactions_local_rollback_total", "Transactions from this member rolled back by the group.", &[])),
];

/// Reads this member's statistics.
pub struct GroupMemberStats;

impl Collector<Db> for GroupMemberStats {
    fn collect<'a>(&'a self, cx: &'a Scrape<Db>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            if cx.target.version() < 5.7 {
                return Ok(());
            }
            let sql = "SELECT * FROM performance_schema.replication_group_member_stats WHERE MEMBER_ID=@@server_uuid";
            for row in cx.target.query(sql).await? {
                for (i, col) in row.columns_ref().iter().enumerate() {
                    let Some((_, desc)) = COLUMNS.iter().find(|(c, _)| *c == col.name_str()) else { continue };
                    let v = bytes(&row, i).and_then(|b| std::str::from_utf8(b).ok()).and_then(|s| s.parse().ok());
                    if let Some(v) = v {
                        out.add(desc, &[], v);
                    }
                }
            }
            Ok(())
        })
    }
}
