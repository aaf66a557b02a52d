//! nginx access logs → prometheus-nginxlog-exporter's families (namespace `nginx`):
//! `nginx_http_response_count_total`, `nginx_http_response_size_bytes`,
//! `nginx_http_request_size_bytes`, `nginx_http_response_time_seconds_hist`,
//! `nginx_http_upstream_time_seconds_hist` by `method` and `status` (plus `route` when
//! routes are configured), and `nginx_parse_errors_total`; every one with the file's
//! `service` label.
//!
//! Each `--nginx.access-log` file has a thread that follows it (`tail.rs`), parses lines
//! (`format.rs`) and adds them up (`stats.rs`); a scrape only copies the totals. The
//! children: `format.rs` (log_format → parser), `tail.rs` (rotation), `stats.rs` (totals).

pub mod format;
pub mod stats;
pub mod tail;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Arg, ArgAction, ArgMatches};
use vigie_kit::{BoxFuture, CollectError, CollectResult, Collector, Kind, MetricSet, Registration, Scrape};

use self::format::{Format, Var};
use self::stats::{Histogram, Route, Stats};
use self::tail::{Follower, Line, Progress};
use crate::target::Scope;

const LOG: &str = "nginx.access-log";
const FORMAT: &str = "nginx.access-log.format";
const ROUTE: &str = "nginx.access-log.route";
const BUCKETS: &str = "nginx.access-log.buckets";
const FROM_START: &str = "nginx.access-log.from-start";
const POLL: &str = "nginx.access-log.poll-interval";
const STATUS: &str = "nginx.access-log.status";

/// Bytes a tail thread parses while holding its file's totals: about a millisecond, the
/// longest a scrape waits for them.
const BUDGET: usize = 1 << 20;

/// How often a malformed line is logged, at most.
const LOG_EVERY: Duration = Duration::from_secs(60);

/// The registration.
pub const REG: Registration<Scope> = Registration {
    name: "access_log",
    default_enabled: true,
    help: "Requests, statuses, times and bytes from the --nginx.access-log files.",
    args,
    build: |m| Ok(Box::new(AccessLog::start(&Settings::from_matches(m)?))),
};

fn args(cmd: clap::Command) -> clap::Command {
    cmd.arg(
        Arg::new(LOG).long(LOG).value_name("PATH[:service=NAME][:format=NAME]").action(ArgAction::Append).help(
            "Access log to follow (repeatable). service= labels its series (default: the file name without \
             .log); format= is combined, vigie (the default; also reads combined lines) or a name given to \
             --nginx.access-log.format.",
        ),
    )
    .arg(
        Arg::new(FORMAT).long(FORMAT).value_name("NAME=LOG_FORMAT").action(ArgAction::Append).help(
            "A named log_format, as in nginx.conf (e.g. 'timed=$remote_addr [$time_local] \"$request\" $status \
             $body_bytes_sent $request_time').",
        ),
    )
    .arg(Arg::new(ROUTE).long(ROUTE).value_name("PATTERN").action(ArgAction::Append).help(
        "A route for the route label (repeatable): /api/users/* (* is one path segment), /static/** (any \
         rest). Paths matching none are route=\"other\"; without routes there is no route label.",
    ))
    .arg(
        Arg::new(BUCKETS)
            .long(BUCKETS)
            .value_name("SECONDS,…")
            .help("Histogram bounds in seconds (default: .005,.01,.025,.05,.1,.2,.25,.5,1,2.5,5,10)."),
    )
    .arg(
        Arg::new(STATUS)
            .long(STATUS)
            .value_name("code|class")
            .value_parser(["code", "class"])
            .default_value("code")
            .help("The status label: the code (503, as prometheus-nginxlog-exporter) or its class (5xx: fewer series)."),
    )
    .arg(
        Arg::new(FROM_START)
            .long(FROM_START)
            .action(ArgAction::SetTrue)
            .help("Read files already there from their start (default: from their end, as tail -F)."),
    )
    .arg(
        Arg::new(POLL)
            .long(POLL)
            .value_name("DURATION")
            .default_value("250ms")
            .value_parser(vigie_kit::flags::parse_duration)
            .help("How often each file is checked for new lines and rotation."),
    )
}

/// One followed file.
#[derive(Clone, Debug)]
pub struct Source {
    /// The file.
    pub path: PathBuf,
    /// Its `service` label.
    pub service: String,
    /// How its lines are written.
    pub format: Format,
}

/// The collector's settings, from its flags.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The files.
    pub sources: Vec<Source>,
    /// Route patterns, in matching order.
    pub routes: Vec<Route>,
    /// Histogram bounds, ascending.
    pub buckets: Vec<f64>,
    /// Read existing files from their start.
    pub from_start: bool,
    /// Poll interval.
    pub poll: Duration,
    /// Label statuses by class (`5xx`) instead of code.
    pub status_class: bool,
}

impl Settings {
    fn from_matches(m: &ArgMatches) -> Result<Settings, String> {
        let strings = |name: &str| m.get_many::<String>(name).map(|v| v.cloned().collect()).unwrap_or_default();
        let formats: Vec<String> = strings(FORMAT);
        let mut named = Vec::new();
        for f in &formats {
            let (name, text) = f.split_once('=').ok_or_else(|| format!("--{FORMAT} {f:?}: expected NAME=LOG_FORMAT"))?;
            named.push((name.to_owned(), Format::compile(text).map_err(|e| format!("--{FORMAT} {name}: {e}"))?));
        }
        let sources = strings(LOG)
            .iter()
            .map(|spec| parse_source(spec, &named).map_err(|e| format!("--{LOG} {spec:?}: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        let routes = strings(ROUTE).iter().map(|p| Route::parse(p)).collect::<Result<Vec<_>, _>>()?;
        let buckets = match m.get_one::<String>(BUCKETS) {
            Some(text) => parse_buckets(text).map_err(|e| format!("--{BUCKETS} {text:?}: {e}"))?,
            None => stats::DEFAULT_BUCKETS.to_vec(),
        };
        let poll = m.get_one::<Duration>(POLL).copied().unwrap_or(Duration::from_millis(250));
        let status_class = m.get_one::<String>(STATUS).is_some_and(|s| s == "class");
        Ok(Settings { sources, routes, buckets, from_start: m.get_flag(FROM_START), poll, status_class })
    }
}

/// `PATH[:service=NAME][:format=NAME]`; options come last, so a path may hold a `:`.
pub fn parse_source(spec: &str, named: &[(String, Format)]) -> Result<Source, String> {
    let (mut path, mut service, mut format) = (spec, None, None);
    while let Some((head, opt)) = path.rsplit_once(':') {
        match opt.split_once('=') {
            Some(("service", v)) if !v.is_empty() => service = Some(v.to_owned()),
            Some(("format", v)) => format = Some(v),
            _ => break,
        }
        path = head;
    }
    if path.is_empty() {
        return Err("no path".into());
    }
    let format = match format {
        None | Some("vigie") => Format::vigie(),
        Some("combined") => Format::compile(format::COMBINED).map_err(|e| e.to_string())?,
        Some(name) => named
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, f)| f.clone())
            .ok_or_else(|| format!("unknown format {name:?} (combined, vigie, or one of --{FORMAT})"))?,
    };
    let path = PathBuf::from(path);
    let service = service.unwrap_or_else(|| {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        name.strip_suffix(".log").map(str::to_owned).unwrap_or(name)
    });
    Ok(Source { path, service, format })
}

fn parse_buckets(text: &str) -> Result<Vec<f64>, String> {
    let mut out = Vec::new();
    for part in text.split(',') {
        let v: f64 = part.trim().parse().map_err(|_| format!("{part:?} is not a number"))?;
        if !v.is_finite() || out.last().is_some_and(|last| *last >= v) {
            return Err("bounds must be finite and ascending".into());
        }
        out.push(v);
    }
    Ok(out)
}

/// One file's totals, shared by its tail thread and the scrapes.
struct Followed {
    service: String,
    has_request_length: bool,
    stats: Mutex<Stats>,
}

/// The collector: the followed files' totals.
pub struct AccessLog {
    files: Vec<Arc<Followed>>,
    routes: Arc<Vec<Route>>,
    buckets: Arc<Vec<f64>>,
    status_class: bool,
}

impl AccessLog {
    /// Starts one thread per file and returns the collector that reads their totals.
    pub fn start(settings: &Settings) -> AccessLog {
        let routes = Arc::new(settings.routes.clone());
        let buckets = Arc::new(settings.buckets.clone());
        let mut files = Vec::new();
        for source in &settings.sources {
            let followed = Arc::new(Followed {
                service: source.service.clone(),
                has_request_length: source.format.has(Var::RequestLength),
                stats: Mutex::new(Stats::default()),
            });
            let (f, src, routes, buckets) = (followed.clone(), source.clone(), routes.clone(), buckets.clone());
            let (from_start, poll, class) = (settings.from_start, settings.poll, settings.status_class);
            let spawned = std::thread::Builder::new()
                .name(format!("tail {}", source.service))
                .spawn(move || follow(&src, &f, (&routes, &buckets, class), from_start, poll));
            if let Err(e) = spawned {
                eprintln!("{}: cannot start the tail thread: {e}", source.path.display());
            }
            files.push(followed);
        }
        AccessLog { files, routes, buckets, status_class: settings.status_class }
    }
}

/// The tail thread of one file: forever, read what was appended and add it up.
/// `keys` are the routes, the histogram bounds, and whether statuses are kept by class.
fn follow(src: &Source, shared: &Followed, keys: (&[Route], &[f64], bool), from_start: bool, poll: Duration) {
    let (routes, bounds, by_class) = keys;
    // Collectors are built before the kit installs the log subscriber: wait for it (a few
    // microseconds), or this thread's first messages would be lost.
    for _ in 0..1000 {
        if tracing::dispatcher::has_been_set() {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    tracing::info!(file = %src.path.display(), service = %src.service, "Following access log.");
    let mut follower = Follower::new(src.path.clone(), from_start);
    let mut last_logged: Option<Instant> = None;
    let mut unlogged = 0u64;
    let mut missing_logged = false;
    let mut error_logged = false;
    loop {
        let progress = {
            let Ok(mut stats) = shared.stats.lock() else { return };
            let mut sink = |line: Line<'_>| {
                let excerpt = match line {
                    Line::Full(text) => match src.format.parse(text) {
                        Ok(mut e) => {
                            if by_class {
                                e.status = e.status / 100 * 100;
                            }
                            let route = stats::route_of(routes, e.path);
                            stats.record(&e, route, bounds);
                            return;
                        }
                        Err(why) => format!("{why:?}: {}", String::from_utf8_lossy(&text[..text.len().min(200)])),
                    },
                    Line::Broken => format!("longer than {} bytes or cut by a rotation", tail::MAX_LINE),
                };
                stats.malformed();
                unlogged += 1;
                if last_logged.is_none_or(|t| t.elapsed() >= LOG_EVERY) {
                    tracing::warn!(file = %src.path.display(), lines = unlogged, line = %excerpt, "Malformed access log lines.");
                    last_logged = Some(Instant::now());
                    unlogged = 0;
                }
            };
            follower.poll(BUDGET, &mut sink)
        };
        match progress {
            Ok(Progress::More) => continue,
            Ok(Progress::CaughtUp) => (missing_logged, error_logged) = (false, false),
            Ok(Progress::Missing) => {
                if !std::mem::replace(&mut missing_logged, true) {
                    tracing::warn!(file = %src.path.display(), "Access log not found; waiting for it.");
                }
            }
            Err(e) => {
                if !std::mem::replace(&mut error_logged, true) {
                    tracing::error!(file = %src.path.display(), err = %e, "Cannot read access log.");
                }
            }
        }
        std::thread::sleep(poll);
    }
}

/// The label names of the request families, in value order.
const LABELS: [&str; 4] = ["method", "status", "service", "route"];

// Not a SyncCollector: a scrape only copies totals under a lock held at most about a
// millisecond (BUDGET), so it runs inline rather than paying a hop to the blocking pool.
impl Collector<Scope> for AccessLog {
    fn collect<'a>(&'a self, cx: &'a Scrape<Scope>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move { self.write(cx, out) })
    }
}

impl AccessLog {
    fn write(&self, cx: &Scrape<Scope>, out: &mut MetricSet) -> CollectResult {
        // Logs are this host's: a /probe of another nginx reports none.
        if cx.target.probe {
            return Ok(());
        }
        let labels = if self.routes.is_empty() { &LABELS[..3] } else { &LABELS[..] };
        for file in &self.files {
            let stats = file.stats.lock().map_err(|_| CollectError::Other("access log totals poisoned".into()))?;
            out.family("nginx_parse_errors_total", "Access log lines that could not be read.", Kind::Counter)
                .push(&[("service", &file.service)], stats.parse_errors as f64);
            let mut keys: Vec<_> = stats.series.keys().copied().collect();
            keys.sort_unstable();
            for key in keys {
                let Some(s) = stats.series.get(&key) else { continue };
                let status = match self.status_class {
                    true => format!("{}xx", key.status / 100),
                    false => key.status.to_string(),
                };
                let route = match key.route {
                    0 => stats::OTHER_ROUTE,
                    i => self.routes.get(usize::from(i) - 1).map_or(stats::OTHER_ROUTE, |r| r.pattern.as_str()),
                };
                let values = [key.method.as_str(), status.as_str(), file.service.as_str(), route];
                let pairs: Vec<(&'static str, &str)> = labels.iter().copied().zip(values).collect();
                out.family("nginx_http_response_count_total", "Requests in the access log.", Kind::Counter)
                    .push(&pairs, s.count as f64);
                out.family("nginx_http_response_size_bytes", "Bytes sent to clients.", Kind::Counter)
                    .push(&pairs, s.bytes_sent as f64);
                if file.has_request_length {
                    out.family("nginx_http_request_size_bytes", "Bytes received from clients.", Kind::Counter)
                        .push(&pairs, s.request_bytes as f64);
                }
                histogram(out, "nginx_http_response_time_seconds_hist", RESPONSE_HELP, &pairs, &s.time, &self.buckets);
                histogram(out, "nginx_http_upstream_time_seconds_hist", UPSTREAM_HELP, &pairs, &s.upstream, &self.buckets);
            }
        }
        Ok(())
    }
}

const RESPONSE_HELP: &str = "Time nginx took to answer ($request_time), in seconds.";
const UPSTREAM_HELP: &str = "Time upstream servers took to answer ($upstream_response_time), in seconds.";

fn histogram(
    out: &mut MetricSet,
    name: &'static str,
    help: &'static str,
    pairs: &[(&'static str, &str)],
    h: &Histogram,
    bounds: &[f64],
) {
    if h.count == 0 {
        return;
    }
    let family = out.family(name, help, Kind::Histogram);
    let mut cumulative = 0;
    for (i, bound) in bounds.iter().map(Some).chain([None]).enumerate() {
        cumulative += h.buckets.get(i).copied().unwrap_or(0);
        let mut le = String::new();
        match bound {
            Some(b) => vigie_kit::exposition::write_value(&mut le, *b),
            None => le.push_str("+Inf"),
        }
        let mut labels: Vec<(&'static str, &str)> = pairs.to_vec();
        labels.push(("le", &le));
        family.push_suffixed("_bucket", &labels, cumulative as f64);
    }
    family.push_suffixed("_sum", pairs, h.sum);
    family.push_suffixed("_count", pairs, h.count as f64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_specs() {
        let s = parse_source("/var/log/nginx/api.log", &[]).unwrap();
        assert_eq!((s.path, s.service.as_str()), (PathBuf::from("/var/log/nginx/api.log"), "api"));
        let s = parse_source("/logs/a:b/access.log:service=shop:format=combined", &[]).unwrap();
        assert_eq!((s.path, s.service.as_str()), (PathBuf::from("/logs/a:b/access.log"), "shop"));
        assert!(!s.format.has(Var::RequestTime));
        let named = [("t".to_owned(), Format::compile("$status $request_length").unwrap())];
        assert!(parse_source("x.log:format=t", &named).unwrap().format.has(Var::RequestLength));
        assert!(parse_source("x.log:format=nope", &named).unwrap_err().contains("unknown format \"nope\""));
        assert!(parse_source(":service=x", &[]).is_err());
    }

    #[test]
    fn bucket_flags() {
        assert_eq!(parse_buckets("0.1, 0.2,1").unwrap(), [0.1, 0.2, 1.0]);
        assert!(parse_buckets("0.2,0.1").is_err());
        assert!(parse_buckets("a").is_err());
    }
}
