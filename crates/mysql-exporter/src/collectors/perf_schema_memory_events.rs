//! `performance_schema.memory_summary_global_by_event_name` → bytes allocated, freed and in
//! use by instrument (mysqld_exporter "perf_schema.memory_events", with
//! `--collect.perf_schema.memory_events.remove_prefix`).

use vigie_kit::{BoxFuture, CollectResult, Collector, Desc, MetricSet, Registration, Scrape};

use crate::collectors::{number, string, text};
use crate::target::Db;

const REMOVE_PREFIX: &str = "collect.perf_schema.memory_events.remove_prefix";

/// The registration.
pub const REG: Registration<Db> = Registration {
    name: "perf_schema.memory_events",
    default_enabled: false,
    help: "Collect metrics from performance_schema.memory_summary_global_by_event_name",
    args: |cmd| {
        cmd.arg(
            clap::Arg::new(REMOVE_PREFIX)
                .long(REMOVE_PREFIX)
                .value_name("PREFIX")
                .default_value("memory/")
                .help("Instrument name prefix removed from the event_name label."),
        )
    },
    build: |m| Ok(Box::new(MemoryEvents { remove_prefix: string(m, REMOVE_PREFIX) })),
};

const L: &[&str] = &["event_name"];
const ALLOC: Desc = Desc::counter("mysql_perf_schema_memory_events_alloc_bytes_total", "Bytes allocated by this instrument.", L);
const FREE: Desc = Desc::counter("mysql_perf_schema_memory_events_free_bytes_total", "Bytes freed by this instrument.", L);
const USED: Desc = Desc::gauge("mysql_perf_schema_memory_events_used_bytes", "Bytes this instrument holds now.", L);

/// Reads memory instruments.
pub struct MemoryEvents {
    remove_prefix: String,
}

impl Collector<Db> for MemoryEvents {
    fn collect<'a>(&'a self, cx: &'a Scrape<Db>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            if cx.target.version() < 5.7 {
                return Ok(());
            }
            let sql = "SELECT EVENT_NAME, SUM_NUMBER_OF_BYTES_ALLOC, SUM_NUMBER_OF_BYTES_FREE, CURRENT_NUMBER_OF_BYTES_USED \
                       FROM performance_schema.memory_summary_global_by_event_name WHERE COUNT_ALLOC > 0";
            for row in cx.target.query(sql).await? {
                let name = text(&row, 0);
                let name = name.strip_prefix(self.remove_prefix.as_str()).unwrap_or(&name);
                out.add(&ALLOC, &[name], number(&row, 1));
                out.add(&FREE, &[name], number(&row, 2));
                out.add(&USED, &[name], number(&row, 3));
            }
            Ok(())
        })
    }
}
