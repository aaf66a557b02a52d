//! Where stub_status is: the `--nginx.scrape-uri` for `/metrics`, or `/probe?target=URL`
//! for any other nginx (nginx-prometheus-exporter 1.x's `/probe`), and the one HTTP GET
//! that reads it, bounded by the scrape deadline and `--nginx.timeout`.
//!
//! The `/metrics` endpoint keeps its connection between scrapes (HTTP/1.1 keep-alive, as
//! the incumbent's Go client does); a kept connection that nginx closed meanwhile is
//! replaced once, at once, so an idle timeout never shows as `nginx_up 0`.
//!
//! No connection is made before the collectors run: `nginx_up` is written by the
//! stub_status collector, so that the access log families survive an nginx that is down.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use vigie_kit::{Probe, Target};

/// A stub_status page is ~100 bytes; anything past this is not one.
const MAX_PAGE: usize = 64 * 1024;

/// Why stub_status could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL is not `http://host[:port][/path]`.
    #[error("invalid stub_status URL {0:?}: {1}")]
    Url(String, &'static str),
    /// Connecting failed.
    #[error("connect {0}: {1}")]
    Connect(String, std::io::Error),
    /// The HTTP exchange failed.
    #[error("{0}: {1}")]
    Http(String, String),
    /// A status other than 200.
    #[error("{0}: HTTP status {1}")]
    Status(String, u16),
    /// No answer in time.
    #[error("{0}: no answer within {1:?}")]
    Timeout(String, Duration),
}

/// A stub_status URL, and the connection kept to it.
#[derive(Debug)]
pub struct Endpoint {
    /// As given, for logs.
    pub url: String,
    host: String,
    port: u16,
    path: String,
    kept: tokio::sync::Mutex<Option<SendRequest<Empty<Bytes>>>>,
}

impl Endpoint {
    /// Parses `http://host[:port][/path]` (IPv6 hosts in brackets).
    pub fn parse(url: &str) -> Result<Endpoint, Error> {
        let bad = |why| Error::Url(url.to_owned(), why);
        let rest = url.strip_prefix("http://").ok_or_else(|| {
            bad(if url.starts_with("https://") {
                "https is not supported; use http on loopback"
            } else {
                "not http://"
            })
        })?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.contains('@') {
            return Err(bad("credentials in the URL are not accepted"));
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
                if h.contains(':') && !h.starts_with('[') {
                    (authority, 80)
                } else {
                    (h, p.parse().map_err(|_| bad("bad port"))?)
                }
            }
            _ => (authority, 80),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(bad("no host"));
        }
        Ok(Endpoint {
            url: url.to_owned(),
            host: host.to_owned(),
            port,
            path: path.to_owned(),
            kept: tokio::sync::Mutex::new(None),
        })
    }

    /// GETs the page; `Ok` only for a 200 answer.
    pub async fn get(&self, deadline: Instant, timeout: Duration) -> Result<Bytes, Error> {
        let limit = deadline.saturating_duration_since(Instant::now()).min(timeout);
        match tokio::time::timeout(limit, self.get_now()).await {
            Ok(r) => r,
            Err(_) => Err(Error::Timeout(self.url.clone(), limit)),
        }
    }

    async fn get_now(&self) -> Result<Bytes, Error> {
        // Taken out while in use: if the deadline drops this future mid-request, the
        // connection goes with it instead of being reused in an unknown state.
        let mut slot = self.kept.lock().await;
        if let Some(sender) = slot.take() {
            match self.request(sender).await {
                Ok((body, sender)) => {
                    *slot = Some(sender);
                    return Ok(body);
                }
                Err(e @ Error::Status(..)) => return Err(e),
                // nginx closed it (keepalive_timeout) or it broke: one fresh try below.
                Err(_) => {}
            }
        }
        let (body, sender) = self.request(self.connect().await?).await?;
        *slot = Some(sender);
        Ok(body)
    }

    async fn connect(&self) -> Result<SendRequest<Empty<Bytes>>, Error> {
        let tcp = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| Error::Connect(format!("{}:{}", self.host, self.port), e))?;
        let (sender, conn) = hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(TokioIo::new(tcp))
            .await
            .map_err(|e| Error::Http(self.url.clone(), e.to_string()))?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(err = %e, "stub_status connection ended.");
            }
        });
        Ok(sender)
    }

    /// One GET on `sender`; the sender comes back for reuse after a whole 200 answer.
    async fn request(
        &self,
        mut sender: SendRequest<Empty<Bytes>>,
    ) -> Result<(Bytes, SendRequest<Empty<Bytes>>), Error> {
        let http = |e: &dyn std::fmt::Display| Error::Http(self.url.clone(), e.to_string());
        sender.ready().await.map_err(|e| http(&e))?;
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        let req = hyper::Request::get(&self.path)
            .header(hyper::header::HOST, format!("{host}:{}", self.port))
            .header(hyper::header::USER_AGENT, concat!("vigie-nginx-exporter/", env!("CARGO_PKG_VERSION")))
            .body(Empty::new())
            .map_err(|e| http(&e))?;
        let resp = sender.send_request(req).await.map_err(|e| http(&e))?;
        if resp.status() != hyper::StatusCode::OK {
            return Err(Error::Status(self.url.clone(), resp.status().as_u16()));
        }
        let body = Limited::new(resp.into_body(), MAX_PAGE).collect().await.map_err(|e| http(&e))?;
        Ok((body.to_bytes(), sender))
    }
}

/// What collectors see each scrape.
#[derive(Clone, Debug)]
pub struct Scope {
    /// The stub_status page to read.
    pub endpoint: Arc<Endpoint>,
    /// `--nginx.timeout`.
    pub timeout: Duration,
    /// A `/probe` scrape: only the named nginx, no local access logs.
    pub probe: bool,
}

/// The kit's target: `/metrics` reads `default`, `/probe?target=URL` reads `URL`.
pub fn target(default: Endpoint, timeout: Duration) -> Target<Scope> {
    let default = Arc::new(default);
    Target {
        connect: Arc::new(move |probe: Option<Probe>, _deadline| {
            let scope = match probe.as_ref().and_then(|p| p.get("target")) {
                None => Ok(Scope { endpoint: default.clone(), timeout, probe: false }),
                Some(url) => {
                    // A bare host:port is taken as nginx-prometheus-exporter's default path.
                    let url = if url.contains("://") { url.to_owned() } else { format!("http://{url}/stub_status") };
                    match Endpoint::parse(&url) {
                        Ok(e) => Ok(Scope { endpoint: Arc::new(e), timeout, probe: true }),
                        Err(e) => Err(vigie_kit::TargetError::Unknown(e.to_string())),
                    }
                }
            };
            Box::pin(async move { scope })
        }),
        up: None,
        probe_path: Some("/probe"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let e = Endpoint::parse("http://127.0.0.1:8080/stub_status").unwrap();
        assert_eq!((e.host.as_str(), e.port, e.path.as_str()), ("127.0.0.1", 8080, "/stub_status"));
        let e = Endpoint::parse("http://localhost").unwrap();
        assert_eq!((e.host.as_str(), e.port, e.path.as_str()), ("localhost", 80, "/"));
        let e = Endpoint::parse("http://[::1]:81/s").unwrap();
        assert_eq!((e.host.as_str(), e.port), ("::1", 81));
        assert!(Endpoint::parse("https://x/").unwrap_err().to_string().contains("https is not supported"));
        assert!(Endpoint::parse("ftp://x/").is_err());
        assert!(Endpoint::parse("http://u:p@x/").is_err());
        assert!(Endpoint::parse("http://x:port/").is_err());
        assert!(Endpoint::parse("http:///").is_err());
    }
}
