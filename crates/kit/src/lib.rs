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
//! ([`exposition`]), the scrape loop ([`collector::run`]), the server ([`server`], which holds
//! under a connection flood: [`slots`]) and the YAML loader ([`config`]).

#![deny(missing_docs)]

pub mod collector;
pub mod config;
pub mod exposition;
pub mod fasthash;
pub mod flags;
pub mod log;
pub mod parse;
pub mod process;
pub mod secret;
pub mod server;
pub mod slots;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod web_config;

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::{Args as _, FromArgMatches as _};
use hyper::{Method, Request, Response, StatusCode};

pub use collector::{
    blocking, BoxFuture, CollectError, CollectResult, Collector, Enabled, Missing, Paths, Registration, Scrape,
    ScrapeNames, SyncCollector,
};
pub use exposition::{Desc, Family, Kind, LabelPair, LabelValue, Labels, MetricSet};
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
    let mut server = None;
    collector::collect_on_this_thread(|| {
        let spawned = std::thread::Builder::new().name("server".into()).spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(err = %e, "Cannot start the runtime.");
                    std::process::exit(1);
                }
            };
            let served = runtime.block_on(serve(exporter, settings, target, server::shutdown_signal()));
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
/// is the reason the target is down: `*_up 0`, logged, and no collector runs.
pub type Connect<T> = Arc<dyn Fn(Option<Probe>, Instant) -> BoxFuture<'static, Result<T, String>> + Send + Sync>;

/// A [`Connect`] error for a probe target the exporter does not know (Percona's
/// mongodb_exporter answers `/scrape?target=` with 404 for one): the kit then answers
/// `404 Not Found` with `reason`, where any other error gives `*_up 0`.
pub fn unknown_target(reason: impl std::fmt::Display) -> String {
    format!("{UNKNOWN_TARGET}{reason}")
}

/// Marks an [`unknown_target`] error; no real error message starts with a NUL.
const UNKNOWN_TARGET: &str = "\0unknown target\0";

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

/// Loads the web config, binds, logs the enabled collectors and serves until `shutdown`.
pub async fn serve<T: Send + Sync + 'static>(
    exporter: Exporter,
    settings: Settings<T>,
    target: Target<T>,
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
    let handler = metrics_handler(exporter, settings, target);
    listeners.serve(Arc::new(web), handler, shutdown).await;
    Ok(())
}

struct State<T> {
    exporter: Exporter,
    web: flags::WebArgs,
    paths: Arc<Paths>,
    collectors: Arc<Vec<Enabled<T>>>,
    target: Target<T>,
    in_flight: Option<tokio::sync::Semaphore>,
    /// The last connect failed: log the next failure at debug only.
    down: std::sync::atomic::AtomicBool,
}

/// The request handler: `/metrics`, the probe path, `/`, `/-/healthy`, `/-/ready`.
pub fn metrics_handler<T: Send + Sync + 'static>(
    exporter: Exporter,
    settings: Settings<T>,
    target: Target<T>,
) -> server::Handler {
    let max = settings.web.max_requests;
    let state = Arc::new(State {
        exporter,
        paths: Arc::new(settings.paths),
        collectors: Arc::new(settings.collectors),
        target,
        in_flight: (max > 0).then(|| tokio::sync::Semaphore::new(max)),
        web: settings.web,
        down: std::sync::atomic::AtomicBool::new(false),
    });
    Arc::new(move |req| {
        let state = state.clone();
        Box::pin(async move { route(&state, req).await })
    })
}

const PLAIN: &str = "text/plain; charset=utf-8";

async fn route<T: Send + Sync + 'static>(
    state: &State<T>,
    req: Request<hyper::body::Incoming>,
) -> Response<server::Body> {
    let path = req.uri().path();
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return server::text(StatusCode::METHOD_NOT_ALLOWED, PLAIN, "Only GET and HEAD.\n");
    }
    let probe = if path == state.web.telemetry_path {
        None
    } else if Some(path) == state.target.probe_path {
        let probe = Probe { params: query_pairs(req.uri().query().unwrap_or("")) };
        if probe.get("target").is_none_or(str::is_empty) {
            return server::text(StatusCode::BAD_REQUEST, PLAIN, "target parameter is missing\n");
        }
        Some(probe)
    } else {
        return match path {
            "/" => server::text(
                StatusCode::OK,
                "text/html; charset=utf-8",
                landing_page(&state.exporter, &state.web.telemetry_path, state.target.probe_path),
            ),
            "/-/healthy" | "/-/ready" => server::text(StatusCode::OK, PLAIN, "OK\n"),
            _ => server::text(StatusCode::NOT_FOUND, PLAIN, "404 page not found\n"),
        };
    };
    let _permit = match &state.in_flight {
        Some(s) => match s.try_acquire() {
            Ok(p) => Some(p),
            Err(_) => return server::text(StatusCode::SERVICE_UNAVAILABLE, PLAIN, "Too many scrapes at once.\n"),
        },
        None => None,
    };
    metrics(state, &req, probe).await
}

/// The deadline of a scrape: Prometheus' `X-Prometheus-Scrape-Timeout-Seconds` minus the
/// offset, else `--scrape.timeout`.
pub fn deadline(headers: &hyper::HeaderMap, web: &flags::WebArgs) -> Instant {
    let from_header = headers
        .get("x-prometheus-scrape-timeout-seconds")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(|s| Duration::from_secs_f64(s).saturating_sub(web.timeout_offset).max(Duration::from_millis(100)));
    Instant::now() + from_header.unwrap_or(web.scrape_timeout)
}

async fn metrics<T: Send + Sync + 'static>(
    state: &State<T>,
    req: &Request<hyper::body::Incoming>,
    probe: Option<Probe>,
) -> Response<server::Body> {
    let deadline = deadline(req.headers(), &state.web);
    let is_probe = probe.is_some();
    // node_exporter's `collect[]=cpu&collect[]=meminfo` and `exclude[]=…` filters.
    let (mut include, mut exclude) = (Vec::new(), Vec::new());
    for (k, v) in query_pairs(req.uri().query().unwrap_or("")) {
        match k.as_str() {
            "collect[]" => include.push(v),
            "exclude[]" => exclude.push(v),
            _ => {}
        }
    }
    for name in include.iter().chain(&exclude) {
        if !state.collectors.iter().any(|c| c.name == name) {
            return server::text(
                StatusCode::BAD_REQUEST,
                PLAIN,
                format!("Couldn't create filtered metrics handler: missing collector: {name}\n"),
            );
        }
    }
    let target_name = probe.as_ref().and_then(|p| p.get("target")).unwrap_or("").to_owned();
    let connected = match tokio::time::timeout_at(deadline.into(), (state.target.connect)(probe, deadline)).await {
        Ok(r) => r,
        Err(_) => Err("timed out connecting".to_owned()),
    };
    let mut set = match connected {
        Ok(conn) => {
            if state.down.swap(false, std::sync::atomic::Ordering::Relaxed) {
                tracing::info!(target = %target_name, "Target is up again.");
            }
            let cx = Arc::new(Scrape::new(deadline, state.paths.clone(), conn));
            let pick = |c: &Enabled<T>| {
                (include.is_empty() || include.iter().any(|n| n == c.name)) && !exclude.iter().any(|n| n == c.name)
            };
            let mut set = collector::run(&state.collectors, pick, cx, &state.exporter.scrape_names).await;
            if let Some(up) = state.target.up {
                set.add(up, &[], 1.0);
            }
            set
        }
        Err(reason) if is_probe && reason.starts_with(UNKNOWN_TARGET) => {
            let reason = &reason[UNKNOWN_TARGET.len()..];
            tracing::debug!(target = %target_name, err = %reason, "Unknown probe target.");
            return server::text(StatusCode::NOT_FOUND, PLAIN, format!("{reason}\n"));
        }
        Err(reason) => {
            if state.down.swap(true, std::sync::atomic::Ordering::Relaxed) {
                tracing::debug!(target = %target_name, err = %reason, "Target still down.");
            } else {
                tracing::error!(target = %target_name, err = %reason, "Target is down.");
            }
            let mut set = MetricSet::new();
            if let Some(up) = state.target.up {
                set.add(up, &[], 0.0);
            }
            set
        }
    };
    if !state.web.disable_exporter_metrics && !is_probe {
        exporter_metrics(&state.exporter, &mut set);
    }
    let body = set.encode_bytes();
    let gzip = req
        .headers()
        .get(hyper::header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().split(';').next() == Some("gzip")));
    if gzip {
        let mut enc = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 4), flate2::Compression::fast());
        if enc.write_all(&body).is_ok() {
            if let Ok(zipped) = enc.finish() {
                let mut r = server::text(StatusCode::OK, TEXT_FORMAT, Bytes::from(zipped));
                r.headers_mut()
                    .insert(hyper::header::CONTENT_ENCODING, hyper::header::HeaderValue::from_static("gzip"));
                return r;
            }
        }
    }
    server::text(StatusCode::OK, TEXT_FORMAT, body)
}

/// `<ns>_exporter_build_info` and `process_*`.
pub fn exporter_metrics(exporter: &Exporter, out: &mut MetricSet) {
    let info = out.family(
        exporter.build_info,
        "A metric with a constant '1' value labeled by version, revision, and rustc from which the exporter was built.",
        Kind::Gauge,
    );
    info.push(&[("version", exporter.version), ("revision", REVISION), ("rustc", RUSTC)], 1.0);
    // A target that reports its own process (a JVM through JMX) keeps the process_* names.
    if !out.contains("process_cpu_seconds_total") {
        process::collect(out);
    }
}

/// Decodes `a=1&b=%20x` into pairs (`+` is a space).
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn landing_page(exporter: &Exporter, telemetry: &str, probe: Option<&str>) -> String {
    let (name, about, path) = (html_escape(exporter.name), html_escape(exporter.about), html_escape(telemetry));
    let probe = probe
        .map(|p| {
            format!("<li><a href=\"{0}?target=\">{0}</a> (multi-target: <code>?target=…</code>)</li>\n", html_escape(p))
        })
        .unwrap_or_default();
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{name}</title></head>\n<body>\n<h1>{name}</h1>\n<p>{about}</p>\n<p>Version {} (revision {})</p>\n<ul>\n<li><a href=\"{path}\">Metrics</a></li>\n{probe}<li><a href=\"/-/healthy\">Health</a></li>\n</ul>\n</body></html>\n",
        html_escape(exporter.version),
        html_escape(REVISION)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_pairs_decode() {
        let q = query_pairs("collect[]=cpu&collect%5B%5D=mem+info&x&bad=%zz&end=%4");
        assert_eq!(q[0], ("collect[]".into(), "cpu".into()));
        assert_eq!(q[1], ("collect[]".into(), "mem info".into()));
        assert_eq!(q[2], ("x".into(), "".into()));
        assert_eq!(q[3], ("bad".into(), "%zz".into()));
        assert_eq!(q[4], ("end".into(), "%4".into()));
    }

    const UP: Desc = Desc::gauge("t_up", "Whether the target answered.", &[]);
    const SEEN: Desc = Desc::gauge("t_seen", "The target a collector saw.", &["target"]);

    struct Echo;
    impl SyncCollector<String> for Echo {
        fn collect_sync(&self, cx: &Scrape<String>, out: &mut MetricSet) -> CollectResult {
            out.add(&SEEN, &[&cx.target], 1.0);
            Ok(())
        }
    }

    fn get(addr: std::net::SocketAddr, path: &str) -> String {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn targets_up_down_and_probe() {
        let exporter = Exporter {
            name: "t",
            version: "1",
            about: "t",
            default_listen: "127.0.0.1:0",
            build_info: "t_build_info",
            scrape_names: ScrapeNames::node_style("t_collector_success", "t_collector_duration_seconds"),
            path_flags: false,
        };
        let reg = Registration::<String> {
            name: "echo",
            default_enabled: true,
            help: "Echoes the target.",
            args: collector::no_args,
            build: |_| Ok(Box::new(Echo)),
        };
        let (settings, _) = settings_with(&exporter, vec![reg], |c| c, vec!["t".into()]).unwrap();
        let target = Target::<String> {
            connect: Arc::new(|probe, _| {
                Box::pin(async move {
                    match probe.as_ref().and_then(|p| p.get("target")) {
                        Some("down:1") => Err("connection refused".to_owned()),
                        Some("stranger:1") => Err(unknown_target("Unable to find target")),
                        Some(t) => Ok(t.to_owned()),
                        None => Ok("default".to_owned()),
                    }
                })
            }),
            up: Some(&UP),
            probe_path: Some("/probe"),
        };
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let listeners = rt.block_on(server::Listeners::bind(&["127.0.0.1:0".to_owned()])).unwrap();
        let addr = listeners.local_addrs()[0];
        let handler = metrics_handler(exporter, settings, target);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = std::thread::spawn(move || {
            rt.block_on(listeners.serve(Arc::new(web_config::Web::plain()), handler, async {
                let _ = stop_rx.await;
            }))
        });
        let metrics = get(addr, "/metrics");
        assert!(metrics.contains("t_up 1\n") && metrics.contains("t_seen{target=\"default\"} 1"), "{metrics}");
        assert!(metrics.contains("process_cpu_seconds_total"), "{metrics}");
        let probe = get(addr, "/probe?target=db%3A3306");
        assert!(probe.contains("t_seen{target=\"db:3306\"} 1") && probe.contains("t_up 1\n"), "{probe}");
        assert!(!probe.contains("process_cpu_seconds_total"), "probes carry no exporter metrics: {probe}");
        let down = get(addr, "/probe?target=down:1");
        assert!(down.contains("t_up 0\n") && !down.contains("t_seen"), "{down}");
        let stranger = get(addr, "/probe?target=stranger:1");
        assert!(stranger.starts_with("HTTP/1.1 404") && stranger.contains("Unable to find target"), "{stranger}");
        let missing = get(addr, "/probe");
        assert!(missing.starts_with("HTTP/1.1 400") && missing.contains("target parameter is missing"), "{missing}");
        assert!(get(addr, "/nope").starts_with("HTTP/1.1 404"));
        assert!(get(addr, "/-/ready").starts_with("HTTP/1.1 200"));
        stop_tx.send(()).unwrap();
        server.join().unwrap();
    }

    #[test]
    fn deadline_follows_prometheus_timeout_header() {
        use clap::Parser as _;
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            web: flags::WebArgs,
        }
        let web = Cli::parse_from(["x", "--scrape.timeout=1h", "--scrape.timeout-offset=500ms"]).web;
        let left = |value: &str| {
            let mut h = hyper::HeaderMap::new();
            h.insert("x-prometheus-scrape-timeout-seconds", value.parse().unwrap());
            deadline(&h, &web).saturating_duration_since(Instant::now())
        };
        // 10 s header minus the 0.5 s offset; a bad header falls back to --scrape.timeout.
        let ten = left("10");
        assert!(ten <= Duration::from_millis(9_500) && ten > Duration::from_secs(9), "{ten:?}");
        assert!(left("nonsense") > Duration::from_secs(3_500));
        assert!(left("-3") > Duration::from_secs(3_500));
        // Never below the 100 ms floor, even when the offset exceeds the header.
        let tiny = left("0.2");
        assert!(tiny <= Duration::from_millis(100) && tiny > Duration::from_millis(50), "{tiny:?}");
    }

    #[test]
    fn prefixed_collector_flags_and_labels() {
        let exporter = Exporter {
            name: "t",
            version: "1",
            about: "t",
            default_listen: "127.0.0.1:0",
            build_info: "t_build_info",
            scrape_names: ScrapeNames::node_style("t_success", "t_duration_seconds").prefixed("collect", "collect."),
            path_flags: false,
        };
        let reg = || Registration::<String> {
            name: "echo",
            default_enabled: true,
            help: "Echoes the target.",
            args: collector::no_args,
            build: |_| Ok(Box::new(Echo)),
        };
        let (on, _) = settings_with(&exporter, vec![reg()], |c| c, vec!["t".into()]).unwrap();
        assert_eq!(on.collectors.len(), 1);
        assert_eq!((on.collectors[0].name, on.collectors[0].label), ("echo", "collect.echo"));
        let (off, _) =
            settings_with(&exporter, vec![reg()], |c| c, vec!["t".into(), "--no-collect.echo".into()]).unwrap();
        assert!(off.collectors.is_empty());
        assert!(settings_with(&exporter, vec![reg()], |c| c, vec!["t".into(), "--collector.echo".into()]).is_err());
    }

    #[test]
    fn landing_page_escapes() {
        let e = Exporter {
            name: "x<y",
            version: "1",
            about: "a&b",
            default_listen: ":1",
            build_info: "x_build_info",
            scrape_names: ScrapeNames::node_style("a", "b"),
            path_flags: false,
        };
        let page = landing_page(&e, "/metrics\"", Some("/probe"));
        assert!(page.contains("x&lt;y") && page.contains("a&amp;b") && page.contains("/metrics&quot;"));
        assert!(page.contains("href=\"/probe?target=\""));
    }
}
