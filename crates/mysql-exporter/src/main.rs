//! `vigie-mysql-exporter`: a drop-in for Prometheus' mysqld_exporter, for MySQL and MariaDB.
//! Same flags (`--config.my-cnf`, `--mysqld.address`, `--collect.<name>`…), same families,
//! types and labels; `/metrics` for the configured server and `/probe?target=` for others.

#![forbid(unsafe_code)]

mod collectors;
mod mycnf;
mod target;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Arg, ArgAction, ArgMatches, Command};
use vigie_kit::{Exporter, ScrapeNames, Target};

use crate::mycnf::MyCnf;
use crate::target::{Db, Session, SessionSettings, Targets};

/// How the kit knows this exporter.
pub const EXPORTER: Exporter = Exporter {
    name: "vigie-mysql-exporter",
    version: env!("CARGO_PKG_VERSION"),
    about: "MySQL and MariaDB server metrics, with mysqld_exporter's names.",
    default_listen: ":9104",
    build_info: "mysqld_exporter_build_info",
    scrape_names: ScrapeNames::node_style(
        "mysql_exporter_collector_success",
        "mysql_exporter_collector_duration_seconds",
    )
    .prefixed("collect", "collect."),
    path_flags: false,
};

const MY_CNF: &str = "config.my-cnf";
const ADDRESS: &str = "mysqld.address";
const USERNAME: &str = "mysqld.username";
const SKIP_VERIFY: &str = "tls.insecure-skip-verify";
const LOCK_WAIT: &str = "exporter.lock_wait_timeout";
const ENABLE_LOCK_WAIT: &str = "exporter.enable_lock_wait_timeout";
const NO_ENABLE_LOCK_WAIT: &str = "no-exporter.enable_lock_wait_timeout";
const SLOW_FILTER: &str = "exporter.log_slow_filter";
/// The password, as mysqld_exporter 0.15+ reads it.
const PASSWORD_ENV: &str = "MYSQLD_EXPORTER_PASSWORD";
/// The whole DSN, as mysqld_exporter 0.14 reads it.
const DSN_ENV: &str = "DATA_SOURCE_NAME";

fn flags(cmd: Command) -> Command {
    cmd.arg(
        Arg::new(MY_CNF).long(MY_CNF).value_name("FILE").default_value(".my.cnf").help(
            "MySQL option file with the credentials: [client] for /metrics, any section for /probe's auth_module.",
        ),
    )
    .arg(
        Arg::new(ADDRESS).long(ADDRESS).value_name("HOST:PORT").default_value("localhost:3306").help(
            "Server to connect to when the option file names no host, port or socket (unix:///path for a socket).",
        ),
    )
    .arg(Arg::new(USERNAME).long(USERNAME).value_name("USER").help("User when the option file names none."))
    .arg(
        Arg::new(SKIP_VERIFY)
            .long(SKIP_VERIFY)
            .action(ArgAction::SetTrue)
            .help("Accept any server certificate on TLS connections."),
    )
    .arg(
        Arg::new(LOCK_WAIT)
            .long(LOCK_WAIT)
            .value_name("SECONDS")
            .value_parser(clap::value_parser!(u32))
            .default_value("2")
            .help("lock_wait_timeout of the exporter's session, so that a scrape never waits long on a metadata lock."),
    )
    .arg(
        Arg::new(ENABLE_LOCK_WAIT)
            .long(ENABLE_LOCK_WAIT)
            .action(ArgAction::SetTrue)
            .overrides_with(NO_ENABLE_LOCK_WAIT)
            .help("Set lock_wait_timeout on the session (default: on)."),
    )
    .arg(Arg::new(NO_ENABLE_LOCK_WAIT).long(NO_ENABLE_LOCK_WAIT).action(ArgAction::SetTrue).hide(true))
    .arg(
        Arg::new(SLOW_FILTER)
            .long(SLOW_FILTER)
            .action(ArgAction::SetTrue)
            .help("Keep the exporter's queries out of the slow query log (log_slow_filter; MariaDB and Percona only)."),
    )
}

/// Reads the option file and environment into the sessions. An error names the file or
/// variable, never a password.
fn targets(m: &ArgMatches) -> Result<Targets, String> {
    let skip_verify = m.get_flag(SKIP_VERIFY);
    let settings = SessionSettings {
        lock_wait_timeout: (!m.get_flag(NO_ENABLE_LOCK_WAIT))
            .then(|| m.get_one::<u32>(LOCK_WAIT).copied().unwrap_or(2)),
        log_slow_filter: m.get_flag(SLOW_FILTER),
    };
    let path = PathBuf::from(m.get_one::<String>(MY_CNF).map_or(".my.cnf", String::as_str));
    let mut cnf = match std::env::var(DSN_ENV) {
        Ok(dsn) if !dsn.is_empty() => mycnf::from_dsn(&dsn)?,
        _ => match std::fs::read_to_string(&path) {
            Ok(text) => MyCnf::parse(&path.display().to_string(), &text)?,
            // Flags and the environment may say all that is needed.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => MyCnf::default(),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        },
    };
    if let Ok(pw) = std::env::var(PASSWORD_ENV) {
        cnf.set_default("client", "password", &pw);
    }
    if let Some(user) = m.get_one::<String>(USERNAME) {
        cnf.set_default("client", "user", user);
    }
    let address = m.get_one::<String>(ADDRESS).map_or("localhost:3306", String::as_str);
    let address = mycnf::parse_address(address).map_err(|e| format!("--{ADDRESS}: {e}"))?;
    match &address {
        mycnf::Address::Socket(p) => cnf.set_default("client", "socket", &p.to_string_lossy()),
        mycnf::Address::Tcp(host, port) => {
            if cnf.client("client", false).map(|c| c.socket.is_none()).unwrap_or(true) {
                cnf.set_default("client", "host", host);
                cnf.set_default("client", "port", &port.to_string());
            }
        }
    }
    let default: Option<Db> = match cnf.client("client", skip_verify) {
        Ok(client) => Some(std::sync::Arc::new(Session::new(&client, &client.address(), &settings)?)),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    if let Some(db) = &default {
        tracing::info!(target = %db.address, "Configured /metrics target.");
    }
    Ok(Targets::new(cnf, default, skip_verify, settings))
}

fn main() -> ExitCode {
    vigie_kit::run_target(EXPORTER, collectors::registry(), flags, |m| -> Result<Target<Db>, String> {
        Ok(targets(m)?.into_target())
    })
}
