//! nginx's `stub_status` page → `nginx_up`, `nginx_connections_*` and
//! `nginx_http_requests_total` (nginx-prometheus-exporter's names, types and labels).
//!
//! A page that cannot be fetched or is not a stub_status page (an HTML error page, a proxy's
//! answer) gives `nginx_up 0` and nothing else, as the incumbent does.

use vigie_kit::{BoxFuture, CollectError, CollectResult, Collector, Desc, MetricSet, Registration, Scrape};

use crate::target::Scope;

/// The registration.
pub const REG: Registration<Scope> = Registration {
    name: "stub_status",
    default_enabled: true,
    help: "Connections and requests from nginx's stub_status page (--nginx.scrape-uri).",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(StubStatus)),
};

/// `nginx_up`.
pub const UP: Desc = Desc::gauge("nginx_up", "Whether the last read of stub_status succeeded (1) or not (0).", &[]);
const ACCEPTED: Desc = Desc::counter("nginx_connections_accepted", "Client connections accepted.", &[]);
const ACTIVE: Desc = Desc::gauge("nginx_connections_active", "Client connections open, waiting ones included.", &[]);
const HANDLED: Desc = Desc::counter("nginx_connections_handled", "Client connections handled.", &[]);
const READING: Desc = Desc::gauge("nginx_connections_reading", "Connections whose request header is being read.", &[]);
const WAITING: Desc = Desc::gauge("nginx_connections_waiting", "Idle keep-alive connections.", &[]);
const WRITING: Desc = Desc::gauge("nginx_connections_writing", "Connections whose response is being written.", &[]);
const REQUESTS: Desc = Desc::counter("nginx_http_requests_total", "Client requests.", &[]);

/// The numbers on a stub_status page.
#[derive(Debug, PartialEq, Eq)]
pub struct Page {
    /// Active connections.
    pub active: u64,
    /// Accepted connections.
    pub accepts: u64,
    /// Handled connections.
    pub handled: u64,
    /// Requests.
    pub requests: u64,
    /// Reading.
    pub reading: u64,
    /// Writing.
    pub writing: u64,
    /// Waiting.
    pub waiting: u64,
}

/// Parses the page nginx's `ngx_http_stub_status_module` writes:
///
/// ```text
/// Active connections: 291
/// server accepts handled requests
///  16630948 16630948 31070465
/// Reading: 6 Writing: 179 Waiting: 106
/// ```
pub fn parse(text: &str) -> Result<Page, String> {
    let mut lines = text.lines();
    let mut next = |what: &str| lines.next().ok_or_else(|| format!("no {what} line"));
    let number = |s: Option<&str>, what: &str| -> Result<u64, String> {
        s.and_then(|v| v.parse().ok()).ok_or_else(|| format!("no number for {what}"))
    };
    let active = next("Active connections")?;
    let active = number(active.strip_prefix("Active connections:").map(str::trim), "Active connections")?;
    if next("header")?.split_whitespace().collect::<Vec<_>>() != ["server", "accepts", "handled", "requests"] {
        return Err("second line is not 'server accepts handled requests'".into());
    }
    let counts = next("counts")?;
    let mut c = counts.split_whitespace();
    let (accepts, handled, requests) =
        (number(c.next(), "accepts")?, number(c.next(), "handled")?, number(c.next(), "requests")?);
    let states: Vec<&str> = next("Reading/Writing/Waiting")?.split_whitespace().collect();
    let [r, reading, w, writing, wa, waiting] = states.as_slice() else {
        return Err("last line is not 'Reading: N Writing: N Waiting: N'".into());
    };
    if (*r, *w, *wa) != ("Reading:", "Writing:", "Waiting:") {
        return Err("last line is not 'Reading: N Writing: N Waiting: N'".into());
    }
    Ok(Page {
        active,
        accepts,
        handled,
        requests,
        reading: number(Some(reading), "Reading")?,
        writing: number(Some(writing), "Writing")?,
        waiting: number(Some(waiting), "Waiting")?,
    })
}

/// Reads stub_status.
pub struct StubStatus;

impl Collector<Scope> for StubStatus {
    fn collect<'a>(&'a self, cx: &'a Scrape<Scope>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            let endpoint = &cx.target.endpoint;
            let page = match endpoint.get(cx.deadline, cx.target.timeout).await {
                Ok(body) => parse(&String::from_utf8_lossy(&body)).map_err(|e| format!("{}: {e}", endpoint.url)),
                Err(e) => Err(e.to_string()),
            };
            let page = match page {
                Ok(p) => p,
                Err(e) => {
                    out.add(&UP, &[], 0.0);
                    return Err(CollectError::Other(e));
                }
            };
            out.add(&UP, &[], 1.0);
            for (desc, v) in [
                (&ACCEPTED, page.accepts),
                (&ACTIVE, page.active),
                (&HANDLED, page.handled),
                (&READING, page.reading),
                (&WAITING, page.waiting),
                (&WRITING, page.writing),
                (&REQUESTS, page.requests),
            ] {
                out.add(desc, &[], v as f64);
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages() {
        // As nginx 1.22.1 (Debian 12) wrote it in the integration test.
        let page = "Active connections: 1 \nserver accepts handled requests\n 7 7 9 \nReading: 0 Writing: 1 Waiting: 0 \n";
        let p = parse(page).unwrap();
        assert_eq!((p.active, p.accepts, p.handled, p.requests), (1, 7, 7, 9));
        assert_eq!((p.reading, p.writing, p.waiting), (0, 1, 0));
        assert!(parse("<html><body>Welcome to nginx!</body></html>").is_err());
        assert!(parse("").is_err());
        assert!(parse("Active connections: x\n").is_err());
        assert!(parse(&page.replace("Waiting: 0", "Waiting:")).is_err());
    }
}
