//! A minimal Jolokia client: one HTTP/1.1 keep-alive connection per endpoint (plain or TLS
//! with rustls), basic auth, one bulk POST per scrape, bounded by the scrape deadline.
//!
//! Jolokia answers HTTP 200 even for errors; each entry of a bulk reply carries its own
//! `status`, so a missing MBean fails only its entry (see `reply.rs`).

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::sync::Mutex;
use vigie_kit::Secret;

/// Largest reply accepted (a bulk reply of a busy Tomcat is tens of KB).
pub const MAX_REPLY: usize = 16 << 20;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL is not `http(s)://host[:port]/path`.
    #[error("invalid Jolokia URL {0:?}: {1}")]
    Url(String, &'static str),
    /// Connecting or TLS failed.
    #[error("connect {0}: {1}")]
    Connect(String, String),
    /// The HTTP exchange failed.
    #[error("HTTP: {0}")]
    Http(String),
    /// A status other than 200 (401 with wrong credentials, 404 with a wrong path).
    #[error("HTTP status {0}")]
    Status(u16),
    /// No answer before the deadline.
    #[error("no reply before the scrape deadline")]
    Timeout,
}

/// Where Jolokia listens and how to talk to it.
#[derive(Clone, Debug)]
pub struct Endpoint {
    tls: bool,
    host: String,
    port: u16,
    path: String,
    auth: Option<Secret>,
    tls_config: Option<Arc<rustls::ClientConfig>>,
}

impl Endpoint {
    /// Parses `http(s)://host[:port][/path]`; `user`/`password` give basic auth, `ca_file`
    /// the CA that the server's certificate must chain to (required for https).
    pub fn new(
        url: &str,
        user: Option<&str>,
        password: Option<&Secret>,
        ca_file: Option<&std::path::Path>,
    ) -> Result<Endpoint, Error> {
        let bad = |why| Error::Url(url.to_owned(), why);
        let (tls, rest) = if let Some(r) = url.strip_prefix("http://") {
            (false, r)
        } else if let Some(r) = url.strip_prefix("https://") {
            (true, r)
        } else {
            return Err(bad("the scheme must be http or https"));
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/jolokia"),
        };
        if authority.contains('@') {
            return Err(bad("put credentials in --jolokia.user and --jolokia.password-file, not the URL"));
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
                (h.trim_start_matches('[').trim_end_matches(']'), p.parse().map_err(|_| bad("invalid port"))?)
            }
            _ => (authority, if tls { 443 } else { 80 }),
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let auth = user.map(|u| {
            let pass = password.map(Secret::expose).unwrap_or("");
            Secret::new(format!("Basic {}", vigie_kit::web_config::base64_encode(format!("{u}:{pass}").as_bytes())))
        });
        let tls_config = if tls {
            let ca = ca_file.ok_or_else(|| bad("https needs --jolokia.tls.ca-file"))?;
            let mut roots = rustls::RootCertStore::empty();
            let certs = CertificateDer::pem_file_iter(ca)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| Error::Connect(ca.display().to_string(), e.to_string()))?;
            for c in certs {
                roots.add(c).map_err(|e| Error::Connect(ca.display().to_string(), e.to_string()))?;
            }
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let cfg = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| Error::Connect(url.to_owned(), e.to_string()))?
                .with_root_certificates(roots)
                .with_no_client_auth();
            Some(Arc::new(cfg))
        } else {
            None
        };
        let path = if path.ends_with('/') { path.to_owned() } else { format!("{path}/") };
        Ok(Endpoint { tls, host: host.to_owned(), port, path, auth, tls_config })
    }
}

/// A kept connection to one endpoint.
pub struct Client {
    endpoint: Endpoint,
    conn: Mutex<Option<SendRequest<Full<Bytes>>>>,
}

impl Client {
    /// A client; nothing is opened yet.
    pub fn new(endpoint: Endpoint) -> Client {
        Client { endpoint, conn: Mutex::new(None) }
    }

    /// POSTs `body` (a JSON bulk request) and returns the reply body. Any failure drops the
    /// connection so that the next scrape reconnects.
    pub async fn post(&self, body: Bytes, deadline: Instant) -> Result<Bytes, Error> {
        let mut slot = self.conn.lock().await;
        let result = tokio::time::timeout_at(deadline.into(), self.post_on(&mut slot, body)).await;
        let result = result.unwrap_or(Err(Error::Timeout));
        if result.is_err() {
            *slot = None;
        }
        result
    }

    async fn post_on(&self, slot: &mut Option<SendRequest<Full<Bytes>>>, body: Bytes) -> Result<Bytes, Error> {
        let ep = &self.endpoint;
        if slot.as_ref().is_none_or(|s| s.is_closed()) {
            *slot = Some(self.connect().await?);
        }
        let Some(sender) = slot.as_mut() else { return Err(Error::Http("no connection".into())) };
        sender.ready().await.map_err(|e| Error::Http(e.to_string()))?;
        let mut req = hyper::Request::post(&ep.path)
            .header(hyper::header::HOST, format!("{}:{}", ep.host, ep.port))
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(hyper::header::USER_AGENT, concat!("vigie-jvm-exporter/", env!("CARGO_PKG_VERSION")));
        if let Some(auth) = &ep.auth {
            req = req.header(hyper::header::AUTHORIZATION, auth.expose());
        }
        let req = req.body(Full::new(body)).map_err(|e| Error::Http(e.to_string()))?;
        let resp = sender.send_request(req).await.map_err(|e| Error::Http(e.to_string()))?;
        if resp.status() != hyper::StatusCode::OK {
            return Err(Error::Status(resp.status().as_u16()));
        }
        let body = Limited::new(resp.into_body(), MAX_REPLY).collect().await.map_err(|e| Error::Http(e.to_string()))?;
        Ok(body.to_bytes())
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, Error> {
        let ep = &self.endpoint;
        let where_ = format!("{}:{}", ep.host, ep.port);
        let tcp = tokio::net::TcpStream::connect((ep.host.as_str(), ep.port))
            .await
            .map_err(|e| Error::Connect(where_.clone(), e.to_string()))?;
        let _ = tcp.set_nodelay(true);
        match (&ep.tls_config, ep.tls) {
            (Some(cfg), true) => {
                let name =
                    ServerName::try_from(ep.host.clone()).map_err(|e| Error::Connect(where_.clone(), e.to_string()))?;
                let tls = tokio_rustls::TlsConnector::from(cfg.clone())
                    .connect(name, tcp)
                    .await
                    .map_err(|e| Error::Connect(where_.clone(), e.to_string()))?;
                handshake(TokioIo::new(tls)).await
            }
            _ => handshake(TokioIo::new(tcp)).await,
        }
    }
}

async fn handshake<IO>(io: IO) -> Result<SendRequest<Full<Bytes>>, Error>
where
    IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(io).await.map_err(|e| Error::Http(e.to_string()))?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!(err = %e, "Jolokia connection ended.");
        }
    });
    Ok(sender)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let ep = Endpoint::new("http://127.0.0.1:8778/jolokia", None, None, None).unwrap();
        assert_eq!((ep.host.as_str(), ep.port, ep.path.as_str()), ("127.0.0.1", 8778, "/jolokia/"));
        let ep = Endpoint::new("http://tomcat", Some("u"), Some(&Secret::new("p")), None).unwrap();
        assert_eq!(
            (ep.port, ep.path.as_str(), ep.auth.as_ref().map(Secret::expose)),
            (80, "/jolokia/", Some("Basic dTpw"))
        );
        assert!(Endpoint::new("ftp://x", None, None, None).is_err());
        assert!(Endpoint::new("http://u:secret@x/", None, None, None).unwrap_err().to_string().contains("not the URL"));
        assert!(Endpoint::new("https://x/", None, None, None).is_err(), "https needs a CA");
        assert!(Endpoint::new("http://x:port/", None, None, None).is_err());
    }

    #[test]
    fn credentials_never_print() {
        let ep = Endpoint::new("http://x/", Some("admin"), Some(&Secret::new("hunter2")), None).unwrap();
        let shown = format!("{ep:?}");
        assert!(!shown.contains("aHVudGVyMg") && !shown.contains("hunter2"), "{shown}");
    }

    /// A certificate for 127.0.0.1 made by the openssl CLI (an end-entity, self-signed: the
    /// client trusts it as its own anchor), in `dir`; `None` (skipped) without openssl.
    fn certificate(dir: &std::path::Path) -> Option<(std::path::PathBuf, std::path::PathBuf)> {
        let openssl = vigie_kit::testing::program(&["openssl"], "apt-get install -y openssl")?;
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        let out = std::process::Command::new(openssl)
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"])
            .args(["-addext", "subjectAltName=IP:127.0.0.1", "-addext", "basicConstraints=critical,CA:FALSE"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        Some((cert, key))
    }

    /// Serves one captured Jolokia reply over TLS (rustls), to every POST.
    async fn tls_jolokia(cert: &std::path::Path, key: &std::path::Path) -> std::net::SocketAddr {
        let certs = CertificateDer::pem_file_iter(cert).unwrap().collect::<Result<Vec<_>, _>>().unwrap();
        let key = rustls::pki_types::PrivateKeyDer::from_pem_file(key).unwrap();
        let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let reply = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tomcat10-bulk.json")).unwrap();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, reply) = (acceptor.clone(), reply.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else { return };
                    let service = hyper::service::service_fn(move |_req| {
                        let body = Full::new(Bytes::from(reply.clone()));
                        async move { Ok::<_, std::convert::Infallible>(hyper::Response::new(body)) }
                    });
                    let _ =
                        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tls), service).await;
                });
            }
        });
        addr
    }

    #[tokio::test]
    async fn https_with_a_ca_file_and_a_wrong_one() {
        let dir = tempfile::tempdir().unwrap();
        let Some((cert, key)) = certificate(dir.path()) else { return };
        let addr = tls_jolokia(&cert, &key).await;
        let url = format!("https://127.0.0.1:{}/jolokia", addr.port());
        let soon = || Instant::now() + std::time::Duration::from_secs(10);
        let client = Client::new(Endpoint::new(&url, None, None, Some(&cert)).unwrap());
        let body = client.post(Bytes::from_static(b"[]"), soon()).await.unwrap();
        let reply = crate::reply::parse(&body, None).unwrap();
        assert!(reply.get(crate::reply::Part::TomcatRequests).is_some());
        // A second POST reuses the kept TLS connection.
        assert!(client.post(Bytes::from_static(b"[]"), soon()).await.is_ok());

        // A CA that did not sign the server's certificate: refused, never read.
        let other = tempfile::tempdir().unwrap();
        let Some((wrong, _)) = certificate(other.path()) else { return };
        let client = Client::new(Endpoint::new(&url, None, None, Some(&wrong)).unwrap());
        let err = client.post(Bytes::from_static(b"[]"), soon()).await.unwrap_err();
        assert!(matches!(err, Error::Connect(..)), "{err}");
    }
}
