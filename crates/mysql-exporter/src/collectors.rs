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
    info_schema_tables: off,
    info_schema_innodb_metrics: off,
    auto_increment_columns: off,
    binlog_size: off,
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
}
