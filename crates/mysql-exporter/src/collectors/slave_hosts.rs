//! `SHOW SLAVE HOSTS` on a primary → one `mysql_heartbeat_mysql_slave_hosts_info` sample
//! per registered replica (mysqld_exporter "slave_hosts"; the odd name is the incumbent's).

use vigie_kit::{BoxFuture, CollectResult, Collector, Desc, MetricSet, Registration, Scrape};

use crate::collectors::text;
use crate::target::Db;

/// The registration.
pub const REG: Registration<Db> = Registration {
    name: "slave_hosts",
    default_enabled: false,
    help: "Scrape information from 'SHOW SLAVE HOSTS'",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(SlaveHosts)),
};

const INFO: Desc = Desc::gauge(
    "mysql_heartbeat_mysql_slave_hosts_info",
    "A replica registered with this server, always 1.",
    &["server_id", "slave_host", "port", "master_id", "slave_uuid"],
);

/// Whether `s` reads as a UUID (36 characters with dashes, or 32 hex digits).
pub fn is_uuid(s: &str) -> bool {
    let s = s.trim_start_matches("urn:uuid:").trim_start_matches('{').trim_end_matches('}');
    match s.len() {
        32 => s.bytes().all(|b| b.is_ascii_hexdigit()),
        36 => s.bytes().enumerate().all(|(i, b)| if [8, 13, 18, 23].contains(&i) { b == b'-' } else { b.is_ascii_hexdigit() }),
        _ => false,
    }
}

/// Reads the registered replicas.
pub struct SlaveHosts;

impl Collector<Db> for SlaveHosts {
    fn collect<'a>(&'a self, cx: &'a Scrape<Db>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            if cx.target.version() < 5.1 {
                return Ok(());
            }
            for row in cx.target.query("SHOW SLAVE HOSTS").await? {
                let (server, host, port, fourth) = (text(&row, 0), text(&row, 1), text(&row, 2), text(&row, 3));
                // Server_id, Host, Port, then Master_id[, Slave_UUID] (5.6+, MariaDB: no
                // UUID), or Rpl_recovery_rank, Master_id (5.5 and older).
                let (master, uuid) = if row.columns_ref().len() == 5 {
                    let fifth = text(&row, 4);
                    if is_uuid(&fifth) {
                        (fourth, fifth)
                    } else {
                        (fifth, String::new())
                    }
                } else {
                    (fourth, String::new())
                };
                out.add(&INFO, &[&server, &host, &port, &master, &uuid], 1.0);
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn uuids() {
        assert!(super::is_uuid("3e11fa47-71ca-11e1-9e33-c80aa9429562"));
        assert!(!super::is_uuid("1"));
        assert!(!super::is_uuid(""));
    }
}
