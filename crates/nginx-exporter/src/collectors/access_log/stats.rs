//! What the access log lines add up to, per file: counts, bytes and time histograms by
//! method, status and route, and the malformed lines. Written by the file's tail thread,
//! read by scrapes; written into families by `access_log.rs`.
//!
//! Label values are bounded by construction: methods are a closed enum, statuses are
//! three digits, and a route is one of the configured patterns (or `other`), never a raw
//! URL taken from a line.

use super::format::{Entry, Method};

/// Default histogram bounds: Prometheus' default buckets plus 0.2 s, the latency objective
/// of issue 21, so that "share of requests ≤ 200 ms" is one bucket.
pub const DEFAULT_BUCKETS: [f64; 12] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The route label of a path no pattern matches.
pub const OTHER_ROUTE: &str = "other";

/// A configured route: `/api/users/*/orders` (`*` is one path segment), `/static/**`
/// (`**`, last, is any rest). Matched against the path without its query string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// The pattern as given: it is the label value.
    pub pattern: String,
    segments: Vec<Segment>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Exact(Vec<u8>),
    One,
    Rest,
}

impl Route {
    /// Parses a pattern; it must start with `/`, and `**` may only be last.
    pub fn parse(pattern: &str) -> Result<Route, String> {
        let Some(body) = pattern.strip_prefix('/') else {
            return Err(format!("route {pattern:?}: must start with '/'"));
        };
        let parts: Vec<&str> = body.split('/').collect();
        let mut segments = Vec::with_capacity(parts.len());
        for (i, p) in parts.iter().enumerate() {
            segments.push(match *p {
                "*" => Segment::One,
                "**" if i + 1 == parts.len() => Segment::Rest,
                "**" => return Err(format!("route {pattern:?}: '**' must be the last segment")),
                s => Segment::Exact(s.as_bytes().to_vec()),
            });
        }
        Ok(Route { pattern: pattern.to_owned(), segments })
    }

    fn matches(&self, path: &[u8]) -> bool {
        let Some(body) = path.strip_prefix(b"/") else { return false };
        let mut parts = body.split(|&c| c == b'/');
        for seg in &self.segments {
            match seg {
                Segment::Rest => return true,
                Segment::One => {
                    if parts.next().is_none_or(<[u8]>::is_empty) {
                        return false;
                    }
                }
                Segment::Exact(s) => {
                    if parts.next() != Some(s.as_slice()) {
                        return false;
                    }
                }
            }
        }
        parts.next().is_none()
    }
}

/// The index (1-based) of the first route matching `path`, 0 for none.
pub fn route_of(routes: &[Route], path: &[u8]) -> u16 {
    if routes.is_empty() {
        return 0;
    }
    let path = &path[..memchr::memchr(b'?', path).unwrap_or(path.len())];
    routes.iter().position(|r| r.matches(path)).map_or(0, |i| i as u16 + 1)
}

/// A histogram: per-bucket counts (not cumulative; one more for +Inf), sum and count.
#[derive(Clone, Debug, Default)]
pub struct Histogram {
    /// Observations per bucket, the last one above every bound.
    pub buckets: Vec<u64>,
    /// Sum of the observations, in seconds.
    pub sum: f64,
    /// Number of observations.
    pub count: u64,
}

impl Histogram {
    fn observe(&mut self, bounds: &[f64], v: f64) {
        if self.buckets.is_empty() {
            self.buckets = vec![0; bounds.len() + 1];
        }
        let i = bounds.partition_point(|b| *b < v);
        self.buckets[i] += 1;
        self.sum += v;
        self.count += 1;
    }
}

/// The series key: method, status, route index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// Request method.
    pub method: Method,
    /// Response status.
    pub status: u16,
    /// Route index as [`route_of`] gives it.
    pub route: u16,
}

/// The totals of one series.
#[derive(Clone, Debug, Default)]
pub struct Series {
    /// Requests.
    pub count: u64,
    /// Bytes sent to clients.
    pub bytes_sent: u64,
    /// Bytes received (`$request_length`).
    pub request_bytes: u64,
    /// `$request_time`.
    pub time: Histogram,
    /// `$upstream_response_time`.
    pub upstream: Histogram,
}

/// Everything one file added up since the exporter started.
#[derive(Debug, Default)]
pub struct Stats {
    /// Series by key.
    pub series: vigie_kit::fasthash::FastMap<Key, Series>,
    /// Lines that did not match the format (or were longer than the limit).
    pub parse_errors: u64,
    /// Lines read.
    pub lines: u64,
}

impl Stats {
    /// Adds one request.
    pub fn record(&mut self, e: &Entry<'_>, route: u16, bounds: &[f64]) {
        self.lines += 1;
        let s = self.series.entry(Key { method: e.method, status: e.status, route }).or_default();
        s.count += 1;
        s.bytes_sent += e.bytes_sent;
        s.request_bytes += e.request_length.unwrap_or(0);
        if let Some(t) = e.request_time {
            s.time.observe(bounds, t);
        }
        if let Some(t) = e.upstream_time {
            s.upstream.observe(bounds, t);
        }
    }

    /// Counts a line that was not read.
    pub fn malformed(&mut self) {
        self.lines += 1;
        self.parse_errors += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_segments_not_raw_urls() {
        let routes: Vec<Route> =
            ["/api/users/*", "/api/users/*/orders", "/static/**"].iter().map(|p| Route::parse(p).unwrap()).collect();
        assert_eq!(route_of(&routes, b"/api/users/42"), 1);
        assert_eq!(route_of(&routes, b"/api/users/42?page=2"), 1);
        assert_eq!(route_of(&routes, b"/api/users/42/orders"), 2);
        assert_eq!(route_of(&routes, b"/api/users/"), 0);
        assert_eq!(route_of(&routes, b"/static/js/app.js"), 3);
        assert_eq!(route_of(&routes, b"/other"), 0);
        assert_eq!(route_of(&[], b"/api/users/42"), 0);
        assert!(Route::parse("api").is_err());
        assert!(Route::parse("/a/**/b").is_err());
    }

    #[test]
    fn histogram_buckets_are_upper_inclusive() {
        let mut h = Histogram::default();
        for v in [0.2, 0.2001, 0.0, 11.0] {
            h.observe(&DEFAULT_BUCKETS, v);
        }
        assert_eq!(h.buckets[0], 1); // 0.0 ≤ 0.005
        assert_eq!(h.buckets[5], 1); // 0.2 ≤ 0.2
        assert_eq!(h.buckets[6], 1); // 0.2001 ≤ 0.25
        assert_eq!(h.buckets[12], 1); // +Inf
        assert_eq!(h.count, 4);
    }
}
