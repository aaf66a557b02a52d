//! `vigie-router`: receives Alertmanager's webhook, stores every alert durably before it
//! answers, turns each alert group into an incident, pages level 1, escalates to level 2 and
//! 3 when nobody resolves it, and tells everyone paged when it resolves.
//!
//! Flow: [`ingest`] (HTTP) → [`store`] (SQLite, group commit) → [`escalation`] (who, when)
//! → outbox → [`queue`] (retries) → [`channels`] (email).

#![forbid(unsafe_code)]

pub mod acks;
pub mod api;
pub mod channels;
pub mod config;
pub mod escalation;
pub mod ingest;
pub mod metrics;
pub mod payload;
pub mod queue;
pub mod rca;
pub mod schedule;
pub mod serve;
pub mod store;
