//! The Prometheus exporter flags every Vigie exporter shares (`--web.*`, `--log.*`,
//! `--scrape.*`, `--path.*`) and the `--[no-]collector.<name>` pair made for each registered
//! collector, with node_exporter's `--collector.disable-defaults`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::collector::{Collector, Registration};
use crate::log;
use crate::scheduler::Enabled;
use crate::scrape::Paths;

/// `--web.*` and `--scrape.*`.
#[derive(clap::Args, Debug, Clone)]
pub struct WebArgs {
    /// Address to listen on for web interface and telemetry; repeat to listen on several
    /// (`:9100` means every interface).
    #[arg(long = "web.listen-address", value_name = "ADDR", action = ArgAction::Append)]
    pub listen: Vec<String>,
    /// Path under which to expose metrics.
    #[arg(long = "web.telemetry-path", value_name = "PATH", default_value = "/metrics")]
    pub telemetry_path: String,
    /// exporter-toolkit web-config.yml enabling TLS and/or basic auth.
    #[arg(long = "web.config.file", value_name = "FILE")]
    pub config_file: Option<PathBuf>,
    /// Leave out the exporter's own process_* and build_info families.
    #[arg(long = "web.disable-exporter-metrics")]
    pub disable_exporter_metrics: bool,
    /// Most scrapes served at once; more get 503 (0: no limit).
    #[arg(long = "web.max-requests", value_name = "N", default_value_t = 40)]
    pub max_requests: usize,
    /// Scrape deadline when Prometheus sends no X-Prometheus-Scrape-Timeout-Seconds header.
    #[arg(long = "scrape.timeout", value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub scrape_timeout: Duration,
    /// Subtracted from Prometheus' scrape timeout so the answer arrives before it gives up.
    #[arg(long = "scrape.timeout-offset", value_name = "DURATION", default_value = "250ms", value_parser = parse_duration)]
    pub timeout_offset: Duration,
}

/// `--log.*`.
#[derive(clap::Args, Debug, Clone)]
pub struct LogArgs {
    /// Only log messages with the given severity or above.
    #[arg(long = "log.level", value_enum, default_value = "info")]
    pub level: log::LogLevel,
    /// Output format of log messages.
    #[arg(long = "log.format", value_enum, default_value = "logfmt")]
    pub format: log::Format,
}

/// `--path.*`: where the host's pseudo file systems are.
#[derive(clap::Args, Debug, Clone)]
pub struct PathArgs {
    /// procfs mountpoint.
    #[arg(long = "path.procfs", value_name = "PATH", default_value = "/proc")]
    pub procfs: PathBuf,
    /// sysfs mountpoint.
    #[arg(long = "path.sysfs", value_name = "PATH", default_value = "/sys")]
    pub sysfs: PathBuf,
    /// rootfs mountpoint.
    #[arg(long = "path.rootfs", value_name = "PATH", default_value = "/")]
    pub rootfs: PathBuf,
    /// udev data path.
    #[arg(long = "path.udev.data", value_name = "PATH", default_value = "/run/udev/data")]
    pub udev_data: PathBuf,
}

impl PathArgs {
    /// As [`Paths`].
    pub fn paths(&self) -> Paths {
        Paths {
            procfs: self.procfs.clone(),
            sysfs: self.sysfs.clone(),
            rootfs: self.rootfs.clone(),
            udev_data: self.udev_data.clone(),
            missing: Default::default(),
        }
    }
}

/// Adds `--collector.<name>`, `--no-collector.<name>` and each collector's own flags.
pub fn with_collectors<T>(cmd: Command, registry: &[Registration<T>]) -> Command {
    with_collector_flags(cmd, registry, "collector")
}

/// [`with_collectors`] with another stem than `collector` (mysqld_exporter: `collect`).
pub fn with_collector_flags<T>(mut cmd: Command, registry: &[Registration<T>], stem: &str) -> Command {
    let disable_defaults: &'static str = leak(format!("{stem}.disable-defaults"));
    cmd = cmd.arg(
        Arg::new(disable_defaults)
            .long(disable_defaults)
            .action(ArgAction::SetTrue)
            .help("Set all collectors to disabled by default."),
    );
    for reg in registry {
        let on: &'static str = leak(format!("{stem}.{}", reg.name));
        let off: &'static str = leak(format!("no-{stem}.{}", reg.name));
        let state = if reg.default_enabled { "enabled" } else { "disabled" };
        cmd = cmd
            .arg(
                Arg::new(on)
                    .long(on)
                    .action(ArgAction::SetTrue)
                    .overrides_with(off)
                    .help(format!("Enable the {} collector (default: {state}): {}", reg.name, reg.help)),
            )
            .arg(Arg::new(off).long(off).action(ArgAction::SetTrue).overrides_with(on).hide(true));
        cmd = (reg.args)(cmd);
    }
    cmd
}

// clap wants 'static ids; the collector list is built once per process.
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// Builds the enabled collectors from the parsed flags. An error names the collector.
pub fn enabled_collectors<T>(matches: &ArgMatches, registry: Vec<Registration<T>>) -> Result<Vec<Enabled<T>>, String> {
    enabled_collectors_with(matches, registry, "collector", "")
}

/// [`enabled_collectors`] for flags made by [`with_collector_flags`] with `stem`; each
/// collector's `collector` label is `label_prefix` + its name.
pub fn enabled_collectors_with<T>(
    matches: &ArgMatches,
    registry: Vec<Registration<T>>,
    stem: &str,
    label_prefix: &str,
) -> Result<Vec<Enabled<T>>, String> {
    let no_defaults = matches.get_flag(&format!("{stem}.disable-defaults"));
    let mut out = Vec::new();
    for reg in registry {
        let on = matches.get_flag(&format!("{stem}.{}", reg.name));
        let off = matches.get_flag(&format!("no-{stem}.{}", reg.name));
        let enabled = on || (!off && reg.default_enabled && !no_defaults);
        if enabled {
            let c: Box<dyn Collector<T>> = (reg.build)(matches).map_err(|e| format!("collector {}: {e}", reg.name))?;
            let label = if label_prefix.is_empty() { reg.name } else { leak(format!("{label_prefix}{}", reg.name)) };
            out.push(Enabled::labelled(reg.name, label, c));
        }
    }
    Ok(out)
}

/// Parses a Prometheus-style duration: `250ms`, `10s`, `1m30s`, `4h`, `1d`, `1w`, or a
/// bare number of seconds (`0.5`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("invalid duration {text:?} (e.g. \"10s\", \"1m30s\", \"250ms\")");
    if let Ok(secs) = text.parse::<f64>() {
        return if secs.is_finite() && secs >= 0.0 { Ok(Duration::from_secs_f64(secs)) } else { Err(bad()) };
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(bad)?;
        if digits == 0 {
            return Err(bad());
        }
        let n: f64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86_400.0,
            "w" => 604_800.0,
            "y" => 31_536_000.0,
            _ => return Err(bad()),
        };
        total += Duration::from_secs_f64(n * scale);
        rest = &rest[unit_len..];
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("4h"), Ok(Duration::from_secs(14_400)));
        assert!(parse_duration("5 min").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("-1").is_err());
    }
}
