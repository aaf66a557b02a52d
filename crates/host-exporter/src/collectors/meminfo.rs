//! /proc/meminfo → node_memory_* (node_exporter "meminfo" names).
//!
//! Each line `Field: value [kB]` becomes `node_memory_<Field>_bytes` (value × 1024) when it
//! has a unit, `node_memory_<Field>` when it has none (`HugePages_Total`). A parenthesised
//! part becomes an underscore suffix: `Active(anon)` → `node_memory_Active_anon_bytes`.

use vigie_kit::{CollectError, CollectResult, Kind, MetricSet, Registration, Scrape, SyncCollector};

/// The registration.
pub const REG: Registration = Registration {
    name: "meminfo",
    default_enabled: true,
    help: "Exposes memory statistics.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Meminfo::default())),
};

/// Reads `/proc/meminfo`.
#[derive(Default)]
pub struct Meminfo {
    /// Each line's family, learnt at the first scrape: the kernel's field list is fixed, so
    /// later scrapes only compare the field name and format nothing.
    learnt: std::sync::Mutex<Vec<Learnt>>,
    interned: crate::collectors::Interned,
}

struct Learnt {
    key: Box<str>,
    unit: bool,
    /// Interned: made once per kernel field, reused every scrape.
    name: &'static str,
    help: &'static str,
    kind: Kind,
}

impl Learnt {
    fn new(key: &str, unit: bool, interned: &crate::collectors::Interned) -> Learnt {
        let field = name_of(key, unit);
        // node_exporter types a field as a counter only if its name ends in "_total",
        // which no Linux field does; kept for the day one does.
        let kind = if field.ends_with("_total") { Kind::Counter } else { Kind::Gauge };
        let help = format!("Memory field {field} of /proc/meminfo.");
        let name = format!("node_memory_{field}");
        Learnt { key: key.into(), unit, name: interned.get(name), help: interned.get(help), kind }
    }
}

impl SyncCollector for Meminfo {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let path = cx.paths.proc("meminfo");
        let text = cx.read(&path)?;
        let mut learnt = self.learnt.lock().unwrap_or_else(|e| e.into_inner());
        let lines = text.lines().enumerate().filter_map(|(n, line)| split(n, line).transpose());
        for (i, line) in lines.enumerate() {
            let (key, value, unit) = line.map_err(|msg| CollectError::parse(&path, msg))?;
            if !learnt.get(i).is_some_and(|l| *l.key == *key && l.unit == unit) {
                learnt.truncate(i);
                learnt.push(Learnt::new(key, unit, &self.interned));
            }
            let l = &learnt[i];
            out.family(l.name, l.help, l.kind).push(&[], value);
        }
        Ok(())
    }
}

/// One line of `/proc/meminfo`, named and scaled as node_exporter does.
#[cfg(test)]
#[derive(Debug, PartialEq)]
pub struct Field {
    /// The name after `node_memory_`: `MemTotal_bytes`, `Active_anon_bytes`, `HugePages_Free`.
    pub name: String,
    /// Bytes for `kB` lines, the raw number otherwise.
    pub value: f64,
}

/// Line `n` (0-based) of `/proc/meminfo`: its key without the colon, its value (bytes for
/// `kB` lines) and whether it had a unit; `None` for a blank line.
fn split(n: usize, line: &str) -> Result<Option<(&str, f64, bool)>, String> {
    let mut parts = line.split_ascii_whitespace();
    let Some(key) = parts.next() else { return Ok(None) };
    let bad = |what: &str| format!("line {}: {what}: {line:?}", n + 1);
    let raw = parts.next().ok_or_else(|| bad("no value"))?;
    let mut value: f64 = raw.parse().map_err(|_| bad("invalid value"))?;
    let unit = parts.next().is_some();
    if parts.next().is_some() {
        return Err(bad("too many fields"));
    }
    if unit {
        // The kernel writes every unit as "kB" (KiB).
        value *= 1024.0;
    }
    Ok(Some((key.strip_suffix(':').unwrap_or(key), value, unit)))
}

/// The name after `node_memory_` of field `key`.
fn name_of(key: &str, unit: bool) -> String {
    let mut name = rename_parens(key);
    if unit {
        name.push_str("_bytes");
    }
    name
}

/// Parses `/proc/meminfo` (the collector keeps what it learns instead).
#[cfg(test)]
pub fn parse(text: &str) -> Result<Vec<Field>, String> {
    let mut fields = Vec::with_capacity(64);
    for (n, line) in text.lines().enumerate() {
        if let Some((key, value, unit)) = split(n, line)? {
            fields.push(Field { name: name_of(key, unit), value });
        }
    }
    Ok(fields)
}

/// `Active(anon)` → `Active_anon`: node_exporter replaces the first `(` … last `)` span.
fn rename_parens(key: &str) -> String {
    match (key.find('('), key.rfind(')')) {
        (Some(open), Some(close)) if open < close => {
            format!("{}_{}{}", &key[..open], &key[open + 1..close], &key[close + 1..])
        }
        _ => key.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_units() {
        let fields = parse("MemTotal:       24683656 kB\nActive(anon):       1552 kB\nHugePages_Total:       0\n\n")
            .unwrap();
        assert_eq!(
            fields,
            vec![
                Field { name: "MemTotal_bytes".into(), value: 24683656.0 * 1024.0 },
                Field { name: "Active_anon_bytes".into(), value: 1552.0 * 1024.0 },
                Field { name: "HugePages_Total".into(), value: 0.0 },
            ]
        );
    }

    #[test]
    fn malformed_lines_name_the_line() {
        assert!(parse("MemTotal: x kB").unwrap_err().starts_with("line 1: invalid value"));
        assert!(parse("MemTotal: 1 kB\nMemFree:").unwrap_err().starts_with("line 2: no value"));
        assert!(parse("MemTotal: 1 kB extra").unwrap_err().contains("too many"));
    }

    #[test]
    fn fixture_tree() {
        // tests/fixtures/proc/meminfo: captured on this VM.
        let text = crate::collectors::fixture_text(&Meminfo::default()).unwrap();
        assert!(text.contains("# TYPE node_memory_MemTotal_bytes gauge\nnode_memory_MemTotal_bytes 2.5276063744e+10\n"), "{text}");
        assert!(text.contains("\nnode_memory_Active_anon_bytes 1.589248e+06\n"), "{text}");
        assert!(text.contains("\nnode_memory_Inactive_file_bytes 1.033076736e+09\n"), "{text}");
        assert!(text.contains("\nnode_memory_HugePages_Total 0\n"), "{text}");
        assert!(!text.contains("Active(anon)"), "{text}");
        // A second scrape, from the learnt names, prints the same.
        let c = Meminfo::default();
        assert_eq!(crate::collectors::fixture_text(&c).unwrap(), text);
        assert_eq!(crate::collectors::fixture_text(&c).unwrap(), text);
    }

    #[test]
    fn malformed_file_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("meminfo"), "MemTotal: lots kB\n").unwrap();
        let paths = vigie_kit::Paths { procfs: dir.path().into(), ..vigie_kit::Paths::default() };
        let (_, result) = vigie_kit::scheduler::collect_once(&Meminfo::default(), paths);
        let err = result.unwrap_err().to_string();
        assert!(err.contains("meminfo") && err.contains("line 1"), "{err}");
    }
}
