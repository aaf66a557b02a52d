//! `/sys/class/infiniband/<device>/…` → `node_infiniband_*{device,port}` and
//! `node_infiniband_info` (node_exporter "infiniband" names).

use std::io::ErrorKind;
use std::path::Path;

use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

use super::netclass::read_attr;

/// The registration.
pub const REG: Registration = Registration {
    name: "infiniband",
    default_enabled: true,
    help: "Exposes network statistics specific to InfiniBand and Intel OmniPath configurations.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Infiniband)),
};

const PORT: &[&str] = &["device", "port"];
const INFO: Desc = Desc::gauge(
    "node_infiniband_info",
    "InfiniBand device attributes as labels; always 1.",
    &["device", "board_id", "firmware_version", "hca_type"],
);
const STATE: Desc = Desc::gauge("node_infiniband_state_id", "Logical port state (1 down, 2 init, 3 armed, 4 active, 5 active defer).", PORT);
const PHYS_STATE: Desc =
    Desc::gauge("node_infiniband_physical_state_id", "Physical port state (1 sleep, 2 polling, 3 disabled, 4 training, 5 link up, 6 error recovery, 7 phy test).", PORT);
const RATE: Desc = Desc::gauge("node_infiniband_rate_bytes_per_second", "Port signalling rate in bytes per second.", PORT);

/// A counter file: directory (`counters` or `counters_ext`), file, family, and whether the
/// kernel counts it in 4-byte words (the data counters).
type Counter = (&'static str, &'static str, Desc, bool);

const fn c(dir: &'static str, file: &'static str, name: &'static str, help: &'static str, words: bool) -> Counter {
    (dir, file, Desc::counter(name, help, PORT), words)
}

static COUNTERS: [Counter; 30] = [
    c("counters_ext", "port_multicast_rcv_packets", "node_infiniband_legacy_multicast_packets_received_total", "Multicast packets received (extended counter).", false),
    c("counters_ext", "port_multicast_xmit_packets", "node_infiniband_legacy_multicast_packets_transmitted_total", "Multicast packets sent (extended counter).", false),
    c("counters_ext", "port_rcv_data_64", "node_infiniband_legacy_data_received_bytes_total", "Data bytes received (extended counter).", true),
    c("counters_ext", "port_rcv_packets_64", "node_infiniband_legacy_packets_received_total", "Packets received (extended counter).", false),
    c("counters_ext", "port_unicast_rcv_packets", "node_infiniband_legacy_unicast_packets_received_total", "Unicast packets received (extended counter).", false),
    c("counters_ext", "port_unicast_xmit_packets", "node_infiniband_legacy_unicast_packets_transmitted_total", "Unicast packets sent (extended counter).", false),
    c("counters_ext", "port_xmit_data_64", "node_infiniband_legacy_data_transmitted_bytes_total", "Data bytes sent (extended counter).", true),
    c("counters_ext", "port_xmit_packets_64", "node_infiniband_legacy_packets_transmitted_total", "Packets sent (extended counter).", false),
    c("counters", "excessive_buffer_overrun_errors", "node_infiniband_excessive_buffer_overrun_errors_total", "Runs of consecutive flow-control periods with buffer overruns.", false),
    c("counters", "link_downed", "node_infiniband_link_downed_total", "Times the link went down after failing error recovery.", false),
    c("counters", "link_error_recovery", "node_infiniband_link_error_recovery_total", "Times the link recovered from an error state.", false),
    c("counters", "local_link_integrity_errors", "node_infiniband_local_link_integrity_errors_total", "Times local physical errors passed their threshold.", false),
    c("counters", "multicast_rcv_packets", "node_infiniband_multicast_packets_received_total", "Multicast packets received, errors included.", false),
    c("counters", "multicast_xmit_packets", "node_infiniband_multicast_packets_transmitted_total", "Multicast packets sent, errors included.", false),
    c("counters", "port_rcv_constraint_errors", "node_infiniband_port_constraint_errors_received_total", "Received packets discarded by switch port constraints.", false),
    c("counters", "port_xmit_constraint_errors", "node_infiniband_port_constraint_errors_transmitted_total", "Packets not sent because of switch port constraints.", false),
    c("counters", "port_rcv_data", "node_infiniband_port_data_received_bytes_total", "Data bytes received on all links.", true),
    c("counters", "port_xmit_data", "node_infiniband_port_data_transmitted_bytes_total", "Data bytes sent on all links.", true),
    c("counters", "port_rcv_discards", "node_infiniband_port_discards_received_total", "Inbound packets discarded (port down or congested).", false),
    c("counters", "port_xmit_discards", "node_infiniband_port_discards_transmitted_total", "Outbound packets discarded (port down or congested).", false),
    c("counters", "port_rcv_errors", "node_infiniband_port_errors_received_total", "Received packets that contained an error.", false),
    c("counters", "port_rcv_packets", "node_infiniband_port_packets_received_total", "Packets received on all virtual lanes, errors included.", false),
    c("counters", "port_xmit_packets", "node_infiniband_port_packets_transmitted_total", "Packets sent on all virtual lanes, errors included.", false),
    c("counters", "port_xmit_wait", "node_infiniband_port_transmit_wait_total", "Ticks with data to send but nothing sent.", false),
    c("counters", "unicast_rcv_packets", "node_infiniband_unicast_packets_received_total", "Unicast packets received, errors included.", false),
    c("counters", "unicast_xmit_packets", "node_infiniband_unicast_packets_transmitted_total", "Unicast packets sent, errors included.", false),
    c("counters", "port_rcv_remote_physical_errors", "node_infiniband_port_receive_remote_physical_errors_total", "Received packets marked bad by the sender (EBP).", false),
    c("counters", "port_rcv_switch_relay_errors", "node_infiniband_port_receive_switch_relay_errors_total", "Packets the switch could not forward.", false),
    c("counters", "symbol_error", "node_infiniband_symbol_error_total", "Minor link errors on the physical lanes.", false),
    c("counters", "VL15_dropped", "node_infiniband_vl15_dropped_total", "Incoming VL15 packets dropped for lack of resources.", false),
];

/// Reads `/sys/class/infiniband`.
pub struct Infiniband;

/// `4: ACTIVE` → 4.
pub fn parse_state(s: &str) -> Result<u64, String> {
    let (id, _) = s.split_once(':').filter(|(_, rest)| !rest.contains(':')).ok_or_else(|| format!("not 'ID: NAME': {s:?}"))?;
    id.trim().parse().map_err(|_| format!("invalid state id in {s:?}"))
}

/// `40 Gb/sec (4X QDR)` → bytes per second (Gbit/s × 125000000, the number read as a
/// 32-bit float as node_exporter does).
pub fn parse_rate(s: &str) -> Result<u64, String> {
    let (num, _) = s.trim_start().split_once(' ').ok_or_else(|| format!("invalid rate {s:?}"))?;
    let v: f32 = num.trim().parse().map_err(|_| format!("invalid rate {s:?}"))?;
    Ok((f64::from(v) * 125_000_000.0) as u64)
}

fn read_required(path: &Path) -> Result<String, CollectError> {
    std::fs::read_to_string(path).map_err(|e| CollectError::io(path, e))
}

fn list(cx: &Scrape, dir: &Path) -> Result<Vec<String>, CollectError> {
    let mut names: Vec<String> = cx.read_dir(dir)
        .map_err(|e| CollectError::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    names.sort_unstable();
    Ok(names)
}

fn collect(cx: &Scrape, out: &mut MetricSet) -> CollectResult {
    let class = cx.paths.sys("class/infiniband");
    let mut buf = [0u8; 128];
    for device in list(cx, &class)? {
        let dir = class.join(&device);
        let board = read_attr(&dir.join("board_id"), &mut buf)?.ok_or_else(|| missing(&dir.join("board_id")))?;
        let fw = read_attr(&dir.join("fw_ver"), &mut buf)?.ok_or_else(|| missing(&dir.join("fw_ver")))?;
        let hca = read_attr(&dir.join("hca_type"), &mut buf)?.unwrap_or_default();
        out.add(&INFO, &[&device, &board, &fw, &hca], 1.0);
        for port in list(cx, &dir.join("ports"))? {
            let port_dir = dir.join("ports").join(&port);
            let number: u32 = port.parse().map_err(|_| CollectError::parse(&port_dir, "port directory is not a number"))?;
            let port = number.to_string();
            let labels = [device.as_str(), port.as_str()];
            let attr = |name: &str, parse: fn(&str) -> Result<u64, String>| -> Result<u64, CollectError> {
                let path = port_dir.join(name);
                parse(&read_required(&path)?).map_err(|e| CollectError::parse(&path, e))
            };
            out.add(&STATE, &labels, attr("state", parse_state)? as f64);
            out.add(&PHYS_STATE, &labels, attr("phys_state", parse_state)? as f64);
            out.add(&RATE, &labels, attr("rate", parse_rate)? as f64);
            // counters/ must exist; counters_ext/ is optional.
            let counters = port_dir.join("counters");
            if !counters.is_dir() {
                return Err(CollectError::io(&counters, ErrorKind::NotFound.into()));
            }
            for (sub, file, desc, words) in &COUNTERS {
                let path = port_dir.join(sub).join(file);
                let Some(text) = read_attr(&path, &mut buf)? else { continue };
                match super::netclass::parse_uint(&text) {
                    Some(v) => out.add(desc, &labels, (if *words { v.wrapping_mul(4) } else { v }) as f64),
                    // Ports without a performance management agent say so instead of a number.
                    None if text.contains("N/A (no PMA)") => {}
                    None => return Err(CollectError::parse(&path, format!("invalid number {text:?}"))),
                }
            }
        }
    }
    Ok(())
}

fn missing(path: &Path) -> CollectError {
    CollectError::io(path, ErrorKind::NotFound.into())
}

impl SyncCollector for Infiniband {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        // node_exporter treats any missing file as "no InfiniBand" (errors.Is(ErrNotExist)).
        collect(cx, out).map_err(|e| if e.is_not_found() { CollectError::NoData(e.to_string()) } else { e })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn constructed() -> vigie_kit::Paths {
        let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/constructed/infiniband");
        vigie_kit::Paths { sysfs: base.join("sys"), ..crate::collectors::fixtures() }
    }

    #[test]
    fn parses_state_and_rate() {
        assert_eq!(parse_state("4: ACTIVE\n"), Ok(4));
        assert_eq!(parse_state("5: LinkUp"), Ok(5));
        assert!(parse_state("ACTIVE").is_err());
        assert_eq!(parse_rate("40 Gb/sec (4X QDR)\n"), Ok(5_000_000_000));
        assert_eq!(parse_rate("2.5 Gb/sec (1X SDR)"), Ok(312_500_000));
        assert!(parse_rate("fast").is_err());
    }

    #[test]
    fn constructed_tree() {
        let (set, r) = vigie_kit::scheduler::collect_once(&Infiniband, constructed());
        r.unwrap();
        let text = set.encode();
        for line in [
            "node_infiniband_info{board_id=\"VIG0000000001\",device=\"mlx5_0\",firmware_version=\"16.35.2000\",hca_type=\"MT4119\"} 1\n",
            "node_infiniband_state_id{device=\"mlx5_0\",port=\"1\"} 4\n",
            "node_infiniband_physical_state_id{device=\"mlx5_0\",port=\"1\"} 5\n",
            "node_infiniband_rate_bytes_per_second{device=\"mlx5_0\",port=\"1\"} 1.25e+10\n",
            // port_rcv_data counts 4-byte words.
            "node_infiniband_port_data_received_bytes_total{device=\"mlx5_0\",port=\"1\"} 4000\n",
            "node_infiniband_legacy_data_transmitted_bytes_total{device=\"mlx5_0\",port=\"1\"} 800\n",
            "node_infiniband_vl15_dropped_total{device=\"mlx5_0\",port=\"1\"} 0\n",
            "node_infiniband_link_downed_total{device=\"mlx5_0\",port=\"1\"} 1\n",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
        // symbol_error says "N/A (no PMA)": left out, no error.
        assert!(!text.contains("node_infiniband_symbol_error_total"), "{text}");
    }

    #[test]
    fn this_host_has_no_infiniband() {
        let r = crate::collectors::fixture_text(&Infiniband);
        assert!(matches!(r, Err(CollectError::NoData(_))), "{r:?}");
    }
}
