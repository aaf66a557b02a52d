//! `information_schema.replica_host_status` (Amazon Aurora) → CPU, lag and replay latency
//! per instance (mysqld_exporter "info_schema.replica_host"). Elsewhere the table does not
//! exist and the scraper writes nothing.

use vigie_kit::{BoxFuture, CollectResult, Collector, Desc, MetricSet, Registration, Scrape};

use crate::collectors::{number, text};
use crate::target::Db;

/// The registration.
pub const REG: Registration<Db> = Registration {
    name: "info_schema.replica_host",
    default_enabled: false,
    help: "Collect metrics from information_schema.replica_host_status",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(ReplicaHost)),
};

const L: &[&str] = &["server_id", "role"];
/// (family, scale) per column after SERVER_ID and ROLE.
const DESCS: [(Desc, f64); 5] = [
    (Desc::gauge("mysql_info_schema_replica_host_cpu_percent", "CPU use of the instance, in percent.", L), 1.0),
    (Desc::gauge("mysql_info_schema_replica_host_replica_latency_seconds", "Replication latency of the instance.", L), 1e-6),
    (Desc::gauge("mysql_info_schema_replica_host_lag_seconds", "Replica lag of the instance.", L), 1e-3),
    (Desc::gauge("mysql_info_schema_replica_host_log_stream_speed", "Log stream speed, in KiB per second.", L), 1.0),
    (Desc::gauge("mysql_info_schema_replica_host_replay_latency_seconds", "Current replay latency of the instance.", L), 1e-6),
];

/// Unknown table.
const ER_UNKNOWN_TABLE: u16 = 1109;
/// Table does not exist.
const ER_NO_SUCH_TABLE: u16 = 1146;

/// Reads the Aurora replica status.
pub struct ReplicaHost;

impl Collector<Db> for ReplicaHost {
    fn collect<'a>(&'a self, cx: &'a Scrape<Db>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            if cx.target.version() < 5.6 {
                return Ok(());
            }
            let sql = "SELECT SERVER_ID, if(SESSION_ID='MASTER_SESSION_ID','writer','reader') AS ROLE, CPU, \
                       MASTER_SLAVE_LATENCY_IN_MICROSECONDS, REPLICA_LAG_IN_MILLISECONDS, LOG_STREAM_SPEED_IN_KiB_PER_SECOND, \
                       CURRENT_REPLAY_LATENCY_IN_MICROSECONDS FROM information_schema.replica_host_status";
            let Some(rows) = cx.target.query_unless(sql, &[ER_UNKNOWN_TABLE, ER_NO_SUCH_TABLE]).await? else {
                tracing::debug!(target = %cx.target.address, "information_schema.replica_host_status is not available.");
                return Ok(());
            };
            for row in rows {
                let (server, role) = (text(&row, 0), text(&row, 1));
                for (i, (desc, scale)) in DESCS.iter().enumerate() {
                    out.add(desc, &[&server, &role], number(&row, 2 + i) * scale);
                }
            }
            Ok(())
        })
    }
}
