//! `/sys/class/fc_host/<host>/…` → `node_fibrechannel_info` and `node_fibrechannel_*_total{fc_host}`
//! (node_exporter "fibrechannel" names).

use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

use super::netclass::{parse_uint, read_attr};

/// The registration.
pub const REG: Registration = Registration {
    name: "fibrechannel",
    default_enabled: true,
    help: "Exposes fibre channel information and statistics.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Fibrechannel)),
};

const HOST: &[&str] = &["fc_host"];
const INFO: Desc = Desc::gauge(
    "node_fibrechannel_info",
    "Fibre Channel host attributes as labels; always 1.",
    &[
        "fc_host",
        "speed",
        "port_state",
        "port_type",
        "port_id",
        "port_name",
        "fabric_name",
        "symbolic_name",
        "supported_classes",
        "supported_speeds",
        "dev_loss_tmo",
    ],
);

/// The attribute files node_exporter requires, in the order of [`INFO`]'s labels after
/// `fc_host`; `node_name` is read (and required) but not exposed.
const ATTRS: [&str; 11] = [
    "speed",
    "port_state",
    "port_type",
    "port_id",
    "port_name",
    "fabric_name",
    "symbolic_name",
    "supported_classes",
    "supported_speeds",
    "dev_loss_tmo",
    "node_name",
];

static COUNTERS: [(&str, Desc); 14] = [
    ("dumped_frames", Desc::counter("node_fibrechannel_dumped_frames_total", "Frames dumped by the host port.", HOST)),
    ("error_frames", Desc::counter("node_fibrechannel_error_frames_total", "Frames received with errors.", HOST)),
    ("invalid_crc_count", Desc::counter("node_fibrechannel_invalid_crc_total", "Frames received with an invalid CRC.", HOST)),
    ("rx_frames", Desc::counter("node_fibrechannel_rx_frames_total", "Frames received.", HOST)),
    ("rx_words", Desc::counter("node_fibrechannel_rx_words_total", "Words received.", HOST)),
    ("tx_frames", Desc::counter("node_fibrechannel_tx_frames_total", "Frames sent.", HOST)),
    ("tx_words", Desc::counter("node_fibrechannel_tx_words_total", "Words sent.", HOST)),
    ("seconds_since_last_reset", Desc::counter("node_fibrechannel_seconds_since_last_reset_total", "Seconds since the statistics were last reset.", HOST)),
    ("invalid_tx_word_count", Desc::counter("node_fibrechannel_invalid_tx_words_total", "Invalid transmission words received.", HOST)),
    ("link_failure_count", Desc::counter("node_fibrechannel_link_failure_total", "Link failures of the host port.", HOST)),
    ("loss_of_sync_count", Desc::counter("node_fibrechannel_loss_of_sync_total", "Losses of bit or word synchronisation.", HOST)),
    ("loss_of_signal_count", Desc::counter("node_fibrechannel_loss_of_signal_total", "Losses of signal.", HOST)),
    ("nos_count", Desc::counter("node_fibrechannel_nos_total", "Not_Operational primitive sequences received.", HOST)),
    ("fcp_packet_aborts", Desc::counter("node_fibrechannel_fcp_packet_aborts_total", "FCP packets aborted.", HOST)),
];

/// Reads `/sys/class/fc_host`.
pub struct Fibrechannel;

/// `0x…` identifiers lose their first two characters, as node_exporter shows them.
fn strip_prefix(attr: &str, value: String) -> String {
    if matches!(attr, "port_id" | "port_name" | "fabric_name") && value.len() > 2 {
        value.get(2..).unwrap_or_default().to_owned()
    } else {
        value
    }
}

impl SyncCollector for Fibrechannel {
    fn collect_sync(&self, cx: &Scrape, out: &mut MetricSet) -> CollectResult {
        let class = cx.paths.sys("class/fc_host");
        let entries = match cx.read_dir(&class) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(CollectError::NoData(format!("{}: {e}", class.display()))),
            Err(e) => return Err(CollectError::io(&class, e)),
        };
        let mut hosts: Vec<String> = entries.filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned())).collect();
        hosts.sort_unstable();
        let mut buf = [0u8; 128];
        for host in &hosts {
            let dir = class.join(host);
            let mut values = Vec::with_capacity(ATTRS.len() + 1);
            values.push(host.clone());
            for attr in ATTRS {
                // Unlike the counters, every attribute must be readable (an error, not "no data").
                let path = dir.join(attr);
                let text = std::fs::read(&path).map_err(|e| CollectError::io(&path, e))?;
                values.push(strip_prefix(attr, String::from_utf8_lossy(&text).trim().to_owned()));
            }
            values.pop(); // node_name
            out.add_owned(&INFO, values, 1.0);
            let stats = dir.join("statistics");
            if !stats.is_dir() {
                return Err(CollectError::io(&stats, std::io::ErrorKind::NotFound.into()));
            }
            for (file, desc) in &COUNTERS {
                let path = stats.join(file);
                // A counter the driver lacks counts as 0, as in node_exporter.
                let value = match read_attr(&path, &mut buf)? {
                    Some(text) => parse_uint(&text).ok_or_else(|| CollectError::parse(&path, format!("invalid number {text:?}")))?,
                    None => 0,
                };
                // All ones: the driver does not keep this statistic.
                if value != u64::MAX {
                    out.add(desc, &[host], value as f64);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn constructed() -> vigie_kit::Paths {
        let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/constructed/fibrechannel");
        vigie_kit::Paths { sysfs: base.join("sys"), ..crate::collectors::fixtures() }
    }

    #[test]
    fn constructed_tree() {
        let (set, r) = vigie_kit::scheduler::collect_once(&Fibrechannel, constructed());
        r.unwrap();
        let text = set.encode();
        for line in [
            "node_fibrechannel_info{dev_loss_tmo=\"30\",fabric_name=\"100000109b000001\",fc_host=\"host0\",port_id=\"010a00\",port_name=\"100000109b000002\",port_state=\"Online\",port_type=\"NPort (fabric via point-to-point)\",speed=\"16 Gbit\",supported_classes=\"Class 3\",supported_speeds=\"4 Gbit, 8 Gbit, 16 Gbit\",symbolic_name=\"Vigie test HBA\"} 1\n",
            "node_fibrechannel_rx_frames_total{fc_host=\"host0\"} 1000\n",
            "node_fibrechannel_tx_words_total{fc_host=\"host0\"} 4096\n",
            // Missing in the tree: reported as 0.
            "node_fibrechannel_nos_total{fc_host=\"host0\"} 0\n",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
        // 0xffffffffffffffff: statistic not kept, left out.
        assert!(!text.contains("node_fibrechannel_dumped_frames_total"), "{text}");
    }

    #[test]
    fn this_host_has_no_fc_host() {
        let r = crate::collectors::fixture_text(&Fibrechannel);
        assert!(matches!(r, Err(CollectError::NoData(_))), "{r:?}");
    }
}
