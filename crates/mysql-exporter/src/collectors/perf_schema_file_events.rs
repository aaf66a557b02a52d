//! `performance_schema.file_summary_by_event_name` → file operations, seconds and bytes by
//! instrument and mode read/write/misc (mysqld_exporter "perf_schema.file_events").

use vigie_kit::{BoxFuture, CollectResult, Collector, Desc, MetricSet, Registration, Scrape};

use crate::collectors::{number, text, PICO};
use crate::target::Db;

/// The registration.
pub const REG: Registration<Db> = Registration {
    name: "perf_schema.file_events",
    default_enabled: false,
    help: "Collect metrics from performance_schema.file_summary_by_event_name",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(FileEvents)),
};

const L: &[&str] = &["event_name", "mode"];
const COUNT: Desc = Desc::counter("mysql_perf_schema_file_events_total", "File operations of this instrument and mode.", L);
const SECONDS: Desc =
    Desc::counter("mysql_perf_schema_file_events_seconds_total", "Seconds spent in file operations of this instrument and mode.", L);
const BYTES: Desc =
    Desc::counter("mysql_perf_schema_file_events_bytes_total", "Bytes moved by file operations of this instrument and mode.", L);

/// Reads file events.
pub struct FileEvents;

impl Collector<Db> for FileEvents {
    fn collect<'a>(&'a self, cx: &'a Scrape<Db>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            if cx.target.version() < 5.6 {
                return Ok(());
            }
            let sql = "SELECT EVENT_NAME, COUNT_READ, SUM_TIMER_READ, SUM_NUMBER_OF_BYTES_READ, COUNT_WRITE, \
                       SUM_TIMER_WRITE, SUM_NUMBER_OF_BYTES_WRITE, COUNT_MISC, SUM_TIMER_MISC \
                       FROM performance_schema.file_summary_by_event_name";
            for row in cx.target.query(sql).await? {
                let name = text(&row, 0);
                for (mode, at) in [("read", 1), ("write", 4)] {
                    out.add(&COUNT, &[&name, mode], number(&row, at));
                    out.add(&SECONDS, &[&name, mode], number(&row, at + 1) / PICO);
                    out.add(&BYTES, &[&name, mode], number(&row, at + 2));
                }
                out.add(&COUNT, &[&name, "misc"], number(&row, 7));
                out.add(&SECONDS, &[&name, "misc"], number(&row, 8) / PICO);
            }
            Ok(())
        })
    }
}
