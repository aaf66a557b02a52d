//! The SQLite side of acknowledgements and the timeline: the columns they add (migrated in
//! place on older files), people's actions, the incident list and detail read by the API,
//! the web page and `vigie-router incident show`, and the gauges read at scrape time.
//!
//! [`Reader`] opens the file read-only for the CLI: in WAL mode a reader sees the last commit
//! while the router keeps writing.

use std::path::Path;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use super::{alert_views, db, json_kv, MAX_ALERTS_SHOWN};
use crate::model::{rfc3339, AckView, ChannelKind, Kind, Notification, Via};
use crate::store::*;

/// Most alerts an incident's detail lists.
const MAX_ALERTS_DETAIL: i64 = 1000;

/// Columns added after part 1: (table, column, declaration).
const COLUMNS: &[(&str, &str, &str)] = &[
    ("events", "kind", "TEXT NOT NULL DEFAULT 'legacy'"),
    ("events", "actor", "TEXT"),
    ("events", "channel", "TEXT"),
    ("events", "contact", "TEXT"),
    ("events", "level", "INTEGER"),
    ("incidents", "acked", "INTEGER NOT NULL DEFAULT 0"),
    ("incidents", "acked_by", "TEXT"),
    ("incidents", "acked_via", "TEXT"),
    ("incidents", "ack_until", "INTEGER"),
    ("incidents", "first_ack_at", "INTEGER"),
    ("incidents", "resume", "INTEGER NOT NULL DEFAULT 0"),
    ("incidents", "reassign", "TEXT"),
    ("incidents", "assignee", "TEXT"),
];

/// Adds the columns a file written by an older router lacks.
pub(super) fn migrate(conn: &Connection) -> Result<(), StoreError> {
    for (table, col, decl) in COLUMNS {
        let has: bool = conn
            .prepare(&format!("SELECT 1 FROM pragma_table_info('{table}') WHERE name = ?1"))
            .and_then(|mut s| s.exists(params![col]))
            .map_err(db)?;
        if !has {
            conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {col} {decl}")).map_err(db)?;
        }
    }
    conn.execute_batch(
        "CREATE INDEX IF NOT EXISTS events_incident ON events(incident_id);
         CREATE INDEX IF NOT EXISTS incidents_resolved ON incidents(resolved_at) WHERE resolved_at IS NOT NULL;",
    )
    .map_err(db)
}

/// Writes one timeline event.
#[allow(clippy::too_many_arguments)]
pub(super) fn record(
    conn: &Connection,
    id: i64,
    at: Millis,
    kind: EventKind,
    actor: Option<&str>,
    channel: Option<&str>,
    contact: Option<&str>,
    level: Option<usize>,
    detail: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO events(incident_id, at, what, kind, actor, channel, contact, level)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .and_then(|mut s| {
        s.execute(params![id, at, detail, kind.as_str(), actor, channel, contact, level.map(|l| l as i64)])
    })
    .map(|_| ())
    .map_err(db)
}

/// A notification event for outbox row `outbox_id`, with its channel, contact and level.
pub(super) fn outbox_event(
    conn: &Connection,
    outbox_id: i64,
    at: Millis,
    kind: EventKind,
    detail: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO events(incident_id, at, what, kind, channel, contact, level)
         SELECT incident_id, ?2, kind || ': ' || ?3, ?4, channel, contact, level FROM outbox WHERE id = ?1",
    )
    .and_then(|mut s| s.execute(params![outbox_id, at, detail, kind.as_str()]))
    .map(|_| ())
    .map_err(db)
}

pub(super) fn act(conn: &Connection, a: &Act, now: Millis) -> Result<Acted, StoreError> {
    let row: Option<(bool, bool, Millis, Option<Millis>, i64)> = conn
        .query_row(
            "SELECT firing, acked, started_at, first_ack_at, level FROM incidents WHERE id = ?1",
            params![a.incident],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()
        .map_err(db)?;
    let Some((firing, acked, started_at, first_ack_at, level)) = row else { return Ok(Acted::NotFound) };
    let with_note = |s: String| match &a.note {
        Some(n) if !n.trim().is_empty() => format!("{s}: {}", n.trim()),
        _ => s,
    };
    let actor = Some(a.actor.as_str());
    let level = Some(level.max(0) as usize);
    let mut first_ack_after = None;
    match &a.what {
        What::Ack { until } => {
            if !firing {
                return Ok(Acted::NotApplicable);
            }
            conn.execute(
                "UPDATE incidents SET acked = 1, acked_by = ?2, acked_via = ?3, ack_until = ?4, next_at = ?4,
                   first_ack_at = coalesce(first_ack_at, ?5), resume = 0, reassign = NULL, version = version + 1
                 WHERE id = ?1",
                params![a.incident, a.actor, a.via.as_str(), until, now],
            )
            .map_err(db)?;
            if first_ack_at.is_none() {
                first_ack_after = Some(now - started_at);
            }
            let what = with_note(format!("acknowledged via {} until {}", a.via, rfc3339(*until)));
            record(conn, a.incident, now, EventKind::Acked, actor, None, None, level, &what)?;
            let ack = AckView { by: a.actor.clone(), via: a.via, until_ms: *until };
            queue_acked(conn, a.incident, ack, now)?;
        }
        What::Unack => {
            if !firing || !acked {
                return Ok(Acted::NotApplicable);
            }
            conn.execute(
                "UPDATE incidents SET acked = 0, acked_by = NULL, acked_via = NULL, ack_until = NULL, resume = 1,
                   next_at = ?2, version = version + 1 WHERE id = ?1",
                params![a.incident, now],
            )
            .map_err(db)?;
            let what = with_note(format!("acknowledgement withdrawn via {}: escalation resumes", a.via));
            record(conn, a.incident, now, EventKind::Unacked, actor, None, None, level, &what)?;
        }
        What::Resolve => {
            if !firing {
                return Ok(Acted::NotApplicable);
            }
            conn.execute(
                "UPDATE incidents SET firing = 0, resolved_at = ?2, resolve_pending = 1, next_at = NULL, acked = 0,
                   resume = 0, reassign = NULL, version = version + 1 WHERE id = ?1",
                params![a.incident, now],
            )
            .map_err(db)?;
            let what = with_note(format!("closed by hand via {}", a.via));
            record(conn, a.incident, now, EventKind::Resolved, actor, None, None, level, &what)?;
        }
        What::Reassign(to) => {
            if !firing {
                return Ok(Acted::NotApplicable);
            }
            let (contact, lvl, label) = match to {
                Reassign::Contact(c) => (Some(c.as_str()), level, c.clone()),
                Reassign::Level(l) => (None, Some(*l), format!("level {l}")),
            };
            conn.execute(
                "UPDATE incidents SET reassign = ?2, assignee = ?3, acked = 0, acked_by = NULL, acked_via = NULL,
                   ack_until = NULL, resume = 0, next_at = ?4, version = version + 1 WHERE id = ?1",
                params![a.incident, to.encode(), label, now],
            )
            .map_err(db)?;
            let what = with_note(format!("reassigned to {label} via {}", a.via));
            record(conn, a.incident, now, EventKind::Reassigned, actor, None, contact, lvl, &what)?;
        }
        What::Note(text) => {
            record(conn, a.incident, now, EventKind::Note, actor, None, None, None, text.trim())?;
        }
    }
    Ok(Acted::Done { first_ack_after })
}

/// Queues a `Kind::Acked` update for every target paged in the incident on a channel that
/// edits in place (Slack; the last page each got, with the acknowledgement and the current
/// alerts), in the same transaction as the ack. Email and SMS get nothing: a sent mail or
/// text cannot change.
fn queue_acked(conn: &Connection, id: i64, ack: AckView, now: Millis) -> Result<(), StoreError> {
    for kind in ChannelKind::ALL.iter().filter(|k| k.edits_in_place()) {
        queue_acked_on(conn, id, *kind, &ack, now)?;
    }
    Ok(())
}

fn queue_acked_on(conn: &Connection, id: i64, kind: ChannelKind, ack: &AckView, now: Millis) -> Result<(), StoreError> {
    let rows: Vec<(String, String, String)> = conn
        .prepare_cached(
            "SELECT contact, address, body FROM outbox WHERE id IN (SELECT max(id) FROM outbox
               WHERE incident_id = ?1 AND kind = 'page' AND channel = ?2 GROUP BY contact, address)",
        )
        .and_then(|mut s| {
            s.query_map(params![id, kind.as_str()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(db)?;
    if rows.is_empty() {
        return Ok(());
    }
    let alerts = alert_views(conn, id, MAX_ALERTS_SHOWN)?;
    for (contact, address, body) in rows {
        // Our own JSON; a row that no longer parses (older version) is skipped, not fatal.
        let Ok(mut n) = serde_json::from_str::<Notification>(&body) else { continue };
        n.kind = Kind::Acked;
        n.ack = Some(ack.clone());
        n.note = None;
        n.repeat = false;
        n.alerts = alerts.clone();
        let Ok(body) = serde_json::to_string(&n) else { continue };
        conn.prepare_cached(
            "INSERT INTO outbox(incident_id, kind, level, channel, contact, address, body, next_attempt_at, created_at)
             VALUES (?1, ?2, ?3, ?8, ?4, ?5, ?6, ?7, ?7)",
        )
        .and_then(|mut s| {
            s.execute(params![id, kind_str(Kind::Acked), n.level as i64, contact, address, body, now, kind.as_str()])
        })
        .map_err(db)?;
    }
    Ok(())
}

const SUMMARY_COLS: &str = "id, firing, acked, policy, level, receiver, group_key, group_labels, started_at,
    resolved_at, first_ack_at, acked_by, acked_via, ack_until, deadline_at, next_at, assignee,
    (SELECT count(*) FROM alerts a WHERE a.incident_id = incidents.id AND a.status = 'firing')";

fn summary(r: &rusqlite::Row<'_>) -> rusqlite::Result<Summary> {
    let firing: bool = r.get(1)?;
    let acked: bool = r.get(2)?;
    let group_labels = json_kv(&r.get::<_, String>(7)?);
    Ok(Summary {
        id: r.get(0)?,
        state: state_name(firing, acked),
        title: title(&group_labels),
        policy: r.get(3)?,
        level: r.get::<_, i64>(4)?.max(0) as usize,
        receiver: r.get(5)?,
        group_key: r.get(6)?,
        group_labels,
        started_at_ms: r.get(8)?,
        resolved_at_ms: r.get(9)?,
        first_ack_at_ms: r.get(10)?,
        acked_by: r.get(11)?,
        acked_via: r.get::<_, Option<String>>(12)?.as_deref().and_then(Via::parse),
        ack_until_ms: if acked { r.get(13)? } else { None },
        deadline_at_ms: r.get(14)?,
        next_at_ms: r.get(15)?,
        assignee: r.get(16)?,
        firing_alerts: r.get::<_, i64>(17)?.max(0) as usize,
    })
}

pub(super) fn list(conn: &Connection, since: Millis, limit: usize) -> Result<Vec<Summary>, StoreError> {
    let sql = format!(
        "SELECT {SUMMARY_COLS} FROM incidents WHERE firing = 1 OR resolved_at >= ?1 ORDER BY firing DESC, id DESC LIMIT ?2"
    );
    let mut s = conn.prepare_cached(&sql).map_err(db)?;
    let rows = s.query_map(params![since, limit as i64], summary).map_err(db)?;
    rows.collect::<Result<_, _>>().map_err(db)
}

pub(super) fn detail(conn: &Connection, id: i64) -> Result<Option<Detail>, StoreError> {
    let sql = format!("SELECT {SUMMARY_COLS} FROM incidents WHERE id = ?1");
    let Some(summary) = conn.query_row(&sql, params![id], summary).optional().map_err(db)? else {
        return Ok(None);
    };
    let alerts = alert_views(conn, id, MAX_ALERTS_DETAIL)?;
    let mut s = conn
        .prepare_cached(
            "SELECT at, kind, actor, channel, contact, level, what FROM events WHERE incident_id = ?1 ORDER BY rowid",
        )
        .map_err(db)?;
    let timeline: Vec<TimelineEntry> = s
        .query_map(params![id], |r| {
            Ok(TimelineEntry {
                at_ms: r.get(0)?,
                kind: r.get(1)?,
                actor: r.get(2)?,
                channel: r.get(3)?,
                contact: r.get(4)?,
                level: r.get::<_, Option<i64>>(5)?.map(|l| l.max(0) as usize),
                detail: r.get(6)?,
            })
        })
        .map_err(db)?
        .collect::<Result<_, _>>()
        .map_err(db)?;
    let paged: Option<i64> = conn
        .query_row("SELECT max(level) FROM outbox WHERE incident_id = ?1 AND kind = 'page'", params![id], |r| r.get(0))
        .map_err(db)?;
    let max_level = (paged.unwrap_or(0).max(0) as usize).max(summary.level);
    Ok(Some(Detail { summary, alerts, timeline, max_level }))
}

pub(super) fn stats(conn: &Connection, now: Millis) -> Result<Stats, StoreError> {
    let mut st = Stats::default();
    let mut s = conn
        .prepare_cached("SELECT level, count(*) FROM incidents WHERE firing = 1 GROUP BY level ORDER BY level")
        .map_err(db)?;
    st.open_by_level = s
        .query_map([], |r| Ok((r.get::<_, i64>(0)?.max(0) as usize, r.get::<_, i64>(1)?.max(0) as u64)))
        .map_err(db)?
        .collect::<Result<_, _>>()
        .map_err(db)?;
    let (over, acked): (i64, i64) = conn
        .query_row(
            "SELECT coalesce(sum(deadline_at < ?1), 0), coalesce(sum(acked), 0) FROM incidents WHERE firing = 1",
            params![now],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(db)?;
    st.over_target = over.max(0) as u64;
    st.acknowledged = acked.max(0) as u64;
    let (depth, oldest): (i64, Option<Millis>) = conn
        .query_row("SELECT count(*), min(created_at) FROM outbox WHERE state = 'pending'", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .map_err(db)?;
    st.outbox_depth = depth.max(0) as u64;
    st.outbox_oldest_ms = oldest.map(|t| (now - t).max(0));
    Ok(st)
}

/// A read-only view of a store file, for the CLI (works while the router runs).
pub struct Reader {
    conn: Connection,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reader")
    }
}

impl Reader {
    /// Opens `path` read-only.
    pub fn open(path: &Path) -> Result<Reader, StoreError> {
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .map_err(|e| StoreError::Db(format!("{}: {e}", path.display())))?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(db)?;
        Ok(Reader { conn })
    }

    /// One incident with its alerts and timeline.
    pub fn incident(&self, id: i64) -> Result<Option<Detail>, StoreError> {
        detail(&self.conn, id)
    }

    /// Open and recent incidents.
    pub fn incidents(&self, since: Millis, limit: usize) -> Result<Vec<Summary>, StoreError> {
        list(&self.conn, since, limit)
    }
}
