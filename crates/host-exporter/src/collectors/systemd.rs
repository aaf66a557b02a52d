//! systemd's units over D-Bus → `node_systemd_unit_state{name,state,type}`,
//! `node_systemd_units{state}`, `node_systemd_system_running`, `node_systemd_version`, … with
//! node_exporter's names, flags and filter (its "systemd" collector, off by default there
//! and here).
//!
//! One system-bus connection per scrape, as node_exporter (a connection kept across scrapes
//! would outlive a restarted dbus-daemon): `ListUnits` on the manager, then the per-unit
//! properties (`Type`, `NRestarts`, `ActiveEnterTimestamp`, …) read with `Properties.Get` on
//! the unit's object path, all in flight at once and bounded by the scrape deadline.

use futures_util::future::join_all;
use vigie_kit::collector::BoxFuture;
use vigie_kit::{CollectError, CollectResult, Collector, Desc, MetricSet, Registration, Scrape};
use zbus::zvariant::{OwnedObjectPath, OwnedValue};

use super::netdev::{add_bool_flag, bool_flag};
use crate::collectors::Pattern;

/// The registration.
pub const REG: Registration = Registration {
    name: "systemd",
    default_enabled: false,
    help: "Exposes service and system status from systemd.",
    args: |cmd| {
        use clap::Arg;
        let cmd = cmd
            .arg(Arg::new(INCLUDE).long(INCLUDE).value_name("REGEXP").default_value(".+").help(
                "Regexp of systemd units to include. Units must both match include and not match exclude to be included.",
            ))
            .arg(Arg::new("collector.systemd.unit-whitelist").long("collector.systemd.unit-whitelist").hide(true))
            .arg(
                Arg::new(EXCLUDE)
                    .long(EXCLUDE)
                    .value_name("REGEXP")
                    .default_value(r".+\.(automount|device|mount|scope|slice)")
                    .help("Regexp of systemd units to exclude. Units must both match include and not match exclude to be included."),
            )
            .arg(Arg::new("collector.systemd.unit-blacklist").long("collector.systemd.unit-blacklist").hide(true));
        let cmd = add_bool_flag(cmd, "collector.systemd.private", "Establish a private, direct connection to systemd without dbus (not supported).");
        let cmd = cmd.mut_arg("collector.systemd.private", |a| a.hide(true));
        let cmd = add_bool_flag(cmd, TASKS, "Enables service unit tasks metrics unit_tasks_current and unit_tasks_max");
        let cmd = add_bool_flag(cmd, RESTARTS, "Enables service unit metric service_restart_total");
        add_bool_flag(cmd, START_TIME, "Enables service unit metric unit_start_time_seconds")
    },
    build: |m| {
        if bool_flag(m, "collector.systemd.private", false) {
            return Err("--collector.systemd.private is not supported; the collector reads systemd over the system bus".into());
        }
        let include = pattern(m, INCLUDE, "collector.systemd.unit-whitelist")?;
        let exclude = pattern(m, EXCLUDE, "collector.systemd.unit-blacklist")?;
        tracing::info!(flag = %include.0, "Parsed flag --{INCLUDE}");
        tracing::info!(flag = %exclude.0, "Parsed flag --{EXCLUDE}");
        Ok(Box::new(Systemd {
            include: include.1,
            exclude: exclude.1,
            tasks: bool_flag(m, TASKS, false),
            restarts: bool_flag(m, RESTARTS, false),
            start_time: bool_flag(m, START_TIME, false),
        }))
    },
};

const INCLUDE: &str = "collector.systemd.unit-include";
const EXCLUDE: &str = "collector.systemd.unit-exclude";
const TASKS: &str = "collector.systemd.enable-task-metrics";
const RESTARTS: &str = "collector.systemd.enable-restarts-metrics";
const START_TIME: &str = "collector.systemd.enable-start-time-metrics";

/// The flag's pattern (or its deprecated predecessor's, given alone), anchored as node_exporter
/// anchors it: `^(?:…)$`.
fn pattern(m: &clap::ArgMatches, new: &str, old: &str) -> Result<(String, Pattern), String> {
    let set_new = m.value_source(new) == Some(clap::parser::ValueSource::CommandLine);
    let value = match m.get_one::<String>(old).filter(|s| !s.is_empty()) {
        Some(_) if set_new => return Err(format!("--{old} and --{new} are mutually exclusive")),
        Some(old_value) => {
            tracing::warn!("--{old} is DEPRECATED and will be removed in 2.0.0, use --{new}");
            old_value.clone()
        }
        None => m.get_one::<String>(new).cloned().unwrap_or_default(),
    };
    let anchored = Pattern::new(&format!("^(?:{value})$")).map_err(|e| format!("--{new}: {e}"))?;
    Ok((value, anchored))
}

const NAME: &[&str] = &["name"];
const UNIT_STATE: Desc = Desc::gauge("node_systemd_unit_state", "Systemd unit", &["name", "state", "type"]);
const START: Desc = Desc::gauge("node_systemd_unit_start_time_seconds", "Start time of the unit since unix epoch in seconds.", NAME);
const TASKS_CURRENT: Desc = Desc::gauge("node_systemd_unit_tasks_current", "Current number of tasks per Systemd unit", NAME);
const TASKS_MAX: Desc = Desc::gauge("node_systemd_unit_tasks_max", "Maximum number of tasks per Systemd unit", NAME);
const SYSTEM_RUNNING: Desc =
    Desc::gauge("node_systemd_system_running", "Whether the system is operational (see 'systemctl is-system-running')", &[]);
const UNITS: Desc = Desc::gauge("node_systemd_units", "Summary of systemd unit states", &["state"]);
const RESTART_TOTAL: Desc = Desc::counter("node_systemd_service_restart_total", "Service unit count of Restart triggers", NAME);
const TIMER_LAST: Desc = Desc::gauge("node_systemd_timer_last_trigger_seconds", "Seconds since epoch of last trigger.", NAME);
const SOCKET_ACCEPTED: Desc =
    Desc::counter("node_systemd_socket_accepted_connections_total", "Total number of accepted socket connections", NAME);
const SOCKET_CURRENT: Desc = Desc::gauge("node_systemd_socket_current_connections", "Current number of socket connections", NAME);
// A gauge, as node_exporter declares it despite the name.
const SOCKET_REFUSED: Desc =
    Desc::gauge("node_systemd_socket_refused_connections_total", "Total number of refused socket connections", NAME);
const VERSION: Desc = Desc::gauge("node_systemd_version", "Detected systemd version", &["version"]);
const VIRT: Desc = Desc::gauge("node_systemd_virtualization_info", "Detected virtualization technology", &["virtualization_type"]);

/// The unit states node_exporter reports, one series each per unit.
const STATES: [&str; 5] = ["active", "activating", "deactivating", "inactive", "failed"];

const DEST: &str = "org.freedesktop.systemd1";
const MANAGER_PATH: &str = "/org/freedesktop/systemd1";
const MANAGER: &str = "org.freedesktop.systemd1.Manager";

/// Reads systemd's manager over the system bus.
pub struct Systemd {
    include: Pattern,
    exclude: Pattern,
    tasks: bool,
    restarts: bool,
    start_time: bool,
}

/// One row of the manager's `ListUnits`.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// `nginx.service`.
    pub name: String,
    /// `loaded`, `not-found`, …
    pub load_state: String,
    /// `active`, `failed`, …
    pub active_state: String,
    /// Its object path, where its properties are read.
    pub path: OwnedObjectPath,
}

/// `ListUnits`' signature, `a(ssssssouso)`.
type ListRow = (String, String, String, String, String, String, OwnedObjectPath, u32, String, OwnedObjectPath);

impl Collector for Systemd {
    fn collect<'a>(&'a self, cx: &'a Scrape, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            let budget = cx.remaining();
            match tokio::time::timeout(budget, self.read(out)).await {
                Ok(done) => done,
                Err(_) => Err(CollectError::Timeout(budget)),
            }
        })
    }
}

fn bus_error(what: &str, e: zbus::Error) -> CollectError {
    CollectError::Other(format!("systemd over D-Bus: {what}: {e}"))
}

impl Systemd {
    async fn read(&self, out: &mut MetricSet) -> CollectResult {
        let conn = zbus::Connection::system().await.map_err(|e| bus_error("couldn't get dbus connection", e))?;
        let version = manager_property::<String>(&conn, "Version").await.unwrap_or_default();
        let (number, full) = parse_version(&version);
        out.add(&VERSION, &[&full], number);
        let virt = match manager_property::<String>(&conn, "Virtualization").await {
            Ok(v) if v.is_empty() => "none".to_owned(),
            Ok(v) => v,
            Err(_) => "unknown".to_owned(),
        };
        out.add(&VIRT, &[&virt], 1.0);

        let reply = conn
            .call_method(Some(DEST), MANAGER_PATH, Some(MANAGER), "ListUnits", &())
            .await
            .map_err(|e| bus_error("couldn't get units", e))?;
        let rows: Vec<ListRow> = reply.body().deserialize().map_err(|e| bus_error("couldn't get units", e))?;
        let units: Vec<Unit> = rows
            .into_iter()
            .map(|r| Unit { name: r.0, load_state: r.2, active_state: r.3, path: r.6 })
            .collect();
        for (state, count) in summarize(&units) {
            out.add(&UNITS, &[state], count as f64);
        }
        // node_exporter's filter: matches include, not exclude, and is loaded.
        let (include, exclude) = (self.include.compile(), self.exclude.compile());
        let units: Vec<&Unit> = units
            .iter()
            .filter(|u| include.is_match(&u.name) && !exclude.is_match(&u.name) && u.load_state == "loaded")
            .collect();
        self.unit_metrics(&conn, &units, out).await;

        if number >= 212.0 {
            let state = manager_property::<String>(&conn, "SystemState").await.map_err(|e| bus_error("couldn't get system state", e))?;
            out.add(&SYSTEM_RUNNING, &[], if state == "running" { 1.0 } else { 0.0 });
        }
        Ok(())
    }

    async fn unit_metrics(&self, conn: &zbus::Connection, units: &[&Unit], out: &mut MetricSet) {
        // Every property read at once: the bus answers them in order on one socket.
        let kinds = join_all(units.iter().map(|u| async move {
            match kind(&u.name) {
                Some(iface @ ("Service" | "Mount")) => property::<String>(conn, u, iface, "Type").await.unwrap_or_default(),
                _ => String::new(),
            }
        }));
        let restarts = join_all(units.iter().map(|u| async move {
            if !self.restarts || kind(&u.name) != Some("Service") {
                return None;
            }
            property::<u32>(conn, u, "Service", "NRestarts").await.ok()
        }));
        let starts = join_all(units.iter().map(|u| async move {
            if !self.start_time {
                return None;
            }
            if u.active_state != "active" {
                return Some(0);
            }
            property::<u64>(conn, u, "Unit", "ActiveEnterTimestamp").await.ok()
        }));
        let tasks = join_all(units.iter().map(|u| async move {
            if !self.tasks || kind(&u.name) != Some("Service") {
                return (None, None);
            }
            let current = property::<u64>(conn, u, "Service", "TasksCurrent").await.ok();
            let max = property::<u64>(conn, u, "Service", "TasksMax").await.ok();
            (current, max)
        }));
        let timers = join_all(units.iter().map(|u| async move {
            if kind(&u.name) != Some("Timer") {
                return None;
            }
            property::<u64>(conn, u, "Timer", "LastTriggerUSec").await.ok()
        }));
        let sockets = join_all(units.iter().map(|u| async move {
            if kind(&u.name) != Some("Socket") {
                return None;
            }
            let accepted = property::<u32>(conn, u, "Socket", "NAccepted").await.ok()?;
            let current = property::<u32>(conn, u, "Socket", "NConnections").await.ok();
            let refused = property::<u32>(conn, u, "Socket", "NRefused").await.ok();
            Some((accepted, current, refused))
        }));
        let (kinds, restarts, starts, tasks, timers, sockets) = tokio::join!(kinds, restarts, starts, tasks, timers, sockets);
        for (i, u) in units.iter().enumerate() {
            let name = u.name.as_str();
            for state in STATES {
                out.add(&UNIT_STATE, &[name, state, &kinds[i]], if state == u.active_state { 1.0 } else { 0.0 });
            }
            if let Some(n) = restarts[i] {
                out.add(&RESTART_TOTAL, &[name], f64::from(n));
            }
            if let Some(usec) = starts[i] {
                out.add(&START, &[name], usec as f64 / 1e6);
            }
            // u64::MAX is systemd's "infinity": left out, as node_exporter does.
            if let Some(n) = tasks[i].0.filter(|&n| n != u64::MAX) {
                out.add(&TASKS_CURRENT, &[name], n as f64);
            }
            if let Some(n) = tasks[i].1.filter(|&n| n != u64::MAX) {
                out.add(&TASKS_MAX, &[name], n as f64);
            }
            if let Some(usec) = timers[i] {
                out.add(&TIMER_LAST, &[name], usec as f64 / 1e6);
            }
            if let Some((accepted, current, refused)) = sockets[i] {
                out.add(&SOCKET_ACCEPTED, &[name], f64::from(accepted));
                if let Some(n) = current {
                    out.add(&SOCKET_CURRENT, &[name], f64::from(n));
                }
                if let Some(n) = refused {
                    out.add(&SOCKET_REFUSED, &[name], f64::from(n));
                }
            }
        }
    }
}

/// The D-Bus interface of a unit's own type (`Service` for `x.service`), for the types whose
/// properties are read.
fn kind(name: &str) -> Option<&'static str> {
    match name.rsplit_once('.')?.1 {
        "service" => Some("Service"),
        "mount" => Some("Mount"),
        "timer" => Some("Timer"),
        "socket" => Some("Socket"),
        _ => None,
    }
}

async fn get(conn: &zbus::Connection, path: &str, iface: &str, name: &str) -> zbus::Result<OwnedValue> {
    let reply = conn.call_method(Some(DEST), path, Some("org.freedesktop.DBus.Properties"), "Get", &(iface, name)).await?;
    reply.body().deserialize::<OwnedValue>()
}

async fn manager_property<V: TryFrom<OwnedValue>>(conn: &zbus::Connection, name: &str) -> zbus::Result<V> {
    let value = get(conn, MANAGER_PATH, MANAGER, name).await?;
    V::try_from(value).map_err(|_| zbus::Error::Failure(format!("unexpected type of {name}")))
}

async fn property<V: TryFrom<OwnedValue>>(conn: &zbus::Connection, u: &Unit, iface: &str, name: &str) -> zbus::Result<V> {
    let full = format!("org.freedesktop.systemd1.{iface}");
    let value = get(conn, u.path.as_str(), &full, name).await?;
    let value = V::try_from(value).map_err(|_| zbus::Error::Failure(format!("unexpected type of {iface}.{name}")));
    if let Err(e) = &value {
        tracing::debug!(collector = "systemd", unit = %u.name, err = %e, "Couldn't read a unit property.");
    }
    value
}

/// The count of units in each of node_exporter's states (every state present, zero or not;
/// a state outside the five, such as `reloading`, is counted under its own name).
pub fn summarize(units: &[Unit]) -> Vec<(&str, usize)> {
    let mut out: Vec<(&str, usize)> = STATES.iter().map(|s| (*s, 0)).collect();
    for u in units {
        match out.iter_mut().find(|(s, _)| *s == u.active_state) {
            Some(entry) => entry.1 += 1,
            None => out.push((&u.active_state, 1)),
        }
    }
    out
}

/// The manager's `Version` (`"252.39-1~deb12u1"`) as node_exporter reads it: the first run of
/// three or more digits with an optional `.minor` as the number, the whole string as the label;
/// `(0, "")` when there is none.
pub fn parse_version(version: &str) -> (f64, String) {
    let bytes = version.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i - start < 3 {
            continue;
        }
        let mut end = i;
        if bytes.get(i) == Some(&b'.') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
            end = i + 1;
            while end < bytes.len() && bytes[end].is_ascii_digit() {
                end += 1;
            }
        }
        return match version[start..end].parse() {
            Ok(n) => (n, version.to_owned()),
            Err(_) => (0.0, String::new()),
        };
    }
    (0.0, String::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_as_node_exporter_reads_them() {
        assert_eq!(parse_version("252.39-1~deb12u1"), (252.39, "252.39-1~deb12u1".to_owned()));
        assert_eq!(parse_version("v257"), (257.0, "v257".to_owned()));
        assert_eq!(parse_version("12.5 then 245"), (245.0, "12.5 then 245".to_owned()));
        assert_eq!(parse_version("none"), (0.0, String::new()));
    }

    #[test]
    fn summary_has_every_state() {
        let unit = |name: &str, state: &str| Unit {
            name: name.into(),
            load_state: "loaded".into(),
            active_state: state.into(),
            path: OwnedObjectPath::try_from("/org/freedesktop/systemd1/unit/x").unwrap(),
        };
        let units = [unit("a.service", "active"), unit("b.service", "failed"), unit("c.service", "active"), unit("d.service", "reloading")];
        assert_eq!(
            summarize(&units),
            vec![("active", 2), ("activating", 0), ("deactivating", 0), ("inactive", 0), ("failed", 1), ("reloading", 1)]
        );
    }

    #[test]
    fn default_filter_is_node_exporters() {
        let cmd = (REG.args)(clap::Command::new("t"));
        let m = cmd.clone().try_get_matches_from(["t"]).unwrap();
        let (_, include) = pattern(&m, INCLUDE, "collector.systemd.unit-whitelist").unwrap();
        let (_, exclude) = pattern(&m, EXCLUDE, "collector.systemd.unit-blacklist").unwrap();
        assert!(include.compile().is_match("nginx.service"));
        assert!(exclude.compile().is_match("run-user-0.mount") && exclude.compile().is_match("user.slice"));
        assert!(!exclude.compile().is_match("nginx.service"));
        let both = cmd.clone().try_get_matches_from(["t", "--collector.systemd.unit-include=a", "--collector.systemd.unit-whitelist=b"]).unwrap();
        assert!(pattern(&both, INCLUDE, "collector.systemd.unit-whitelist").unwrap_err().contains("mutually exclusive"));
        let old = cmd.try_get_matches_from(["t", "--collector.systemd.unit-whitelist=nginx\\.service"]).unwrap();
        let (value, re) = pattern(&old, INCLUDE, "collector.systemd.unit-whitelist").unwrap();
        assert_eq!(value, "nginx\\.service");
        assert!(re.compile().is_match("nginx.service") && !re.compile().is_match("xnginx.service"));
    }
}
