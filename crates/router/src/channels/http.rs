//! The small HTTP/1.1 client the Slack and SMS channels share: one request per connection
//! (pages are rare and rate-limited, a pool would buy nothing), plain HTTP or TLS through
//! rustls with the platform's trust store (plus an optional extra CA), a whole-exchange
//! timeout, a bounded reply.
//!
//! URLs of these channels can be secrets (a Slack webhook URL is its own credential; some SMS
//! gateways take their key in the query string), so no error built here ever contains a
//! path or a query: at most `host:port`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

use super::SendError;
use vigie_kit::config::Dur;

/// Largest reply read (Slack and Twilio answer with a few hundred bytes).
const MAX_REPLY: usize = 256 << 10;

/// An `http(s)://host[:port]/path?query` URL, split.
#[derive(Clone)]
pub struct Url {
    /// `https`.
    pub tls: bool,
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// Port.
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
}

impl std::fmt::Debug for Url {
    // The path may be the secret: show only where it goes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}/…", if self.tls { "https" } else { "http" }, self.host, self.port)
    }
}

impl Url {
    /// Parses; the error never repeats the URL.
    pub fn parse(s: &str) -> Result<Url, String> {
        let (tls, rest) = if let Some(r) = s.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = s.strip_prefix("http://") {
            (false, r)
        } else {
            return Err("the URL must start with http:// or https://".into());
        };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) if rest[i..].starts_with('?') => (&rest[..i], format!("/{}", &rest[i..])),
            Some(i) => (&rest[..i], rest[i..].to_owned()),
            None => (rest, "/".to_owned()),
        };
        if authority.contains('@') {
            return Err("the URL must not carry credentials before the host".into());
        }
        let default = if tls { 443 } else { 80 };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or("unclosed [ in the host")?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| "invalid port")?,
                None if after.is_empty() => default,
                None => return Err("invalid host".into()),
            };
            (h.to_owned(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), p.parse().map_err(|_| "invalid port")?),
                None => (authority.to_owned(), default),
            }
        };
        if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("invalid host".into());
        }
        if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("the path contains spaces or control characters (percent-encode them)".into());
        }
        Ok(Url { tls, host, port, path })
    }

    /// `host:port`, for messages.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// This URL with `path` appended to its path (for API bases such as `https://slack.com/api`).
    pub fn join(&self, path: &str) -> Url {
        let base = self.path.trim_end_matches('/');
        Url { path: format!("{base}/{}", path.trim_start_matches('/')), ..self.clone() }
    }

    fn host_header(&self) -> String {
        let default = if self.tls { 443 } else { 80 };
        match (self.port == default, self.host.contains(':')) {
            (true, false) => self.host.clone(),
            (true, true) => format!("[{}]", self.host),
            (false, _) => self.authority(),
        }
    }
}

/// What came back.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// `Retry-After`, when given in seconds.
    pub retry_after: Option<Duration>,
    /// The body, lossily decoded.
    pub body: String,
}

impl Response {
    /// The body, shortened for an error message.
    pub fn snippet(&self) -> String {
        let t = self.body.trim();
        let mut s: String = t.chars().take(200).collect();
        if s.len() < t.len() {
            s.push('…');
        }
        s
    }
}

/// `Retry-After: 30` → 30 s. The HTTP-date form is not used by Slack or Twilio: ignored.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    let secs: f64 = v.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
}

/// The shared client.
#[derive(Clone)]
pub struct Client {
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("timeout", &self.timeout).finish()
    }
}

impl Client {
    /// Trusts the platform's roots and, if given, the CA certificates in `ca_file` (PEM).
    pub fn new(ca_file: Option<&Path>, timeout: Duration) -> Result<Client, String> {
        let extra: Vec<CertificateDer<'static>> = match ca_file {
            Some(p) => CertificateDer::pem_file_iter(p)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("{}: {e}", p.display()))?,
            None => Vec::new(),
        };
        if ca_file.is_some() && extra.is_empty() {
            return Err("no PEM certificate in the CA file".into());
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone())
            .map_err(|e| format!("cannot set up TLS verification: {e}"))?;
        let cfg = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .dangerous() // not dangerous: the platform verifier is the full, checking one
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        Ok(Client { tls: Arc::new(cfg), timeout })
    }

    /// The client a channel's `ca_file` and `timeout` settings ask for: `ca_file` relative to
    /// the config file's folder `base` (an absolute path stays as it is), 10 s unless told.
    pub fn from_config(ca_file: Option<&Path>, timeout: Option<Dur>, base: &Path) -> Result<Client, String> {
        let ca = ca_file.map(|p| base.join(p));
        Client::new(ca.as_deref(), timeout.map_or(Duration::from_secs(10), |d| d.0))
    }

    /// One request; transport failures and timeouts are [`SendError::Retry`].
    pub async fn send(
        &self,
        method: &str,
        url: &Url,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> Result<Response, SendError> {
        match tokio::time::timeout(self.timeout, self.exchange(method, url, headers, body)).await {
            Ok(r) => r,
            Err(_) => Err(SendError::Retry {
                after: None,
                reason: format!("{}: no answer within {:?}", url.authority(), self.timeout),
            }),
        }
    }

    async fn exchange(
        &self,
        method: &str,
        url: &Url,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> Result<Response, SendError> {
        let at = url.authority();
        let retry = |what: &str, e: &dyn std::fmt::Display| SendError::Retry {
            after: None,
            reason: format!("{at}: {what}: {e}"),
        };
        let tcp =
            tokio::net::TcpStream::connect((url.host.as_str(), url.port)).await.map_err(|e| retry("connect", &e))?;
        let _ = tcp.set_nodelay(true);
        let mut sender = if url.tls {
            let name = ServerName::try_from(url.host.clone())
                .map_err(|e| SendError::Reject(format!("{at}: invalid TLS server name: {e}")))?;
            let tls = tokio_rustls::TlsConnector::from(self.tls.clone())
                .connect(name, tcp)
                .await
                .map_err(|e| retry("TLS", &e))?;
            handshake(TokioIo::new(tls)).await.map_err(|e| retry("HTTP", &e))?
        } else {
            handshake(TokioIo::new(tcp)).await.map_err(|e| retry("HTTP", &e))?
        };
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(&url.path)
            .header(hyper::header::HOST, url.host_header())
            .header(hyper::header::USER_AGENT, concat!("vigie-router/", env!("CARGO_PKG_VERSION")));
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        // The request builder's error could quote a header value (a secret): say only which.
        let req = req
            .body(Full::new(Bytes::from(body)))
            .map_err(|_| SendError::Reject(format!("{at}: invalid method, path or header in the request")))?;
        let resp = sender.send_request(req).await.map_err(|e| retry("HTTP", &e))?;
        let status = resp.status().as_u16();
        let retry_after =
            resp.headers().get(hyper::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(parse_retry_after);
        let body =
            Limited::new(resp.into_body(), MAX_REPLY).collect().await.map_err(|e| retry("reading the reply", &e))?;
        Ok(Response { status, retry_after, body: String::from_utf8_lossy(&body.to_bytes()).into_owned() })
    }
}

async fn handshake<IO>(io: IO) -> Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>, hyper::Error>
where
    IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(io).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// Percent-encodes everything but RFC 3986's unreserved characters (for query strings and
/// `application/x-www-form-urlencoded` bodies).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A form body from pairs.
pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v))).collect::<Vec<_>>().join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = Url::parse("https://hooks.slack.com/services/T0/B0/XYZ").unwrap();
        assert_eq!(
            (u.tls, u.host.as_str(), u.port, u.path.as_str()),
            (true, "hooks.slack.com", 443, "/services/T0/B0/XYZ")
        );
        assert_eq!(u.host_header(), "hooks.slack.com");
        assert!(!format!("{u:?}").contains("XYZ"));
        let u = Url::parse("http://127.0.0.1:8080?to=1").unwrap();
        assert_eq!((u.port, u.path.as_str(), u.host_header()), (8080, "/?to=1", "127.0.0.1:8080".to_owned()));
        let u = Url::parse("http://[::1]:9/x").unwrap();
        assert_eq!((u.host.as_str(), u.port, u.authority()), ("::1", 9, "[::1]:9".to_owned()));
        assert_eq!(Url::parse("https://slack.com/api").unwrap().join("chat.update").path, "/api/chat.update");
        for bad in ["ftp://x/", "http://u:p@x/", "http://x:port/", "http:///x", "http://x/a b"] {
            let e = Url::parse(bad).unwrap_err();
            assert!(!e.contains(bad), "{e}");
        }
    }

    #[test]
    fn encodings() {
        assert_eq!(url_encode("+33 6 ACK&é"), "%2B33%206%20ACK%26%C3%A9");
        assert_eq!(form(&[("To", "+1"), ("Body", "a=b")]), "To=%2B1&Body=a%3Db");
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
