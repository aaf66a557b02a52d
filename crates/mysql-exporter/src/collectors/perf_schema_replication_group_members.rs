//! `performance_schema.replication_group_members` → `mysql_perf_schema_replication_group_member_info`
//! with every column as a label (MySQL Group Replication; mysqld_exporter
//! "perf_schema.replication_group_members"). MariaDB has no such table: the scraper fails.

use vigie_kit::{BoxFuture, CollectResult, Collector, Kind, MetricSet, Registration, Scrape};

use crate::collectors::text;
use crate::target::Db;

/// The registration.
pub const REG: Registration<Db> = Registration {
    name: "perf_schema.replication_group_members",
    default_enabled: false,
    help: "Collect metrics from performance_schema.replication_group_members",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(GroupMembers)),
};

const NAME: &str = "mysql_perf_schema_replication_group_member_info";
const HELP: &str = "A member of the replication group; its columns as labels, always 1.";

/// Reads the group members.
pub struct GroupMembers;

impl Collector<Db> for GroupMembers {
    fn collect<'a>(&'a self, cx: &'a Scrape<Db>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            if cx.target.version() < 5.7 {
                return Ok(());
            }
            for row in cx.target.query("SELECT * FROM performance_schema.replication_group_members").await? {
                let names: Vec<String> = row.columns_ref().iter().map(|c| c.name_str().to_lowercase()).collect();
                let values: Vec<String> = (0..names.len()).map(|i| text(&row, i)).collect();
                let labels: Vec<(&str, &str)> = names.iter().map(String::as_str).zip(values.iter().map(String::as_str)).collect();
                out.family(NAME, HELP, Kind::Gauge).push_dynamic("", &labels, 1.0);
            }
            Ok(())
        })
    }
}
