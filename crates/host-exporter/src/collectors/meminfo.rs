//! /proc/meminfo → node_memory_* (node_exporter "meminfo" names).
//!
//! Each line `Field: value [kB]` becomes `node_memory_<Field>_bytes` (value × 1024) when it
//! has a unit, `node_memory_<Field>` when it has none (`HugePages_Total`). A parenthesised
//! part becomes an underscore suffix: `Active(anon)` → `node_memory_Active_anon_bytes`.

use vigie_kit::collector::Shape;
use vigie_kit::{CollectError, CollectResult, Kind, MetricSet, Registration, Scrape, SyncCollector};

/// The registration.
pub const REG: Registration = Registration {
    name: "meminfo",
    default_enabled: true,
    help: "Exposes memory statistics.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Meminfo)),
};

/// Reads `/proc/meminfo`.
pub struct Meminfo;

impl SyncCollector for Meminfo {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let path = cx.paths.proc("meminfo");
        let text = cx.read_shaped(&path, Shape::OneRecord)?;
        for field in parse(&text).map_err(|msg| CollectError::parse(&path, msg))? {
            let name = format!("node_memory_{}", field.name);
            let help = format!("Memory field {} of /proc/meminfo.", field.name);
            // node_exporter types a field as a counter only if its name ends in "_total",
            // which no Linux field does; kept for the day one does.
            let kind = if field.name.ends_with("_total") { Kind::Counter } else { Kind::Gauge };
            out.family(name, help, kind).push(&[], field.value);
        }
        Ok(())
    }
}

/// One line of `/proc/meminfo`, named and scaled as node_exporter does.
#[derive(Debug, PartialEq)]
pub struct Field {
    /// The name after `node_memory_`: `MemTotal_bytes`, `Active_anon_bytes`, `HugePages_Free`.
    pub name: String,
    /// Bytes for `kB` lines, the raw number otherwise.
    pub value: f64,
}

/// Parses `/proc/meminfo`.
pub fn parse(text: &str) -> Result<Vec<Field>, String> {
    let mut fields = Vec::with_capacity(64);
    for (n, line) in text.lines().enumerate() {
        let mut parts = line.split_ascii_whitespace();
        let Some(key) = parts.next() else { continue };
        let bad = |what: &str| format!("line {}: {what}: {line:?}", n + 1);
        let raw = parts.next().ok_or_else(|| bad("no value"))?;
        let mut value: f64 = raw.parse().map_err(|_| bad("invalid value"))?;
        let unit = parts.next();
        if parts.next().is_some() {
            return Err(bad("too many fields"));
        }
        let key = key.strip_suffix(':').unwrap_or(key);
        let mut name = rename_parens(key);
        if unit.is_some() {
            // The kernel writes every unit as "kB" (KiB).
            value *= 1024.0;
            name.push_str("_bytes");
        }
        fields.push(Field { name, value });
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
        let text = crate::collectors::fixture_text(&Meminfo).unwrap();
        assert!(text.contains("# TYPE node_memory_MemTotal_bytes gauge\nnode_memory_MemTotal_bytes 2.5276063744e+10\n"), "{text}");
        assert!(text.contains("\nnode_memory_Active_anon_bytes 1.589248e+06\n"), "{text}");
        assert!(text.contains("\nnode_memory_Inactive_file_bytes 1.033076736e+09\n"), "{text}");
        assert!(text.contains("\nnode_memory_HugePages_Total 0\n"), "{text}");
        assert!(!text.contains("Active(anon)"), "{text}");
    }

    #[test]
    fn malformed_file_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("meminfo"), "MemTotal: lots kB\n").unwrap();
        let paths = vigie_kit::Paths { procfs: dir.path().into(), ..vigie_kit::Paths::default() };
        let (_, result) = vigie_kit::collector::collect_once(&Meminfo, paths);
        let err = result.unwrap_err().to_string();
        assert!(err.contains("meminfo") && err.contains("line 1"), "{err}");
    }
}
