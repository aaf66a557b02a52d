//! Delivery from the durable outbox: claims due notifications (the claim is on disk before
//! the send), sends each through its channel, records every attempt, and retries transient
//! failures with exponential backoff and ±50 % jitter. At-least-once: an attempt a crash
//! interrupted is sent again after restart, once; a notification interrupted twice is not
//! sent a third time (see `store::sqlite::recover`). A notification given up (rejected, or
//! out of attempts) makes the store page the next level now.
//!
//! The queue owns every rate limit: how many sends run at once (in all, per channel) and the
//! per-address pacing a channel asks for ([`pace::Pacer`]). It also looks up the earlier
//! receipt a channel builds on (a Slack message to update), so that no channel holds the
//! store.

mod pace;

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::channels::{Channel, SendCx, SendError};
use crate::config::Delivery;
use crate::metrics::Metrics;
use crate::model::{now_ms, ChannelKind, Millis, Notification};
use crate::store::{OutboxItem, Outcome, Store};
use pace::Pacer;

/// Channels by kind.
pub type Channels = BTreeMap<ChannelKind, Arc<dyn Channel>>;

/// Most sends at once.
const CONCURRENCY: usize = 32;

/// Most sends at once on one channel: a storm on one (Slack spacing the messages to one
/// webhook, an SMTP server that hangs) leaves the other channels half the slots.
const PER_CHANNEL: usize = CONCURRENCY / 2;

/// How many notifications to claim, and on which channels (`None`: all), given the sends
/// running on each channel and the free slots.
pub fn claimable(busy: &BTreeMap<ChannelKind, usize>, free: usize) -> (usize, Option<Vec<ChannelKind>>) {
    let room = |k: &ChannelKind| PER_CHANNEL.saturating_sub(busy.get(k).copied().unwrap_or(0));
    let open: Vec<ChannelKind> = ChannelKind::ALL.iter().copied().filter(|k| room(k) > 0).collect();
    let limit = open.iter().map(room).min().unwrap_or(0).min(free);
    if open.len() == ChannelKind::ALL.len() {
        (limit, None)
    } else {
        (limit, Some(open))
    }
}

/// A random number in [0, 1) without a dependency: `RandomState` is seeded per instance.
fn unit_random() -> f64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_i64(now_ms());
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// The wait before attempt `attempts + 1`: `initial × 2^(attempts-1)`, capped, ×[0.5, 1.5).
pub fn backoff(d: &Delivery, attempts: u32, jitter: f64) -> Duration {
    let base = d.initial_backoff.0.as_secs_f64() * 2f64.powi(attempts.saturating_sub(1).min(30) as i32);
    let capped = base.min(d.max_backoff.0.as_secs_f64());
    Duration::from_secs_f64((capped * (0.5 + jitter)).max(0.0))
}

/// The outcome of one attempt, given what the channel said.
pub fn outcome(d: &Delivery, item: &OutboxItem, result: Result<String, SendError>, now: Millis) -> Outcome {
    match result {
        Ok(receipt) => Outcome::Sent(receipt),
        Err(SendError::Reject(reason)) => Outcome::Failed(format!("rejected: {reason}")),
        Err(SendError::Retry { .. }) if item.attempts >= d.max_attempts => {
            Outcome::Failed(format!("gave up after {} attempts", item.attempts))
        }
        Err(SendError::Retry { after, reason }) => {
            let wait = backoff(d, item.attempts, unit_random()).max(after.unwrap_or_default());
            Outcome::Retry { reason, at: now + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX) }
        }
    }
}

/// One pacer per channel.
type Pacers = BTreeMap<ChannelKind, Pacer>;

async fn attempt(
    item: &OutboxItem,
    channels: &Channels,
    pacers: &Pacers,
    store: &dyn Store,
) -> (ChannelKind, Result<String, SendError>) {
    let kind = item.channel.unwrap_or(ChannelKind::Email);
    let Some(ch) = item.channel.and_then(|k| channels.get(&k)) else {
        return (kind, Err(SendError::Reject(format!("channel {} is not configured", kind.as_str()))));
    };
    let n: Notification = match serde_json::from_str(&item.body) {
        Ok(n) => n,
        Err(e) => return (kind, Err(SendError::Reject(format!("stored notification unreadable: {e}")))),
    };
    let first_receipt = match ch.wants_receipt(&n) {
        Some(prefix) => match store.first_receipt(n.incident, kind, n.address.clone(), prefix).await {
            Ok(r) => r,
            Err(e) => return (kind, Err(SendError::Retry { after: None, reason: e.to_string() })),
        },
        None => None,
    };
    let fallback = Pacer::default();
    let cx = SendCx { first_receipt, pace: pacers.get(&kind).unwrap_or(&fallback) };
    (kind, ch.send(&n, &cx).await.map(|r| r.0))
}

/// Delivers until the process stops, notifying `escalate` when a page is given up (the
/// engine then pages the next level).
pub async fn run(
    store: Arc<dyn Store>,
    channels: Arc<Channels>,
    d: Delivery,
    wake: Arc<Notify>,
    escalate: Arc<Notify>,
    m: Arc<Metrics>,
) {
    let mut tasks = tokio::task::JoinSet::new();
    let mut busy: BTreeMap<ChannelKind, usize> = BTreeMap::new();
    let pacers: Arc<Pacers> = Arc::new(channels.keys().map(|k| (*k, Pacer::default())).collect());
    let done = |r: Result<ChannelKind, tokio::task::JoinError>, busy: &mut BTreeMap<ChannelKind, usize>| {
        if let Ok(k) = r {
            busy.entry(k).and_modify(|n| *n = n.saturating_sub(1));
        }
    };
    loop {
        while let Some(r) = tasks.try_join_next() {
            done(r, &mut busy);
        }
        let (limit, only) = claimable(&busy, CONCURRENCY.saturating_sub(tasks.len()));
        let items = if limit == 0 {
            Ok(Vec::new())
        } else if let Some(only) = only {
            store.claim_on(now_ms(), limit, only).await
        } else {
            store.claim(now_ms(), limit).await
        };
        let items = items.unwrap_or_else(|e| {
            tracing::error!(err = %e, "Cannot claim notifications.");
            Vec::new()
        });
        for item in items {
            *busy.entry(item.channel.unwrap_or(ChannelKind::Email)).or_default() += 1;
            let (store, channels, pacers, d, m, escalate) =
                (store.clone(), channels.clone(), pacers.clone(), d.clone(), m.clone(), escalate.clone());
            tasks.spawn(async move {
                let (kind, result) = attempt(&item, &channels, &pacers, store.as_ref()).await;
                let o = outcome(&d, &item, result, now_ms());
                match &o {
                    Outcome::Sent(_) => {
                        m.notifications_sent.with_label_values(&[kind.as_str()]).inc();
                        tracing::debug!(channel = kind.as_str(), id = item.id, incident = item.incident, "Notification sent.");
                    }
                    Outcome::Retry { reason, .. } => {
                        m.notifications_failed.with_label_values(&[kind.as_str(), "retry"]).inc();
                        tracing::warn!(channel = kind.as_str(), id = item.id, attempt = item.attempts, err = %reason, "Notification failed; will retry.");
                    }
                    Outcome::Failed(reason) => {
                        m.notifications_failed.with_label_values(&[kind.as_str(), "gave_up"]).inc();
                        tracing::error!(channel = kind.as_str(), id = item.id, incident = item.incident, level = item.level, err = %reason, "Notification given up; paging the next level.");
                    }
                }
                let failed = matches!(o, Outcome::Failed(_));
                if let Err(e) = store.finish(item.id, o, now_ms()).await {
                    tracing::error!(err = %e, id = item.id, "Cannot record a delivery attempt.");
                }
                if failed {
                    escalate.notify_one();
                }
                kind
            });
        }
        // Wait for a slot, a new notification, the next retry, or a second.
        let next = store.wakeups().await.ok().and_then(|(_, b)| b);
        let wait = next.map_or(1000, |t| (t - now_ms()).clamp(0, 1000));
        tokio::select! {
            Some(r) = tasks.join_next(), if !tasks.is_empty() => done(r, &mut busy),
            _ = wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(wait.max(5) as u64)) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_kit::config::Dur;

    #[test]
    fn backoff_doubles_caps_and_jitters() {
        let d = Delivery {
            initial_backoff: Dur(Duration::from_secs(1)),
            max_backoff: Dur(Duration::from_secs(10)),
            max_attempts: 5,
        };
        assert_eq!(backoff(&d, 1, 0.5), Duration::from_secs(1));
        assert_eq!(backoff(&d, 3, 0.5), Duration::from_secs(4));
        assert_eq!(backoff(&d, 9, 0.5), Duration::from_secs(10));
        assert_eq!(backoff(&d, 1, 0.0), Duration::from_millis(500));
        assert!(backoff(&d, 2, 0.999) < Duration::from_secs(3));
        let r = unit_random();
        assert!((0.0..1.0).contains(&r));
    }

    #[test]
    fn a_busy_channel_is_left_out() {
        let mut busy = BTreeMap::new();
        assert_eq!(claimable(&busy, 32), (PER_CHANNEL, None));
        busy.insert(ChannelKind::Slack, PER_CHANNEL);
        let others: Vec<ChannelKind> = ChannelKind::ALL.iter().copied().filter(|k| *k != ChannelKind::Slack).collect();
        assert_eq!(claimable(&busy, 32), (PER_CHANNEL, Some(others.clone())));
        busy.insert(ChannelKind::Email, PER_CHANNEL - 2);
        assert_eq!(claimable(&busy, 32), (2, Some(others)));
        assert_eq!(claimable(&busy, 1).0, 1);
        for k in ChannelKind::ALL {
            busy.insert(*k, PER_CHANNEL);
        }
        assert_eq!(claimable(&busy, 32).0, 0);
    }

    #[test]
    fn outcomes() {
        let d = Delivery::default();
        let item = OutboxItem { id: 1, incident: 1, level: 1, channel: None, attempts: 1, body: String::new() };
        assert!(matches!(outcome(&d, &item, Ok("250".into()), 0), Outcome::Sent(_)));
        assert!(matches!(outcome(&d, &item, Err(SendError::Reject("550".into())), 0), Outcome::Failed(_)));
        let retry = SendError::Retry { after: Some(Duration::from_secs(60)), reason: "421".into() };
        match outcome(&d, &item, Err(retry.clone()), 0) {
            Outcome::Retry { at, .. } => assert!(at >= 60_000),
            o => panic!("{o:?}"),
        }
        let last = OutboxItem { attempts: d.max_attempts, ..item };
        assert!(matches!(outcome(&d, &last, Err(retry), 0), Outcome::Failed(_)));
    }
}
