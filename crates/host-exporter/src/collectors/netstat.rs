//! `/proc/net/netstat`, `/proc/net/snmp`, `/proc/net/snmp6` → `node_netstat_<Proto>_<Field>`
//! (node_exporter "netstat" names, untyped, filtered by `--collector.netstat.fields`).

use std::sync::Mutex;

use crate::collectors::{Matcher, Pattern};
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
        let fields = Pattern::new(pattern).map_err(|e| format!("--collector.netstat.fields: {e}"))?;
        Ok(Box::new(Netstat::new(fields)))
    },
};

/// Reads the three protocol counter files.
pub struct Netstat {
    fields: Pattern,
    /// The family of every column the pattern selects, learnt at the first scrape: the
    /// kernel's field set is fixed, so no pattern is matched again, and no name is looked up.
    names: Mutex<Names>,
    interned: crate::collectors::Interned,
}

/// A family name, interned: made once per selected kernel field.
type Name = Option<&'static str>;

/// A header line's protocol and columns, and each column's family.
type Learnt = (Box<str>, Box<str>, Box<[Name]>);

#[derive(Default)]
struct Names {
    /// Per header line of `netstat` and `snmp` ("Tcp: RtoAlgorithm …"; `Udp` and `UdpLite`
    /// have the same columns): its protocol, columns, and each column's family.
    rows: Vec<Learnt>,
    /// `snmp6`, line by line: its field name and family.
    snmp6: Vec<(Box<str>, Name)>,
}

impl Netstat {
    /// With the field pattern.
    pub fn new(fields: Pattern) -> Netstat {
        Netstat { fields, names: Mutex::new(Names::default()), interned: Default::default() }
    }

    /// The family of `proto`_`field`, if the pattern selects it.
    fn name(&self, fields: &std::cell::OnceCell<Matcher>, proto: &str, field: &str) -> Name {
        let key = format!("{proto}_{field}");
        fields.get_or_init(|| self.fields.compile()).is_match(&key).then(|| self.interned.get(format!("node_netstat_{key}")))
    }

    /// The families of a header line's columns, from the cache or learnt now.
    fn row<'n>(&self, fields: &std::cell::OnceCell<Matcher>, rows: &'n mut Vec<Learnt>, proto: &str, header: &str) -> &'n [Name] {
        let at = match rows.iter().position(|(p, h, _)| **p == *proto && **h == *header) {
            Some(at) => at,
            None => {
                let names = header.split(' ').map(|field| self.name(fields, proto, field)).collect();
                rows.push((proto.into(), header.into(), names));
                rows.len() - 1
            }
        };
        &rows[at].2
    }
}

fn push(out: &mut MetricSet, name: Name, value: &str) -> Result<(), String> {
    if let Some(name) = name {
        let v: f64 = value.parse().map_err(|_| format!("invalid value {value:?} for {}", &name["node_netstat_".len()..]))?;
        out.family(name, HELP, Kind::Untyped).push(&[], v);
    }
    Ok(())
}

impl SyncCollector for Netstat {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let mut names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        let Names { rows, snmp6 } = &mut *names;
        // Compiled only if a field is new (the first scrape), dropped at the end.
        let fields = std::cell::OnceCell::new();
        for file in ["net/netstat", "net/snmp"] {
            let path = cx.paths.proc(file);
            let text = cx.read(&path)?;
            for row in parse_pairs(&text) {
                let (proto, header, values) = row.map_err(|e| CollectError::parse(&path, e))?;
                for (name, value) in self.row(&fields, rows, proto, header).iter().zip(values.split(' ')) {
                    push(out, *name, value).map_err(|e| CollectError::parse(&path, e))?;
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
        for (i, (proto, field, value)) in parse_snmp6(&text).enumerate() {
            let name = match snmp6.get(i) {
                Some((known, name)) if known.len() == proto.len() + field.len() && known.starts_with(proto) && known.ends_with(field) => *name,
                _ => {
                    let name = self.name(&fields, proto, field);
                    snmp6.truncate(i);
                    snmp6.push((format!("{proto}{field}").into(), name));
                    name
                }
            };
            push(out, name, value).map_err(|e| CollectError::parse(&path, e))?;
        }
        Ok(())
    }
}

/// One header/value line pair: protocol, the header's field names, the values (both
/// space-separated, as many of each).
type Row<'a> = (&'a str, &'a str, &'a str);

/// The header/value line pairs of `/proc/net/netstat` and `/proc/net/snmp`.
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
            Ok((proto, names, values))
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
        Netstat::new(Pattern::new(DEFAULT_FIELDS).unwrap())
    }

    #[test]
    fn parses_pairs() {
        let text = "Tcp: RtoAlgorithm MaxConn ActiveOpens\nTcp: 1 -1 20\nUdp: InDatagrams\nUdp: 29\n";
        let zip = |(p, h, v): Row<'static>| (p, h.split(' ').zip(v.split(' ')).collect::<Vec<_>>());
        let rows: Vec<_> = parse_pairs(text).map(|r| r.map(zip)).collect::<Result<_, _>>().unwrap();
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
        let (_, r) = vigie_kit::scheduler::collect_once(&default(), paths);
        let err = r.unwrap_err().to_string();
        assert!(err.contains("net/netstat") && err.contains("ListenDrops"), "{err}");
    }
}
