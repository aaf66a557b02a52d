//! Auto-increment columns → `mysql_info_schema_auto_increment_column` (next value) and
//! `_column_max` (the type's largest value) (mysqld_exporter "auto_increment.columns").

use vigie_kit::{BoxFuture, CollectResult, Collector, Desc, MetricSet, Registration, Scrape};

use crate::collectors::{number, text};
use crate::target::Db;

/// The registration.
pub const REG: Registration<Db> = Registration {
    name: "auto_increment.columns",
    default_enabled: false,
    help: "Collect auto_increment columns and max values from information_schema",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(AutoIncrement)),
};

const QUERY: &str = "SELECT table_schema, table_name, column_name, auto_increment, \
  pow(2, case data_type when 'tinyint' then 7 when 'smallint' then 15 when 'mediumint' then 23 \
  when 'int' then 31 when 'bigint' then 63 end + (column_type like '% unsigned')) - 1 as max_int \
  FROM information_schema.tables t JOIN information_schema.columns c USING (table_schema, table_name) \
  WHERE c.extra = 'auto_increment' AND t.auto_increment IS NOT NULL";
const L: &[&str] = &["schema", "table", "column"];
const NEXT: Desc = Desc::gauge("mysql_info_schema_auto_increment_column", "Next value of an auto_increment column.", L);
const MAX: Desc = Desc::gauge("mysql_info_schema_auto_increment_column_max", "Largest value the auto_increment column's type holds.", L);

/// Reads auto-increment columns.
pub struct AutoIncrement;

impl Collector<Db> for AutoIncrement {
    fn collect<'a>(&'a self, cx: &'a Scrape<Db>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            for row in cx.target.query(QUERY).await? {
                let labels = [text(&row, 0), text(&row, 1), text(&row, 2)];
                let labels = [labels[0].as_str(), labels[1].as_str(), labels[2].as_str()];
                out.add(&NEXT, &labels, number(&row, 3));
                out.add(&MAX, &labels, number(&row, 4));
            }
            Ok(())
        })
    }
}
