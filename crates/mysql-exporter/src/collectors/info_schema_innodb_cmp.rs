//! `information_schema.innodb_cmp` → `mysql_info_schema_innodb_cmp_*_total` by page size
//! (mysqld_exporter "info_schema.innodb_cmp").

use vigie_kit::{BoxFuture, CollectResult, Collector, Desc, MetricSet, Registration, Scrape};

use crate::collectors::{number, text};
use crate::target::Db;

/// The registration.
pub const REG: Registration<Db> = Registration {
    name: "info_schema.innodb_cmp",
    default_enabled: true,
    help: "Collect metrics from information_schema.innodb_cmp",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(InnodbCmp)),
};

const QUERY: &str = "SELECT page_size, compress_ops, compress_ops_ok, compress_time, uncompress_ops, uncompress_time FROM information_schema.innodb_cmp";
const L: &[&str] = &["page_size"];
const DESCS: [Desc; 5] = [
    Desc::counter("mysql_info_schema_innodb_cmp_compress_ops_total", "Compressions of B-tree pages of this size.", L),
    Desc::counter("mysql_info_schema_innodb_cmp_compress_ops_ok_total", "Successful compressions of B-tree pages of this size.", L),
    Desc::counter("mysql_info_schema_innodb_cmp_compress_time_seconds_total", "Seconds spent compressing B-tree pages.", L),
    Desc::counter("mysql_info_schema_innodb_cmp_uncompress_ops_total", "Decompressions of B-tree pages of this size.", L),
    Desc::counter("mysql_info_schema_innodb_cmp_uncompress_time_seconds_total", "Seconds spent decompressing B-tree pages.", L),
];

/// Reads `information_schema.innodb_cmp`.
pub struct InnodbCmp;

impl Collector<Db> for InnodbCmp {
    fn collect<'a>(&'a self, cx: &'a Scrape<Db>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            if cx.target.version() < 5.5 {
                return Ok(());
            }
            for row in cx.target.query(QUERY).await? {
                let page = text(&row, 0);
                for (i, desc) in DESCS.iter().enumerate() {
                    out.add(desc, &[&page], number(&row, i + 1));
                }
            }
            Ok(())
        })
    }
}
