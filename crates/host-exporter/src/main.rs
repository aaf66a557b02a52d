//! `vigie-host-exporter`: a drop-in for node_exporter on Linux. Reads `/proc` and `/sys`
//! (or the host's, through `--path.procfs`/`--path.sysfs`/`--path.rootfs`) and exposes
//! node_exporter's families, names, types and labels.

// Deny, not forbid: the timex collector holds the one audited `unsafe` block (adjtimex(2),
// which neither std nor rustix wraps).
#![deny(unsafe_code)]

mod collectors;

use std::process::ExitCode;

use vigie_kit::{Exporter, ScrapeNames};

/// How the kit knows this exporter.
pub const EXPORTER: Exporter = Exporter {
    name: "vigie-host-exporter",
    version: env!("CARGO_PKG_VERSION"),
    about: "Linux host metrics from /proc and /sys, with node_exporter's names.",
    default_listen: ":9100",
    build_info: "node_exporter_build_info",
    scrape_names: ScrapeNames::node_style("node_scrape_collector_success", "node_scrape_collector_duration_seconds"),
    path_flags: true,
};

fn main() -> ExitCode {
    vigie_kit::run(EXPORTER, collectors::registry())
}
