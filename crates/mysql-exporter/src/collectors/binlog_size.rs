//! `SHOW BINARY LOGS` → `mysql_binlog_size_bytes`, `mysql_binlog_files` and
//! `mysql_binlog_file_number` (the newest file's sequence number) (mysqld_exporter
//! "binlog_size").

use vigie_kit::{BoxFuture, CollectError, CollectResult, Collector, Desc, MetricSet, Registration, Scrape};

use crate::collectors::{bytes, number, text};
use crate::target::Db;

/// The registration.
pub const REG: Registration<Db> = Registration {
    name: "binlog_size",
    default_enabled: false,
    help: "Collect the current size of all registered binlog files",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(BinlogSize)),
};

const SIZE: Desc = Desc::gauge("mysql_binlog_size_bytes", "Total size of the binary log files, in bytes.", &[]);
const FILES: Desc = Desc::gauge("mysql_binlog_files", "Binary log files the server lists.", &[]);
const NUMBER: Desc = Desc::gauge("mysql_binlog_file_number", "Sequence number of the newest binary log file.", &[]);

/// Reads the binary log list.
pub struct BinlogSize;

impl Collector<Db> for BinlogSize {
    fn collect<'a>(&'a self, cx: &'a Scrape<Db>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            let on = cx.target.query("SELECT @@log_bin").await?;
            if on.first().and_then(|r| bytes(r, 0)).is_none_or(|b| b == b"0") {
                return Ok(());
            }
            let rows = cx.target.query("SHOW BINARY LOGS").await?;
            if let Some(row) = rows.first() {
                let n = row.columns_ref().len();
                if !(2..=3).contains(&n) {
                    return Err(CollectError::Other(format!("SHOW BINARY LOGS: {n} columns, expected 2 or 3")));
                }
            }
            let size: f64 = rows.iter().map(|r| number(r, 1)).sum();
            out.add(&SIZE, &[], size);
            out.add(&FILES, &[], rows.len() as f64);
            let last = rows.last().map(|r| text(r, 0)).unwrap_or_default();
            let number = last.split('.').nth(1).and_then(|n| n.parse().ok()).unwrap_or(0.0);
            out.add(&NUMBER, &[], number);
            Ok(())
        })
    }
}
