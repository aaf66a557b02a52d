//! [`Store`] on an embedded SQLite file through `rusqlite` (bundled SQLite): WAL journal,
//! `synchronous=FULL`, so a commit is on disk when it returns.
//!
//! One writer thread owns the connection. Every call becomes a job on a channel; the thread
//! takes everything queued, runs each job in its own savepoint inside one transaction and
//! commits once, then answers every caller: concurrent webhooks share one fsync (group
//! commit), and a caller hears "stored" only after the commit.
//!
//! Checkpoints (copying the WAL back into the database file, with its own fsync) run on a
//! second connection in a background thread, so they never hold up a commit; the writer
//! also prunes idempotency keys older than the retention, a few hundred per commit.

use std::collections::HashSet;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rusqlite::{params, Connection, OptionalExtension};
use tokio::sync::oneshot;
use vigie_kit::BoxFuture;

use super::*;
use crate::model::now_ms;

type Finish = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
type Job = Box<dyn FnOnce(&Connection) -> (bool, Finish) + Send>;

/// Most alerts of an incident put in a notification (firing first): bounds the work per
/// step and the size of a mail for groups of thousands of alerts.
pub(super) const MAX_ALERTS_SHOWN: i64 = 50;

/// Most jobs in one transaction.
const MAX_BATCH: usize = 1024;

/// Most idempotency keys deleted in one commit, and how often the writer looks for them.
const PRUNE_ROWS: i64 = 500;
const PRUNE_EVERY: Duration = Duration::from_secs(1);

/// A background checkpoint runs at most this often; past `WAL_RESTART_FRAMES` frames (64 MiB
/// of 4 KiB pages, reached only under sustained load) it waits for the writer to start the
/// WAL over, so the file does not grow without bound.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);
const WAL_RESTART_FRAMES: i64 = 16_384;

/// How many interrupted attempts a notification survives: after each of the first two
/// crashes it is sent again (at most one duplicate per crash); a third interruption marks it
/// `uncertain`, so a notification that keeps crashing the router is not retried forever.
const MAX_INTERRUPTED: i64 = 3;

/// Store tuning.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// How long a batch's idempotency key is kept (a retry after that is stored again).
    pub key_retention: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options { key_retention: Duration::from_secs(24 * 3600) }
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS batches(key BLOB PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS batches_at ON batches(at);
CREATE TABLE IF NOT EXISTS incidents(
  id INTEGER PRIMARY KEY, receiver TEXT NOT NULL, group_key TEXT NOT NULL, policy TEXT NOT NULL,
  external_url TEXT NOT NULL, group_labels TEXT NOT NULL, firing INTEGER NOT NULL,
  level INTEGER NOT NULL DEFAULT 0, cycle INTEGER NOT NULL DEFAULT 0, start_level INTEGER NOT NULL,
  next_at INTEGER, deadline_at INTEGER NOT NULL, started_at INTEGER NOT NULL, resolved_at INTEGER,
  announce INTEGER NOT NULL DEFAULT 0, resolve_pending INTEGER NOT NULL DEFAULT 0,
  version INTEGER NOT NULL DEFAULT 1);
CREATE UNIQUE INDEX IF NOT EXISTS incidents_open ON incidents(receiver, group_key) WHERE firing = 1;
CREATE INDEX IF NOT EXISTS incidents_next ON incidents(next_at) WHERE next_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS incidents_todo ON incidents(id) WHERE announce = 1 OR resolve_pending = 1;
CREATE TABLE IF NOT EXISTS alerts(
  incident_id INTEGER NOT NULL, fingerprint TEXT NOT NULL, status TEXT NOT NULL, labels TEXT NOT NULL,
  annotations TEXT NOT NULL, starts_at TEXT NOT NULL, ends_at TEXT NOT NULL, generator_url TEXT NOT NULL,
  PRIMARY KEY(incident_id, fingerprint)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox(
  id INTEGER PRIMARY KEY, incident_id INTEGER NOT NULL, kind TEXT NOT NULL, level INTEGER NOT NULL,
  channel TEXT NOT NULL, contact TEXT NOT NULL, address TEXT NOT NULL, body TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
  inflight INTEGER NOT NULL DEFAULT 0, maybe_sent INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL, created_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox(next_attempt_at) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS outbox_incident ON outbox(incident_id);
CREATE TABLE IF NOT EXISTS attempts(outbox_id INTEGER NOT NULL, at INTEGER NOT NULL, outcome TEXT NOT NULL, detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS attempts_outbox ON attempts(outbox_id);
CREATE TABLE IF NOT EXISTS events(incident_id INTEGER NOT NULL, at INTEGER NOT NULL, what TEXT NOT NULL);
";

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Db(e.to_string())
}

/// The SQLite store.
pub struct Sqlite {
    tx: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Sqlite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sqlite")
    }
}

impl Sqlite {
    /// Opens (creating) the file with the default [`Options`].
    pub fn open(path: &Path) -> Result<Sqlite, StoreError> {
        Sqlite::open_with(path, Options::default())
    }

    /// Opens (creating) the file, recovers attempts a crash interrupted, and starts the
    /// writer and checkpoint threads.
    pub fn open_with(path: &Path, opts: Options) -> Result<Sqlite, StoreError> {
        let named = |e: rusqlite::Error| StoreError::Db(format!("{}: {e}", path.display()));
        let conn = Connection::open(path).map_err(named)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(db)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(db)?;
        // The checkpoint thread does it, off the commit path.
        conn.pragma_update(None, "wal_autocheckpoint", 0).map_err(db)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(db)?;
        // Every statement the store uses stays prepared.
        conn.set_prepared_statement_cache_capacity(128);
        conn.execute_batch(SCHEMA).map_err(db)?;
        incidents::migrate(&conn)?;
        recover(&conn, now_ms())?;
        let ckpt = Connection::open(path).map_err(named)?;
        ckpt.pragma_update(None, "synchronous", "FULL").map_err(db)?;
        ckpt.busy_timeout(Duration::from_secs(5)).map_err(db)?;
        let (tx, rx) = mpsc::channel::<Job>();
        let (ckpt_tx, ckpt_rx) = mpsc::sync_channel::<()>(1);
        std::thread::Builder::new()
            .name("vigie-checkpoint".into())
            .spawn(move || checkpointer(ckpt, ckpt_rx))
            .map_err(|e| StoreError::Db(format!("cannot start the checkpoint thread: {e}")))?;
        let retention = i64::try_from(opts.key_retention.as_millis()).unwrap_or(i64::MAX);
        std::thread::Builder::new()
            .name("vigie-store".into())
            .spawn(move || writer(conn, rx, ckpt_tx, retention))
            .map_err(|e| StoreError::Db(format!("cannot start the writer thread: {e}")))?;
        Ok(Sqlite { tx })
    }

    async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let r = f(conn);
            let ok = r.is_ok();
            let fin: Finish = Box::new(move |commit| {
                let _ = tx.send(commit.and(r));
            });
            (ok, fin)
        });
        self.tx.send(job).map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }
}

/// Runs one fixed statement through the statement cache (no parse per call).
fn run(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql).and_then(|mut s| s.execute([])).map(|_| ()).map_err(db)
}

fn writer(conn: Connection, rx: mpsc::Receiver<Job>, ckpt: mpsc::SyncSender<()>, retention: Millis) {
    let mut jobs: Vec<Job> = Vec::with_capacity(64);
    let mut finishers: Vec<Finish> = Vec::with_capacity(64);
    let mut last_prune = Instant::now();
    while let Ok(first) = rx.recv() {
        jobs.push(first);
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let begun = run(&conn, "BEGIN IMMEDIATE");
        for j in jobs.drain(..) {
            // Each job in its own savepoint, so one failing job leaves the others' writes.
            let saved = run(&conn, "SAVEPOINT job").is_ok();
            let (ok, fin) = j(&conn);
            if saved {
                if !ok || begun.is_err() {
                    let _ = run(&conn, "ROLLBACK TO job");
                }
                let _ = run(&conn, "RELEASE job");
            }
            finishers.push(fin);
        }
        if begun.is_ok() && last_prune.elapsed() >= PRUNE_EVERY {
            // Old idempotency keys, a few at a time; again next commit if there are more.
            match prune_keys(&conn, now_ms().saturating_sub(retention)) {
                Ok(n) if n >= PRUNE_ROWS as usize => {}
                Ok(_) => last_prune = Instant::now(),
                Err(e) => {
                    tracing::warn!(err = %e, "Cannot prune old idempotency keys.");
                    last_prune = Instant::now();
                }
            }
        }
        let commit = begun.and_then(|()| run(&conn, "COMMIT"));
        if let Err(e) = &commit {
            tracing::error!(err = %e, "Store commit failed.");
            let _ = conn.execute_batch("ROLLBACK");
        }
        for fin in finishers.drain(..) {
            fin(commit.clone());
        }
        if commit.is_ok() {
            // Nothing new to copy makes the checkpoint a no-op.
            let _ = ckpt.try_send(());
        }
    }
}

fn prune_keys(conn: &Connection, before: Millis) -> Result<usize, StoreError> {
    conn.prepare_cached("DELETE FROM batches WHERE key IN (SELECT key FROM batches WHERE at < ?1 ORDER BY at LIMIT ?2)")
        .and_then(|mut s| s.execute(params![before, PRUNE_ROWS]))
        .map_err(db)
}

/// Copies the WAL into the database file after commits, at most every `CHECKPOINT_EVERY`,
/// until the writer stops.
fn checkpointer(conn: Connection, rx: mpsc::Receiver<()>) {
    while rx.recv().is_ok() {
        std::thread::sleep(CHECKPOINT_EVERY);
        let passive: Result<(i64, i64, i64), _> =
            conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)));
        match passive {
            Ok((_, log, _)) if log >= WAL_RESTART_FRAMES => {
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(())) {
                    tracing::warn!(err = %e, "WAL checkpoint (restart) failed.");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(err = %e, "WAL checkpoint failed."),
        }
    }
}

fn recover(conn: &Connection, now: Millis) -> Result<(), StoreError> {
    let tx = conn.unchecked_transaction().map_err(db)?;
    // An attempt that was started and never finished may have been delivered.
    tx.execute(
        "INSERT INTO attempts(outbox_id, at, outcome, detail)
         SELECT id, ?1, 'interrupted', 'the router stopped during this attempt' FROM outbox WHERE inflight = 1",
        params![now],
    )
    .map_err(db)?;
    tx.execute(
        "UPDATE outbox SET maybe_sent = maybe_sent + 1, inflight = 0, next_attempt_at = ?1 WHERE inflight = 1",
        params![now],
    )
    .map_err(db)?;
    // Versions before 0.1.1 gave up after two interruptions, so a notification never confirmed
    // sent could be lost; it gets its attempt after this restart, like any interrupted one.
    tx.execute(
        "INSERT INTO attempts(outbox_id, at, outcome, detail)
         SELECT id, ?1, 'retry', 'two interrupted attempts, never confirmed sent: sending once more' FROM outbox
         WHERE state = 'uncertain' AND maybe_sent = 2",
        params![now],
    )
    .map_err(db)?;
    tx.execute(
        "UPDATE outbox SET state = 'pending', next_attempt_at = ?1 WHERE state = 'uncertain' AND maybe_sent = 2",
        params![now],
    )
    .map_err(db)?;
    // One duplicate at most per crash; a notification interrupted `MAX_INTERRUPTED` times
    // (one that keeps crashing the router, say) is given up, recorded.
    tx.execute(
        "INSERT INTO attempts(outbox_id, at, outcome, detail)
         SELECT id, ?1, 'uncertain', ?2 FROM outbox WHERE state = 'pending' AND maybe_sent >= ?3",
        params![now, format!("{MAX_INTERRUPTED} interrupted attempts: not sent again"), MAX_INTERRUPTED],
    )
    .map_err(db)?;
    tx.execute(
        "UPDATE outbox SET state = 'uncertain' WHERE state = 'pending' AND maybe_sent >= ?1",
        params![MAX_INTERRUPTED],
    )
    .map_err(db)?;
    tx.commit().map_err(db)
}

fn ingest(conn: &Connection, b: &IngestBatch) -> Result<Ingested, StoreError> {
    let fresh = conn
        .prepare_cached("INSERT OR IGNORE INTO batches(key, at) VALUES (?1, ?2)")
        .and_then(|mut s| s.execute(params![&b.key[..], b.now]))
        .map_err(db)?;
    if fresh == 0 {
        return Ok(Ingested::Duplicate);
    }
    let open: Option<(i64, i64)> = conn
        .prepare_cached("SELECT id, level FROM incidents WHERE receiver = ?1 AND group_key = ?2 AND firing = 1")
        .and_then(|mut s| s.query_row(params![b.receiver, b.group_key], |r| Ok((r.get(0)?, r.get(1)?))).optional())
        .map_err(db)?;
    let any_firing = b.alerts.iter().any(|a| a.status == Status::Firing);
    let (id, level, opened) = match open {
        Some((id, level)) => (id, level, false),
        None if any_firing => {
            conn.prepare_cached(
                "INSERT INTO incidents(receiver, group_key, policy, external_url, group_labels, firing, start_level,
                   next_at, deadline_at, started_at) VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?7, ?8, ?7)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    b.receiver,
                    b.group_key,
                    b.policy,
                    b.external_url,
                    b.group_labels,
                    b.start_level as i64,
                    b.now,
                    b.deadline_at
                ])
            })
            .map_err(db)?;
            let id = conn.last_insert_rowid();
            let what = format!("opened: {} (policy {}, start level {})", b.group_labels, b.policy, b.start_level);
            event(conn, id, b.now, EventKind::AlertFired, None, &what)?;
            (id, 0, true)
        }
        // Resolved alerts of a group with no open incident: already resolved, or never seen.
        None => return Ok(Ingested::Stored { incident: None, opened: false, resolved: false }),
    };
    // The group's firing alerts before this batch: one read instead of one per alert, and the
    // count of what still fires afterwards without another.
    let mut firing: HashSet<String> = HashSet::new();
    if !opened {
        let mut s = conn
            .prepare_cached("SELECT fingerprint FROM alerts WHERE incident_id = ?1 AND status = 'firing'")
            .map_err(db)?;
        let rows = s.query_map(params![id], |r| r.get::<_, String>(0)).map_err(db)?;
        for fp in rows {
            firing.insert(fp.map_err(db)?);
        }
    }
    let mut newly_firing = false;
    let mut upsert = conn
        .prepare_cached(
            "INSERT INTO alerts(incident_id, fingerprint, status, labels, annotations, starts_at, ends_at, generator_url)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT(incident_id, fingerprint) DO UPDATE SET status = excluded.status, labels = excluded.labels,
               annotations = excluded.annotations, starts_at = excluded.starts_at, ends_at = excluded.ends_at,
               generator_url = excluded.generator_url",
        )
        .map_err(db)?;
    for a in &b.alerts {
        upsert
            .execute(params![
                id,
                a.fingerprint,
                a.status.as_str(),
                a.labels,
                a.annotations,
                a.starts_at,
                a.ends_at,
                a.generator_url
            ])
            .map_err(db)?;
        match a.status {
            Status::Firing => newly_firing |= firing.insert(a.fingerprint.clone()),
            Status::Resolved => {
                firing.remove(&a.fingerprint);
            }
        }
    }
    drop(upsert);
    let resolved = firing.is_empty();
    if resolved {
        conn.prepare_cached(
            "UPDATE incidents SET firing = 0, resolved_at = ?2, resolve_pending = 1, next_at = NULL,
             version = version + 1 WHERE id = ?1",
        )
        .and_then(|mut s| s.execute(params![id, b.now]))
        .map_err(db)?;
        incidents::record(
            conn,
            id,
            b.now,
            EventKind::Resolved,
            Some("alertmanager"),
            None,
            None,
            None,
            "every alert resolved",
        )?;
    } else if !opened {
        let announce = newly_firing && level > 0;
        conn.prepare_cached(
            "UPDATE incidents SET announce = announce OR ?2, external_url = ?3, version = version + 1 WHERE id = ?1",
        )
        .and_then(|mut s| s.execute(params![id, announce, b.external_url]))
        .map_err(db)?;
        if announce {
            event(conn, id, b.now, EventKind::AlertJoined, None, "new firing alerts joined")?;
        }
    }
    Ok(Ingested::Stored { incident: (!resolved).then_some(id), opened, resolved })
}

fn event(
    conn: &Connection,
    id: i64,
    at: Millis,
    kind: EventKind,
    level: Option<usize>,
    what: &str,
) -> Result<(), StoreError> {
    incidents::record(conn, id, at, kind, None, None, None, level, what)
}

/// A stored alert status (written by `Status::as_str`).
fn status_from_sql(s: &str) -> rusqlite::Result<Status> {
    Status::parse(s).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, format!("alert status {s:?}").into())
    })
}

fn json_kv(s: &str) -> KV {
    serde_json::from_str(s).unwrap_or_default()
}

/// An incident's alerts, firing ones first, at most `limit`.
pub(super) fn alert_views(conn: &Connection, incident: i64, limit: i64) -> Result<Vec<AlertView>, StoreError> {
    let mut s = conn
        .prepare_cached(
            "SELECT status, labels, annotations, starts_at, generator_url FROM alerts
             WHERE incident_id = ?1 ORDER BY status, starts_at, fingerprint LIMIT ?2",
        )
        .map_err(db)?;
    let rows = s
        .query_map(params![incident, limit], |r| {
            Ok(AlertView {
                status: status_from_sql(&r.get::<_, String>(0)?)?,
                labels: json_kv(&r.get::<_, String>(1)?),
                annotations: json_kv(&r.get::<_, String>(2)?),
                starts_at: r.get(3)?,
                generator_url: r.get(4)?,
            })
        })
        .map_err(db)?;
    rows.collect::<Result<_, _>>().map_err(db)
}

fn due(conn: &Connection, now: Millis, limit: usize) -> Result<Vec<Incident>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, version, receiver, group_key, policy, external_url, group_labels, firing, level, cycle,
               start_level, next_at, deadline_at, started_at, resolved_at, announce, resolve_pending,
               acked, resume, reassign
             FROM incidents WHERE (firing = 1 AND next_at <= ?1) OR announce = 1 OR resolve_pending = 1
             ORDER BY id LIMIT ?2",
        )
        .map_err(db)?;
    let rows = stmt
        .query_map(params![now, limit as i64], |r| {
            Ok(Incident {
                id: r.get(0)?,
                version: r.get(1)?,
                receiver: r.get(2)?,
                group_key: r.get(3)?,
                policy: r.get(4)?,
                external_url: r.get(5)?,
                group_labels: json_kv(&r.get::<_, String>(6)?),
                firing: r.get(7)?,
                level: r.get::<_, i64>(8)?.max(0) as usize,
                cycle: r.get::<_, i64>(9)?.max(0) as u32,
                start_level: r.get::<_, i64>(10)?.max(1) as usize,
                next_at: r.get(11)?,
                deadline_at: r.get(12)?,
                started_at: r.get(13)?,
                resolved_at: r.get(14)?,
                announce: r.get(15)?,
                resolve_pending: r.get(16)?,
                alerts: Vec::new(),
                paged: Vec::new(),
                acked: r.get(17)?,
                resume: r.get(18)?,
                reassign: r.get::<_, Option<String>>(19)?.as_deref().and_then(Reassign::decode),
            })
        })
        .map_err(db)?;
    let mut out: Vec<Incident> = rows.collect::<Result<_, _>>().map_err(db)?;
    for inc in &mut out {
        inc.alerts = alert_views(conn, inc.id, MAX_ALERTS_SHOWN)?;
        let mut s = conn
            .prepare_cached(
                "SELECT contact, channel, address, max(level) FROM outbox WHERE incident_id = ?1 AND kind = 'page'
                 GROUP BY contact, channel, address ORDER BY contact, channel",
            )
            .map_err(db)?;
        inc.paged = s
            .query_map(params![inc.id], |r| {
                let channel: String = r.get(1)?;
                Ok((r.get::<_, String>(0)?, channel, r.get::<_, String>(2)?, r.get::<_, i64>(3)?))
            })
            .map_err(db)?
            .filter_map(|r| r.ok())
            .filter_map(|(contact, ch, address, level)| {
                Some((Target { contact, channel: ChannelKind::parse(&ch)?, address }, level.max(0) as usize))
            })
            .collect();
    }
    Ok(out)
}

fn apply(conn: &Connection, steps: &[Step], now: Millis) -> Result<Vec<i64>, StoreError> {
    let mut applied = Vec::new();
    for st in steps {
        let n = conn
            .prepare_cached(
                "UPDATE incidents SET level = ?3, cycle = ?4, next_at = ?5,
                   announce = CASE WHEN ?6 THEN 0 ELSE announce END,
                   resolve_pending = CASE WHEN ?7 THEN 0 ELSE resolve_pending END,
                   acked = CASE WHEN ?8 THEN 0 ELSE acked END, resume = CASE WHEN ?8 THEN 0 ELSE resume END,
                   reassign = CASE WHEN ?8 THEN NULL ELSE reassign END,
                   version = version + 1
                 WHERE id = ?1 AND version = ?2",
            )
            .and_then(|mut s| {
                s.execute(params![
                    st.incident,
                    st.version,
                    st.level as i64,
                    st.cycle as i64,
                    st.next_at,
                    st.clear_announce,
                    st.clear_resolve,
                    st.clear_ack
                ])
            })
            .map_err(db)?;
        if n == 0 {
            continue; // changed since it was read: the next pass plans again
        }
        applied.push(st.incident);
        for o in &st.outbox {
            conn.prepare_cached(
                "INSERT INTO outbox(incident_id, kind, level, channel, contact, address, body, next_attempt_at, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    st.incident,
                    kind_str(o.kind),
                    o.level as i64,
                    o.target.channel.as_str(),
                    o.target.contact,
                    o.target.address,
                    o.body,
                    now
                ])
            })
            .map_err(db)?;
        }
        for e in &st.events {
            event(conn, st.incident, now, e.kind, e.level, &e.detail)?;
        }
    }
    Ok(applied)
}

fn claim(conn: &Connection, now: Millis, limit: usize) -> Result<Vec<OutboxItem>, StoreError> {
    claim_on(conn, now, limit, None)
}

/// Claims due rows, only on `channels` if given.
fn claim_on(
    conn: &Connection,
    now: Millis,
    limit: usize,
    channels: Option<&[ChannelKind]>,
) -> Result<Vec<OutboxItem>, StoreError> {
    let only = match channels {
        None => String::new(),
        Some([]) => return Ok(Vec::new()),
        // Our own static names: nothing to escape.
        Some(list) => {
            let names: Vec<String> = list.iter().map(|c| format!("'{}'", c.as_str())).collect();
            format!(" AND channel IN ({})", names.join(", "))
        }
    };
    let mut s = conn
        .prepare_cached(&format!(
            "SELECT id, incident_id, level, channel, attempts, body FROM outbox
             WHERE state = 'pending' AND inflight = 0 AND next_attempt_at <= ?1{only} ORDER BY next_attempt_at, id LIMIT ?2"
        ))
        .map_err(db)?;
    let items: Vec<OutboxItem> = s
        .query_map(params![now, limit as i64], |r| {
            Ok(OutboxItem {
                id: r.get(0)?,
                incident: r.get(1)?,
                level: r.get::<_, i64>(2)?.max(0) as usize,
                channel: ChannelKind::parse(&r.get::<_, String>(3)?),
                attempts: r.get::<_, i64>(4)?.max(0) as u32 + 1,
                body: r.get(5)?,
            })
        })
        .map_err(db)?
        .collect::<Result<_, _>>()
        .map_err(db)?;
    for it in &items {
        conn.prepare_cached("UPDATE outbox SET inflight = 1, attempts = attempts + 1 WHERE id = ?1")
            .and_then(|mut s| s.execute(params![it.id]))
            .map_err(db)?;
        incidents::outbox_event(
            conn,
            it.id,
            now,
            EventKind::NotificationAttempted,
            &format!("attempt {}", it.attempts),
        )?;
    }
    Ok(items)
}

fn finish(conn: &Connection, id: i64, outcome: &Outcome, now: Millis) -> Result<(), StoreError> {
    let (label, detail) = match outcome {
        Outcome::Sent(d) => ("sent", d.as_str()),
        Outcome::Retry { reason, .. } => ("retry", reason.as_str()),
        Outcome::Failed(reason) => ("failed", reason.as_str()),
    };
    conn.prepare_cached("INSERT INTO attempts(outbox_id, at, outcome, detail) VALUES (?1, ?2, ?3, ?4)")
        .and_then(|mut s| s.execute(params![id, now, label, detail]))
        .map_err(db)?;
    let kind = match outcome {
        Outcome::Sent(_) => EventKind::NotificationSent,
        Outcome::Retry { .. } => EventKind::NotificationRetry,
        Outcome::Failed(_) => EventKind::NotificationFailed,
    };
    incidents::outbox_event(conn, id, now, kind, detail)?;
    match outcome {
        Outcome::Sent(_) => {
            conn.execute("UPDATE outbox SET state = 'sent', inflight = 0 WHERE id = ?1", params![id]).map_err(db)?;
        }
        Outcome::Retry { at, .. } => {
            conn.execute("UPDATE outbox SET inflight = 0, next_attempt_at = ?2 WHERE id = ?1", params![id, at])
                .map_err(db)?;
        }
        Outcome::Failed(reason) => {
            conn.execute("UPDATE outbox SET state = 'failed', inflight = 0 WHERE id = ?1", params![id]).map_err(db)?;
            // A level that cannot be reached is never skipped silently: page the next one now.
            let row: Option<(i64, i64, String)> = conn
                .query_row("SELECT incident_id, level, kind FROM outbox WHERE id = ?1", params![id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()
                .map_err(db)?;
            if let Some((incident, level, kind)) = row {
                if kind == "page" {
                    let n = conn
                        .execute(
                            "UPDATE incidents SET next_at = ?3, version = version + 1
                             WHERE id = ?1 AND firing = 1 AND level = ?2",
                            params![incident, level, now],
                        )
                        .map_err(db)?;
                    if n > 0 {
                        let what = format!("level {level} unreachable ({reason}): escalating now");
                        event(conn, incident, now, EventKind::Escalated, Some(level as usize), &what)?;
                    }
                }
            }
        }
    }
    Ok(())
}

fn wakeups(conn: &Connection) -> Result<Wakeups, StoreError> {
    let a: Option<Millis> = conn
        .query_row("SELECT min(next_at) FROM incidents WHERE firing = 1 AND next_at IS NOT NULL", [], |r| r.get(0))
        .map_err(db)?;
    let b: Option<Millis> = conn
        .query_row("SELECT min(next_attempt_at) FROM outbox WHERE state = 'pending' AND inflight = 0", [], |r| r.get(0))
        .map_err(db)?;
    Ok((a, b))
}

fn first_receipt(
    conn: &Connection,
    incident: i64,
    channel: ChannelKind,
    address: &str,
    prefix: &str,
) -> Result<Option<String>, StoreError> {
    conn.prepare_cached(
        "SELECT a.detail FROM outbox o JOIN attempts a ON a.outbox_id = o.id
         WHERE o.incident_id = ?1 AND o.channel = ?2 AND o.address = ?3 AND a.outcome = 'sent'
           AND substr(a.detail, 1, length(?4)) = ?4
         ORDER BY a.at, a.rowid LIMIT 1",
    )
    .and_then(|mut s| s.query_row(params![incident, channel.as_str(), address, prefix], |r| r.get(0)).optional())
    .map_err(db)
}

impl Store for Sqlite {
    fn ingest(&self, batch: IngestBatch) -> BoxFuture<'_, Result<Ingested, StoreError>> {
        Box::pin(self.call(move |c| ingest(c, &batch)))
    }
    fn due(&self, now: Millis, limit: usize) -> BoxFuture<'_, Result<Vec<Incident>, StoreError>> {
        Box::pin(self.call(move |c| due(c, now, limit)))
    }
    fn apply(&self, steps: Vec<Step>, now: Millis) -> BoxFuture<'_, Result<Vec<i64>, StoreError>> {
        Box::pin(self.call(move |c| apply(c, &steps, now)))
    }
    fn claim(&self, now: Millis, limit: usize) -> BoxFuture<'_, Result<Vec<OutboxItem>, StoreError>> {
        Box::pin(self.call(move |c| claim(c, now, limit)))
    }
    fn claim_on(
        &self,
        now: Millis,
        limit: usize,
        channels: Vec<ChannelKind>,
    ) -> BoxFuture<'_, Result<Vec<OutboxItem>, StoreError>> {
        Box::pin(self.call(move |c| claim_on(c, now, limit, Some(&channels))))
    }
    fn finish(&self, id: i64, outcome: Outcome, now: Millis) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.call(move |c| finish(c, id, &outcome, now)))
    }
    fn wakeups(&self) -> BoxFuture<'_, Result<Wakeups, StoreError>> {
        Box::pin(self.call(wakeups))
    }
    fn act(&self, act: Act, now: Millis) -> BoxFuture<'_, Result<Acted, StoreError>> {
        Box::pin(self.call(move |c| incidents::act(c, &act, now)))
    }
    fn incidents(&self, since: Millis, limit: usize) -> BoxFuture<'_, Result<Vec<Summary>, StoreError>> {
        Box::pin(self.call(move |c| incidents::list(c, since, limit)))
    }
    fn incident(&self, id: i64) -> BoxFuture<'_, Result<Option<Detail>, StoreError>> {
        Box::pin(self.call(move |c| incidents::detail(c, id)))
    }
    fn stats(&self, now: Millis) -> BoxFuture<'_, Result<Stats, StoreError>> {
        Box::pin(self.call(move |c| incidents::stats(c, now)))
    }
    fn first_receipt(
        &self,
        incident: i64,
        channel: ChannelKind,
        address: String,
        prefix: &'static str,
    ) -> BoxFuture<'_, Result<Option<String>, StoreError>> {
        Box::pin(self.call(move |c| first_receipt(c, incident, channel, &address, prefix)))
    }
}

mod incidents;
pub use incidents::Reader;

#[cfg(test)]
mod tests;
