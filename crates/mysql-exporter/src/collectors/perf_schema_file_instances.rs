//! `performance_schema.file_summary_by_instance` → operations and bytes by file, instrument
//! and mode (mysqld_exporter "perf_schema.file_instances", with
//! `--collect.perf_schema.file_instances.filter` and `.remove_prefix`).

use vigie_kit::{BoxFuture, CollectResult, Collector, Desc, MetricSet, Registration, Scrape};

use crate::collectors::{literal, number, string, text};
use crate::target::Db;

const FILTER: &str = "collect.perf_schema.file_instances.filter";
const REMOVE_PREFIX: &str = "collect.perf_schema.file_instances.remove_prefix";

/// The registration.
pub const REG: Registration<Db> = Registration {
    name: "perf_schema.file_instances",
    default_enabled: false,
    help: "Collect metrics from performance_schema.file_summary_by_instance",
    args: |cmd| {
        cmd.arg(
            clap::Arg::new(FILTER)
                .long(FILTER)
                .value_name("REGEX")
                .default_value(".*")
                .help("Report only files whose name matches this regular expression (the server's REGEXP)."),
        )
        .arg(
            clap::Arg::new(REMOVE_PREFIX)
                .long(REMOVE_PREFIX)
                .value_name("PATH")
                .default_value("/var/lib/mysql/")
                .help("Path prefix removed from the file_name label."),
        )
    },
    build: |m| Ok(Box::new(FileInstances { filter: string(m, FILTER), remove_prefix: string(m, REMOVE_PREFIX) })),
};

const L: &[&str] = &["file_name", "event_name", "mode"];
const COUNT: Desc = Desc::counter("mysql_perf_schema_file_instances_total", "Read or write operations on this file.", L);
const BYTES: Desc = Desc::counter("mysql_perf_schema_file_instances_bytes", "Bytes read from or written to this file.", L);

/// Reads per-file statistics.
pub struct FileInstances {
    filter: String,
    remove_prefix: String,
}

impl Collector<Db> for FileInstances {
    fn collect<'a>(&'a self, cx: &'a Scrape<Db>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            if cx.target.version() < 5.5 {
                return Ok(());
            }
            let sql = format!(
                "SELECT FILE_NAME, EVENT_NAME, COUNT_READ, COUNT_WRITE, SUM_NUMBER_OF_BYTES_READ, SUM_NUMBER_OF_BYTES_WRITE \
                 FROM performance_schema.file_summary_by_instance WHERE FILE_NAME REGEXP {}",
                literal(&self.filter)
            );
            for row in cx.target.query(&sql).await? {
                let file = text(&row, 0);
                let file = file.strip_prefix(self.remove_prefix.as_str()).unwrap_or(&file);
                let event = text(&row, 1);
                out.add(&COUNT, &[file, &event, "read"], number(&row, 2));
                out.add(&COUNT, &[file, &event, "write"], number(&row, 3));
                out.add(&BYTES, &[file, &event, "read"], number(&row, 4));
                out.add(&BYTES, &[file, &event, "write"], number(&row, 5));
            }
            Ok(())
        })
    }
}
