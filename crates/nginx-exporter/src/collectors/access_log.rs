//! nginx access logs → prometheus-nginxlog-exporter's families (namespace `nginx`):
//! `nginx_http_response_count_total`, `nginx_http_response_size_bytes`,
//! `nginx_http_request_size_bytes`, `nginx_http_response_time_seconds_hist`,
//! `nginx_http_upstream_time_seconds_hist` by `method` and `status` (plus `route` when
//! routes are configured), and `nginx_parse_errors_total`; every one with the file's
//! `service` label.
//!
//! Each `--nginx.access-log` file has a thread that follows it (`tail.rs`), parses lines
//! (`format.rs`) and adds them up (`stats.rs`); a scrape only copies the totals. The
//! children: `flags.rs` (settings), `format.rs` (log_format → parser), `tail.rs` (rotation),
//! `stats.rs` (totals).

pub mod flags;
pub mod format;
pub mod stats;
pub mod tail;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use vigie_kit::{BoxFuture, CollectError, CollectResult, Collector, Kind, MetricSet, Registration, Scrape};

use self::flags::{Settings, Source};
use self::format::Var;
use self::stats::{Histogram, Route, Stats};
use self::tail::{Follower, Line, Progress};
use crate::target::Scope;


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
    args: flags::args,
    build: |m| Ok(Box::new(AccessLog::start(&Settings::from_matches(m)?))),
};

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
