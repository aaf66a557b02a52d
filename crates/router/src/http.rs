//! The router's whole HTTP surface, in one route table ([`route`]), served by the kit's
//! server (TLS and basic auth from `--web.config.file`). Every handler is a leaf that takes
//! the [`State`]: the webhook (`ingest.rs`), the incidents API and signed links (`api.rs`),
//! the Slack and Twilio callbacks (`inbound.rs`), the web page (`web.rs`), plus `/metrics`
//! and health here. No handler routes to another module's table.
//!
//! This is the top layer: it may use every module below it, and none imports it.

mod api;
mod inbound;
mod ingest;
pub mod web;

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use tokio::sync::Notify;
use vigie_kit::server::{self, Body};
use vigie_kit::MetricSet;

pub use ingest::{accept, authorised, PATH};

use crate::config::Config;
use crate::metrics::Metrics;
use crate::model::{now_ms, LINK_PATH};
use crate::store::Store;

const PLAIN: &str = "text/plain; charset=utf-8";

/// What the handlers need.
pub struct State {
    /// The checked config.
    pub config: Arc<Config>,
    /// The store.
    pub store: Arc<dyn Store>,
    /// Woken after each stored webhook.
    pub engine: Arc<Notify>,
    /// The delivery queue, woken after an action queued notifications itself (an ack's
    /// Slack updates).
    pub deliver: Arc<Notify>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
}

/// The kit handler.
pub fn handler(state: Arc<State>) -> server::Handler {
    Arc::new(move |req| {
        let state = state.clone();
        Box::pin(async move { route(&state, req).await })
    })
}

/// The route table: first match wins.
async fn route(st: &State, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().to_owned();
    match (req.method(), path.as_str()) {
        (&Method::POST, PATH) => ingest::webhook(st, req).await,
        (_, PATH) => server::text(StatusCode::METHOD_NOT_ALLOWED, PLAIN, "Only POST.\n"),
        (&Method::GET, "/metrics") => metrics(st).await,
        (&Method::GET, "/-/healthy" | "/-/ready") => server::text(StatusCode::OK, PLAIN, "OK\n"),
        (&Method::GET, "/") => index(),
        (_, p) if p.starts_with(LINK_PATH) => api::link(st, req, &path[LINK_PATH.len()..]).await,
        (_, p) if p == "/ui" || p.starts_with("/ui/") => web::route(st, req).await,
        (&Method::POST, inbound::SLACK_PATH) => inbound::slack(st, req).await,
        (&Method::POST, inbound::TWILIO_PATH) => inbound::twilio(st, req).await,
        (_, p) if p.starts_with(api::INCIDENTS) => api::incidents(st, req).await,
        _ => server::text(StatusCode::NOT_FOUND, PLAIN, "404 page not found\n"),
    }
}

fn index() -> Response<Body> {
    server::text(
        StatusCode::OK,
        PLAIN,
        format!("vigie-router {}\nPOST {PATH}: Alertmanager webhook (v4)\nGET /metrics\n", env!("CARGO_PKG_VERSION")),
    )
}

/// The router's counters, the store's gauges (a failure leaves them out and is logged) and
/// `process_*`.
async fn metrics(st: &State) -> Response<Body> {
    let mut set = MetricSet::new();
    st.metrics.collect(&mut set);
    match st.store.stats(now_ms()).await {
        Ok(stats) => {
            let levels = st.config.policies.iter().map(|p| p.levels.len()).max().unwrap_or(0);
            Metrics::collect_stats(&stats, levels, &mut set);
        }
        Err(e) => tracing::error!(err = %e, "Cannot read the store's gauges."),
    }
    vigie_kit::process::collect(&mut set);
    server::text(StatusCode::OK, vigie_kit::TEXT_FORMAT, set.encode_bytes())
}
