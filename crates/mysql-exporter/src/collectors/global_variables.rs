//! `SHOW GLOBAL VARIABLES` → `mysql_global_variables_*` gauges, `mysql_version_info`,
//! `mysql_transaction_isolation` and the Galera variables (mysqld_exporter
//! "global_variables").

use vigie_kit::{BoxFuture, CollectResult, Collector, Desc, Kind, MetricSet, Registration, Scrape};

use crate::collectors::{bytes, metric_name, parse_status, text};
use crate::target::Db;

/// The registration.
pub const REG: Registration<Db> = Registration {
    name: "global_variables",
    default_enabled: true,
    help: "Collect from SHOW GLOBAL VARIABLES",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(GlobalVariables)),
};

const VERSION_INFO: Desc = Desc::gauge(
    "mysql_version_info",
    "Server version and distribution; always 1.",
    &["innodb_version", "version", "version_comment"],
);
const GALERA_VARIABLES: Desc = Desc::gauge("mysql_galera_variables_info", "Galera cluster name; always 1.", &["wsrep_cluster_name"]);
const GCACHE: Desc = Desc::gauge("mysql_galera_gcache_size_bytes", "Galera gcache size, in bytes.", &[]);
const ISOLATION: Desc = Desc::gauge("mysql_transaction_isolation", "Default transaction isolation level; always 1.", &["level"]);
const GENERIC_HELP: &str = "A numeric value of SHOW GLOBAL VARIABLES, unchanged.";

const TEXT_ITEMS: [&str; 7] = [
    "innodb_version",
    "version",
    "version_comment",
    "wsrep_cluster_name",
    "wsrep_provider_options",
    "tx_isolation",
    "transaction_isolation",
];

/// Reads `SHOW GLOBAL VARIABLES`.
pub struct GlobalVariables;

impl Collector<Db> for GlobalVariables {
    fn collect<'a>(&'a self, cx: &'a Scrape<Db>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            let rows = cx.target.query("SHOW GLOBAL VARIABLES").await?;
            let mut items: [String; 7] = Default::default();
            for row in &rows {
                let (key, Some(val)) = (metric_name(&text(row, 0)), bytes(row, 1)) else { continue };
                if let Some(v) = parse_status(val) {
                    out.family(format!("mysql_global_variables_{key}"), GENERIC_HELP, Kind::Gauge).push(&[], v);
                } else if let Some(i) = TEXT_ITEMS.iter().position(|t| *t == key) {
                    items[i] = String::from_utf8_lossy(val).into_owned();
                }
            }
            out.add(&VERSION_INFO, &[&items[0], &items[1], &items[2]], 1.0);
            if !items[3].is_empty() {
                out.add(&GALERA_VARIABLES, &[&items[3]], 1.0);
            }
            if !items[4].is_empty() {
                out.add(&GCACHE, &[], gcache_size(&items[4]));
            }
            let level = if items[6].is_empty() { &items[5] } else { &items[6] };
            if !level.is_empty() {
                out.add(&ISOLATION, &[level], 1.0);
            }
            Ok(())
        })
    }
}

/// `gcache.size = 128M;` inside `wsrep_provider_options`, in bytes; 0 when absent.
fn gcache_size(options: &str) -> f64 {
    let Some(at) = options.find("gcache.size = ") else { return 0.0 };
    let rest = &options[at + "gcache.size = ".len()..];
    let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    let Ok(n) = rest[..digits].parse::<f64>() else { return 0.0 };
    match rest[digits..].split(';').next() {
        Some("") => n,
        Some("M") => n * 1024.0 * 1024.0,
        Some("G") => n * 1024.0 * 1024.0 * 1024.0,
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcache() {
        assert_eq!(gcache_size("base_port = 4567; gcache.size = 128M; gcache.page_size = 1"), 134_217_728.0);
        assert_eq!(gcache_size("gcache.size = 2G;"), 2_147_483_648.0);
        assert_eq!(gcache_size("gcache.size = 1000;"), 1000.0);
        assert_eq!(gcache_size("nothing"), 0.0);
    }
}
