//! The HTTP(S) server every Vigie binary runs: hyper 1 on tokio, one listener per
//! `--web.listen-address`, TLS and basic auth from the web config, extra response headers,
//! and a graceful stop on SIGTERM/SIGINT.
//!
//! It holds under a flood of idle or half-sent connections ([`crate::slots`]): the soft file
//! limit is raised to the hard one at start, open connections are capped below it, the oldest
//! idle connection makes room for a new one at the cap, and a request whose headers are not
//! all in after 30 s is closed.
//!
//! The server knows nothing about metrics: it takes one [`Handler`] that sees every request
//! that passed auth.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

use crate::collector::BoxFuture;
use crate::slots::{Slot, Slots};
use crate::web_config::Web;

/// The response body type.
pub type Body = Full<Bytes>;

/// What serves requests that passed auth.
pub type Handler = Arc<dyn Fn(Request<Incoming>) -> BoxFuture<'static, Response<Body>> + Send + Sync>;

/// A plain response.
pub fn text(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    if let Ok(v) = content_type.parse() {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

/// Resolves a listen address the way Go's `net.Listen` reads it: `:9100` is every
/// interface, `localhost:9100` resolves, `127.0.0.1:0` takes a free port.
pub fn resolve(addr: &str) -> std::io::Result<Vec<SocketAddr>> {
    use std::net::ToSocketAddrs;
    if let Some(port) = addr.strip_prefix(':') {
        let port: u16 = port
            .parse()
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("invalid port in {addr:?}")))?;
        return Ok(vec![SocketAddr::from(([0, 0, 0, 0], port))]);
    }
    let addrs: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
    if addrs.is_empty() {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{addr:?} resolves to nothing")));
    }
    Ok(addrs)
}

/// Bound listeners, ready to serve: binding is separate so that a binary can report a bind
/// error (port in use) and exit non-zero before anything else starts.
pub struct Listeners(Vec<TcpListener>);

impl Listeners {
    /// Binds every address.
    pub async fn bind(addrs: &[String]) -> std::io::Result<Listeners> {
        let mut out = Vec::new();
        for addr in addrs {
            let mut last = None;
            let mut bound = false;
            for sa in resolve(addr)? {
                match TcpListener::bind(sa).await {
                    Ok(l) => {
                        out.push(l);
                        bound = true;
                        break;
                    }
                    Err(e) => last = Some(e),
                }
            }
            if !bound {
                let e = last.unwrap_or_else(|| std::io::Error::other("no address"));
                return Err(std::io::Error::new(e.kind(), format!("listen on {addr}: {e}")));
            }
        }
        Ok(Listeners(out))
    }

    /// The addresses actually bound (port 0 resolved).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.0.iter().filter_map(|l| l.local_addr().ok()).collect()
    }

    /// Serves until `shutdown` completes, then lets requests in flight finish (at most 5 s).
    /// Raises the soft file limit first and caps the connections below it
    /// ([`crate::slots::cap_for`]).
    pub async fn serve(self, web: Arc<Web>, handler: Handler, shutdown: impl Future<Output = ()>) {
        let limit = crate::slots::raise_nofile_limit();
        self.serve_capped(web, handler, shutdown, crate::slots::cap_for(limit)).await
    }

    /// [`Listeners::serve`] holding at most `cap` connections, the file limit untouched.
    pub async fn serve_capped(self, web: Arc<Web>, handler: Handler, shutdown: impl Future<Output = ()>, cap: usize) {
        let slots = Slots::new(cap);
        tracing::info!(max_connections = slots.cap(), "Connections capped; at the cap the oldest idle one is closed.");
        let graceful = Arc::new(hyper_util::server::graceful::GracefulShutdown::new());
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut tasks = Vec::new();
        for listener in self.0 {
            if let Ok(addr) = listener.local_addr() {
                tracing::info!(address = %addr, tls = web.tls.is_some(), "Listening.");
            }
            let (web, handler, graceful, mut stop) = (web.clone(), handler.clone(), graceful.clone(), stop_rx.clone());
            let slots = slots.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = stop.changed() => break,
                        accepted = listener.accept() => match accepted {
                            Ok((stream, peer)) => {
                                // None: every held connection has a request in flight; the
                                // stream drops here, closed (Slots logged it).
                                if let Some(slot) = slots.admit() {
                                    let _ = stream.set_nodelay(true);
                                    connection(stream, peer, slot, web.clone(), handler.clone(), &graceful);
                                }
                            }
                            Err(e) => {
                                tracing::warn!(err = %e, "Accept failed.");
                                tokio::time::sleep(Duration::from_millis(50)).await;
                            }
                        },
                    }
                }
            }));
        }
        shutdown.await;
        tracing::info!("Shutting down.");
        let _ = stop_tx.send(true);
        for t in tasks {
            let _ = t.await;
        }
        if let Ok(graceful) = Arc::try_unwrap(graceful) {
            let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
        }
    }
}

fn connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    slot: Slot,
    web: Arc<Web>,
    handler: Handler,
    graceful: &hyper_util::server::graceful::GracefulShutdown,
) {
    let watcher = graceful.watcher();
    tokio::spawn(async move {
        let conn = slot.conn.clone();
        tokio::select! {
            _ = serve_connection(stream, peer, &slot, web, handler, watcher) => {}
            // Dropping the connection's future closes its socket.
            _ = conn.closed() => tracing::debug!(peer = %peer, "Idle connection closed to make room."),
        }
        drop(slot);
    });
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    slot: &Slot,
    web: Arc<Web>,
    handler: Handler,
    watcher: hyper_util::server::graceful::Watcher,
) {
    {
        let (tls, http2) = (web.tls.clone(), web.http2);
        let conn = slot.conn.clone();
        let service = hyper::service::service_fn(move |req: Request<Incoming>| {
            let (web, handler) = (web.clone(), handler.clone());
            // In flight from the headers' arrival until the response is handed back: while
            // the guard lives this connection is not idle and not closed to make room.
            let busy = conn.busy();
            async move {
                let resp = authorised(req, web, handler).await;
                drop(busy);
                Ok::<_, Infallible>(resp)
            }
        });
        let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
        builder.http1().timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(Duration::from_secs(30));
        let builder = if http2 { builder } else { builder.http1_only() };
        let result = match &tls {
            None => watcher.watch(builder.serve_connection(TokioIo::new(stream), service).into_owned()).await,
            Some(tls) => {
                let acceptor = tokio_rustls::TlsAcceptor::from(tls.clone());
                let handshake = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await;
                match handshake {
                    Ok(Ok(tls_stream)) => {
                        watcher.watch(builder.serve_connection(TokioIo::new(tls_stream), service).into_owned()).await
                    }
                    Ok(Err(e)) => {
                        tracing::debug!(peer = %peer, err = %e, "TLS handshake failed.");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(peer = %peer, "TLS handshake timed out.");
                        return;
                    }
                }
            }
        };
        if let Err(e) = result {
            tracing::debug!(peer = %peer, err = %e, "Connection ended with an error.");
        }
    }
}

async fn authorised(req: Request<Incoming>, web: Arc<Web>, handler: Handler) -> Response<Body> {
    let mut resp = if web.auth.enabled() {
        let header = req.headers().get(hyper::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let auth = web.auth.clone();
        // bcrypt is deliberately slow: keep it off the runtime's threads.
        let ok = tokio::task::spawn_blocking(move || auth.check(header.as_deref())).await.unwrap_or(false);
        if ok {
            handler(req).await
        } else {
            let mut r = text(StatusCode::UNAUTHORIZED, "text/plain; charset=utf-8", "Unauthorized\n");
            r.headers_mut().insert(hyper::header::WWW_AUTHENTICATE, hyper::header::HeaderValue::from_static("Basic"));
            r
        }
    } else {
        handler(req).await
    };
    for (name, value) in &web.headers {
        resp.headers_mut().insert(name.clone(), value.clone());
    }
    resp
}

/// Completes on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    match (term, int) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => std::future::pending::<()>().await,
    }
}
