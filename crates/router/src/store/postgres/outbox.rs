//! Delivery on PostgreSQL: attempts claimed with leases, fenced finishes, the recovery of
//! attempts whose router died (an expired lease), wake-up times and receipts.

use super::write::{exec, level_of, opt, rows};
use super::{announce, pg, read, Postgres, Tx, Wake, MAX_INTERRUPTED};
use crate::model::{ChannelKind, Millis};
use crate::store::*;

impl Postgres {
    /// Claims due notifications (on `channels` if given) for this router, committed before
    /// any is sent. Attempts whose lease expired are recovered first, in the same transaction.
    pub(super) async fn claim_some(
        &self,
        now: Millis,
        limit: usize,
        channels: Option<Vec<ChannelKind>>,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        if channels.as_ref().is_some_and(Vec::is_empty) {
            return Ok(Vec::new());
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(pg)?;
        recover(&tx, now).await?;
        let names: Option<Vec<&'static str>> = channels.map(|c| c.iter().map(|k| k.as_str()).collect());
        let (limit, until) = (limit as i64, now.saturating_add(self.lease));
        let claimed = rows(
            &tx,
            "UPDATE outbox SET lease_owner = $3, lease_until = $4, attempts = attempts + 1
             WHERE id IN (SELECT id FROM outbox
               WHERE state = 'pending' AND lease_until IS NULL AND next_attempt_at <= $1
                 AND ($5::text[] IS NULL OR channel = ANY($5))
               ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
             RETURNING id, incident_id, level, channel, attempts, body",
            &[&now, &limit, &self.owner, &until, &names],
        )
        .await?;
        let mut items: Vec<OutboxItem> = claimed
            .iter()
            .map(|r| OutboxItem {
                id: r.get(0),
                incident: r.get(1),
                level: level_of(r.get(2)),
                channel: ChannelKind::parse(r.get(3)),
                attempts: r.get::<_, i64>(4).clamp(0, u32::MAX as i64) as u32,
                body: r.get(5),
            })
            .collect();
        items.sort_by_key(|i| i.id);
        for it in &items {
            let what = format!("attempt {}", it.attempts);
            read::outbox_event(&tx, it.id, now, EventKind::NotificationAttempted, &what).await?;
        }
        tx.commit().await.map_err(pg)?;
        if let Ok(mut claims) = self.claims.lock() {
            for it in &items {
                claims.insert(it.id, i64::from(it.attempts));
            }
        }
        Ok(items)
    }

    /// Records how an attempt ended, if it is still this router's: a lease that expired and
    /// was claimed again by another router (a newer attempt) is left alone.
    pub(super) async fn finish_one(&self, id: i64, outcome: Outcome, now: Millis) -> Result<(), StoreError> {
        let attempt = self.claims.lock().ok().and_then(|mut c| c.remove(&id));
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(pg)?;
        let (label, detail) = match &outcome {
            Outcome::Sent(d) => ("sent", d.as_str()),
            Outcome::Retry { reason, .. } => ("retry", reason.as_str()),
            Outcome::Failed(reason) => ("failed", reason.as_str()),
        };
        let (state, next): (&str, Option<Millis>) = match &outcome {
            Outcome::Sent(_) => ("sent", None),
            Outcome::Retry { at, .. } => ("pending", Some(*at)),
            Outcome::Failed(_) => ("failed", None),
        };
        let fenced = exec(
            &tx,
            "UPDATE outbox SET state = $4, lease_owner = NULL, lease_until = NULL,
               next_attempt_at = coalesce($5, next_attempt_at)
             WHERE id = $1 AND lease_owner = $2 AND ($3::bigint IS NULL OR attempts = $3) AND state = 'pending'",
            &[&id, &self.owner, &attempt, &state, &next],
        )
        .await?;
        if fenced == 0 {
            tracing::warn!(
                outbox = id,
                outcome = label,
                "Attempt finished after its lease was taken over: not recorded."
            );
            return Ok(());
        }
        exec(
            &tx,
            "INSERT INTO attempts(outbox_id, at, outcome, detail) VALUES ($1, $2, $3, $4)",
            &[&id, &now, &label, &detail],
        )
        .await?;
        let kind = match &outcome {
            Outcome::Sent(_) => EventKind::NotificationSent,
            Outcome::Retry { .. } => EventKind::NotificationRetry,
            Outcome::Failed(_) => EventKind::NotificationFailed,
        };
        read::outbox_event(&tx, id, now, kind, detail).await?;
        if let Outcome::Failed(reason) = &outcome {
            escalate_now(&tx, id, reason, now).await?;
        }
        if matches!(outcome, Outcome::Retry { .. }) {
            announce(&tx, Wake::Deliver).await?;
        }
        tx.commit().await.map_err(pg)
    }
}

/// A level that cannot be reached is never skipped silently: the next one is due now.
async fn escalate_now(tx: &Tx<'_>, id: i64, reason: &str, now: Millis) -> Result<(), StoreError> {
    let Some(row) = opt(tx, "SELECT incident_id, level, kind FROM outbox WHERE id = $1", &[&id]).await? else {
        return Ok(());
    };
    let (incident, level, kind): (i64, i64, String) = (row.get(0), row.get(1), row.get(2));
    if kind != "page" {
        return Ok(());
    }
    let n = exec(
        tx,
        "UPDATE incidents SET next_at = $3, version = version + 1 WHERE id = $1 AND firing AND level = $2",
        &[&incident, &level, &now],
    )
    .await?;
    if n > 0 {
        let what = format!("level {level} unreachable ({reason}): escalating now");
        read::record(tx, incident, now, EventKind::Escalated, None, None, None, Some(level_of(level)), &what).await?;
        announce(tx, Wake::Engine).await?;
    }
    Ok(())
}

/// Attempts whose lease expired: their router died mid-send, so each may have gone out.
/// Sent again (one duplicate at most per crash) until [`MAX_INTERRUPTED`], then `uncertain`.
async fn recover(tx: &Tx<'_>, now: Millis) -> Result<(), StoreError> {
    let expired = rows(
        tx,
        "UPDATE outbox SET lease_owner = NULL, lease_until = NULL, maybe_sent = maybe_sent + 1, next_attempt_at = $1,
           state = CASE WHEN maybe_sent + 1 >= $2 THEN 'uncertain' ELSE state END
         WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND lease_until < $1 FOR UPDATE SKIP LOCKED)
         RETURNING id, state",
        &[&now, &MAX_INTERRUPTED],
    )
    .await?;
    let given_up = format!("{MAX_INTERRUPTED} interrupted attempts: not sent again");
    for r in expired {
        let (id, state): (i64, String) = (r.get(0), r.get(1));
        exec(
            tx,
            "INSERT INTO attempts(outbox_id, at, outcome, detail)
             VALUES ($1, $2, 'interrupted', 'the router stopped during this attempt')",
            &[&id, &now],
        )
        .await?;
        if state == "uncertain" {
            exec(
                tx,
                "INSERT INTO attempts(outbox_id, at, outcome, detail) VALUES ($1, $2, 'uncertain', $3)",
                &[&id, &now, &given_up],
            )
            .await?;
        }
    }
    Ok(())
}

/// The earliest escalation step and the earliest notification to send (or lease to expire).
pub(super) async fn wakeups(tx: &Tx<'_>) -> Result<Wakeups, StoreError> {
    let r = opt(
        tx,
        "SELECT (SELECT min(next_at) FROM incidents WHERE firing AND next_at IS NOT NULL),
                (SELECT min(coalesce(lease_until, next_attempt_at)) FROM outbox WHERE state = 'pending')",
        &[],
    )
    .await?;
    Ok(r.map(|r| (r.get(0), r.get(1))).unwrap_or((None, None)))
}

pub(super) async fn first_receipt(
    tx: &Tx<'_>,
    incident: i64,
    channel: ChannelKind,
    address: &str,
    prefix: &str,
) -> Result<Option<String>, StoreError> {
    let r = opt(
        tx,
        "SELECT a.detail FROM outbox o JOIN attempts a ON a.outbox_id = o.id
         WHERE o.incident_id = $1 AND o.channel = $2 AND o.address = $3 AND a.outcome = 'sent'
           AND left(a.detail, length($4)) = $4
         ORDER BY a.at, a.seq LIMIT 1",
        &[&incident, &channel.as_str(), &address, &prefix],
    )
    .await?;
    Ok(r.map(|r| r.get(0)))
}
