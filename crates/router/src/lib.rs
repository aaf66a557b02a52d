//! `vigie-router`: receives Alertmanager's webhook, stores every alert durably before it
//! answers, turns each alert group into an incident, pages level 1, escalates to level 2 and
//! 3 when nobody resolves it, and tells everyone paged when it resolves.
//!
//! Flow: [`http`] (the webhook) → [`store`] (SQLite, group commit) → [`escalation`] (who,
//! when) → outbox → [`queue`] (retries, pacing) → [`channels`] (email, Slack, SMS).
//!
//! Layers, each importing only those before it (checked by `tests/integration/layers.rs`):
//! `payload`, `acks` (leaves) ← [`model`] ← [`channels`] ← [`config`] ← [`store`] (model
//! only) ← [`heartbeat`], [`maintenance`], [`stale`] (rules over alerts, not yet wired:
//! issue 19) ← `metrics`, `rca` ← [`escalation`] ← [`queue`] ← [`http`] ← [`serve`].

#![forbid(unsafe_code)]

pub mod acks;
pub mod channels;
pub mod config;
pub mod escalation;
pub mod heartbeat;
pub mod http;
pub mod maintenance;
pub mod metrics;
pub mod model;
pub mod payload;
pub mod queue;
pub mod rca;
pub mod schedule;
pub mod serve;
pub mod stale;
pub mod store;
