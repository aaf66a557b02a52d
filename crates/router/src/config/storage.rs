//! `storage`: where the router keeps its state. An embedded SQLite file (the default, one
//! router) or a PostgreSQL database several routers share:
//!
//! ```yaml
//! storage:
//!   postgres:
//!     url: {env: VIGIE_ROUTER_POSTGRES_URL}   # a secret: postgres://user:pass@host:5432/vigie
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use vigie_kit::config::{Dur, FieldError, SecretRef};
use vigie_kit::Secret;

/// `storage`, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Storage {
    /// SQLite file (relative to the config file); default `vigie-router.db`.
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// How long a webhook's idempotency key is kept: an identical batch sent again within
    /// this window is recognised as a retry (default 24h).
    #[serde(default = "d_24h")]
    pub idempotency_retention: Dur,
    /// A PostgreSQL database instead of the file.
    #[serde(default)]
    pub postgres: Option<PostgresFile>,
}

impl Default for Storage {
    fn default() -> Self {
        Storage { path: None, idempotency_retention: d_24h(), postgres: None }
    }
}

fn d_24h() -> Dur {
    Dur(Duration::from_secs(24 * 3600))
}

/// `storage.postgres`, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresFile {
    /// `postgres://user:pass@host:5432/db` (libpq's key=value form works too): a secret,
    /// from a file or the environment.
    pub url: SecretRef,
    /// The password, when it is kept out of the URL.
    #[serde(default)]
    pub password: Option<SecretRef>,
    /// Most connections per router (default 16).
    #[serde(default)]
    pub pool_size: Option<usize>,
    /// CA certificate(s), PEM, to verify the server with (TLS is then required).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Longest a statement may run (default 5s).
    #[serde(default)]
    pub statement_timeout: Option<Dur>,
    /// Longest a connection attempt may take (default 10s).
    #[serde(default)]
    pub connect_timeout: Option<Dur>,
    /// How long a delivery attempt is the claiming router's before another may send it
    /// again (default 5m; longer than any send takes).
    #[serde(default)]
    pub lease: Option<Dur>,
}

/// Where the state lives, checked.
#[derive(Debug)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database.
    Postgres(Postgres),
}

/// `storage.postgres`, checked: secrets read, the URL parsed, the CA file found.
#[derive(Debug, Clone)]
pub struct Postgres {
    /// The URL (a secret).
    pub url: Secret,
    /// The password, if given apart.
    pub password: Option<Secret>,
    /// Pool size.
    pub pool_size: usize,
    /// CA file.
    pub ca_file: Option<PathBuf>,
    /// Statement timeout.
    pub statement_timeout: Duration,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Delivery lease.
    pub lease: Duration,
}

impl Backend {
    /// Where it is, for logs and messages (never the URL, which may hold a password).
    pub fn describe(&self) -> String {
        match self {
            Backend::Sqlite(p) => p.display().to_string(),
            Backend::Postgres(_) => "postgres (storage.postgres.url)".into(),
        }
    }
}

/// Checks `storage`; paths are taken from `base`. Each error names its field.
pub fn check(s: &Storage, base: &Path) -> Result<Backend, Vec<FieldError>> {
    let Some(pg) = &s.postgres else {
        let path = s.path.clone().unwrap_or_else(|| PathBuf::from("vigie-router.db"));
        return Ok(Backend::Sqlite(if path.is_absolute() { path } else { base.join(path) }));
    };
    let mut errs = Vec::new();
    if s.path.is_some() {
        errs.push(FieldError::new("path", "give either `path` (SQLite) or `postgres`, not both"));
    }
    let url = pg.url.resolve(base).map_err(|m| errs.push(FieldError::new("postgres.url", m))).ok();
    if let Some(u) = &url {
        // The parser's message names the bad part, never the whole string.
        if let Err(e) = u.expose().parse::<tokio_postgres::Config>() {
            errs.push(FieldError::new("postgres.url", format!("not a PostgreSQL URL: {e}")));
        }
    }
    let password = pg
        .password
        .as_ref()
        .and_then(|p| p.resolve(base).map_err(|m| errs.push(FieldError::new("postgres.password", m))).ok());
    let pool_size = pg.pool_size.unwrap_or(16);
    if !(2..=1000).contains(&pool_size) {
        errs.push(FieldError::new("postgres.pool_size", "must be between 2 and 1000"));
    }
    let ca_file = pg.ca_file.as_ref().map(|p| if p.is_absolute() { p.clone() } else { base.join(p) });
    if let Some(p) = &ca_file {
        if let Err(e) = std::fs::metadata(p) {
            errs.push(FieldError::new("postgres.ca_file", format!("{}: {e}", p.display())));
        }
    }
    let positive = |d: &Option<Dur>, default: Duration, field: &str, errs: &mut Vec<FieldError>| {
        let d = d.map_or(default, |d| d.0);
        if d.is_zero() {
            errs.push(FieldError::new(field, "must be more than 0s"));
        }
        d
    };
    let statement_timeout =
        positive(&pg.statement_timeout, Duration::from_secs(5), "postgres.statement_timeout", &mut errs);
    let connect_timeout = positive(&pg.connect_timeout, Duration::from_secs(10), "postgres.connect_timeout", &mut errs);
    let lease = positive(&pg.lease, Duration::from_secs(300), "postgres.lease", &mut errs);
    match url {
        Some(url) if errs.is_empty() => Ok(Backend::Postgres(Postgres {
            url,
            password,
            pool_size,
            ca_file,
            statement_timeout,
            connect_timeout,
            lease,
        })),
        _ => Err(errs.into_iter().map(|e| e.under("storage")).collect()),
    }
}
