//! `vigie-kit`: what every Vigie exporter stands on, so that an exporter is only its
//! collectors.
//!
//! An exporter's `main` is `vigie_kit::run(Exporter { … }, collectors::registry())`. The kit
//! gives it the Prometheus exporter flags (`--web.listen-address`, `--web.config.file`,
//! `--log.level`, `--[no-]collector.<name>`…), a hyper server with TLS and basic auth from
//! exporter-toolkit's `web-config.yml`, `/metrics` (text format 0.0.4, gzip when asked), a
//! landing page, `/-/healthy` and `/-/ready`, per-collector success and duration families,
//! `<ns>_exporter_build_info`, the `process_*` families and a clean stop on SIGTERM/SIGINT.
//!
//! Pieces for exporters with a target (a database, a daemon) are public too: the encoder
//! ([`exposition`]), the scrape loop ([`scheduler::run`]), the server ([`server`], which holds
//! under a connection flood: [`slots`]) and the YAML loader ([`config`]).
//!
//! # How to add a collector
//!
//! A collector is one file and one line. In `crates/<exporter>/src/collectors/<name>.rs`:
//! its `//!` doc (what it reads, whose names it writes), its `Desc` constants, a type that
//! implements [`SyncCollector`] (a few quick reads) or [`Collector`] (it awaits: a query, a
//! socket), a `pub const REG: Registration` (name, help, flags, build), and its tests on a
//! captured literal. Then add `<name>: on` (or `off`) to the exporter's `collectors!` list in
//! `collectors.rs`: the macro writes the `mod` line and the registry, and gives the collector
//! its `--[no-]collector.<name>` flag and its `collector="<name>"` success and duration
//! samples. Read files through the [`Scrape`] (`cx.read(cx.paths.proc("loadavg"))`,
//! `cx.read_optional(..)` for a subsystem the host may lack, `cx.read_dir(..)`), never with
//! a literal `/proc`. The [`collector`] module's doc holds a whole collector to copy; the
//! kit's README says the same with the exporter's side.

#![deny(missing_docs)]

pub mod collector;
pub mod config;
pub mod engine;
pub mod exposition;
pub mod fasthash;
pub mod flags;
pub mod handler;
pub mod log;
pub mod parse;
pub mod process;
pub mod scheduler;
pub mod scrape;
pub mod secret;
pub mod server;
pub mod slots;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod web_config;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args as _, FromArgMatches as _};

pub use collector::{BoxFuture, CollectError, CollectResult, Collector, Registration, SyncCollector};
pub use engine::Engine;
pub use exposition::{Declared, Desc, Family, Kind, LabelPair, LabelValue, Labels, MetricSet};
pub use handler::{deadline, exporter_metrics, metrics_handler, query_pairs};
pub use scheduler::{Enabled, ScrapeNames};
pub use scrape::{blocking, Missing, Paths, Scrape};
pub use secret::Secret;

/// Git revision this binary was built from.
pub const REVISION: &str = env!("VIGIE_REVISION");
/// rustc version this binary was built with.
pub const RUSTC: &str = env!("VIGIE_RUSTC");

/// The text format's content type.
pub const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What an exporter tells the kit about itself.
#[derive(Clone, Debug)]
pub struct Exporter {
    /// Binary name, e.g. `vigie-host-exporter`.
    pub name: &'static str,
    /// `env!("CARGO_PKG_VERSION")`.
    pub version: &'static str,
    /// One line for `--help` and the landing page.
    pub about: &'static str,
    /// Default `--web.listen-address`, e.g. `:9100`.
    pub default_listen: &'static str,
    /// The build info family, e.g. `node_exporter_build_info`.
    pub build_info: &'static str,
    /// Names of the per-collector families.
    pub scrape_names: ScrapeNames,
    /// Whether the exporter takes `--path.procfs`/`--path.sysfs`/`--path.rootfs`.
    pub path_flags: bool,
}

impl Exporter {
    /// `--version` text.
    pub fn version_text(&self) -> String {
        format!("{}, version {} (revision: {})\n  rustc: {}", self.name, self.version, REVISION, RUSTC)
    }

    /// The full command line: the kit's flags plus every collector's.
    pub fn command<T>(&self, registry: &[Registration<T>]) -> clap::Command {
        let cmd = clap::Command::new(self.name)
            .disable_version_flag(true)
            .arg(clap::Arg::new("version").long("version").action(clap::ArgAction::SetTrue).help("Show version."));
        let cmd = flags::WebArgs::augment_args(cmd).mut_arg("listen", |a| a.default_value(self.default_listen));
        let mut cmd = flags::LogArgs::augment_args(cmd);
        if self.path_flags {
            cmd = flags::PathArgs::augment_args(cmd);
        }
        // Set last: flattened argument groups would otherwise take over the about text.
        flags::with_collector_flags(cmd, registry, self.scrape_names.flag).about(self.about)
    }
}

/// Parsed command line.
pub struct Settings<T = ()> {
    /// `--web.*`.
    pub web: flags::WebArgs,
    /// `--log.*`.
    pub log: flags::LogArgs,
    /// `--path.*`.
    pub paths: Paths,
    /// The enabled collectors, built.
    pub collectors: Vec<Enabled<T>>,
}

/// Parses `args` (the first is the program name) against the kit's flags, the collectors'
/// and the exporter's own (`extra`). Returns the settings and the matches (for the
/// exporter's own flags). `Err` is clap's error, ready for `exit()`: help (exit 0), a bad
/// flag or a collector that refused its flags (exit 2). `--version` prints and exits 0.
pub fn settings_with<T>(
    exporter: &Exporter,
    registry: Vec<Registration<T>>,
    extra: fn(clap::Command) -> clap::Command,
    args: Vec<String>,
) -> Result<(Settings<T>, clap::ArgMatches), clap::Error> {
    let mut cmd = extra(exporter.command(&registry));
    let matches = cmd.try_get_matches_from_mut(args)?;
    if matches.get_flag("version") {
        println!("{}", exporter.version_text());
        std::process::exit(0);
    }
    let web = flags::WebArgs::from_arg_matches(&matches)?;
    let log = flags::LogArgs::from_arg_matches(&matches)?;
    let paths =
        if exporter.path_flags { flags::PathArgs::from_arg_matches(&matches)?.paths() } else { Paths::default() };
    let names = &exporter.scrape_names;
    let collectors = flags::enabled_collectors_with(&matches, registry, names.flag, names.label_prefix)
        .map_err(|e| cmd.error(clap::error::ErrorKind::InvalidValue, e))?;
    Ok((Settings { web, log, paths, collectors }, matches))
}

/// [`settings_with`] for an exporter with no flags of its own.
pub fn settings(exporter: &Exporter, registry: Vec<Registration>, args: Vec<String>) -> Result<Settings, clap::Error> {
    settings_with(exporter, registry, |c| c, args).map(|(s, _)| s)
}

/// Runs a target-less exporter (the host exporter) until SIGTERM/SIGINT.
pub fn run(exporter: Exporter, registry: Vec<Registration>) -> ExitCode {
    run_target(exporter, registry, |c| c, |_| Ok(Target::none()))
}

/// Runs an exporter until SIGTERM/SIGINT: parses the flags (the exporter's own through
/// `extra`), builds its [`Target`] from the matches with `make`, serves.
pub fn run_target<T: Send + Sync + 'static>(
    exporter: Exporter,
    registry: Vec<Registration<T>>,
    extra: fn(clap::Command) -> clap::Command,
    make: impl FnOnce(&clap::ArgMatches) -> Result<Target<T>, String>,
) -> ExitCode {
    let (settings, matches) = match settings_with(&exporter, registry, extra, std::env::args().collect()) {
        Ok(s) => s,
        // Help exits 0, anything else 2, as clap decides.
        Err(e) => e.exit(),
    };
    log::init(settings.log.level, settings.log.format);
    let target = match make(&matches) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(err = %e, "Invalid configuration.");
            return ExitCode::from(2);
        }
    };
    // The server runs on a thread of its own; this (main) thread runs the sync collectors.
    // The collectors' allocations then reuse the main malloc arena, which start-up (flag
    // parsing) has already grown and freed, instead of growing a second one.
    let engine = Arc::new(Engine::new(Arc::new(settings.paths.clone())));
    let mut server = None;
    let collector_engine = engine.clone();
    collector_engine.collect_on_this_thread(|| {
        let spawned = std::thread::Builder::new().name("server".into()).spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(err = %e, "Cannot start the runtime.");
                    std::process::exit(1);
                }
            };
            let served = runtime.block_on(serve(exporter, settings, target, engine, server::shutdown_signal()));
            // A collector stuck in a read holds a thread (maybe this process's main
            // thread): don't wait for it, exit from here.
            runtime.shutdown_timeout(Duration::from_secs(1));
            match served {
                Ok(()) => std::process::exit(0),
                Err(e) => {
                    tracing::error!(err = %e, "Exiting.");
                    std::process::exit(1);
                }
            }
        });
        match spawned {
            Ok(handle) => server = Some(handle),
            Err(e) => {
                tracing::error!(err = %e, "Cannot start the server thread.");
                std::process::exit(1);
            }
        }
    });
    // Reached only when a stuck collector made another thread the collector thread: wait
    // for the server, which exits the process.
    if let Some(server) = server {
        let _ = server.join();
    }
    ExitCode::FAILURE
}

/// The query parameters of a `/probe?target=…&auth_module=…` request.
#[derive(Clone, Debug, Default)]
pub struct Probe {
    /// Every query pair, decoded.
    pub params: Vec<(String, String)>,
}

impl Probe {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Opens (or re-uses) what collectors need for one scrape: a connection, a client. `probe` is
/// `None` for `/metrics` (the configured default target) and the query for `/probe`. An `Err`
/// says why there is no target: see [`TargetError`].
pub type Connect<T> = Arc<dyn Fn(Option<Probe>, Instant) -> BoxFuture<'static, Result<T, TargetError>> + Send + Sync>;

/// Why [`Connect`] gave no target. The two cases answer differently, so they are told apart
/// by kind, never by the text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// The target is down or refused us: `*_up 0`, logged, and no collector runs.
    #[error("{0}")]
    Down(String),
    /// A probe names a target the exporter does not know (Percona's mongodb_exporter answers
    /// `/scrape?target=` with 404 for one): `404 Not Found` with this reason.
    #[error("{0}")]
    Unknown(String),
}

impl From<String> for TargetError {
    /// A plain message is a down target, the common case (`?` on a connection error).
    fn from(reason: String) -> TargetError {
        TargetError::Down(reason)
    }
}

impl From<&str> for TargetError {
    fn from(reason: &str) -> TargetError {
        TargetError::Down(reason.to_owned())
    }
}

/// How an exporter reaches what it watches.
pub struct Target<T> {
    /// Opens the per-scrape target.
    pub connect: Connect<T>,
    /// `mysql_up`, `mongodb_up`…: 1 when `connect` succeeded. `None`: no such family.
    pub up: Option<&'static Desc>,
    /// Path of the multi-target endpoint (`/probe`, `/scrape`), if any.
    pub probe_path: Option<&'static str>,
}

impl Target<()> {
    /// No target: the host itself.
    pub fn none() -> Target<()> {
        Target { connect: Arc::new(|_, _| Box::pin(async { Ok(()) })), up: None, probe_path: None }
    }
}

/// Loads the web config, binds, logs the enabled collectors and serves until `shutdown`;
/// the scrapes keep their state between them in `engine`.
pub async fn serve<T: Send + Sync + 'static>(
    exporter: Exporter,
    settings: Settings<T>,
    target: Target<T>,
    engine: Arc<Engine>,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), String> {
    let web = match &settings.web.config_file {
        Some(path) => web_config::Web::load(path).map_err(|e| e.to_string())?,
        None => web_config::Web::plain(),
    };
    let listeners = server::Listeners::bind(&settings.web.listen).await.map_err(|e| e.to_string())?;
    tracing::info!(version = exporter.version, revision = REVISION, "Starting {}.", exporter.name);
    let names: Vec<&str> = settings.collectors.iter().map(|c| c.name).collect();
    tracing::info!(collectors = names.join(","), "Enabled collectors.");
    let handler = metrics_handler(exporter, settings, target, engine);
    listeners.serve(Arc::new(web), handler, shutdown).await;
    Ok(())
}
