//! SMTP connections with `TCP_NODELAY`, kept open between messages, for the plain and
//! STARTTLS modes.
//!
//! Why not lettre's own pool: lettre writes the end-of-data marker (`\r\n.\r\n`) apart from
//! the message, on a socket without `TCP_NODELAY`, so Nagle's algorithm holds the marker until
//! the server acknowledges the message, and servers delay that acknowledgement (delayed ACK,
//! 40 ms on Linux): every mail waited ~40 ms for nothing. Here the socket is ours (lettre's
//! `connect_with_transport`), so the marker leaves at once. Implicit TLS (SMTPS) still goes
//! through lettre's pool, which owns the TLS handshake.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::response::Response;
use tokio::net::TcpStream;
use tokio::time::timeout;

/// Idle connections kept.
const IDLE_MAX: usize = 4;
/// An idle connection used more recently than this is reused without a `NOOP` probe.
const FRESH: Duration = Duration::from_secs(5);

/// Where and how to connect.
#[derive(Clone)]
pub struct Direct {
    /// Server host.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// `Some`: STARTTLS, required, with these parameters.
    pub starttls: Option<TlsParameters>,
    /// EHLO name.
    pub hello: ClientId,
    /// SMTP AUTH.
    pub credentials: Option<Credentials>,
    /// Per step (connect, handshake, one message).
    pub timeout: Duration,
}

/// Why a send failed.
#[derive(Debug)]
pub enum DirectError {
    /// What the SMTP exchange said (permanent or transient).
    Smtp(lettre::transport::smtp::Error),
    /// Could not connect.
    Connect(std::io::Error),
    /// A step took longer than the timeout.
    Timeout(&'static str),
}

impl std::fmt::Display for DirectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DirectError::Smtp(e) => write!(f, "{e}"),
            DirectError::Connect(e) => write!(f, "cannot connect: {e}"),
            DirectError::Timeout(step) => write!(f, "timed out ({step})"),
        }
    }
}

/// The pool.
pub struct Pool {
    cfg: Direct,
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
}

impl Pool {
    /// No connection yet; the first send opens one.
    pub fn new(cfg: Direct) -> Pool {
        Pool { cfg, idle: Mutex::new(Vec::new()) }
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, DirectError> {
        let t = self.cfg.timeout;
        let tcp = timeout(t, TcpStream::connect((self.cfg.host.as_str(), self.cfg.port)))
            .await
            .map_err(|_| DirectError::Timeout("connect"))?
            .map_err(DirectError::Connect)?;
        tcp.set_nodelay(true).map_err(DirectError::Connect)?;
        let hello = &self.cfg.hello;
        let mut c = timeout(t, AsyncSmtpConnection::connect_with_transport(Box::new(tcp), hello))
            .await
            .map_err(|_| DirectError::Timeout("greeting"))?
            .map_err(DirectError::Smtp)?;
        if let Some(p) = &self.cfg.starttls {
            timeout(t, c.starttls(p.clone(), hello))
                .await
                .map_err(|_| DirectError::Timeout("STARTTLS"))?
                .map_err(DirectError::Smtp)?;
        }
        if let Some(cred) = &self.cfg.credentials {
            timeout(t, c.auth(DEFAULT_MECHANISMS, cred))
                .await
                .map_err(|_| DirectError::Timeout("AUTH"))?
                .map_err(DirectError::Smtp)?;
        }
        Ok(c)
    }

    fn take_idle(&self) -> Option<(AsyncSmtpConnection, Instant)> {
        self.idle.lock().ok().and_then(|mut v| v.pop())
    }

    /// Sends one message on an idle connection (probed with `NOOP` if idle for a while) or a
    /// new one; keeps the connection for the next message if it is still good.
    pub async fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<Response, DirectError> {
        let mut conn = None;
        while let Some((mut c, at)) = self.take_idle() {
            if at.elapsed() < FRESH || timeout(self.cfg.timeout, c.test_connected()).await.unwrap_or(false) {
                conn = Some(c);
                break;
            }
            c.abort().await;
        }
        let mut c = match conn {
            Some(c) => c,
            None => self.connect().await?,
        };
        match timeout(self.cfg.timeout, c.send(envelope, message)).await {
            Ok(Ok(resp)) => {
                if !c.has_broken() {
                    let mut idle = self.idle.lock().ok();
                    if let Some(v) = idle.as_mut().filter(|v| v.len() < IDLE_MAX) {
                        v.push((c, Instant::now()));
                    }
                }
                Ok(resp)
            }
            // lettre has already closed a connection whose exchange failed.
            Ok(Err(e)) => Err(DirectError::Smtp(e)),
            Err(_) => Err(DirectError::Timeout("message")),
        }
    }
}
