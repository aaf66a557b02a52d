//! `/proc/net/ip_vs_stats` and `/proc/net/ip_vs` → `node_ipvs_*` (node_exporter "ipvs" names):
//! totals, and per-backend connections and weights summed over the chosen labels.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use vigie_kit::{CollectError, CollectResult, Desc, Family, Kind, MetricSet, Registration, Scrape, SyncCollector};

/// Every backend label, in node_exporter's order.
const ALL_LABELS: [&str; 6] = ["local_address", "local_port", "remote_address", "remote_port", "proto", "local_mark"];

/// The registration.
pub const REG: Registration = Registration {
    name: "ipvs",
    default_enabled: true,
    help: "Exposes IPVS status from /proc/net/ip_vs and stats from /proc/net/ip_vs_stats.",
    args: |cmd| {
        cmd.arg(
            clap::Arg::new("collector.ipvs.backend-labels")
                .long("collector.ipvs.backend-labels")
                .value_name("LABELS")
                .default_value("local_address,local_port,remote_address,remote_port,proto,local_mark")
                .help("Comma separated list for IPVS backend stats labels."),
        )
    },
    build: |m| {
        let labels = m.get_one::<String>("collector.ipvs.backend-labels").map_or("", String::as_str);
        Ok(Box::new(Ipvs { labels: parse_labels(labels)? }))
    },
};

/// The chosen labels as indexes into [`ALL_LABELS`], in that order; unknown names are an error.
pub fn parse_labels(text: &str) -> Result<Vec<usize>, String> {
    let wanted: Vec<&str> = text.split(',').filter(|l| !l.is_empty()).collect();
    let mut unknown: Vec<&str> = wanted.iter().copied().filter(|l| !ALL_LABELS.contains(l)).collect();
    if !unknown.is_empty() {
        unknown.sort_unstable();
        unknown.dedup();
        return Err(format!("unknown IPVS backend labels: {:?}", unknown.join(", ")));
    }
    Ok((0..ALL_LABELS.len()).filter(|&i| wanted.contains(&ALL_LABELS[i])).collect())
}

static TOTALS: [Desc; 5] = [
    Desc::counter("node_ipvs_connections_total", "Connections IPVS has handled.", &[]),
    Desc::counter("node_ipvs_incoming_packets_total", "Packets IPVS has received.", &[]),
    Desc::counter("node_ipvs_outgoing_packets_total", "Packets IPVS has sent.", &[]),
    Desc::counter("node_ipvs_incoming_bytes_total", "Bytes IPVS has received.", &[]),
    Desc::counter("node_ipvs_outgoing_bytes_total", "Bytes IPVS has sent.", &[]),
];

/// Reads the IPVS files.
pub struct Ipvs {
    labels: Vec<usize>,
}

/// The five totals of `/proc/net/ip_vs_stats` (third line, hex).
pub fn parse_stats(text: &str) -> Result<[u64; 5], String> {
    let mut lines = text.splitn(4, '\n');
    let line = lines.nth(2).filter(|_| lines.next().is_some()).ok_or("too short")?;
    let fields: Vec<&str> = line.split_ascii_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!("line 3: {} fields, expected 5", fields.len()));
    }
    let mut out = [0u64; 5];
    for (v, f) in out.iter_mut().zip(fields) {
        *v = u64::from_str_radix(f, 16).map_err(|_| format!("line 3: invalid hex {f:?}"))?;
    }
    Ok(out)
}

/// One real server of `/proc/net/ip_vs`: label values in [`ALL_LABELS`] order, then
/// weight, active and inactive connections.
pub type Backend = ([String; 6], [u64; 3]);

/// The real servers of `/proc/net/ip_vs`.
pub fn parse_backends(text: &str) -> Result<Vec<Backend>, String> {
    let mut out = Vec::new();
    let (mut proto, mut mark, mut local_addr, mut local_port) = (String::new(), String::new(), String::new(), 0u16);
    for (n, line) in text.lines().enumerate() {
        let err = |e: String| format!("line {}: {e}", n + 1);
        let fields: Vec<&str> = line.split_ascii_whitespace().collect();
        if fields.is_empty() || fields[0] == "IP" || fields[0] == "Prot" || fields.get(1) == Some(&"RemoteAddress:Port") {
            continue;
        }
        match fields[0] {
            "TCP" | "UDP" if fields.len() >= 2 => {
                proto = fields[0].to_owned();
                mark.clear();
                let (addr, port) = parse_ip_port(fields[1]).map_err(err)?;
                local_addr = addr;
                local_port = port;
            }
            "FWM" if fields.len() >= 2 => {
                proto = fields[0].to_owned();
                mark = fields[1].to_owned();
                local_addr.clear();
                local_port = 0;
            }
            "->" if fields.len() >= 6 => {
                let (remote_addr, remote_port) = parse_ip_port(fields[1]).map_err(err)?;
                let num = |f: &str| f.parse::<u64>().map_err(|_| err(format!("invalid number {f:?}")));
                let counts = [num(fields[3])?, num(fields[4])?, num(fields[5])?];
                let labels = [
                    local_addr.clone(),
                    local_port.to_string(),
                    remote_addr,
                    remote_port.to_string(),
                    proto.clone(),
                    mark.clone(),
                ];
                out.push((labels, counts));
            }
            _ => {}
        }
    }
    Ok(out)
}

/// `C0A80016:0CEA` or `[2620:0000:…:0001]:0050` to an address as Go prints it and a port.
fn parse_ip_port(s: &str) -> Result<(String, u16), String> {
    let addr = match s.len() {
        13 => {
            let v = u32::from_str_radix(&s[..8], 16).map_err(|_| format!("invalid address {s:?}"))?;
            Ipv4Addr::from(v).to_string()
        }
        46 => {
            let v6: Ipv6Addr = s[1..40].parse().map_err(|_| format!("invalid IPv6 address {:?}", &s[1..40]))?;
            // Go prints IPv4-mapped addresses in dotted form.
            v6.to_ipv4_mapped().map_or_else(|| v6.to_string(), |v4| v4.to_string())
        }
        _ => return Err(format!("unexpected IP:Port {s:?}")),
    };
    let port = u16::from_str_radix(&s[s.len() - 4..], 16).map_err(|_| format!("invalid port in {s:?}"))?;
    Ok((addr, port))
}

const BACKEND_HELP: [(&str, &str, usize); 3] = [
    ("node_ipvs_backend_connections_active", "Active connections to the real server.", 1),
    ("node_ipvs_backend_connections_inactive", "Inactive connections to the real server.", 2),
    ("node_ipvs_backend_weight", "Weight of the real server.", 0),
];

impl SyncCollector for Ipvs {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let path = cx.paths.proc("net/ip_vs_stats");
        let text = cx.read_optional(&path).map_err(|e| {
            if e.is_not_found() {
                CollectError::NoData("IPVS not loaded".into())
            } else {
                e
            }
        })?;
        let totals = parse_stats(&text).map_err(|e| CollectError::parse(&path, e))?;
        for (desc, v) in TOTALS.iter().zip(totals) {
            out.add(desc, &[], v as f64);
        }
        let path = cx.paths.proc("net/ip_vs");
        let text = cx.read(&path)?;
        let backends = parse_backends(&text).map_err(|e| CollectError::parse(&path, e))?;
        // Sum backends that share the chosen label values.
        let mut sums: BTreeMap<Vec<&str>, [u64; 3]> = BTreeMap::new();
        for (labels, counts) in &backends {
            let key: Vec<&str> = self.labels.iter().map(|&i| labels[i].as_str()).collect();
            let sum = sums.entry(key).or_default();
            for (s, c) in sum.iter_mut().zip(counts) {
                *s += c;
            }
        }
        for (name, help, at) in BACKEND_HELP {
            let family: &mut Family = out.family(name, help, Kind::Gauge);
            for (key, counts) in &sums {
                let pairs: Vec<(&str, &str)> = self.labels.iter().map(|&i| ALL_LABELS[i]).zip(key.iter().copied()).collect();
                family.push(&pairs, counts[at] as f64);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn constructed() -> vigie_kit::Paths {
        let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/constructed/ipvs");
        vigie_kit::Paths { procfs: base.join("proc"), ..crate::collectors::fixtures() }
    }

    #[test]
    fn parses_addresses() {
        assert_eq!(parse_ip_port("0A000001:0050"), Ok(("10.0.0.1".into(), 80)));
        assert_eq!(parse_ip_port("[fd00:0000:0000:0000:0000:0000:0001:0035]:0035"), Ok(("fd00::1:35".into(), 53)));
        assert!(parse_ip_port("0A00:0050").is_err());
        assert!(parse_stats("a\nb\n").is_err());
        assert!(parse_stats("a\nb\n 1 2 3\n").unwrap_err().contains("fields"));
    }

    #[test]
    fn labels_flag() {
        assert_eq!(parse_labels("proto,local_port"), Ok(vec![1, 4]));
        assert!(parse_labels("proto,bogus").unwrap_err().contains("bogus"));
    }

    #[test]
    fn constructed_tree() {
        let c = Ipvs { labels: parse_labels("local_address,local_port,remote_address,remote_port,proto,local_mark").unwrap() };
        let (set, r) = vigie_kit::scheduler::collect_once(&c, constructed());
        r.unwrap();
        let text = set.encode();
        for line in [
            "node_ipvs_connections_total 1000\n",
            "node_ipvs_incoming_bytes_total 1e+08\n",
            "node_ipvs_outgoing_packets_total 50000\n",
            "node_ipvs_backend_connections_active{local_address=\"10.0.0.1\",local_mark=\"\",local_port=\"80\",proto=\"TCP\",remote_address=\"10.0.0.11\",remote_port=\"8080\"} 7\n",
            "node_ipvs_backend_weight{local_address=\"fd00::35\",local_mark=\"\",local_port=\"53\",proto=\"UDP\",remote_address=\"fd00::1:35\",remote_port=\"53\"} 1\n",
            // Two FWM backends with the same labels are summed.
            "node_ipvs_backend_connections_active{local_address=\"\",local_mark=\"00000064\",local_port=\"0\",proto=\"FWM\",remote_address=\"10.0.0.21\",remote_port=\"0\"} 3\n",
            "node_ipvs_backend_weight{local_address=\"\",local_mark=\"00000064\",local_port=\"0\",proto=\"FWM\",remote_address=\"10.0.0.21\",remote_port=\"0\"} 6\n",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
        let c = Ipvs { labels: parse_labels("proto").unwrap() };
        let (set, _) = vigie_kit::scheduler::collect_once(&c, constructed());
        let text = set.encode();
        assert!(text.contains("node_ipvs_backend_connections_inactive{proto=\"TCP\"} 3\n"), "{text}");
    }

    #[test]
    fn this_host_has_no_ipvs() {
        let r = crate::collectors::fixture_text(&Ipvs { labels: vec![0] });
        assert!(matches!(r, Err(CollectError::NoData(_))), "{r:?}");
    }
}
