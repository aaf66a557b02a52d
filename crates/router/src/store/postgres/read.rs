//! The PostgreSQL side of the timeline and people's actions: events, acks and the rest (the
//! incident row locked while it changes), the incident list and detail, scrape-time gauges.

use tokio_postgres::Row;

use super::write::{alert_views, exec, json_kv, level_of, opt, rows, MAX_ALERTS_SHOWN};
use super::{announce, Tx, Wake};
use crate::model::{rfc3339, AckView, ChannelKind, Kind, Millis, Notification, Via};
use crate::store::*;

/// Most alerts an incident's detail lists.
const MAX_ALERTS_DETAIL: i64 = 1000;

/// Writes one timeline event.
#[allow(clippy::too_many_arguments)]
pub(super) async fn record(
    tx: &Tx<'_>,
    id: i64,
    at: Millis,
    kind: EventKind,
    actor: Option<&str>,
    channel: Option<&str>,
    contact: Option<&str>,
    level: Option<usize>,
    detail: &str,
) -> Result<(), StoreError> {
    let level = level.map(|l| l as i64);
    exec(
        tx,
        "INSERT INTO events(incident_id, at, what, kind, actor, channel, contact, level)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[&id, &at, &detail, &kind.as_str(), &actor, &channel, &contact, &level],
    )
    .await
    .map(|_| ())
}

/// A notification event for outbox row `outbox_id`, with its channel, contact and level.
pub(super) async fn outbox_event(
    tx: &Tx<'_>,
    outbox_id: i64,
    at: Millis,
    kind: EventKind,
    detail: &str,
) -> Result<(), StoreError> {
    exec(
        tx,
        "INSERT INTO events(incident_id, at, what, kind, channel, contact, level)
         SELECT incident_id, $2, kind || ': ' || $3, $4, channel, contact, level FROM outbox WHERE id = $1",
        &[&outbox_id, &at, &detail, &kind.as_str()],
    )
    .await
    .map(|_| ())
}

pub(super) async fn act(tx: &Tx<'_>, a: &Act, now: Millis) -> Result<Acted, StoreError> {
    let row = opt(
        tx,
        "SELECT firing, acked, started_at, first_ack_at, level FROM incidents WHERE id = $1 FOR UPDATE",
        &[&a.incident],
    )
    .await?;
    let Some(row) = row else { return Ok(Acted::NotFound) };
    let (firing, acked, started_at, first_ack_at, level): (bool, bool, Millis, Option<Millis>, i64) =
        (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
    let with_note = |s: String| match &a.note {
        Some(n) if !n.trim().is_empty() => format!("{s}: {}", n.trim()),
        _ => s,
    };
    let actor = Some(a.actor.as_str());
    let level = Some(level_of(level));
    let mut first_ack_after = None;
    let applies = match a.what {
        What::Note(_) => true,
        What::Unack => firing && acked,
        _ => firing,
    };
    if !applies {
        return Ok(Acted::NotApplicable);
    }
    match &a.what {
        What::Ack { until } => {
            exec(
                tx,
                "UPDATE incidents SET acked = true, acked_by = $2, acked_via = $3, ack_until = $4, next_at = $4,
                   first_ack_at = coalesce(first_ack_at, $5), resume = false, reassign = NULL, version = version + 1
                 WHERE id = $1",
                &[&a.incident, &a.actor, &a.via.as_str(), until, &now],
            )
            .await?;
            if first_ack_at.is_none() {
                first_ack_after = Some(now - started_at);
            }
            let what = with_note(format!("acknowledged via {} until {}", a.via, rfc3339(*until)));
            record(tx, a.incident, now, EventKind::Acked, actor, None, None, level, &what).await?;
            let ack = AckView { by: a.actor.clone(), via: a.via, until_ms: *until };
            queue_acked(tx, a.incident, ack, now).await?;
        }
        What::Unack => {
            exec(
                tx,
                "UPDATE incidents SET acked = false, acked_by = NULL, acked_via = NULL, ack_until = NULL, resume = true,
                   next_at = $2, version = version + 1 WHERE id = $1",
                &[&a.incident, &now],
            )
            .await?;
            let what = with_note(format!("acknowledgement withdrawn via {}: escalation resumes", a.via));
            record(tx, a.incident, now, EventKind::Unacked, actor, None, None, level, &what).await?;
        }
        What::Resolve => {
            exec(
                tx,
                "UPDATE incidents SET firing = false, resolved_at = $2, resolve_pending = true, next_at = NULL,
                   acked = false, resume = false, reassign = NULL, version = version + 1 WHERE id = $1",
                &[&a.incident, &now],
            )
            .await?;
            let what = with_note(format!("closed by hand via {}", a.via));
            record(tx, a.incident, now, EventKind::Resolved, actor, None, None, level, &what).await?;
        }
        What::Reassign(to) => {
            let (contact, lvl, label) = match to {
                Reassign::Contact(c) => (Some(c.as_str()), level, c.clone()),
                Reassign::Level(l) => (None, Some(*l), format!("level {l}")),
            };
            exec(
                tx,
                "UPDATE incidents SET reassign = $2, assignee = $3, acked = false, acked_by = NULL, acked_via = NULL,
                   ack_until = NULL, resume = false, next_at = $4, version = version + 1 WHERE id = $1",
                &[&a.incident, &to.encode(), &label, &now],
            )
            .await?;
            let what = with_note(format!("reassigned to {label} via {}", a.via));
            record(tx, a.incident, now, EventKind::Reassigned, actor, None, contact, lvl, &what).await?;
        }
        What::Note(text) => {
            record(tx, a.incident, now, EventKind::Note, actor, None, None, None, text.trim()).await?;
            return Ok(Acted::Done { first_ack_after });
        }
    }
    announce(tx, Wake::Engine).await?;
    Ok(Acted::Done { first_ack_after })
}

/// Queues a `Kind::Acked` update for every target paged in the incident on a channel that
/// edits in place (Slack), in the ack's transaction (as the SQLite store does).
async fn queue_acked(tx: &Tx<'_>, id: i64, ack: AckView, now: Millis) -> Result<(), StoreError> {
    for kind in ChannelKind::ALL.iter().filter(|k| k.edits_in_place()) {
        queue_acked_on(tx, id, *kind, &ack, now).await?;
    }
    Ok(())
}

async fn queue_acked_on(tx: &Tx<'_>, id: i64, kind: ChannelKind, ack: &AckView, now: Millis) -> Result<(), StoreError> {
    let channel = kind.as_str();
    let paged = rows(
        tx,
        "SELECT contact, address, body FROM outbox WHERE id IN (SELECT max(id) FROM outbox
           WHERE incident_id = $1 AND kind = 'page' AND channel = $2 GROUP BY contact, address)",
        &[&id, &channel],
    )
    .await?;
    if paged.is_empty() {
        return Ok(());
    }
    let alerts = alert_views(tx, id, MAX_ALERTS_SHOWN).await?;
    for r in paged {
        let (contact, address, body): (String, String, String) = (r.get(0), r.get(1), r.get(2));
        // Our own JSON; a row that no longer parses (older version) is skipped, not fatal.
        let Ok(mut n) = serde_json::from_str::<Notification>(&body) else { continue };
        n.kind = Kind::Acked;
        n.ack = Some(ack.clone());
        n.note = None;
        n.repeat = false;
        n.alerts = alerts.clone();
        let Ok(body) = serde_json::to_string(&n) else { continue };
        let level = n.level as i64;
        exec(
            tx,
            "INSERT INTO outbox(incident_id, kind, level, channel, contact, address, body, next_attempt_at, created_at)
             VALUES ($1, $2, $3, $8, $4, $5, $6, $7, $7)",
            &[&id, &kind_str(Kind::Acked), &level, &contact, &address, &body, &now, &channel],
        )
        .await?;
    }
    announce(tx, Wake::Deliver).await
}

const SUMMARY: &str = "SELECT id, firing, acked, policy, level, receiver, group_key, group_labels, started_at,
    resolved_at, first_ack_at, acked_by, acked_via, ack_until, deadline_at, next_at, assignee,
    (SELECT count(*) FROM alerts a WHERE a.incident_id = incidents.id AND a.status = 'firing')
    FROM incidents";

fn summary(r: &Row) -> Summary {
    let (firing, acked): (bool, bool) = (r.get(1), r.get(2));
    let group_labels = json_kv(r.get(7));
    let via: Option<String> = r.get(12);
    Summary {
        id: r.get(0),
        state: state_name(firing, acked),
        title: title(&group_labels),
        policy: r.get(3),
        level: level_of(r.get(4)),
        receiver: r.get(5),
        group_key: r.get(6),
        group_labels,
        started_at_ms: r.get(8),
        resolved_at_ms: r.get(9),
        first_ack_at_ms: r.get(10),
        acked_by: r.get(11),
        acked_via: via.as_deref().and_then(Via::parse),
        ack_until_ms: if acked { r.get(13) } else { None },
        deadline_at_ms: r.get(14),
        next_at_ms: r.get(15),
        assignee: r.get(16),
        firing_alerts: level_of(r.get(17)),
    }
}

pub(super) async fn list(tx: &Tx<'_>, since: Millis, limit: usize) -> Result<Vec<Summary>, StoreError> {
    let sql = format!("{SUMMARY} WHERE firing OR resolved_at >= $1 ORDER BY firing DESC, id DESC LIMIT $2");
    let limit = limit as i64;
    Ok(rows(tx, &sql, &[&since, &limit]).await?.iter().map(summary).collect())
}

pub(super) async fn detail(tx: &Tx<'_>, id: i64) -> Result<Option<Detail>, StoreError> {
    let sql = format!("{SUMMARY} WHERE id = $1");
    let Some(summary) = opt(tx, &sql, &[&id]).await?.as_ref().map(summary) else { return Ok(None) };
    let alerts = alert_views(tx, id, MAX_ALERTS_DETAIL).await?;
    let timeline = rows(
        tx,
        "SELECT at, kind, actor, channel, contact, level, what FROM events WHERE incident_id = $1 ORDER BY seq",
        &[&id],
    )
    .await?
    .iter()
    .map(|r| TimelineEntry {
        at_ms: r.get(0),
        kind: r.get(1),
        actor: r.get(2),
        channel: r.get(3),
        contact: r.get(4),
        level: r.get::<_, Option<i64>>(5).map(level_of),
        detail: r.get(6),
    })
    .collect();
    let paged: Option<i64> = opt(tx, "SELECT max(level) FROM outbox WHERE incident_id = $1 AND kind = 'page'", &[&id])
        .await?
        .and_then(|r| r.get(0));
    let max_level = level_of(paged.unwrap_or(0)).max(summary.level);
    Ok(Some(Detail { summary, alerts, timeline, max_level }))
}

pub(super) async fn stats(tx: &Tx<'_>, now: Millis) -> Result<Stats, StoreError> {
    let open_by_level =
        rows(tx, "SELECT level, count(*) FROM incidents WHERE firing GROUP BY level ORDER BY level", &[])
            .await?
            .iter()
            .map(|r| (level_of(r.get(0)), r.get::<_, i64>(1).max(0) as u64))
            .collect();
    let mut st = Stats { open_by_level, ..Stats::default() };
    if let Some(r) = opt(
        tx,
        "SELECT count(*) FILTER (WHERE deadline_at < $1), count(*) FILTER (WHERE acked) FROM incidents WHERE firing",
        &[&now],
    )
    .await?
    {
        st.over_target = r.get::<_, i64>(0).max(0) as u64;
        st.acknowledged = r.get::<_, i64>(1).max(0) as u64;
    }
    if let Some(r) = opt(tx, "SELECT count(*), min(created_at) FROM outbox WHERE state = 'pending'", &[]).await? {
        st.outbox_depth = r.get::<_, i64>(0).max(0) as u64;
        st.outbox_oldest_ms = r.get::<_, Option<Millis>>(1).map(|t| (now - t).max(0));
    }
    Ok(st)
}
