//! `information_schema.processlist` → thread counts and seconds by command and state, and
//! connections by user and by client host (mysqld_exporter "info_schema.processlist", with
//! `--collect.info_schema.processlist.min_time`, `.processes_by_user`, `.processes_by_host`).

use std::collections::BTreeMap;

use vigie_kit::{BoxFuture, CollectResult, Collector, Desc, MetricSet, Registration, Scrape};

use crate::collectors::{bool_flag, flag, number, text};
use crate::target::Db;

const MIN_TIME: &str = "collect.info_schema.processlist.min_time";
const BY_USER: &str = "collect.info_schema.processlist.processes_by_user";
const NO_BY_USER: &str = "no-collect.info_schema.processlist.processes_by_user";
const BY_HOST: &str = "collect.info_schema.processlist.processes_by_host";
const NO_BY_HOST: &str = "no-collect.info_schema.processlist.processes_by_host";

/// The registration.
pub const REG: Registration<Db> = Registration {
    name: "info_schema.processlist",
    default_enabled: false,
    help: "Collect current thread state counts from the information_schema.processlist",
    args: |cmd| {
        let cmd = cmd.arg(
            clap::Arg::new(MIN_TIME)
                .long(MIN_TIME)
                .value_name("SECONDS")
                .value_parser(clap::value_parser!(i64))
                .default_value("0")
                .help("Count only threads that have been in their state at least this long."),
        );
        let cmd = bool_flag(cmd, BY_USER, NO_BY_USER, "Count connections by user (default: on).");
        bool_flag(cmd, BY_HOST, NO_BY_HOST, "Count connections by client host (default: on).")
    },
    build: |m| {
        Ok(Box::new(Processlist {
            min_time: m.get_one::<i64>(MIN_TIME).copied().unwrap_or(0),
            by_user: flag(m, BY_USER, NO_BY_USER, true),
            by_host: flag(m, BY_HOST, NO_BY_HOST, true),
        }))
    },
};

const THREADS: Desc = Desc::gauge(
    "mysql_info_schema_processlist_threads",
    "Threads in this command and state (the exporter's own excluded).",
    &["command", "state"],
);
const SECONDS: Desc = Desc::gauge(
    "mysql_info_schema_processlist_seconds",
    "Seconds the threads in this command and state have spent in it, summed.",
    &["command", "state"],
);
const BY_USER_DESC: Desc =
    Desc::gauge("mysql_info_schema_processlist_processes_by_user", "Threads of this user.", &["mysql_user"]);
const BY_HOST_DESC: Desc = Desc::gauge(
    "mysql_info_schema_processlist_processes_by_host",
    "Threads connected from this client host.",
    &["client_host"],
);

/// Reads the process list.
pub struct Processlist {
    min_time: i64,
    by_user: bool,
    by_host: bool,
}

/// A command or state as a label value: lower case, `unknown` when empty, punctuation
/// dropped and spaces and dashes as `_` (mysqld_exporter's `sanitizeState`).
pub fn sanitize_state(state: &str) -> String {
    if state.is_empty() {
        return "unknown".to_owned();
    }
    state
        .to_lowercase()
        .chars()
        .filter(|c| !matches!(c, ';' | ',' | ':' | '.' | '(' | ')'))
        .map(|c| if c == ' ' || c == '-' { '_' } else { c })
        .collect()
}

impl Collector<Db> for Processlist {
    fn collect<'a>(&'a self, cx: &'a Scrape<Db>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            if cx.target.version() < 5.1 {
                return Ok(());
            }
            let sql = format!(
                "SELECT user, SUBSTRING_INDEX(host, ':', 1) AS host, COALESCE(command, '') AS command, \
                 COALESCE(state, '') AS state, COUNT(*) AS processes, SUM(time) AS seconds \
                 FROM information_schema.processlist WHERE ID != connection_id() AND TIME >= {} \
                 GROUP BY user, SUBSTRING_INDEX(host, ':', 1), command, state",
                self.min_time
            );
            let mut states = BTreeMap::<(String, String), (f64, f64)>::new();
            let mut hosts = BTreeMap::<String, f64>::new();
            let mut users = BTreeMap::<String, f64>::new();
            for row in cx.target.query(&sql).await? {
                let (user, mut host) = (text(&row, 0), text(&row, 1));
                let (command, state) = (sanitize_state(&text(&row, 2)), sanitize_state(&text(&row, 3)));
                let (count, time) = (number(&row, 4), number(&row, 5));
                if host.is_empty() {
                    host = "unknown".to_owned();
                }
                let entry = states.entry((command, state)).or_default();
                entry.0 += count;
                entry.1 += time;
                *hosts.entry(host).or_default() += count;
                *users.entry(user).or_default() += count;
            }
            for ((command, state), (count, time)) in &states {
                out.add(&THREADS, &[command, state], *count);
                out.add(&SECONDS, &[command, state], *time);
            }
            if self.by_host {
                for (host, n) in &hosts {
                    out.add(&BY_HOST_DESC, &[host], *n);
                }
            }
            if self.by_user {
                for (user, n) in &users {
                    out.add(&BY_USER_DESC, &[user], *n);
                }
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn states() {
        assert_eq!(super::sanitize_state(""), "unknown");
        assert_eq!(super::sanitize_state("Waiting on empty queue"), "waiting_on_empty_queue");
        assert_eq!(super::sanitize_state("Master has sent all binlog to slave; waiting"), "master_has_sent_all_binlog_to_slave_waiting");
        assert_eq!(super::sanitize_state("Binlog Dump-GTID (x)"), "binlog_dump_gtid_x");
    }
}
