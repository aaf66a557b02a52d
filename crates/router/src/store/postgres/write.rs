//! Ingest, the engine's reads and steps, and pruning of idempotency keys, on PostgreSQL.
//! Each function runs inside the caller's transaction.

use std::collections::HashSet;

use deadpool_postgres::Pool;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use super::{announce, pg, read, Tx, Wake};
use crate::model::{AlertView, ChannelKind, Millis, Status, Target, KV};
use crate::store::*;

/// Most alerts of an incident put in a notification (as the SQLite store).
pub(super) const MAX_ALERTS_SHOWN: i64 = 50;

/// Most idempotency keys deleted at once, and how often.
const PRUNE_ROWS: i64 = 1000;
const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

pub(super) type P<'a> = &'a (dyn ToSql + Sync);

/// Runs `sql` (prepared once per connection) and returns its rows.
pub(super) async fn rows(tx: &Tx<'_>, sql: &str, params: &[P<'_>]) -> Result<Vec<Row>, StoreError> {
    let st = tx.prepare_cached(sql).await.map_err(pg)?;
    tx.query(&st, params).await.map_err(pg)
}

/// Runs `sql`; the number of rows it changed.
pub(super) async fn exec(tx: &Tx<'_>, sql: &str, params: &[P<'_>]) -> Result<u64, StoreError> {
    let st = tx.prepare_cached(sql).await.map_err(pg)?;
    tx.execute(&st, params).await.map_err(pg)
}

/// At most one row.
pub(super) async fn opt(tx: &Tx<'_>, sql: &str, params: &[P<'_>]) -> Result<Option<Row>, StoreError> {
    let st = tx.prepare_cached(sql).await.map_err(pg)?;
    tx.query_opt(&st, params).await.map_err(pg)
}

pub(super) fn json_kv(s: &str) -> KV {
    serde_json::from_str(s).unwrap_or_default()
}

pub(super) fn level_of(v: i64) -> usize {
    v.max(0) as usize
}

/// Finds the group's open incident and locks it, or opens one; `None` if there is none and
/// nothing fires. Two routers opening the same group race on the partial unique index: the
/// loser's insert does nothing and it finds the winner's row.
async fn open_incident(tx: &Tx<'_>, b: &IngestBatch, any_firing: bool) -> Result<Option<(i64, i64, bool)>, StoreError> {
    loop {
        let found = opt(
            tx,
            "SELECT id, level FROM incidents WHERE receiver = $1 AND group_key = $2 AND firing FOR UPDATE",
            &[&b.receiver, &b.group_key],
        )
        .await?;
        if let Some(r) = found {
            return Ok(Some((r.get(0), r.get(1), false)));
        }
        if !any_firing {
            return Ok(None);
        }
        let start_level = b.start_level as i64;
        let inserted = opt(
            tx,
            "INSERT INTO incidents(receiver, group_key, policy, external_url, group_labels, firing, start_level,
               next_at, deadline_at, started_at) VALUES ($1, $2, $3, $4, $5, true, $6, $7, $8, $7)
             ON CONFLICT (receiver, group_key) WHERE firing DO NOTHING RETURNING id",
            &[
                &b.receiver,
                &b.group_key,
                &b.policy,
                &b.external_url,
                &b.group_labels,
                &start_level,
                &b.now,
                &b.deadline_at,
            ],
        )
        .await?;
        if let Some(r) = inserted {
            let id: i64 = r.get(0);
            let what = format!("opened: {} (policy {}, start level {})", b.group_labels, b.policy, b.start_level);
            read::record(tx, id, b.now, EventKind::AlertFired, None, None, None, None, &what).await?;
            return Ok(Some((id, 0, true)));
        }
    }
}

pub(super) async fn ingest(tx: &Tx<'_>, b: &IngestBatch) -> Result<Ingested, StoreError> {
    // The key first: a second router posting the same webhook waits here for the first
    // one's commit, then finds the key.
    let fresh =
        exec(tx, "INSERT INTO batches(key, at) VALUES ($1, $2) ON CONFLICT DO NOTHING", &[&&b.key[..], &b.now]).await?;
    if fresh == 0 {
        return Ok(Ingested::Duplicate);
    }
    let any_firing = b.alerts.iter().any(|a| a.status == Status::Firing);
    let Some((id, level, opened)) = open_incident(tx, b, any_firing).await? else {
        return Ok(Ingested::Stored { incident: None, opened: false, resolved: false });
    };
    let mut firing: HashSet<String> = HashSet::new();
    if !opened {
        for r in rows(tx, "SELECT fingerprint FROM alerts WHERE incident_id = $1 AND status = 'firing'", &[&id]).await?
        {
            firing.insert(r.get(0));
        }
    }
    let mut newly_firing = false;
    for a in &b.alerts {
        exec(
            tx,
            "INSERT INTO alerts(incident_id, fingerprint, status, labels, annotations, starts_at, ends_at, generator_url)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (incident_id, fingerprint) DO UPDATE SET status = excluded.status, labels = excluded.labels,
               annotations = excluded.annotations, starts_at = excluded.starts_at, ends_at = excluded.ends_at,
               generator_url = excluded.generator_url",
            &[&id, &a.fingerprint, &a.status.as_str(), &a.labels, &a.annotations, &a.starts_at, &a.ends_at, &a.generator_url],
        )
        .await?;
        match a.status {
            Status::Firing => newly_firing |= firing.insert(a.fingerprint.clone()),
            Status::Resolved => {
                firing.remove(&a.fingerprint);
            }
        }
    }
    let resolved = firing.is_empty();
    if resolved {
        exec(
            tx,
            "UPDATE incidents SET firing = false, resolved_at = $2, resolve_pending = true, next_at = NULL,
               version = version + 1 WHERE id = $1",
            &[&id, &b.now],
        )
        .await?;
        read::record(
            tx,
            id,
            b.now,
            EventKind::Resolved,
            Some("alertmanager"),
            None,
            None,
            None,
            "every alert resolved",
        )
        .await?;
    } else if !opened {
        let announce = newly_firing && level > 0;
        exec(
            tx,
            "UPDATE incidents SET announce = announce OR $2, external_url = $3, version = version + 1 WHERE id = $1",
            &[&id, &announce, &b.external_url],
        )
        .await?;
        if announce {
            read::record(tx, id, b.now, EventKind::AlertJoined, None, None, None, None, "new firing alerts joined")
                .await?;
        }
    }
    if opened || resolved || newly_firing {
        announce(tx, Wake::Engine).await?;
    }
    Ok(Ingested::Stored { incident: (!resolved).then_some(id), opened, resolved })
}

/// An incident's alerts, firing ones first, at most `limit`.
pub(super) async fn alert_views(tx: &Tx<'_>, incident: i64, limit: i64) -> Result<Vec<AlertView>, StoreError> {
    let rs = rows(
        tx,
        "SELECT status, labels, annotations, starts_at, generator_url FROM alerts
         WHERE incident_id = $1 ORDER BY status, starts_at, fingerprint LIMIT $2",
        &[&incident, &limit],
    )
    .await?;
    let mut out = Vec::with_capacity(rs.len());
    for r in rs {
        let status: String = r.get(0);
        let status = Status::parse(&status).ok_or_else(|| StoreError::Db(format!("alert status {status:?}")))?;
        out.push(AlertView {
            status,
            labels: json_kv(r.get(1)),
            annotations: json_kv(r.get(2)),
            starts_at: r.get(3),
            generator_url: r.get(4),
        });
    }
    Ok(out)
}

/// Due incidents, locked until this transaction ends and skipped by other routers reading at
/// the same moment; the version check in [`apply`] keeps a step from applying twice.
pub(super) async fn due(tx: &Tx<'_>, now: Millis, limit: usize) -> Result<Vec<Incident>, StoreError> {
    let limit = limit as i64;
    let rs = rows(
        tx,
        "SELECT id, version, receiver, group_key, policy, external_url, group_labels, firing, level, cycle,
           start_level, next_at, deadline_at, started_at, resolved_at, announce, resolve_pending,
           acked, resume, reassign
         FROM incidents WHERE (firing AND next_at <= $1) OR announce OR resolve_pending
         ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED",
        &[&now, &limit],
    )
    .await?;
    let mut out = Vec::with_capacity(rs.len());
    for r in rs {
        let id: i64 = r.get(0);
        let reassign: Option<String> = r.get(19);
        let mut inc = Incident {
            id,
            version: r.get(1),
            receiver: r.get(2),
            group_key: r.get(3),
            policy: r.get(4),
            external_url: r.get(5),
            group_labels: json_kv(r.get(6)),
            firing: r.get(7),
            level: level_of(r.get(8)),
            cycle: r.get::<_, i64>(9).clamp(0, u32::MAX as i64) as u32,
            start_level: r.get::<_, i64>(10).max(1) as usize,
            next_at: r.get(11),
            deadline_at: r.get(12),
            started_at: r.get(13),
            resolved_at: r.get(14),
            announce: r.get(15),
            resolve_pending: r.get(16),
            alerts: alert_views(tx, id, MAX_ALERTS_SHOWN).await?,
            paged: Vec::new(),
            acked: r.get(17),
            resume: r.get(18),
            reassign: reassign.as_deref().and_then(Reassign::decode),
        };
        let paged = rows(
            tx,
            "SELECT contact, channel, address, max(level) FROM outbox WHERE incident_id = $1 AND kind = 'page'
             GROUP BY contact, channel, address ORDER BY contact, channel",
            &[&id],
        )
        .await?;
        inc.paged = paged
            .iter()
            .filter_map(|p| {
                let channel = ChannelKind::parse(p.get(1))?;
                Some((Target { contact: p.get(0), channel, address: p.get(2) }, level_of(p.get(3))))
            })
            .collect();
        out.push(inc);
    }
    Ok(out)
}

pub(super) async fn apply(tx: &Tx<'_>, steps: &[Step], now: Millis) -> Result<Vec<i64>, StoreError> {
    let mut applied = Vec::new();
    // Incidents locked in id order, as every router does: two engines applying overlapping
    // steps wait for each other instead of deadlocking.
    let mut ordered: Vec<&Step> = steps.iter().collect();
    ordered.sort_by_key(|s| s.incident);
    for st in ordered {
        let (level, cycle) = (st.level as i64, st.cycle as i64);
        let n = exec(
            tx,
            "UPDATE incidents SET level = $3, cycle = $4, next_at = $5,
               announce = CASE WHEN $6 THEN false ELSE announce END,
               resolve_pending = CASE WHEN $7 THEN false ELSE resolve_pending END,
               acked = CASE WHEN $8 THEN false ELSE acked END, resume = CASE WHEN $8 THEN false ELSE resume END,
               reassign = CASE WHEN $8 THEN NULL ELSE reassign END,
               version = version + 1
             WHERE id = $1 AND version = $2",
            &[
                &st.incident,
                &st.version,
                &level,
                &cycle,
                &st.next_at,
                &st.clear_announce,
                &st.clear_resolve,
                &st.clear_ack,
            ],
        )
        .await?;
        if n == 0 {
            continue; // changed since it was read (here or on another router): planned again
        }
        applied.push(st.incident);
        for o in &st.outbox {
            let level = o.level as i64;
            exec(
                tx,
                "INSERT INTO outbox(incident_id, kind, level, channel, contact, address, body, next_attempt_at, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
                &[
                    &st.incident,
                    &kind_str(o.kind),
                    &level,
                    &o.target.channel.as_str(),
                    &o.target.contact,
                    &o.target.address,
                    &o.body,
                    &now,
                ],
            )
            .await?;
        }
        for e in &st.events {
            read::record(tx, st.incident, now, e.kind, None, None, None, e.level, &e.detail).await?;
        }
    }
    if steps.iter().any(|s| !s.outbox.is_empty()) {
        announce(tx, Wake::Deliver).await?;
    }
    Ok(applied)
}

/// Deletes idempotency keys older than `retention` ms, a few at a time, until the store is
/// dropped. Every router runs it; deleting a key twice is harmless.
pub(super) async fn prune(pool: Pool, retention: Millis) {
    loop {
        tokio::time::sleep(PRUNE_EVERY).await;
        let before = crate::model::now_ms().saturating_sub(retention);
        let r = match pool.get().await {
            Ok(c) => c
                .execute(
                    "DELETE FROM batches WHERE key IN (SELECT key FROM batches WHERE at < $1 ORDER BY at LIMIT $2)",
                    &[&before, &PRUNE_ROWS],
                )
                .await
                .map_err(pg),
            Err(e) => Err(StoreError::Db(e.to_string())),
        };
        if let Err(e) = r {
            tracing::warn!(err = %e, "Cannot prune old idempotency keys.");
        }
    }
}
