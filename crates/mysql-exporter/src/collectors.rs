//! The scraper list, in `--help` order; `on` or `off` is its default, as in
//! mysqld_exporter 0.14. Each is `--[no-]collect.<name>` and reports
//! `mysql_exporter_collector_*{collector="collect.<name>"}`. Below: what every scraper
//! shares (value parsing, name cleaning, column access).

use mysql_async::{Row, Value};

use crate::target::Db;

vigie_kit::collectors! { Db;
    global_status: on,
    global_variables: on,
    slave_status: on,
    info_schema_innodb_cmp: on,
    info_schema_innodb_cmpmem: on,
    info_schema_query_response_time: on,
    info_schema_processlist: off,
    mysql_user: off,
    info_schema_tables: off,
    info_schema_innodb_tablespaces: off,
    info_schema_innodb_metrics: off,
    auto_increment_columns: off,
    binlog_size: off,
    perf_schema_tableiowaits: off,
    perf_schema_indexiowaits: off,
    perf_schema_tablelocks: off,
    perf_schema_eventsstatements: off,
    perf_schema_eventsstatementssum: off,
    perf_schema_eventswaits: off,
    perf_schema_file_events: off,
    perf_schema_file_instances: off,
    perf_schema_memory_events: off,
    perf_schema_replication_group_members: off,
    perf_schema_replication_group_member_stats: off,
    perf_schema_replication_applier_status_by_worker: off,
    sys_user_summary: off,
    info_schema_userstats: off,
    info_schema_clientstats: off,
    info_schema_tablestats: off,
    info_schema_schemastats: off,
    engine_innodb_status: off,
    heartbeat: off,
    slave_hosts: off,
    info_schema_replica_host: off,
}

/// Picoseconds per second: performance_schema timers count picoseconds.
pub const PICO: f64 = 1e12;

/// Adds `--<name>` and its hidden `--no-<name>` to `cmd`: a kingpin-style boolean flag
/// whose default is `default`. Read it back with [`flag`].
pub fn bool_flag(cmd: clap::Command, name: &'static str, no: &'static str, help: &'static str) -> clap::Command {
    cmd.arg(clap::Arg::new(name).long(name).action(clap::ArgAction::SetTrue).overrides_with(no).help(help))
        .arg(clap::Arg::new(no).long(no).action(clap::ArgAction::SetTrue).overrides_with(name).hide(true))
}

/// The value of a [`bool_flag`]: on when given, off when `--no-` was given, else `default`.
pub fn flag(m: &clap::ArgMatches, name: &str, no: &str, default: bool) -> bool {
    if m.get_flag(name) {
        true
    } else if m.get_flag(no) {
        false
    } else {
        default
    }
}

/// A string flag's value (it has a default, so it is always there).
pub fn string(m: &clap::ArgMatches, name: &str) -> String {
    m.get_one::<String>(name).cloned().unwrap_or_default()
}

/// An identifier quoted for SQL with backquotes.
pub fn ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// Text quoted as an SQL string literal.
pub fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

/// `2006-01-02 15:04:05[.ffffff]` (UTC) as Unix seconds with the fraction; `None` for
/// anything else (NULL, zero dates).
pub fn parse_datetime(text: &str) -> Option<f64> {
    let (whole, frac) = match text.split_once('.') {
        Some((w, f)) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => (w, format!("0.{f}").parse().ok()?),
        Some(_) => return None,
        None => (text, 0.0),
    };
    if whole.len() != 19 || whole.contains(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let seconds = parse_date(whole)?;
    Some(seconds + frac)
}

/// The bytes of column `i` (text protocol); `None` for NULL or a missing column.
pub fn bytes(row: &Row, i: usize) -> Option<&[u8]> {
    match row.as_ref(i)? {
        Value::Bytes(b) => Some(b),
        _ => None,
    }
}

/// Column `i` as text (lossy), empty for NULL.
pub fn text(row: &Row, i: usize) -> String {
    bytes(row, i).map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default()
}

/// Column `i` as a number; 0 for NULL or text that is not one (Go's Scan into float64
/// would fail the whole scraper instead; a NULL counter is 0 here).
pub fn number(row: &Row, i: usize) -> f64 {
    bytes(row, i).and_then(|b| std::str::from_utf8(b).ok()).and_then(|s| s.trim().parse().ok()).unwrap_or(0.0)
}

/// The index of a column by name (case-sensitive, as the server spells it).
pub fn column(row: &Row, name: &str) -> Option<usize> {
    row.columns_ref().iter().position(|c| c.name_str() == name)
}

/// A status or variable value as a number, the way mysqld_exporter reads them: `ON`/`YES`
/// are 1, `OFF`/`NO`/`DISABLED` 0, Galera states, dates as Unix seconds; anything else
/// that is not a number is skipped (`None`).
pub fn parse_status(data: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(data).ok()?;
    match text.to_ascii_lowercase().as_str() {
        "yes" | "on" | "primary" => return Some(1.0),
        "no" | "off" | "disabled" | "connecting" | "non-primary" | "disconnected" => return Some(0.0),
        _ => {}
    }
    if let Some(ts) = parse_date(text) {
        return Some(ts);
    }
    // Rust accepts a few spellings Go does not (and the reverse, hex floats); neither
    // appears in status output.
    let value: f64 = text.parse().ok()?;
    Some(value)
}

/// `Jan 02 15:04:05 2006 GMT` (certificate dates) or `2006-01-02 15:04:05`, as UTC.
fn parse_date(text: &str) -> Option<f64> {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let fields: Vec<&str> = text.split(' ').collect();
    let (y, mo, d, hms) = match fields.as_slice() {
        [mon, day, hms, year, zone] if zone.len() >= 3 && zone.chars().all(|c| c.is_ascii_uppercase()) => {
            let mo = MONTHS.iter().position(|m| m == mon)? as i64 + 1;
            if day.len() != 2 || year.len() != 4 {
                return None;
            }
            (year.parse().ok()?, mo, day.parse().ok()?, *hms)
        }
        [date, hms] => {
            let mut p = date.split('-');
            let (y, m, d) = (p.next()?, p.next()?, p.next()?);
            if p.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
                return None;
            }
            (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?, *hms)
        }
        _ => return None,
    };
    let mut t = hms.split(':');
    let (h, mi, s) = (t.next()?, t.next()?, t.next()?);
    if t.next().is_some() || h.len() != 2 || mi.len() != 2 || s.len() != 2 {
        return None;
    }
    let (h, mi, s): (i64, i64, i64) = (h.parse().ok()?, mi.parse().ok()?, s.parse().ok()?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    Some((days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s) as f64)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A status name as a metric name part: anything but `[a-zA-Z0-9_]` becomes `_`, then
/// lower case (mysqld_exporter's `validPrometheusName`).
pub fn metric_name(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c.to_ascii_lowercase() } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_values() {
        assert_eq!(parse_status(b"ON"), Some(1.0));
        assert_eq!(parse_status(b"Disabled"), Some(0.0));
        assert_eq!(parse_status(b"Primary"), Some(1.0));
        assert_eq!(parse_status(b"12345"), Some(12345.0));
        assert_eq!(parse_status(b"0.25"), Some(0.25));
        assert_eq!(parse_status(b"mysql-bin.000012"), None);
        assert_eq!(parse_status(b"utf8mb4"), None);
        assert_eq!(parse_status(b""), None);
        // Values as MariaDB 10.11 prints them (Ssl_server_not_after, a timestamp).
        assert_eq!(parse_status(b"Jan 15 10:00:00 2030 GMT"), Some(1_894_701_600.0));
        assert_eq!(parse_status(b"2024-02-29 12:00:00"), Some(1_709_208_000.0));
    }

    #[test]
    fn names() {
        assert_eq!(metric_name("Innodb_buffer_pool_pages_data"), "innodb_buffer_pool_pages_data");
        assert_eq!(metric_name("wsrep.x-y"), "wsrep_x_y");
    }

    #[test]
    fn quoting() {
        assert_eq!(ident("a`b"), "`a``b`");
        assert_eq!(literal("a'b\\"), "'a''b\\\\'");
    }

    #[test]
    fn datetimes() {
        assert_eq!(parse_datetime("2024-02-29 12:00:00.250000"), Some(1_709_208_000.25));
        assert_eq!(parse_datetime("2024-02-29 12:00:00"), Some(1_709_208_000.0));
        assert_eq!(parse_datetime("0000-00-00 00:00:00.000000"), None);
        assert_eq!(parse_datetime(""), None);
    }
}
