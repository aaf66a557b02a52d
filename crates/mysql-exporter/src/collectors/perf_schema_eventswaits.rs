//! `performance_schema.events_waits_summary_global_by_event_name` → wait counts and
//! seconds by instrument (mysqld_exporter "perf_schema.eventswaits").

use vigie_kit::{BoxFuture, CollectResult, Collector, Desc, MetricSet, Registration, Scrape};

use crate::collectors::{number, text, PICO};
use crate::target::Db;

/// The registration.
pub const REG: Registration<Db> = Registration {
    name: "perf_schema.eventswaits",
    default_enabled: false,
    help: "Collect metrics from performance_schema.events_waits_summary_global_by_event_name",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(EventsWaits)),
};

const COUNT: Desc =
    Desc::counter("mysql_perf_schema_events_waits_total", "Wait events of this instrument.", &["event_name"]);
const SECONDS: Desc = Desc::counter(
    "mysql_perf_schema_events_waits_seconds_total",
    "Seconds spent in wait events of this instrument.",
    &["event_name"],
);

/// Reads wait events.
pub struct EventsWaits;

impl Collector<Db> for EventsWaits {
    fn collect<'a>(&'a self, cx: &'a Scrape<Db>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            if cx.target.version() < 5.5 {
                return Ok(());
            }
            let sql = "SELECT EVENT_NAME, COUNT_STAR, SUM_TIMER_WAIT FROM performance_schema.events_waits_summary_global_by_event_name";
            for row in cx.target.query(sql).await? {
                let name = text(&row, 0);
                out.add(&COUNT, &[&name], number(&row, 1));
                out.add(&SECONDS, &[&name], number(&row, 2) / PICO);
            }
            Ok(())
        })
    }
}
