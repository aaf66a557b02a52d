//! `SHOW ALL SLAVES STATUS` (MariaDB, every replication source) or `SHOW SLAVE STATUS`
//! (MySQL) → `mysql_slave_status_<column>` for each numeric column, labelled by source
//! (mysqld_exporter "slave_status").

use vigie_kit::{BoxFuture, CollectResult, Collector, Kind, MetricSet, Registration, Scrape};

use crate::collectors::{bytes, column, parse_status, text};
use crate::target::Db;

/// The registration.
pub const REG: Registration<Db> = Registration {
    name: "slave_status",
    default_enabled: true,
    help: "Collect from SHOW SLAVE STATUS",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(SlaveStatus)),
};

const HELP: &str = "A numeric column of SHOW SLAVE STATUS, unchanged.";
/// Tried in order, as mysqld_exporter does: MariaDB first, then MySQL/Percona variants.
const QUERIES: [&str; 6] = [
    "SHOW ALL SLAVES STATUS",
    "SHOW SLAVE STATUS NONBLOCKING",
    "SHOW SLAVE STATUS NOLOCK",
    "SHOW SLAVE STATUS",
    "SHOW ALL SLAVES STATUS NONBLOCKING",
    "SHOW ALL SLAVES STATUS NOLOCK",
];

/// Reads the replica status.
pub struct SlaveStatus;

impl Collector<Db> for SlaveStatus {
    fn collect<'a>(&'a self, cx: &'a Scrape<Db>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            let mut last = None;
            let mut rows = None;
            for q in QUERIES {
                match cx.target.query(q).await {
                    Ok(r) => {
                        rows = Some(r);
                        break;
                    }
                    // The first error says most (a missing privilege); the later
                    // spellings mostly fail as syntax errors.
                    Err(e) => {
                        last.get_or_insert(e);
                    }
                }
            }
            let rows = match (rows, last) {
                (Some(r), _) => r,
                (None, Some(e)) => return Err(e),
                (None, None) => return Ok(()),
            };
            for row in &rows {
                let label = |name: &str| column(row, name).map(|i| text(row, i)).unwrap_or_default();
                let (host, uuid, channel, connection) =
                    (label("Master_Host"), label("Master_UUID"), label("Channel_Name"), label("Connection_name"));
                let labels = [
                    ("master_host", host.as_str()),
                    ("master_uuid", uuid.as_str()),
                    ("channel_name", channel.as_str()),
                    ("connection_name", connection.as_str()),
                ];
                for (i, col) in row.columns_ref().iter().enumerate() {
                    let Some(v) = bytes(row, i).and_then(parse_status) else { continue };
                    let name = format!("mysql_slave_status_{}", col.name_str().to_lowercase());
                    out.family(name, HELP, Kind::Untyped).push(&labels, v);
                }
            }
            Ok(())
        })
    }
}
