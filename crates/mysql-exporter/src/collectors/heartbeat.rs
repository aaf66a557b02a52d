//! A pt-heartbeat table → the stored heartbeat time and the server's time now, by
//! `server_id` (mysqld_exporter "heartbeat", with `--collect.heartbeat.database`,
//! `.table` and `.utc`). Their difference is the replication delay.

use vigie_kit::{BoxFuture, CollectError, CollectResult, Collector, Desc, MetricSet, Registration, Scrape};

use crate::collectors::{ident, string, text};
use crate::target::Db;

const DATABASE: &str = "collect.heartbeat.database";
const TABLE: &str = "collect.heartbeat.table";
const UTC: &str = "collect.heartbeat.utc";

/// The registration.
pub const REG: Registration<Db> = Registration {
    name: "heartbeat",
    default_enabled: false,
    help: "Collect from heartbeat",
    args: |cmd| {
        cmd.arg(
            clap::Arg::new(DATABASE)
                .long(DATABASE)
                .value_name("NAME")
                .default_value("heartbeat")
                .help("Database of the heartbeat table."),
        )
        .arg(clap::Arg::new(TABLE).long(TABLE).value_name("NAME").default_value("heartbeat").help("Heartbeat table."))
        .arg(
            clap::Arg::new(UTC)
                .long(UTC)
                .action(clap::ArgAction::SetTrue)
                .help("Compare with the server's UTC time (for pt-heartbeat --utc)."),
        )
    },
    build: |m| {
        let now = if m.get_flag(UTC) { "UTC_TIMESTAMP(6)" } else { "NOW(6)" };
        let sql = format!(
            "SELECT UNIX_TIMESTAMP(ts), UNIX_TIMESTAMP({now}), server_id FROM {}.{}",
            ident(&string(m, DATABASE)),
            ident(&string(m, TABLE))
        );
        Ok(Box::new(Heartbeat { sql }))
    },
};

const STORED: Desc = Desc::gauge(
    "mysql_heartbeat_stored_timestamp_seconds",
    "Time of the last heartbeat written by this server_id (Unix seconds).",
    &["server_id"],
);
const NOW: Desc = Desc::gauge(
    "mysql_heartbeat_now_timestamp_seconds",
    "The server's time when the heartbeat was read (Unix seconds).",
    &["server_id"],
);

/// Reads the heartbeat table.
pub struct Heartbeat {
    sql: String,
}

fn float(row: &mysql_async::Row, i: usize, what: &str) -> Result<f64, CollectError> {
    let t = text(row, i);
    t.trim().parse().map_err(|_| CollectError::Other(format!("heartbeat: {what} {t:?} is not a number")))
}

impl Collector<Db> for Heartbeat {
    fn collect<'a>(&'a self, cx: &'a Scrape<Db>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            if cx.target.version() < 5.1 {
                return Ok(());
            }
            for row in cx.target.query(&self.sql).await? {
                let (ts, now) = (float(&row, 0, "ts")?, float(&row, 1, "now")?);
                let server = text(&row, 2);
                out.add(&NOW, &[&server], now);
                out.add(&STORED, &[&server], ts);
            }
            Ok(())
        })
    }
}
