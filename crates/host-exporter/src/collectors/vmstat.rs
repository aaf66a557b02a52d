//! /proc/vmstat → node_vmstat_<field> (node_exporter "vmstat" names), for the fields matching
//! `--collector.vmstat.fields`.

use std::sync::Mutex;

use vigie_kit::{CollectError, CollectResult, Kind, MetricSet, Registration, Scrape, SyncCollector};

const DEFAULT_FIELDS: &str = "^(oom_kill|pgpg|pswp|pg.*fault).*";

/// The registration.
pub const REG: Registration = Registration {
    name: "vmstat",
    default_enabled: true,
    help: "Exposes statistics from /proc/vmstat.",
    args: |cmd| {
        cmd.arg(
            clap::Arg::new("collector.vmstat.fields")
                .long("collector.vmstat.fields")
                .value_name("REGEX")
                .default_value(DEFAULT_FIELDS)
                .help("Regex of the /proc/vmstat fields to expose"),
        )
    },
    build: |m| {
        let re = m.get_one::<String>("collector.vmstat.fields").map_or(DEFAULT_FIELDS, String::as_str);
        let fields = crate::collectors::Pattern::new(re).map_err(|e| format!("--collector.vmstat.fields: {e}"))?;
        Ok(Box::new(Vmstat { fields, chosen: Mutex::new(Chosen::default()), interned: Default::default() }))
    },
};

/// Reads `/proc/vmstat`.
pub struct Vmstat {
    fields: crate::collectors::Pattern,
    /// Which lines match, by position: the kernel's field list does not change while it runs,
    /// so the regex runs again only if the names differ from the last scrape's.
    chosen: Mutex<Chosen>,
    interned: crate::collectors::Interned,
}

#[derive(Default)]
struct Chosen {
    names: Vec<String>,
    /// Per line: its family name and help if the pattern selects it (leaked once per kernel
    /// field, a bounded set).
    wanted: Vec<Option<(&'static str, &'static str)>>,
}

impl SyncCollector for Vmstat {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let path = cx.paths.proc("vmstat");
        let text = cx.read(&path)?;
        let lines = parse(&text).map_err(|msg| CollectError::parse(&path, msg))?;
        let mut chosen = self.chosen.lock().map_err(|_| CollectError::Other("vmstat state poisoned".into()))?;
        if chosen.names.len() != lines.len() || chosen.names.iter().zip(&lines).any(|(a, (b, _))| a != b) {
            chosen.names = lines.iter().map(|(name, _)| (*name).to_owned()).collect();
            let leak = |s: String| self.interned.get(s);
            let fields = self.fields.compile();
            chosen.wanted = lines
                .iter()
                .map(|(name, _)| {
                    fields.is_match(name).then(|| (leak(format!("node_vmstat_{name}")), leak(format!("Field {name} of /proc/vmstat."))))
                })
                .collect();
        }
        for ((_, value), wanted) in lines.iter().zip(&chosen.wanted) {
            if let Some((name, help)) = *wanted {
                out.family(name, help, Kind::Untyped).push(&[], *value);
            }
        }
        Ok(())
    }
}

/// The `name value` lines of `/proc/vmstat`.
pub fn parse(text: &str) -> Result<Vec<(&str, f64)>, String> {
    let mut lines = Vec::with_capacity(256);
    for (n, line) in text.lines().enumerate() {
        let mut fields = line.split_ascii_whitespace();
        let Some(name) = fields.next() else { continue };
        let value = fields.next().and_then(|v| v.parse().ok());
        let value = value.ok_or_else(|| format!("line {}: no number after {name:?}", n + 1))?;
        lines.push((name, value));
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines() {
        assert_eq!(parse("pgpgin 2108061\nnr_free_pages 1\n"), Ok(vec![("pgpgin", 2108061.0), ("nr_free_pages", 1.0)]));
        assert!(parse("pgpgin\n").unwrap_err().starts_with("line 1"));
        assert!(parse("a 1\npgpgin x\n").unwrap_err().starts_with("line 2"));
    }

    #[test]
    fn fixture_tree() {
        let c = crate::collectors::build(&REG, &[]).unwrap();
        let text = crate::collectors::fixture_text(&*c).unwrap();
        let names: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            names,
            [
                "node_vmstat_oom_kill 0",
                "node_vmstat_pgfault 1.0982108e+07",
                "node_vmstat_pgmajfault 1741",
                "node_vmstat_pgpgin 2.108061e+06",
                "node_vmstat_pgpgout 2.794168e+06",
                "node_vmstat_pswpin 0",
                "node_vmstat_pswpout 0",
            ]
        );
        assert!(text.contains("# TYPE node_vmstat_pgfault untyped\n"), "{text}");
        // A second scrape reuses the chosen fields.
        let again = crate::collectors::fixture_text(&*c).unwrap();
        assert_eq!(text, again);
        let c = crate::collectors::build(&REG, &["--collector.vmstat.fields", "^nr_free_pages$"]).unwrap();
        let text = crate::collectors::fixture_text(&*c).unwrap();
        assert_eq!(text.lines().filter(|l| !l.starts_with('#')).count(), 1, "{text}");
        assert!(crate::collectors::build(&REG, &["--collector.vmstat.fields", "("]).is_err());
    }
}
