//! `information_schema.innodb_metrics` (enabled counters) → `mysql_info_schema_innodb_metrics_*`
//! (mysqld_exporter "info_schema.innodb_metrics"). Buffer page I/O and buffer pool pages get
//! labelled families; every other counter its own family, HELP from the server's comment.

use vigie_kit::{BoxFuture, CollectError, CollectResult, Collector, Desc, Kind, MetricSet, Registration, Scrape};

use crate::collectors::{number, text};
use crate::target::Db;

/// The registration.
pub const REG: Registration<Db> = Registration {
    name: "info_schema.innodb_metrics",
    default_enabled: false,
    help: "Collect metrics from information_schema.innodb_metrics",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(InnodbMetrics)),
};

const PAGE_READ: Desc =
    Desc::counter("mysql_info_schema_innodb_metrics_buffer_page_read_total", "InnoDB buffer pages read, by page type.", &["type"]);
const PAGE_WRITTEN: Desc = Desc::counter(
    "mysql_info_schema_innodb_metrics_buffer_page_written_total",
    "InnoDB buffer pages written, by page type.",
    &["type"],
);
const POOL_PAGES: Desc =
    Desc::gauge("mysql_info_schema_innodb_metrics_buffer_pool_pages", "InnoDB buffer pool pages, by state.", &["state"]);
const POOL_DIRTY: Desc =
    Desc::gauge("mysql_info_schema_innodb_metrics_buffer_pool_dirty_pages", "InnoDB buffer pool pages not yet flushed.", &[]);

/// Reads `information_schema.innodb_metrics`.
pub struct InnodbMetrics;

impl Collector<Db> for InnodbMetrics {
    fn collect<'a>(&'a self, cx: &'a Scrape<Db>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            if cx.target.version() < 5.6 {
                return Ok(());
            }
            let cols = cx
                .target
                .query("SELECT column_name FROM information_schema.columns WHERE table_name = 'INNODB_METRICS' AND column_name IN ('status', 'enabled')")
                .await?;
            let filter = match cols.first().map(|r| text(r, 0).to_ascii_uppercase()).as_deref() {
                Some("STATUS") => "`status` = 'enabled'",
                Some("ENABLED") => "`enabled` = '1'",
                _ => return Err(CollectError::Other("innodb_metrics has neither a STATUS nor an ENABLED column".into())),
            };
            let sql = format!("SELECT name, subsystem, type, comment, count FROM information_schema.innodb_metrics WHERE {filter}");
            for row in cx.target.query(&sql).await? {
                let (name, subsystem, kind, comment) = (text(&row, 0), text(&row, 1), text(&row, 2), text(&row, 3));
                let value = number(&row, 4);
                if subsystem == "buffer_page_io" {
                    if let Some(t) = name.strip_prefix("buffer_page_read_") {
                        out.add(&PAGE_READ, &[t], value);
                    } else if let Some(t) = name.strip_prefix("buffer_page_written_") {
                        out.add(&PAGE_WRITTEN, &[t], value);
                    } else {
                        tracing::warn!(collector = "info_schema.innodb_metrics", name, "Unexpected buffer_page_io counter.");
                    }
                    continue;
                }
                if subsystem == "buffer" {
                    if let Some(state) = name.strip_prefix("buffer_pool_pages_") {
                        match state {
                            "total" => {}
                            "dirty" => out.add(&POOL_DIRTY, &[], value),
                            _ => out.add(&POOL_PAGES, &[state], value),
                        }
                        continue;
                    }
                }
                let base = format!("mysql_info_schema_innodb_metrics_{subsystem}_{name}");
                if (kind == "counter" || kind == "status_counter") && value >= 0.0 {
                    out.family(format!("{base}_total"), comment, Kind::Counter).push(&[], value);
                } else {
                    out.family(base, comment, Kind::Gauge).push(&[], value);
                }
            }
            Ok(())
        })
    }
}
