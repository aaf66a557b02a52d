//! [`Store`] on a PostgreSQL server shared by several routers (`tokio-postgres` through a
//! `deadpool-postgres` pool, rustls for TLS).
//!
//! Every call is one transaction on a pooled connection, committed before the call returns.
//! What keeps several routers correct on one database:
//!
//! - ingest inserts the batch key first (a second router posting the same webhook waits on
//!   the key's row, then sees a duplicate) and finds or opens the incident under a partial
//!   unique index (one open incident per receiver and group key), row-locked while its alerts
//!   are upserted;
//! - due incidents are read `FOR UPDATE SKIP LOCKED`, and a step applies only to the version
//!   it was planned from, so two engines never apply one step twice;
//! - a delivery attempt is claimed with a lease (this router's owner id and a deadline)
//!   committed before it is sent; a lease past its deadline is a crashed attempt, sent again
//!   by whichever router claims it next (at most one duplicate per crash, `uncertain` after
//!   [`MAX_INTERRUPTED`]); the finishing update is fenced on owner and attempt;
//! - commits that leave work for others `NOTIFY` them ([`Store::watch`]).
//!
//! The schema is versioned (`schema.rs`): migrations run at start, in one transaction, under
//! an advisory lock, and a router refuses a schema newer than it knows.

mod outbox;
mod read;
mod schema;
mod write;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio::sync::Notify;
use tokio_postgres::config::SslMode;
use vigie_kit::BoxFuture;

use super::*;
use crate::model::now_ms;

pub use schema::SCHEMA_VERSION;

/// How many interrupted attempts a notification survives (as the SQLite store).
pub(super) const MAX_INTERRUPTED: i64 = 3;

/// The `LISTEN`/`NOTIFY` channel; the payload says who has work: `engine` or `deliver`.
const CHANNEL: &str = "vigie_router";

/// How the store reaches the server.
#[derive(Clone)]
pub struct Options {
    /// `postgres://user:pass@host:5432/db` (a secret: never logged).
    pub url: String,
    /// Password, when kept out of the URL.
    pub password: Option<String>,
    /// Most connections this router opens.
    pub pool_size: usize,
    /// CA certificate(s), PEM: connect with TLS, verified against them. Without one, TLS is
    /// used when the URL says `sslmode=require`, verified against the system's roots.
    pub ca_file: Option<PathBuf>,
    /// Longest a statement may run (the server cancels it).
    pub statement_timeout: Duration,
    /// Longest a connection attempt may take.
    pub connect_timeout: Duration,
    /// How long a claimed delivery attempt is this router's: past it, the attempt counts as
    /// interrupted and another router sends it again. Longer than any send takes.
    pub lease: Duration,
    /// How long a batch's idempotency key is kept.
    pub key_retention: Duration,
    /// This router's name in leases (default: host, pid and start time).
    pub owner: Option<String>,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("url", &"<secret>")
            .field("pool_size", &self.pool_size)
            .field("ca_file", &self.ca_file)
            .field("statement_timeout", &self.statement_timeout)
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

impl Options {
    /// Defaults around `url`: 16 connections, 5 s statement timeout, 10 s to connect, 5 min
    /// leases, keys kept 24 h.
    pub fn new(url: impl Into<String>) -> Options {
        Options {
            url: url.into(),
            password: None,
            pool_size: 16,
            ca_file: None,
            statement_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(10),
            lease: Duration::from_secs(300),
            key_retention: Duration::from_secs(24 * 3600),
            owner: None,
        }
    }
}

/// A failure of the database, with the server's message when it sent one (never the URL).
pub(super) fn pg(e: tokio_postgres::Error) -> StoreError {
    match e.as_db_error() {
        Some(d) => StoreError::Db(format!("postgres: {} ({})", d.message(), d.code().code())),
        None => {
            // The source says what went wrong (refused, timed out, TLS); the top level alone
            // is often just "error connecting to server".
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                msg = format!("{msg}: {s}");
                src = s.source();
            }
            StoreError::Db(format!("postgres: {msg}"))
        }
    }
}

fn pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => pg(e),
        other => StoreError::Db(format!("postgres pool: {other}")),
    }
}

/// The PostgreSQL store.
pub struct Postgres {
    pool: Pool,
    owner: String,
    lease: Millis,
    /// The attempt number of each notification this router claimed and has not finished:
    /// `finish` is fenced on it.
    claims: Mutex<HashMap<i64, i64>>,
    /// Builds the dedicated `LISTEN` connection.
    listen: Listen,
    pruner: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres").field("owner", &self.owner).finish_non_exhaustive()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.pruner.abort();
    }
}

fn tls_config(opts: &Options) -> Result<rustls::ClientConfig, StoreError> {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Db(format!("TLS: {e}")))?;
    match &opts.ca_file {
        Some(path) => {
            let mut roots = rustls::RootCertStore::empty();
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| StoreError::Db(format!("storage.postgres.ca_file {}: {e}", path.display())))?;
            for c in certs {
                roots.add(c).map_err(|e| StoreError::Db(format!("{}: {e}", path.display())))?;
            }
            Ok(builder.with_root_certificates(roots).with_no_client_auth())
        }
        None => {
            let verifier = rustls_platform_verifier::Verifier::new(provider)
                .map_err(|e| StoreError::Db(format!("TLS: system roots: {e}")))?;
            Ok(builder.dangerous().with_custom_certificate_verifier(Arc::new(verifier)).with_no_client_auth())
        }
    }
}

impl Postgres {
    /// Connects (failing fast, with the server's reason, if the database cannot be reached),
    /// migrates the schema and starts pruning old idempotency keys.
    pub async fn connect(opts: Options) -> Result<Postgres, StoreError> {
        let mut cfg: tokio_postgres::Config =
            opts.url.parse().map_err(|e| StoreError::Db(format!("storage.postgres.url: not a PostgreSQL URL: {e}")))?;
        if let Some(p) = &opts.password {
            cfg.password(p.as_bytes());
        }
        cfg.connect_timeout(opts.connect_timeout);
        cfg.options(format!("-c statement_timeout={}", opts.statement_timeout.as_millis()));
        cfg.application_name("vigie-router");
        let tls = opts.ca_file.is_some() || cfg.get_ssl_mode() == SslMode::Require;
        let connector = if tls {
            cfg.ssl_mode(SslMode::Require);
            Some(tokio_postgres_rustls::MakeRustlsConnect::new(tls_config(&opts)?))
        } else {
            cfg.ssl_mode(SslMode::Disable);
            None
        };
        let mgr_cfg = ManagerConfig { recycling_method: RecyclingMethod::Fast };
        let mgr = match &connector {
            Some(c) => Manager::from_config(cfg.clone(), c.clone(), mgr_cfg),
            None => Manager::from_config(cfg.clone(), tokio_postgres::NoTls, mgr_cfg),
        };
        let pool = Pool::builder(mgr)
            .max_size(opts.pool_size.max(2))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .create_timeout(Some(opts.connect_timeout))
            .wait_timeout(Some(opts.connect_timeout))
            .build()
            .map_err(|e| StoreError::Db(format!("postgres pool: {e}")))?;
        {
            let mut client = pool.get().await.map_err(pool_err)?;
            schema::migrate(&mut client).await?;
        }
        let listen_cfg = cfg;
        let listen: Listen =
            Arc::new(move || -> BoxFuture<'static, Result<(tokio_postgres::Client, Notices), StoreError>> {
                let (cfg, connector) = (listen_cfg.clone(), connector.clone());
                Box::pin(async move {
                    Ok(match connector {
                        Some(c) => {
                            let (client, conn) = cfg.connect(c).await.map_err(pg)?;
                            (client, spawn_listener(conn))
                        }
                        None => {
                            let (client, conn) = cfg.connect(tokio_postgres::NoTls).await.map_err(pg)?;
                            (client, spawn_listener(conn))
                        }
                    })
                })
            });
        let retention = i64::try_from(opts.key_retention.as_millis()).unwrap_or(i64::MAX);
        let pruner = tokio::spawn(write::prune(pool.clone(), retention));
        let owner = opts.owner.clone().unwrap_or_else(|| {
            let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "router".into());
            format!("{host}:{}:{}", std::process::id(), now_ms())
        });
        Ok(Postgres {
            pool,
            owner,
            lease: i64::try_from(opts.lease.as_millis()).unwrap_or(i64::MAX),
            claims: Mutex::new(HashMap::new()),
            listen,
            pruner,
        })
    }

    /// This router's name in leases.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(pool_err)
    }
}

/// The `LISTEN` connection's messages go to a channel the watcher reads.
type Notices = tokio::sync::mpsc::UnboundedReceiver<String>;

/// Opens a dedicated connection for `LISTEN` (a pooled one would be recycled).
type Listen = Arc<dyn Fn() -> BoxFuture<'static, Result<(tokio_postgres::Client, Notices), StoreError>> + Send + Sync>;

fn spawn_listener<S, T>(mut conn: tokio_postgres::Connection<S, T>) -> Notices
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    T: tokio_postgres::tls::TlsStream + Unpin + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(Ok(msg)) = std::future::poll_fn(|cx| conn.poll_message(cx)).await {
            if let tokio_postgres::AsyncMessage::Notification(n) = msg {
                if tx.send(n.payload().to_owned()).is_err() {
                    break;
                }
            }
        }
    });
    rx
}

/// Runs `$body` (a future using `$tx`) in one transaction on a pooled connection.
macro_rules! in_tx {
    ($s:expr, $tx:ident => $body:expr) => {
        Box::pin(async move {
            let mut client = $s.client().await?;
            let $tx = client.transaction().await.map_err(pg)?;
            let r = $body.await?;
            $tx.commit().await.map_err(pg)?;
            Ok(r)
        })
    };
}

impl Store for Postgres {
    fn ingest(&self, batch: IngestBatch) -> BoxFuture<'_, Result<Ingested, StoreError>> {
        in_tx!(self, tx => write::ingest(&tx, &batch))
    }
    fn due(&self, now: Millis, limit: usize) -> BoxFuture<'_, Result<Vec<Incident>, StoreError>> {
        in_tx!(self, tx => write::due(&tx, now, limit))
    }
    fn apply(&self, steps: Vec<Step>, now: Millis) -> BoxFuture<'_, Result<Vec<i64>, StoreError>> {
        in_tx!(self, tx => write::apply(&tx, &steps, now))
    }
    fn claim(&self, now: Millis, limit: usize) -> BoxFuture<'_, Result<Vec<OutboxItem>, StoreError>> {
        Box::pin(self.claim_some(now, limit, None))
    }
    fn claim_on(
        &self,
        now: Millis,
        limit: usize,
        channels: Vec<ChannelKind>,
    ) -> BoxFuture<'_, Result<Vec<OutboxItem>, StoreError>> {
        Box::pin(self.claim_some(now, limit, Some(channels)))
    }
    fn finish(&self, id: i64, outcome: Outcome, now: Millis) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.finish_one(id, outcome, now))
    }
    fn wakeups(&self) -> BoxFuture<'_, Result<Wakeups, StoreError>> {
        in_tx!(self, tx => outbox::wakeups(&tx))
    }
    fn act(&self, act: Act, now: Millis) -> BoxFuture<'_, Result<Acted, StoreError>> {
        in_tx!(self, tx => read::act(&tx, &act, now))
    }
    fn incidents(&self, since: Millis, limit: usize) -> BoxFuture<'_, Result<Vec<Summary>, StoreError>> {
        in_tx!(self, tx => read::list(&tx, since, limit))
    }
    fn incident(&self, id: i64) -> BoxFuture<'_, Result<Option<Detail>, StoreError>> {
        in_tx!(self, tx => read::detail(&tx, id))
    }
    fn stats(&self, now: Millis) -> BoxFuture<'_, Result<Stats, StoreError>> {
        in_tx!(self, tx => read::stats(&tx, now))
    }
    fn first_receipt(
        &self,
        incident: i64,
        channel: ChannelKind,
        address: String,
        prefix: &'static str,
    ) -> BoxFuture<'_, Result<Option<String>, StoreError>> {
        in_tx!(self, tx => outbox::first_receipt(&tx, incident, channel, &address, prefix))
    }
    fn watch(&self, engine: Arc<Notify>, deliver: Arc<Notify>) {
        let listen = self.listen.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = watch_once(&listen, &engine, &deliver).await {
                    tracing::warn!(err = %e, "LISTEN connection lost; polling until it is back.");
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }
}

async fn watch_once(listen: &Listen, engine: &Notify, deliver: &Notify) -> Result<(), StoreError> {
    let (client, mut notices) = listen().await?;
    client.batch_execute(&format!("LISTEN {CHANNEL}")).await.map_err(pg)?;
    // Whatever was announced while this connection was down.
    engine.notify_one();
    deliver.notify_one();
    while let Some(payload) = notices.recv().await {
        // Anything but the engine's name wakes the queue: waking it for nothing is harmless.
        if payload == Wake::Engine.as_str() {
            engine.notify_one();
        } else {
            deliver.notify_one();
        }
    }
    Err(StoreError::Db("postgres: LISTEN connection closed".into()))
}

/// Who a `NOTIFY` wakes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Wake {
    /// The escalation engine: an incident to plan.
    Engine,
    /// The delivery queue: a notification to send.
    Deliver,
}

impl Wake {
    fn as_str(self) -> &'static str {
        match self {
            Wake::Engine => "engine",
            Wake::Deliver => "deliver",
        }
    }
}

/// Tells the other routers (and this one) that `who` has work, when `tx` commits.
pub(super) async fn announce(tx: &Tx<'_>, who: Wake) -> Result<(), StoreError> {
    tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &who.as_str()]).await.map(|_| ()).map_err(pg)
}

/// A transaction on a pooled connection.
pub(super) type Tx<'a> = deadpool_postgres::Transaction<'a>;

#[cfg(test)]
mod tests;
