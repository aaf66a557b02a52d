//! `vigie-nginx-exporter`: nginx's `stub_status` with nginx-prometheus-exporter's names
//! (`--nginx.scrape-uri`, `/probe?target=` for other nginx), and nginx access logs with
//! prometheus-nginxlog-exporter's (`--nginx.access-log`, followed across rotations).

#![forbid(unsafe_code)]

mod collectors;
mod target;

use std::process::ExitCode;
use std::time::Duration;

use clap::{Arg, Command};
use vigie_kit::{Exporter, ScrapeNames};

/// How the kit knows this exporter.
pub const EXPORTER: Exporter = Exporter {
    name: "vigie-nginx-exporter",
    version: env!("CARGO_PKG_VERSION"),
    about: "nginx stub_status and access log metrics, with nginx-prometheus-exporter's and prometheus-nginxlog-exporter's names.",
    default_listen: ":9113",
    build_info: "nginxexporter_build_info",
    scrape_names: ScrapeNames::node_style(
        "vigie_nginx_scrape_collector_success",
        "vigie_nginx_scrape_collector_duration_seconds",
    ),
    path_flags: false,
};

const SCRAPE_URI: &str = "nginx.scrape-uri";
const TIMEOUT: &str = "nginx.timeout";

fn flags(cmd: Command) -> Command {
    cmd.arg(
        Arg::new(SCRAPE_URI)
            .long(SCRAPE_URI)
            .value_name("URL")
            .default_value("http://127.0.0.1:8080/stub_status")
            .help("nginx's stub_status page, read on /metrics."),
    )
    .arg(
        Arg::new(TIMEOUT)
            .long(TIMEOUT)
            .value_name("DURATION")
            .default_value("5s")
            .value_parser(vigie_kit::flags::parse_duration)
            .help("Longest wait for stub_status (the scrape deadline may cut it shorter)."),
    )
}

fn main() -> ExitCode {
    vigie_kit::run_target(EXPORTER, collectors::registry(), flags, |m| {
        let uri = m.get_one::<String>(SCRAPE_URI).map_or("", String::as_str);
        let endpoint = target::Endpoint::parse(uri).map_err(|e| format!("--{SCRAPE_URI}: {e}"))?;
        let timeout = m.get_one::<Duration>(TIMEOUT).copied().unwrap_or(Duration::from_secs(5));
        tracing::info!(url = %endpoint.url, "stub_status target.");
        Ok(target::target(endpoint, timeout))
    })
}
