//! `/proc/net/netstat`, `/proc/net/snmp`, `/proc/net/snmp6` → `node_netstat_<Proto>_<Field>`
//! (node_exporter "netstat" names, untyped, filtered by `--collector.netstat.fields`).

use std::collections::HashMap;
use std::sync::Mutex;

use regex::Regex;
use vigie_kit::{CollectError, CollectResult, Kind, MetricSet, Registration, Scrape, SyncCollector};

/// node_exporter 1.5's default for `--collector.netstat.fields`.
const DEFAULT_FIELDS: &str = "^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts)|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$";

const HELP: &str = "A kernel protocol counter from /proc/net/netstat, snmp or snmp6.";

/// The registration.
pub const REG: Registration = Registration {
    name: "netstat",
    default_enabled: true,
    help: "Exposes network statistics from /proc/net/netstat.",
    args: |cmd| {
        cmd.arg(
            clap::Arg::new("collector.netstat.fields")
                .long("collector.netstat.fields")
                .value_name("REGEXP")
                .default_value(DEFAULT_FIELDS)
                .help("Regexp of fields to return for netstat collector."),
        )
    },
    build: |m| {
        let pattern = m.get_one::<String>("collector.netstat.fields").map_or(DEFAULT_FIELDS, String::as_str);
        let fields = Regex::new(pattern).map_err(|e| format!("--collector.netstat.fields: {e}"))?;
        Ok(Box::new(Netstat::new(fields)))
    },
};

/// Reads the three protocol counter files.
pub struct Netstat {
    fields: Regex,
    /// `Proto_Field` → the family name if the pattern selects it. The kernel's field set is
    /// fixed, so after the first scrape no pattern is matched again.
    names: Mutex<HashMap<Box<str>, Option<&'static str>>>,
}

impl Netstat {
    /// With the field pattern.
    pub fn new(fields: Regex) -> Netstat {
        Netstat { fields, names: Mutex::new(HashMap::new()) }
    }

    fn emit(&self, names: &mut HashMap<Box<str>, Option<&'static str>>, key: &str, value: &str, out: &mut MetricSet) -> Result<(), String> {
        let name = match names.get(key) {
            Some(name) => *name,
            None => {
                // Bounded by the kernel's field set: leaked once, reused every scrape.
                let name = self
                    .fields
                    .is_match(key)
                    .then(|| &*Box::leak(format!("node_netstat_{key}").into_boxed_str()));
                names.insert(key.into(), name);
                name
            }
        };
        if let Some(name) = name {
            let v: f64 = value.parse().map_err(|_| format!("invalid value {value:?} for {key}"))?;
            out.family(name, HELP, Kind::Untyped).push(&[], v);
        }
        Ok(())
    }
}

impl SyncCollector for Netstat {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let mut names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        let mut key = String::with_capacity(64);
        for file in ["net/netstat", "net/snmp"] {
            let path = cx.paths.proc(file);
            let text = cx.read(&path)?;
            for row in parse_pairs(&text) {
                let (proto, fields) = row.map_err(|e| CollectError::parse(&path, e))?;
                for (field, value) in fields {
                    key.clear();
                    key.push_str(proto);
                    key.push('_');
                    key.push_str(field);
                    self.emit(&mut names, &key, value, out).map_err(|e| CollectError::parse(&path, e))?;
                }
            }
        }
        let path = cx.paths.proc("net/snmp6");
        let text = match cx.read(&path) {
            Ok(text) => text,
            // No IPv6: node_exporter goes on without it.
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e),
        };
        for (proto, field, value) in parse_snmp6(&text) {
            key.clear();
            key.push_str(proto);
            key.push('_');
            key.push_str(field);
            self.emit(&mut names, &key, value, out).map_err(|e| CollectError::parse(&path, e))?;
        }
        Ok(())
    }
}

type Row<'a> = (&'a str, std::iter::Zip<std::str::Split<'a, char>, std::str::Split<'a, char>>);

/// The header/value line pairs of `/proc/net/netstat` and `/proc/net/snmp`: each pair's
/// protocol and its (field, value) columns.
pub fn parse_pairs(text: &str) -> impl Iterator<Item = Result<Row<'_>, String>> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.is_empty());
    std::iter::from_fn(move || {
        let (n, header) = lines.next()?;
        let row = (|| {
            let (_, values) = lines.next().ok_or_else(|| format!("line {}: header without a value line", n + 1))?;
            let (proto, names) = header.split_once(": ").ok_or_else(|| format!("line {}: no protocol name", n + 1))?;
            let (vproto, values) = values.split_once(": ").ok_or_else(|| format!("line {}: no protocol name", n + 2))?;
            if proto != vproto || names.split(' ').count() != values.split(' ').count() {
                return Err(format!("line {}: field count mismatch for {proto}", n + 2));
            }
            Ok((proto, names.split(' ').zip(values.split(' '))))
        })();
        Some(row)
    })
}

/// The lines of `/proc/net/snmp6`, as (protocol up to its `6`, field, value).
pub fn parse_snmp6(text: &str) -> impl Iterator<Item = (&str, &str, &str)> {
    text.lines().filter_map(|line| {
        let mut fields = line.split_ascii_whitespace();
        let (name, value) = (fields.next()?, fields.next()?);
        let six = name.find('6')?;
        Some((&name[..=six], &name[six + 1..], value))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default() -> Netstat {
        Netstat::new(Regex::new(DEFAULT_FIELDS).unwrap())
    }

    #[test]
    fn parses_pairs() {
        let text = "Tcp: RtoAlgorithm MaxConn ActiveOpens\nTcp: 1 -1 20\nUdp: InDatagrams\nUdp: 29\n";
        let rows: Vec<_> = parse_pairs(text).map(|r| r.map(|(p, f)| (p, f.collect::<Vec<_>>()))).collect::<Result<_, _>>().unwrap();
        assert_eq!(rows[0], ("Tcp", vec![("RtoAlgorithm", "1"), ("MaxConn", "-1"), ("ActiveOpens", "20")]));
        assert_eq!(rows[1], ("Udp", vec![("InDatagrams", "29")]));
        let err = parse_pairs("Tcp: A B\nTcp: 1\n").next().unwrap().err().unwrap();
        assert!(err.contains("line 2") && err.contains("mismatch"), "{err}");
        assert!(parse_pairs("Tcp: A B\n").next().unwrap().is_err());
    }

    #[test]
    fn parses_snmp6() {
        let rows: Vec<_> = parse_snmp6("Ip6InReceives  4\nIcmp6InType133 2\nUdpLite6InErrors 0\n\n").collect();
        assert_eq!(rows, [("Ip6", "InReceives", "4"), ("Icmp6", "InType133", "2"), ("UdpLite6", "InErrors", "0")]);
    }

    #[test]
    fn fixture_tree() {
        let c = default();
        let text = crate::collectors::fixture_text(&c).unwrap();
        // Values from the captured files.
        assert!(text.contains("# TYPE node_netstat_Tcp_ActiveOpens untyped\nnode_netstat_Tcp_ActiveOpens "), "{text}");
        assert!(text.contains("node_netstat_Ip_Forwarding 2\n"), "{text}");
        assert!(text.contains("node_netstat_Icmp6_InMsgs "), "{text}");
        assert!(text.contains("node_netstat_UdpLite6_InErrors 0\n"), "{text}");
        assert!(text.contains("node_netstat_TcpExt_ListenDrops 0\n"), "{text}");
        assert!(!text.contains("node_netstat_Tcp_MaxConn"), "{text}");
        // Same 40 families as node_exporter 1.5 on this host.
        assert_eq!(text.matches("# TYPE").count(), 40, "{text}");
        // The second scrape uses the cached names and gives the same output.
        assert_eq!(crate::collectors::fixture_text(&c).unwrap(), text);
    }

    #[test]
    fn bad_value_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("net")).unwrap();
        std::fs::write(dir.path().join("net/netstat"), "TcpExt: ListenDrops\nTcpExt: x\n").unwrap();
        std::fs::write(dir.path().join("net/snmp"), "").unwrap();
        let paths = vigie_kit::Paths { procfs: dir.path().into(), ..crate::collectors::fixtures() };
        let (_, r) = vigie_kit::collector::collect_once(&default(), paths);
        let err = r.unwrap_err().to_string();
        assert!(err.contains("net/netstat") && err.contains("ListenDrops"), "{err}");
    }
}
