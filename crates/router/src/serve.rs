//! `vigie-router serve`: opens the store, starts the escalation engine and the delivery
//! queue, and serves HTTP until SIGTERM/SIGINT. State is on disk, so stopping is immediate:
//! whatever was in flight is picked up at the next start.

use std::sync::Arc;

use tokio::sync::Notify;
use vigie_kit::server::Listeners;
use vigie_kit::web_config::Web;

use crate::config::Config;
use crate::config::StorageBackend;
use crate::http;
use crate::metrics::Metrics;
use crate::queue::{self, Channels};
use crate::store::{postgres, sqlite, sqlite::Sqlite, Store};

/// Runs until `shutdown` completes.
pub async fn run(
    config: Config,
    web: Web,
    listen: &[String],
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), String> {
    let store = open_store(&config).await?;
    let listeners = Listeners::bind(listen).await.map_err(|e| e.to_string())?;
    let mut channels = Channels::new();
    for s in &config.channels {
        tracing::info!(channel = s.kind().as_str(), settings = ?s, "Channel ready.");
        channels.insert(s.kind(), s.open());
    }
    let config = Arc::new(config);
    let metrics = Arc::new(Metrics::new());
    let (engine_wake, deliver_wake) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    store.watch(engine_wake.clone(), deliver_wake.clone());
    if config.ingest.bearer.is_none() && config.ingest.basic.is_none() {
        tracing::warn!("No ingest.bearer_token or ingest.basic_auth: anyone who reaches the port can post alerts.");
    }
    let engine = tokio::spawn(crate::escalation::run(
        config.clone(),
        store.clone(),
        engine_wake.clone(),
        deliver_wake.clone(),
        metrics.clone(),
    ));
    let delivery = tokio::spawn(queue::run(
        store.clone(),
        Arc::new(channels),
        config.delivery.clone(),
        deliver_wake.clone(),
        engine_wake.clone(),
        metrics.clone(),
    ));
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        store = %config.storage.describe(),
        policies = config.policies.len(),
        "Starting vigie-router."
    );
    let state = Arc::new(http::State { config, store, engine: engine_wake, deliver: deliver_wake, metrics });
    listeners.serve(Arc::new(web), http::handler(state), shutdown).await;
    engine.abort();
    delivery.abort();
    Ok(())
}

/// Opens the configured store: the SQLite file, or the PostgreSQL database (connected and
/// migrated; a database that cannot be reached is an error here, naming the reason and never
/// the URL).
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>, String> {
    match &config.storage {
        StorageBackend::Sqlite(path) => {
            let opts = sqlite::Options { key_retention: config.idempotency_retention };
            let s = Sqlite::open_with(path, opts).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok(Arc::new(s))
        }
        StorageBackend::Postgres(pg) => {
            let opts = postgres::Options {
                url: pg.url.expose().to_owned(),
                password: pg.password.as_ref().map(|p| p.expose().to_owned()),
                pool_size: pg.pool_size,
                ca_file: pg.ca_file.clone(),
                statement_timeout: pg.statement_timeout,
                connect_timeout: pg.connect_timeout,
                lease: pg.lease,
                key_retention: config.idempotency_retention,
                owner: None,
            };
            let s = postgres::Postgres::connect(opts).await.map_err(|e| format!("storage.postgres: {e}"))?;
            tracing::info!(owner = s.owner(), schema = postgres::SCHEMA_VERSION, "PostgreSQL store ready.");
            Ok(Arc::new(s))
        }
    }
}
