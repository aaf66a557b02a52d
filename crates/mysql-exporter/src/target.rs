//! The connection to MySQL: one per target, kept across scrapes, re-opened when it fails;
//! `mysql_up`, and `/probe?target=host:port&auth_module=section` (mysqld_exporter's
//! `probe.go`).
//!
//! A scrape first checks the connection (COM_PING, or a fresh connect), bounded by the
//! scrape deadline: a dead, silent or refusing server gives `mysql_up 0` before Prometheus
//! gives up. Collectors then share the connection one query at a time, as mysqld_exporter
//! 0.14 does with its single open connection. A query cut short (deadline, I/O error)
//! drops the connection, since its protocol state is unknown; the next query or scrape
//! opens a new one. A server error (a missing table) keeps it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use mysql_async::prelude::Queryable as _;
use mysql_async::{Conn, Opts, OptsBuilder, Row, SslOpts};
use vigie_kit::{BoxFuture, CollectError, Desc, Probe, Target};

use crate::mycnf::{self, Address, Client, MyCnf};

/// `mysql_up`.
pub const UP: Desc = Desc::gauge("mysql_up", "1 if the MySQL server answered this scrape, else 0.", &[]);

/// Most probe targets whose connection is kept; past it, the oldest idle one is closed.
const MAX_TARGETS: usize = 64;

/// Session settings applied on every new connection.
#[derive(Clone, Debug)]
pub struct SessionSettings {
    /// `--exporter.lock_wait_timeout` seconds; `None` with `--no-exporter.enable_lock_wait_timeout`.
    pub lock_wait_timeout: Option<u32>,
    /// `--exporter.log_slow_filter`.
    pub log_slow_filter: bool,
}

impl SessionSettings {
    fn statements(&self) -> Vec<String> {
        let mut init = Vec::new();
        if let Some(t) = self.lock_wait_timeout {
            init.push(format!("SET SESSION lock_wait_timeout = {t}"));
        }
        if self.log_slow_filter {
            init.push("SET SESSION log_slow_filter = 'tmp_table_on_disk,filesort_on_disk'".to_owned());
        }
        init
    }
}

/// One server, as collectors see it: queries go through [`Session::query`].
pub struct Session {
    opts: Opts,
    init: Vec<String>,
    /// Where it is, for logs.
    pub address: String,
    slot: tokio::sync::Mutex<Option<Conn>>,
    /// `major.minor` of the server (`SELECT @@version`), as f64 bits; 999 when unknown.
    version: AtomicU64,
}

/// What collectors get as `cx.target`.
pub type Db = Arc<Session>;

fn driver_error(address: &str, e: &mysql_async::Error) -> String {
    format!("{address}: {e}")
}

impl Session {
    /// A session for `client` at `address`; nothing is opened yet.
    pub fn new(client: &Client, address: &Address, settings: &SessionSettings) -> Result<Session, String> {
        let mut b = OptsBuilder::default()
            .user(Some(client.user.clone()))
            .pass(client.password.as_ref().map(|p| p.expose().to_owned()))
            // Stay on TCP when given TCP: mysql_async would otherwise switch to the server's
            // Unix socket on loopback, where grants differ ('u'@'localhost').
            .prefer_socket(false)
            .stmt_cache_size(0)
            .enable_cleartext_plugin(client.cleartext);
        b = match address {
            Address::Tcp(host, port) => b.ip_or_hostname(host.clone()).tcp_port(*port),
            Address::Socket(path) => b.socket(Some(path.to_string_lossy().into_owned())),
        };
        if client.ssl_ca.is_some() || client.ssl_key.is_some() || client.skip_verify {
            let mut ssl = SslOpts::default();
            if let Some(ca) = &client.ssl_ca {
                ssl = ssl.with_root_certs(vec![ca.clone().into()]).with_disable_built_in_roots(true);
            }
            if let (Some(cert), Some(key)) = (&client.ssl_cert, &client.ssl_key) {
                ssl = ssl.with_client_identity(Some(mysql_async::ClientIdentity::new(
                    cert.clone().into(),
                    key.clone().into(),
                )));
            }
            if client.skip_verify {
                ssl = ssl.with_danger_accept_invalid_certs(true).with_danger_skip_domain_validation(true);
            }
            b = b.ssl_opts(Some(ssl));
        }
        Ok(Session {
            opts: b.into(),
            init: settings.statements(),
            address: address.to_string(),
            slot: tokio::sync::Mutex::new(None),
            version: AtomicU64::new(999f64.to_bits()),
        })
    }

    /// The server's `major.minor` version (mysqld_exporter's scraper gates).
    pub fn version(&self) -> f64 {
        f64::from_bits(self.version.load(Ordering::Relaxed))
    }

    async fn open(&self) -> Result<Conn, String> {
        let mut conn = Conn::new(self.opts.clone()).await.map_err(|e| driver_error(&self.address, &e))?;
        for statement in &self.init {
            // MySQL proper has no log_slow_filter: log and go on, as a failed DSN
            // parameter would not stop go-sql-driver either.
            if let Err(e) = conn.query_drop(statement.as_str()).await {
                tracing::warn!(target = %self.address, err = %e, "Session setting refused.");
            }
        }
        let version: Option<String> = conn.query_first("SELECT @@version").await.ok().flatten();
        self.version.store(parse_version(version.as_deref().unwrap_or("")).to_bits(), Ordering::Relaxed);
        Ok(conn)
    }

    /// Checks the kept connection with a ping, or opens one. `Err` is why the server is down.
    pub async fn check(&self) -> Result<(), String> {
        let mut slot = self.slot.lock().await;
        if let Some(mut conn) = slot.take() {
            if conn.ping().await.is_ok() {
                *slot = Some(conn);
                return Ok(());
            }
            tracing::debug!(target = %self.address, "Kept connection is gone; reconnecting.");
        }
        *slot = Some(self.open().await?);
        Ok(())
    }

    /// Runs one text-protocol query and returns every row. Queries of one scrape run one
    /// at a time on the one connection.
    pub async fn query(&self, sql: &str) -> Result<Vec<Row>, CollectError> {
        match self.query_coded(sql).await {
            Ok(rows) => Ok(rows),
            Err((_, e)) => Err(e),
        }
    }

    /// As [`Session::query`], but `None` when the server answers with one of `codes`
    /// (1109 unknown table, 1146 table does not exist…): a source this server lacks.
    pub async fn query_unless(&self, sql: &str, codes: &[u16]) -> Result<Option<Vec<Row>>, CollectError> {
        match self.query_coded(sql).await {
            Ok(rows) => Ok(Some(rows)),
            Err((Some(code), _)) if codes.contains(&code) => Ok(None),
            Err((_, e)) => Err(e),
        }
    }

    async fn query_coded(&self, sql: &str) -> Result<Vec<Row>, (Option<u16>, CollectError)> {
        let mut slot = self.slot.lock().await;
        let mut conn = match slot.take() {
            Some(conn) => conn,
            None => self.open().await.map_err(|e| (None, CollectError::Other(e)))?,
        };
        // If this future is dropped at the deadline, `conn` goes with it: closed, not reused.
        match conn.query::<Row, _>(sql).await {
            Ok(rows) => {
                *slot = Some(conn);
                Ok(rows)
            }
            Err(mysql_async::Error::Server(e)) => {
                *slot = Some(conn);
                Err((Some(e.code), CollectError::Other(format!("{}: {e}", sql.trim()))))
            }
            Err(e) => Err((None, CollectError::Other(format!("{}: {}", sql.trim(), driver_error(&self.address, &e))))),
        }
    }
}

/// `8.0.36-log` → 8.0, `10.11.6-MariaDB-0+deb12u1` → 10.11; 999 when it cannot be read
/// (mysqld_exporter then runs every scraper).
pub fn parse_version(text: &str) -> f64 {
    let mut parts = text.split(|c: char| !c.is_ascii_digit());
    match (parts.next(), parts.next()) {
        (Some(major), Some(minor)) if !major.is_empty() && !minor.is_empty() => {
            format!("{major}.{minor}").parse().unwrap_or(999.0)
        }
        _ => 999.0,
    }
}

/// The `/metrics` session and the probe sessions, by (target, auth_module).
pub struct Targets {
    default: Option<Db>,
    cnf: MyCnf,
    skip_verify: bool,
    settings: SessionSettings,
    probes: Mutex<HashMap<(String, String), (Db, Instant)>>,
}

impl Targets {
    /// `default` is the `/metrics` target (`None`: only `/probe` works).
    pub fn new(cnf: MyCnf, default: Option<Db>, skip_verify: bool, settings: SessionSettings) -> Targets {
        Targets { default, cnf, skip_verify, settings, probes: Mutex::new(HashMap::new()) }
    }

    fn probe_session(&self, probe: &Probe) -> Result<Db, String> {
        let target = probe.get("target").unwrap_or("");
        let module = probe.get("auth_module").filter(|m| !m.is_empty()).unwrap_or("client");
        let key = (target.to_owned(), module.to_owned());
        let mut probes = self.probes.lock().map_err(|_| "probe cache poisoned".to_owned())?;
        if let Some((db, used)) = probes.get_mut(&key) {
            *used = Instant::now();
            return Ok(db.clone());
        }
        let client = self.cnf.client(module, self.skip_verify).map_err(|e| format!("auth_module {module}: {e}"))?;
        let address = mycnf::parse_address(target)?;
        let db = Arc::new(Session::new(&client, &address, &self.settings)?);
        if probes.len() >= MAX_TARGETS {
            let oldest = probes.iter().min_by_key(|(_, (_, used))| *used).map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                probes.remove(&k);
            }
        }
        probes.insert(key, (db.clone(), Instant::now()));
        Ok(db)
    }

    /// The session for a scrape, checked.
    pub fn connect(
        self: Arc<Self>,
        probe: Option<Probe>,
        _deadline: Instant,
    ) -> BoxFuture<'static, Result<Db, vigie_kit::TargetError>> {
        Box::pin(async move {
            let db = match &probe {
                Some(p) => self.probe_session(p)?,
                None => self.default.clone().ok_or("no default target: use /probe?target=")?,
            };
            db.check().await?;
            Ok(db)
        })
    }

    /// As the kit's [`Target`].
    pub fn into_target(self) -> Target<Db> {
        let targets = Arc::new(self);
        Target {
            connect: Arc::new(move |probe, deadline| targets.clone().connect(probe, deadline)),
            up: Some(&UP),
            probe_path: Some("/probe"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(parse_version("10.11.6-MariaDB-0+deb12u1"), 10.11);
        assert_eq!(parse_version("8.0.36-log"), 8.0);
        assert_eq!(parse_version("5.7.44"), 5.7);
        assert_eq!(parse_version(""), 999.0);
        assert_eq!(parse_version("garbage"), 999.0);
    }
}
