//! `mysql.user` → per account connection and query limits and, with
//! `--collect.mysql.user.privileges`, each global privilege as 1/0 (mysqld_exporter
//! "mysql.user").

use vigie_kit::{BoxFuture, CollectResult, Collector, Desc, Kind, MetricSet, Registration, Scrape};

use crate::collectors::{bytes, number, text};
use crate::target::Db;

const PRIVILEGES: &str = "collect.mysql.user.privileges";

/// The registration.
pub const REG: Registration<Db> = Registration {
    name: "mysql.user",
    default_enabled: false,
    help: "Collect data from mysql.user",
    args: |cmd| {
        cmd.arg(
            clap::Arg::new(PRIVILEGES)
                .long(PRIVILEGES)
                .action(clap::ArgAction::SetTrue)
                .help("Also report each account's global privileges (1 granted, 0 not)."),
        )
    },
    build: |m| Ok(Box::new(User { privileges: m.get_flag(PRIVILEGES) })),
};

const L: &[&str] = &["mysql_user", "hostmask"];
const PRIVS: [&str; 29] = [
    "Select_priv", "Insert_priv", "Update_priv", "Delete_priv", "Create_priv", "Drop_priv", "Reload_priv",
    "Shutdown_priv", "Process_priv", "File_priv", "Grant_priv", "References_priv", "Index_priv", "Alter_priv",
    "Show_db_priv", "Super_priv", "Create_tmp_table_priv", "Lock_tables_priv", "Execute_priv", "Repl_slave_priv",
    "Repl_client_priv", "Create_view_priv", "Show_view_priv", "Create_routine_priv", "Alter_routine_priv",
    "Create_user_priv", "Event_priv", "Trigger_priv", "Create_tablespace_priv",
];
/// The limits, after user, host and the privileges.
const LIMITS: [Desc; 4] = [
    Desc::gauge("mysql_mysql_max_questions", "Queries per hour the account may run (0: no limit).", L),
    Desc::gauge("mysql_mysql_max_updates", "Updates per hour the account may run (0: no limit).", L),
    Desc::gauge("mysql_mysql_max_connections", "Connections per hour the account may open (0: no limit).", L),
    Desc::gauge("mysql_mysql_max_user_connections", "Connections the account may hold at once (0: no limit).", L),
];

/// Reads the accounts.
pub struct User {
    privileges: bool,
}

impl Collector<Db> for User {
    fn collect<'a>(&'a self, cx: &'a Scrape<Db>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            if cx.target.version() < 5.1 {
                return Ok(());
            }
            let sql = format!(
                "SELECT user, host, {}, max_questions, max_updates, max_connections, max_user_connections FROM mysql.user",
                PRIVS.join(", ")
            );
            for row in cx.target.query(&sql).await? {
                let (user, host) = (text(&row, 0), text(&row, 1));
                if self.privileges {
                    for (i, name) in PRIVS.iter().enumerate() {
                        let v = match bytes(&row, 2 + i) {
                            Some(b"Y") => 1.0,
                            Some(b"N") => 0.0,
                            _ => continue,
                        };
                        out.family(
                            format!("mysql_mysql_{}", name.to_lowercase()),
                            format!("Whether the account has the global {name} privilege."),
                            Kind::Gauge,
                        )
                        .push(&[("mysql_user", &user), ("hostmask", &host)], v);
                    }
                }
                for (i, desc) in LIMITS.iter().enumerate() {
                    out.add(desc, &[&user, &host], number(&row, 2 + PRIVS.len() + i));
                }
            }
            Ok(())
        })
    }
}
