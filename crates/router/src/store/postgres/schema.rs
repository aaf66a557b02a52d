//! The PostgreSQL schema, versioned: migration `n` (1-based) takes the schema from version
//! `n - 1` to `n`. They run at start in one transaction under an advisory lock, so routers
//! starting together migrate once; a router finding a version newer than its own refuses to
//! start rather than write rows a newer router would misread.

use super::{pg, StoreError};

/// The schema version this router writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Key of the advisory lock held while migrating ("vigie" in ASCII).
const LOCK: i64 = 0x0076_6967_6965;

const MIGRATIONS: &[&str] = &["
CREATE TABLE batches(key BYTEA PRIMARY KEY, at BIGINT NOT NULL);
CREATE INDEX batches_at ON batches(at);
CREATE TABLE incidents(
  id BIGSERIAL PRIMARY KEY, receiver TEXT NOT NULL, group_key TEXT NOT NULL, policy TEXT NOT NULL,
  external_url TEXT NOT NULL, group_labels TEXT NOT NULL, firing BOOLEAN NOT NULL,
  level BIGINT NOT NULL DEFAULT 0, cycle BIGINT NOT NULL DEFAULT 0, start_level BIGINT NOT NULL,
  next_at BIGINT, deadline_at BIGINT NOT NULL, started_at BIGINT NOT NULL, resolved_at BIGINT,
  announce BOOLEAN NOT NULL DEFAULT false, resolve_pending BOOLEAN NOT NULL DEFAULT false,
  version BIGINT NOT NULL DEFAULT 1,
  acked BOOLEAN NOT NULL DEFAULT false, acked_by TEXT, acked_via TEXT, ack_until BIGINT, first_ack_at BIGINT,
  resume BOOLEAN NOT NULL DEFAULT false, reassign TEXT, assignee TEXT);
-- One open incident per receiver and group key, whichever router opens it.
CREATE UNIQUE INDEX incidents_open ON incidents(receiver, group_key) WHERE firing;
CREATE INDEX incidents_next ON incidents(next_at) WHERE firing AND next_at IS NOT NULL;
CREATE INDEX incidents_todo ON incidents(id) WHERE announce OR resolve_pending;
CREATE INDEX incidents_resolved ON incidents(resolved_at) WHERE resolved_at IS NOT NULL;
CREATE TABLE alerts(
  incident_id BIGINT NOT NULL REFERENCES incidents(id), fingerprint TEXT NOT NULL, status TEXT NOT NULL,
  labels TEXT NOT NULL, annotations TEXT NOT NULL, starts_at TEXT NOT NULL, ends_at TEXT NOT NULL,
  generator_url TEXT NOT NULL, PRIMARY KEY(incident_id, fingerprint));
CREATE TABLE outbox(
  id BIGSERIAL PRIMARY KEY, incident_id BIGINT NOT NULL REFERENCES incidents(id), kind TEXT NOT NULL,
  level BIGINT NOT NULL, channel TEXT NOT NULL, contact TEXT NOT NULL, address TEXT NOT NULL, body TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending', attempts BIGINT NOT NULL DEFAULT 0,
  lease_owner TEXT, lease_until BIGINT, maybe_sent BIGINT NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL, created_at BIGINT NOT NULL);
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_incident ON outbox(incident_id);
CREATE TABLE attempts(
  seq BIGSERIAL PRIMARY KEY, outbox_id BIGINT NOT NULL, at BIGINT NOT NULL, outcome TEXT NOT NULL,
  detail TEXT NOT NULL);
CREATE INDEX attempts_outbox ON attempts(outbox_id);
CREATE TABLE events(
  seq BIGSERIAL PRIMARY KEY, incident_id BIGINT NOT NULL, at BIGINT NOT NULL, what TEXT NOT NULL,
  kind TEXT NOT NULL, actor TEXT, channel TEXT, contact TEXT, level BIGINT);
CREATE INDEX events_incident ON events(incident_id);
"];

/// Brings the schema to [`SCHEMA_VERSION`], or says why it cannot.
pub(super) async fn migrate(client: &mut tokio_postgres::Client) -> Result<(), StoreError> {
    let tx = client.transaction().await.map_err(pg)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK]).await.map_err(pg)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS vigie_schema(version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    .await
    .map_err(pg)?;
    let found: i64 = tx.query_one("SELECT coalesce(max(version), 0) FROM vigie_schema", &[]).await.map_err(pg)?.get(0);
    if found > SCHEMA_VERSION {
        return Err(StoreError::Db(format!(
            "the database schema is version {found}, newer than this vigie-router {} knows (version {SCHEMA_VERSION}): \
             run a newer vigie-router, or point this one at another database",
            env!("CARGO_PKG_VERSION")
        )));
    }
    for (n, sql) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
        let version = n as i64 + 1;
        tx.batch_execute(sql).await.map_err(|e| StoreError::Db(format!("schema migration {version}: {}", pg(e))))?;
        tx.execute("INSERT INTO vigie_schema(version) VALUES ($1)", &[&version]).await.map_err(pg)?;
        tracing::info!(version, "PostgreSQL schema migrated.");
    }
    tx.commit().await.map_err(pg)
}
