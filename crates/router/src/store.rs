//! The store: one small trait ([`Store`]) between the router and its durable state, so that a
//! shared server database can back several routers later. The default, [`sqlite::Sqlite`], is
//! an embedded SQLite file (WAL, `synchronous=FULL`) written by one thread that commits
//! everything pending at once (group commit).
//!
//! State: incidents (one per Alertmanager receiver + `groupKey` while open), their alerts by
//! fingerprint, the keys of batches already accepted (idempotency), the outbox of
//! notifications, every delivery attempt, and an incident timeline.
//!
//! This layer depends on `model` only (never on config, the engine, the queue, channels or
//! HTTP): a second implementation (PostgreSQL) implements [`Store`] and nothing else.

pub mod postgres;
pub mod sqlite;
mod timeline;

#[cfg(test)]
mod tests;

pub use timeline::*;

use std::sync::Arc;

use tokio::sync::Notify;
use vigie_kit::BoxFuture;

use crate::model::{AlertView, ChannelKind, Kind, Millis, Status, Target, KV};

/// A store failure.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// SQLite (or another engine) said no.
    #[error("store: {0}")]
    Db(String),
    /// The writer is gone (shutting down or crashed).
    #[error("store: writer stopped")]
    Closed,
}

/// One webhook, prepared for storage.
#[derive(Debug, Clone)]
pub struct IngestBatch {
    /// Idempotency key (see `payload::Message::key`).
    pub key: [u8; 32],
    /// Alertmanager receiver.
    pub receiver: String,
    /// Alertmanager group key.
    pub group_key: String,
    /// Alertmanager's external URL.
    pub external_url: String,
    /// Group labels, as JSON.
    pub group_labels: String,
    /// Policy the routes chose (used if this opens an incident).
    pub policy: String,
    /// 1-based start level (the `level` label).
    pub start_level: usize,
    /// When the resolution target passes (used if this opens an incident).
    pub deadline_at: Millis,
    /// Receive time.
    pub now: Millis,
    /// The alerts.
    pub alerts: Vec<AlertRow>,
}

/// One alert, prepared for storage.
#[derive(Debug, Clone)]
pub struct AlertRow {
    /// Alertmanager fingerprint.
    pub fingerprint: String,
    /// Firing or resolved.
    pub status: Status,
    /// JSON.
    pub labels: String,
    /// JSON.
    pub annotations: String,
    /// RFC 3339.
    pub starts_at: String,
    /// RFC 3339.
    pub ends_at: String,
    /// Link.
    pub generator_url: String,
}

/// What ingest did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ingested {
    /// An identical batch was already stored: nothing changed.
    Duplicate,
    /// Stored.
    Stored {
        /// The open incident, if any.
        incident: Option<i64>,
        /// A new incident was opened.
        opened: bool,
        /// The incident was resolved.
        resolved: bool,
    },
}

/// An incident with work to do, as the escalation engine sees it.
#[derive(Debug, Clone)]
pub struct Incident {
    /// Id.
    pub id: i64,
    /// Bumped by every change: a plan applies only to the version it was made from.
    pub version: i64,
    /// Alertmanager receiver.
    pub receiver: String,
    /// Alertmanager group key.
    pub group_key: String,
    /// Policy name.
    pub policy: String,
    /// Alertmanager's external URL.
    pub external_url: String,
    /// Group labels.
    pub group_labels: KV,
    /// Open.
    pub firing: bool,
    /// Highest level paged in the current cycle (0: none yet).
    pub level: usize,
    /// Repeats done.
    pub cycle: u32,
    /// Level to start at.
    pub start_level: usize,
    /// Next escalation step, if any.
    pub next_at: Option<Millis>,
    /// Resolution target.
    pub deadline_at: Millis,
    /// Opened.
    pub started_at: Millis,
    /// Resolved.
    pub resolved_at: Option<Millis>,
    /// New alerts joined since the last announcement.
    pub announce: bool,
    /// Resolved and not yet announced.
    pub resolve_pending: bool,
    /// The alerts.
    pub alerts: Vec<AlertView>,
    /// Everyone paged so far (by `Kind::Page` outbox rows), with the highest level.
    pub paged: Vec<(Target, usize)>,
    /// Acknowledged (until `next_at`, when the acknowledgement expires).
    pub acked: bool,
    /// Escalation resumes from the current level at `next_at` (after an unack).
    pub resume: bool,
    /// A reassignment to page at `next_at`.
    pub reassign: Option<Reassign>,
}

/// The engine's decision for one incident: applied only if the incident's version is still
/// `version`, atomically with its outbox rows.
#[derive(Debug, Clone, Default)]
pub struct Step {
    /// Incident id.
    pub incident: i64,
    /// Version planned from.
    pub version: i64,
    /// New level.
    pub level: usize,
    /// New cycle.
    pub cycle: u32,
    /// Next step.
    pub next_at: Option<Millis>,
    /// New alerts announced.
    pub clear_announce: bool,
    /// Resolve announced.
    pub clear_resolve: bool,
    /// Notifications to queue.
    pub outbox: Vec<NewOutbox>,
    /// Timeline events.
    pub events: Vec<Event>,
    /// Clears the acknowledgement (expired), the resume flag and the reassignment.
    pub clear_ack: bool,
}

/// A notification to queue.
#[derive(Debug, Clone)]
pub struct NewOutbox {
    /// Why.
    pub kind: Kind,
    /// Level.
    pub level: usize,
    /// Who.
    pub target: Target,
    /// The `Notification`, as JSON.
    pub body: String,
}

/// A notification claimed for sending.
#[derive(Debug, Clone)]
pub struct OutboxItem {
    /// Id.
    pub id: i64,
    /// Incident.
    pub incident: i64,
    /// Level it pages.
    pub level: usize,
    /// Channel.
    pub channel: Option<ChannelKind>,
    /// Attempts so far, this one included.
    pub attempts: u32,
    /// The `Notification`, as JSON.
    pub body: String,
}

/// How an attempt ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Delivered; the far end's answer.
    Sent(String),
    /// Try again at `at`.
    Retry {
        /// Why.
        reason: String,
        /// When.
        at: Millis,
    },
    /// Given up; if it paged the incident's current level, the next level is due now.
    Failed(String),
}

/// The earliest future escalation step, and the earliest notification retry.
pub type Wakeups = (Option<Millis>, Option<Millis>);

/// Durable state.
pub trait Store: Send + Sync {
    /// Stores a webhook; returns once it is on disk.
    fn ingest(&self, batch: IngestBatch) -> BoxFuture<'_, Result<Ingested, StoreError>>;
    /// Incidents whose next step is due at `now`, or that have something to announce.
    fn due(&self, now: Millis, limit: usize) -> BoxFuture<'_, Result<Vec<Incident>, StoreError>>;
    /// Applies the engine's steps; returns the incidents whose step applied (the others
    /// changed meanwhile and are planned again).
    fn apply(&self, steps: Vec<Step>, now: Millis) -> BoxFuture<'_, Result<Vec<i64>, StoreError>>;
    /// Claims due notifications: marks each attempt as started, on disk, before it is sent.
    fn claim(&self, now: Millis, limit: usize) -> BoxFuture<'_, Result<Vec<OutboxItem>, StoreError>>;
    /// [`Store::claim`], only of notifications on `channels` (the queue leaves a channel
    /// that holds half its slots out).
    fn claim_on(
        &self,
        now: Millis,
        limit: usize,
        channels: Vec<ChannelKind>,
    ) -> BoxFuture<'_, Result<Vec<OutboxItem>, StoreError>>;
    /// Records how an attempt ended.
    fn finish(&self, id: i64, outcome: Outcome, now: Millis) -> BoxFuture<'_, Result<(), StoreError>>;
    /// The earliest future escalation step and notification retry.
    fn wakeups(&self) -> BoxFuture<'_, Result<Wakeups, StoreError>>;
    /// A person's action on an incident (ack, unack, resolve, reassign, note), with its
    /// timeline event, in one transaction.
    fn act(&self, act: Act, now: Millis) -> BoxFuture<'_, Result<Acted, StoreError>>;
    /// Open incidents and those resolved since `since`, newest first.
    fn incidents(&self, since: Millis, limit: usize) -> BoxFuture<'_, Result<Vec<Summary>, StoreError>>;
    /// One incident with its alerts and timeline.
    fn incident(&self, id: i64) -> BoxFuture<'_, Result<Option<Detail>, StoreError>>;
    /// Gauges read at scrape time.
    fn stats(&self, now: Millis) -> BoxFuture<'_, Result<Stats, StoreError>>;
    /// The receipt of the first delivered notification of `incident` on `channel` to
    /// `address` that starts with `prefix` (a Slack message's channel and `ts`, so that later
    /// notifications update that message in place).
    fn first_receipt(
        &self,
        incident: i64,
        channel: ChannelKind,
        address: String,
        prefix: &'static str,
    ) -> BoxFuture<'_, Result<Option<String>, StoreError>>;
    /// Wakes `engine` and `deliver` when another router sharing the store leaves them work
    /// (PostgreSQL's `LISTEN`/`NOTIFY`). A store only this process writes does nothing: the
    /// engine and the queue already wake each other.
    fn watch(&self, engine: Arc<Notify>, deliver: Arc<Notify>) {
        let _ = (engine, deliver);
    }
}
