//! The HTTP side of an exporter: `/metrics`, the probe path (`/probe?target=…`), the landing
//! page and `/-/healthy`, `/-/ready`. A scrape connects the target (`*_up`), runs the
//! collectors through [`crate::scheduler::run`] within the deadline Prometheus' timeout header
//! gives, adds the exporter's own families and answers the text, gzipped when asked.

use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::{Method, Request, Response, StatusCode};

use crate::exposition::{Kind, MetricSet};
use crate::scheduler::{self, Enabled};
use crate::{
    flags, process, server, Engine, Exporter, Probe, Settings, Target, TargetError, REVISION, RUSTC, TEXT_FORMAT,
};

struct State<T> {
    exporter: Exporter,
    web: flags::WebArgs,
    engine: Arc<Engine>,
    collectors: Arc<Vec<Enabled<T>>>,
    target: Target<T>,
    in_flight: Option<tokio::sync::Semaphore>,
    /// The last connect failed: log the next failure at debug only.
    down: std::sync::atomic::AtomicBool,
}

/// The request handler: `/metrics`, the probe path, `/`, `/-/healthy`, `/-/ready`. `engine`
/// must read `settings.paths`.
pub fn metrics_handler<T: Send + Sync + 'static>(
    exporter: Exporter,
    settings: Settings<T>,
    target: Target<T>,
    engine: Arc<Engine>,
) -> server::Handler {
    let max = settings.web.max_requests;
    let state = Arc::new(State {
        exporter,
        engine,
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
        Err(_) => Err(TargetError::Down("timed out connecting".to_owned())),
    };
    let mut set = match connected {
        Ok(conn) => {
            if state.down.swap(false, std::sync::atomic::Ordering::Relaxed) {
                tracing::info!(target = %target_name, "Target is up again.");
            }
            let cx = Arc::new(state.engine.scrape(deadline, conn));
            let pick = |c: &Enabled<T>| {
                (include.is_empty() || include.iter().any(|n| n == c.name)) && !exclude.iter().any(|n| n == c.name)
            };
            let mut set = scheduler::run(&state.collectors, pick, cx, &state.exporter.scrape_names).await;
            if let Some(up) = state.target.up {
                set.add(up, &[], 1.0);
            }
            set
        }
        Err(TargetError::Unknown(reason)) if is_probe => {
            tracing::debug!(target = %target_name, err = %reason, "Unknown probe target.");
            return server::text(StatusCode::NOT_FOUND, PLAIN, format!("{reason}\n"));
        }
        Err(TargetError::Down(reason) | TargetError::Unknown(reason)) => {
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
    let body = state.engine.encode(set, is_probe.then_some(target_name.as_str()));
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
mod tests;
