//! `information_schema.innodb_cmpmem` → `mysql_info_schema_innodb_cmpmem_*_total` by page
//! size and buffer pool (mysqld_exporter "info_schema.innodb_cmpmem").

use vigie_kit::{BoxFuture, CollectResult, Collector, Desc, MetricSet, Registration, Scrape};

use crate::collectors::{number, text};
use crate::target::Db;

/// The registration.
pub const REG: Registration<Db> = Registration {
    name: "info_schema.innodb_cmpmem",
    default_enabled: true,
    help: "Collect metrics from information_schema.innodb_cmpmem",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(InnodbCmpMem)),
};

const QUERY: &str = "SELECT page_size, buffer_pool_instance, pages_used, pages_free, relocation_ops, relocation_time FROM information_schema.innodb_cmpmem";
const L: &[&str] = &["page_size", "buffer_pool"];
// The incumbent types these as counters with `_total`, though used and free pages go down.
const USED: Desc = Desc::counter("mysql_info_schema_innodb_cmpmem_pages_used_total", "Blocks of this size in use.", L);
const FREE: Desc = Desc::counter("mysql_info_schema_innodb_cmpmem_pages_free_total", "Blocks of this size free for allocation.", L);
const RELOCATIONS: Desc =
    Desc::counter("mysql_info_schema_innodb_cmpmem_relocation_ops_total", "Relocations of blocks of this size.", L);
const RELOCATION_TIME: Desc =
    Desc::counter("mysql_info_schema_innodb_cmpmem_relocation_time_seconds_total", "Seconds spent relocating blocks.", L);

/// Reads `information_schema.innodb_cmpmem`.
pub struct InnodbCmpMem;

impl Collector<Db> for InnodbCmpMem {
    fn collect<'a>(&'a self, cx: &'a Scrape<Db>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            if cx.target.version() < 5.5 {
                return Ok(());
            }
            for row in cx.target.query(QUERY).await? {
                let (page, pool) = (text(&row, 0), text(&row, 1));
                let labels = [page.as_str(), pool.as_str()];
                out.add(&USED, &labels, number(&row, 2));
                out.add(&FREE, &labels, number(&row, 3));
                out.add(&RELOCATIONS, &labels, number(&row, 4));
                // relocation_time is in microseconds; mysqld_exporter divides by 1000 (sic).
                out.add(&RELOCATION_TIME, &labels, number(&row, 5) / 1000.0);
            }
            Ok(())
        })
    }
}
