//! `SHOW GLOBAL STATUS` → `mysql_global_status_*` (mysqld_exporter "global_status"):
//! `Com_*`, `Handler_*`, `Connection_errors_*`, `Innodb_buffer_pool_pages_*`,
//! `Innodb_rows_*` and `Performance_schema_*_lost` as labelled families, every other
//! numeric status as its own untyped family, plus the Galera info and latency families.

use vigie_kit::{BoxFuture, CollectResult, Collector, Desc, Kind, MetricSet, Registration, Scrape};

use crate::collectors::{bytes, metric_name, parse_status, text};
use crate::target::Db;

/// The registration.
pub const REG: Registration<Db> = Registration {
    name: "global_status",
    default_enabled: true,
    help: "Collect from SHOW GLOBAL STATUS",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(GlobalStatus)),
};

const COMMANDS: Desc = Desc::counter("mysql_global_status_commands_total", "Statements executed, by command (Com_*).", &["command"]);
const HANDLERS: Desc = Desc::counter("mysql_global_status_handlers_total", "Storage engine handler calls, by handler (Handler_*).", &["handler"]);
const CONNECTION_ERRORS: Desc =
    Desc::counter("mysql_global_status_connection_errors_total", "Refused or failed client connections, by cause.", &["error"]);
const BUFFER_POOL_PAGES: Desc =
    Desc::gauge("mysql_global_status_buffer_pool_pages", "InnoDB buffer pool pages, by state.", &["state"]);
const BUFFER_POOL_DIRTY: Desc =
    Desc::gauge("mysql_global_status_buffer_pool_dirty_pages", "InnoDB buffer pool pages modified but not yet flushed.", &[]);
const BUFFER_POOL_CHANGES: Desc = Desc::counter(
    "mysql_global_status_buffer_pool_page_changes_total",
    "InnoDB buffer pool page operations (flushed, LRU-flushed…).",
    &["operation"],
);
const ROW_OPS: Desc =
    Desc::counter("mysql_global_status_innodb_row_ops_total", "InnoDB rows read, inserted, updated, deleted.", &["operation"]);
const PS_LOST: Desc = Desc::counter(
    "mysql_global_status_performance_schema_lost_total",
    "performance_schema instruments that could not be created or loaded, by kind.",
    &["instrumentation"],
);
const GALERA_INFO: Desc = Desc::gauge(
    "mysql_galera_status_info",
    "Galera (PXC) node and cluster identity; always 1.",
    &["wsrep_local_state_uuid", "wsrep_cluster_state_uuid", "wsrep_provider_version"],
);
const GENERIC_HELP: &str = "A numeric value of SHOW GLOBAL STATUS, unchanged.";

/// Reads `SHOW GLOBAL STATUS`.
pub struct GlobalStatus;

impl Collector<Db> for GlobalStatus {
    fn collect<'a>(&'a self, cx: &'a Scrape<Db>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            let rows = cx.target.query("SHOW GLOBAL STATUS").await?;
            let mut galera = [String::new(), String::new(), String::new(), String::new()];
            for row in &rows {
                let (key, Some(val)) = (text(row, 0), bytes(row, 1)) else { continue };
                match parse_status(val) {
                    Some(v) => add(out, &metric_name(&key), v),
                    None => {
                        let slot = match key.as_str() {
                            "wsrep_local_state_uuid" => 0,
                            "wsrep_cluster_state_uuid" => 1,
                            "wsrep_provider_version" => 2,
                            "wsrep_evs_repl_latency" => 3,
                            _ => continue,
                        };
                        galera[slot] = String::from_utf8_lossy(val).into_owned();
                    }
                }
            }
            if !galera[0].is_empty() {
                out.add(&GALERA_INFO, &[&galera[0], &galera[1], &galera[2]], 1.0);
            }
            evs_latency(out, &galera[3]);
            Ok(())
        })
    }
}

/// Files one status into its family, as mysqld_exporter's prefix table does.
fn add(out: &mut MetricSet, key: &str, v: f64) {
    const PREFIXES: [&str; 6] =
        ["com", "handler", "connection_errors", "innodb_buffer_pool_pages", "innodb_rows", "performance_schema"];
    for prefix in PREFIXES {
        let Some(rest) = key.strip_prefix(prefix).and_then(|r| r.strip_prefix('_')) else { continue };
        match prefix {
            "com" => out.add(&COMMANDS, &[rest], v),
            "handler" => out.add(&HANDLERS, &[rest], v),
            "connection_errors" => out.add(&CONNECTION_ERRORS, &[rest], v),
            "innodb_buffer_pool_pages" => match rest {
                "data" | "free" | "misc" | "old" => out.add(&BUFFER_POOL_PAGES, &[rest], v),
                "dirty" => out.add(&BUFFER_POOL_DIRTY, &[], v),
                "total" => {}
                _ => out.add(&BUFFER_POOL_CHANGES, &[rest], v),
            },
            "innodb_rows" => out.add(&ROW_OPS, &[rest], v),
            _ => out.add(&PS_LOST, &[rest], v),
        }
        return;
    }
    out.family(format!("mysql_global_status_{key}"), GENERIC_HELP, Kind::Untyped).push(&[], v);
}

/// `wsrep_evs_repl_latency` is `min/avg/max/stddev/samples`.
fn evs_latency(out: &mut MetricSet, text: &str) {
    if text.is_empty() {
        return;
    }
    let values: Vec<f64> = text.split('/').filter_map(|v| v.trim().parse().ok()).collect();
    if values.len() != 5 || text.split('/').count() != 5 {
        return;
    }
    let names = [
        ("min_seconds", "Galera group communication latency: minimum."),
        ("avg_seconds", "Galera group communication latency: average."),
        ("max_seconds", "Galera group communication latency: maximum."),
        ("stdev", "Galera group communication latency: standard deviation."),
        ("sample_size", "Galera group communication latency: samples measured."),
    ];
    for ((name, help), v) in names.into_iter().zip(values) {
        out.family(format!("mysql_galera_evs_repl_latency_{name}"), help, Kind::Gauge).push(&[], v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_choose_families() {
        let mut out = MetricSet::new();
        for (k, v) in [
            ("com_select", 3.0),
            ("compression", 0.0),
            ("innodb_buffer_pool_pages_total", 9.0),
            ("innodb_buffer_pool_pages_dirty", 2.0),
            ("innodb_buffer_pool_pages_flushed", 5.0),
            ("innodb_buffer_pool_pages_data", 7.0),
        ] {
            add(&mut out, k, v);
        }
        evs_latency(&mut out, "0.1/0.2/0.3/0.01/12");
        let text = out.encode();
        assert!(text.contains("mysql_global_status_commands_total{command=\"select\"} 3\n"), "{text}");
        assert!(text.contains("# TYPE mysql_global_status_compression untyped\nmysql_global_status_compression 0\n"));
        assert!(!text.contains("pages_total") && !text.contains("\"total\""), "{text}");
        assert!(text.contains("mysql_global_status_buffer_pool_dirty_pages 2\n"));
        assert!(text.contains("mysql_global_status_buffer_pool_page_changes_total{operation=\"flushed\"} 5\n"));
        assert!(text.contains("mysql_global_status_buffer_pool_pages{state=\"data\"} 7\n"));
        assert!(text.contains("mysql_galera_evs_repl_latency_sample_size 12\n"));
    }
}
