//! `vigie-router serve`: opens the store, starts the escalation engine and the delivery
//! queue, and serves HTTP until SIGTERM/SIGINT. State is on disk, so stopping is immediate:
//! whatever was in flight is picked up at the next start.

use std::sync::Arc;

use tokio::sync::Notify;
use vigie_kit::server::Listeners;
use vigie_kit::web_config::Web;

use crate::config::Config;
use crate::http;
use crate::metrics::Metrics;
use crate::queue::{self, Channels};
use crate::store::{sqlite, sqlite::Sqlite, Store};

/// Runs until `shutdown` completes.
pub async fn run(
    config: Config,
    web: Web,
    listen: &[String],
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), String> {
    let opts = sqlite::Options { key_retention: config.idempotency_retention };
    let store: Arc<dyn Store> = Arc::new(
        Sqlite::open_with(&config.storage_path, opts).map_err(|e| format!("{}: {e}", config.storage_path.display()))?,
    );
    let listeners = Listeners::bind(listen).await.map_err(|e| e.to_string())?;
    let mut channels = Channels::new();
    for s in &config.channels {
        tracing::info!(channel = s.kind().as_str(), settings = ?s, "Channel ready.");
        channels.insert(s.kind(), s.open());
    }
    let config = Arc::new(config);
    let metrics = Arc::new(Metrics::new());
    let (engine_wake, deliver_wake) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
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
        store = %config.storage_path.display(),
        policies = config.policies.len(),
        "Starting vigie-router."
    );
    let state = Arc::new(http::State { config, store, engine: engine_wake, deliver: deliver_wake, metrics });
    listeners.serve(Arc::new(web), http::handler(state), shutdown).await;
    engine.abort();
    delivery.abort();
    Ok(())
}
