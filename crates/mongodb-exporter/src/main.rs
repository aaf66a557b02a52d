//! `vigie-mongodb-exporter`: a drop-in for Percona's mongodb_exporter. Same flags
//! (`--mongodb.uri`, `--collector.diagnosticdata`…, `--collect-all`, `--compatible-mode`,
//! `--discovering-mode`), same generic names and labels; `/metrics` for the first URI and
//! `/scrape?target=host:port` for any configured one.

#![forbid(unsafe_code)]

mod collectors;
mod target;

use std::sync::Arc;
use std::time::Duration;

use clap::{Arg, ArgAction, ArgMatches, Command};
use vigie_kit::{Exporter, ScrapeNames, Secret, Target};

use crate::target::{Conn, Targets};

/// How the kit knows this exporter.
pub const EXPORTER: Exporter = Exporter {
    name: "vigie-mongodb-exporter",
    version: env!("CARGO_PKG_VERSION"),
    about: "MongoDB metrics, with Percona mongodb_exporter's names.",
    default_listen: ":9216",
    build_info: "vigie_mongodb_exporter_build_info",
    scrape_names: ScrapeNames::node_style(
        "vigie_mongodb_collector_success",
        "vigie_mongodb_collector_duration_seconds",
    ),
    path_flags: false,
};

const URI: &str = "mongodb.uri";
const USER: &str = "mongodb.user";
const PASSWORD: &str = "mongodb.password";
const DIRECT: &str = "mongodb.direct-connect";
const GLOBAL_POOL: &str = "mongodb.global-conn-pool";
const CONNECT_TIMEOUT: &str = "mongodb.connect-timeout-ms";
const COLLECT_ALL: &str = "collect-all";
const COMPATIBLE: &str = "compatible-mode";
const DISCOVERING: &str = "discovering-mode";
const COLLSTATS_COLLS: &str = "mongodb.collstats-colls";
const INDEXSTATS_COLLS: &str = "mongodb.indexstats-colls";
const COLLSTATS_LIMIT: &str = "collector.collstats-limit";
const DESC_INDEX: &str = "metrics.overridedescendingindex";
const FREE_STORAGE: &str = "collector.dbstatsfreestorage";
const HISTOGRAMS: &str = "collector.diagnosticdata-histograms";
const PROFILE_TIME_TS: &str = "collector.profile-time-ts";
const CURRENTOP_SLOW: &str = "collector.currentopmetrics-slow-time";
const COLLSTATS_DETAILS: &str = "collector.collstats-enable-details";
const EXPORTER_METRICS: &str = "collector.exporter-metrics";

/// What the collectors read from the flags.
#[derive(Clone, Debug)]
pub struct Options {
    /// `--compatible-mode`.
    pub compatible: bool,
    /// `--discovering-mode` (or `--collect-all` without a collstats list).
    pub discovering: bool,
    /// `--mongodb.direct-connect`.
    pub direct_connect: bool,
    /// `--mongodb.connect-timeout-ms`.
    pub connect_timeout: Duration,
    /// `--mongodb.collstats-colls`.
    pub collstats_colls: Vec<String>,
    /// `--mongodb.indexstats-colls`.
    pub indexstats_colls: Vec<String>,
    /// `--collector.collstats-limit`.
    pub collstats_limit: i64,
    /// `--metrics.overridedescendingindex`.
    pub desc_index: bool,
    /// `--collector.dbstatsfreestorage`.
    pub free_storage: bool,
    /// `--collector.diagnosticdata-histograms`.
    pub histograms: bool,
    /// `--collector.profile-time-ts`, seconds (0: the profile collector writes nothing).
    pub profile_time_ts: u64,
    /// `--collector.currentopmetrics-slow-time` in microseconds; `None` (an empty value):
    /// only the fsync lock state.
    pub currentop_slow_micros: Option<i64>,
    /// `--collector.collstats-enable-details`: keep `storageStats.wiredTiger` and
    /// `.indexDetails`.
    pub collstats_details: bool,
}

/// A Go duration (`5m`, `1h30m`, `250ms`, `1.5s`), as Percona's flag takes it.
pub fn go_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("{s:?} is not a duration like 5m, 90s or 1h30m");
    let mut rest = s.trim();
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total = 0.0_f64;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(bad)?;
        let value: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        total += value * scale;
        rest = &rest[unit_len..];
    }
    Duration::try_from_secs_f64(total).map_err(|_| bad())
}

fn bool_flag(cmd: Command, name: &'static str, default: bool, help: &'static str) -> Command {
    let no: &'static str = Box::leak(format!("no-{name}").into_boxed_str());
    let help: &'static str =
        Box::leak(format!("{help} (default: {}).", if default { "on" } else { "off" }).into_boxed_str());
    cmd.arg(Arg::new(name).long(name).action(ArgAction::SetTrue).overrides_with(no).help(help))
        .arg(Arg::new(no).long(no).action(ArgAction::SetTrue).overrides_with(name).hide(true))
}

fn get_bool(m: &ArgMatches, name: &str, default: bool) -> bool {
    if m.get_flag(name) {
        true
    } else if m.get_flag(&format!("no-{name}")) {
        false
    } else {
        default
    }
}

fn flags(cmd: Command) -> Command {
    let cmd = cmd
        // Percona's spelling of the kit's --web.config.file.
        .mut_arg("config_file", |a| a.alias("web.config"))
        .arg(
            Arg::new(URI)
                .long(URI)
                .env("MONGODB_URI")
                .value_name("URI")
                .action(ArgAction::Append)
                .value_delimiter(',')
                .hide_env_values(true)
                .help("MongoDB connection URI; comma-separated or repeated for several targets (the first serves /metrics)."),
        )
        .arg(Arg::new(USER).long(USER).env("MONGODB_USER").value_name("USER").help("User, when the URI has none."))
        .arg(
            Arg::new(PASSWORD)
                .long(PASSWORD)
                .env("MONGODB_PASSWORD")
                .value_name("PASSWORD")
                .hide_env_values(true)
                .help("Password, when the URI has no user (prefer the MONGODB_PASSWORD environment variable)."),
        )
        .arg(
            Arg::new(CONNECT_TIMEOUT)
                .long(CONNECT_TIMEOUT)
                .value_name("MS")
                .value_parser(clap::value_parser!(u64))
                .default_value("5000")
                .help("Connect and server-selection timeout when the URI sets none."),
        )
        .arg(Arg::new(COLLSTATS_COLLS).long(COLLSTATS_COLLS).value_name("DB.COLL,…").value_delimiter(',').action(ArgAction::Append).help("Collections for collstats."))
        .arg(Arg::new(INDEXSTATS_COLLS).long(INDEXSTATS_COLLS).value_name("DB.COLL,…").value_delimiter(',').action(ArgAction::Append).help("Collections for indexstats."))
        .arg(
            Arg::new(COLLSTATS_LIMIT)
                .long(COLLSTATS_LIMIT)
                .value_name("N")
                .value_parser(clap::value_parser!(i64))
                .default_value("0")
                .help("Skip collstats, indexstats, dbstats and top when there are more collections than this (0: no limit)."),
        )
        .arg(
            Arg::new(PROFILE_TIME_TS)
                .long(PROFILE_TIME_TS)
                .value_name("SECONDS")
                .value_parser(clap::value_parser!(u64))
                .default_value("30")
                .help("profile collector: count system.profile entries of the last SECONDS (0: none)."),
        )
        .arg(
            Arg::new(CURRENTOP_SLOW)
                .long(CURRENTOP_SLOW)
                .value_name("DURATION")
                .default_value("5m")
                .value_parser(|s: &str| if s.is_empty() { Ok(None) } else { go_duration(s).map(Some) })
                .help("currentopmetrics collector: operations running longer than this get mongodb_currentop_query_uptime (empty: none)."),
        )
        .arg(
            Arg::new(COLLSTATS_DETAILS)
                .long(COLLSTATS_DETAILS)
                .action(ArgAction::SetTrue)
                .help("collstats collector: keep the WiredTiger and per-index details."),
        )
        // Percona's --[no-]collector.exporter-metrics: the negative form is the kit's
        // --web.disable-exporter-metrics, the positive one the default.
        .mut_arg("disable_exporter_metrics", |a| a.alias("no-collector.exporter-metrics"))
        .arg(Arg::new(EXPORTER_METRICS).long(EXPORTER_METRICS).action(ArgAction::SetTrue).hide(true))
        .arg(Arg::new(COLLECT_ALL).long(COLLECT_ALL).action(ArgAction::SetTrue).help("Enable every collector."));
    let cmd = bool_flag(cmd, DIRECT, true, "Connect to the given server only, not to its replica set");
    let cmd =
        bool_flag(cmd, GLOBAL_POOL, false, "Accepted for compatibility: connections are always kept across scrapes");
    let cmd = bool_flag(cmd, COMPATIBLE, false, "Also give the 0.1x exporter's metric names");
    let cmd = bool_flag(cmd, DISCOVERING, false, "collstats and indexstats discover every collection");
    let cmd = bool_flag(cmd, DESC_INDEX, false, "indexstats key_name: -1 becomes DESC");
    let cmd = bool_flag(cmd, FREE_STORAGE, false, "dbstats also asks for freeStorage");
    bool_flag(cmd, HISTOGRAMS, false, "Keep the histograms in getDiagnosticData")
}

/// Reads the options the collectors share.
pub fn options(m: &ArgMatches) -> Options {
    let list = |name: &str| -> Vec<String> {
        m.get_many::<String>(name).map(|v| v.filter(|s| !s.is_empty()).cloned().collect()).unwrap_or_default()
    };
    let collstats_colls = list(COLLSTATS_COLLS);
    Options {
        compatible: get_bool(m, COMPATIBLE, false),
        discovering: get_bool(m, DISCOVERING, false) || (m.get_flag(COLLECT_ALL) && collstats_colls.is_empty()),
        direct_connect: get_bool(m, DIRECT, true),
        connect_timeout: Duration::from_millis(m.get_one::<u64>(CONNECT_TIMEOUT).copied().unwrap_or(5000)),
        collstats_colls,
        indexstats_colls: list(INDEXSTATS_COLLS),
        collstats_limit: m.get_one::<i64>(COLLSTATS_LIMIT).copied().unwrap_or(0),
        desc_index: get_bool(m, DESC_INDEX, false),
        // --collect-all turns dbstatsfreestorage on too, as Percona's does.
        free_storage: get_bool(m, FREE_STORAGE, false) || m.get_flag(COLLECT_ALL),
        histograms: get_bool(m, HISTOGRAMS, false),
        profile_time_ts: m.get_one::<u64>(PROFILE_TIME_TS).copied().unwrap_or(30),
        currentop_slow_micros: m
            .get_one::<Option<Duration>>(CURRENTOP_SLOW)
            .copied()
            .unwrap_or(Some(Duration::from_secs(300)))
            .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX)),
        collstats_details: m.get_flag(COLLSTATS_DETAILS),
    }
}

fn target(m: &ArgMatches) -> Result<Target<Arc<Conn>>, String> {
    let user = m.get_one::<String>(USER).map(String::as_str);
    let password = m.get_one::<String>(PASSWORD).map(|p| Secret::new(p.clone()));
    let pieces: Vec<String> = m.get_many::<String>(URI).map(|v| v.cloned().collect()).unwrap_or_default();
    let uris: Vec<String> =
        target::join_uri_list(&pieces).iter().map(|u| target::complete_uri(u, user, password.as_ref())).collect();
    if uris.is_empty() {
        return Err(format!("--{URI} (or MONGODB_URI) is required"));
    }
    for u in &uris {
        target::check_scheme(u)?;
    }
    for u in &uris {
        tracing::info!(target = target::host_part(u), "Configured target.");
    }
    let targets = Targets::new(uris, options(m));
    // `up` stays None: mongodb_up carries cluster_role and is written by the general collector.
    Ok(Target { connect: targets.into_connect(), up: None, probe_path: Some("/scrape") })
}

fn main() -> std::process::ExitCode {
    // --collect-all turns every collector on; the registry's defaults are set before the
    // flags are parsed, so look for it first.
    let all = std::env::args().any(|a| a == "--collect-all");
    let registry = collectors::registry()
        .into_iter()
        .map(|r| vigie_kit::Registration { default_enabled: r.default_enabled || all, ..r })
        .collect();
    vigie_kit::run_target(EXPORTER, registry, flags, target)
}
