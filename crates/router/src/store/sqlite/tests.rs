//! Store tests on a temporary SQLite file: idempotent ingest, incident lifecycle, group
//! commit under concurrency, claims and recovery after a crash.

use std::path::Path;
use std::sync::Arc;

use super::*;

fn batch(key: u8, group: &str, alerts: &[(&str, Status)], now: Millis) -> IngestBatch {
    IngestBatch {
        key: [key; 32],
        receiver: "vigie".into(),
        group_key: group.into(),
        external_url: "http://am".into(),
        group_labels: "{\"alertname\":\"X\"}".into(),
        policy: "standard".into(),
        start_level: 1,
        deadline_at: now + 3_600_000,
        now,
        alerts: alerts
            .iter()
            .map(|(fp, st)| AlertRow {
                fingerprint: (*fp).into(),
                status: *st,
                labels: "{}".into(),
                annotations: "{}".into(),
                starts_at: "2026-11-22T10:00:00Z".into(),
                ends_at: String::new(),
                generator_url: String::new(),
            })
            .collect(),
    }
}

fn open() -> (tempfile::TempDir, Sqlite) {
    let dir = tempfile::tempdir().unwrap();
    let s = Sqlite::open(&dir.path().join("r.db")).unwrap();
    (dir, s)
}

/// Ingests one firing alert at 1000 ms; the incident it opens.
async fn open_incident(s: &Sqlite) -> Incident {
    s.ingest(batch(1, "g", &[("a", Status::Firing)], 1000)).await.unwrap();
    s.due(1000, 10).await.unwrap().remove(0)
}

fn alice_by_email() -> crate::model::Target {
    crate::model::Target { contact: "alice".into(), channel: ChannelKind::Email, address: "a@x".into() }
}

/// A level-1 page to `target`.
fn page(target: crate::model::Target) -> NewOutbox {
    NewOutbox { kind: Kind::Page, level: 1, target, body: "{}".into() }
}

/// The step that takes `inc` to level 1 and queues `outbox`.
fn to_level_1(inc: &Incident, outbox: Vec<NewOutbox>) -> Step {
    Step { incident: inc.id, version: inc.version, level: 1, outbox, ..Step::default() }
}

#[tokio::test]
async fn identical_retry_is_recognised() {
    let (_d, s) = open();
    let b = batch(1, "g", &[("a", Status::Firing)], 1000);
    let first = s.ingest(b.clone()).await.unwrap();
    assert!(matches!(first, Ingested::Stored { opened: true, .. }), "{first:?}");
    assert_eq!(s.ingest(b).await.unwrap(), Ingested::Duplicate);
    let due = s.due(1000, 10).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].alerts.len(), 1);
}

#[tokio::test]
async fn lifecycle_new_alert_then_resolve() {
    let (_d, s) = open();
    let inc = open_incident(&s).await;
    // Page level 1 to "alice".
    let t = alice_by_email();
    let step = Step { next_at: Some(5000), ..to_level_1(&inc, vec![page(t.clone())]) };
    assert_eq!(s.apply(vec![step.clone()], 1000).await.unwrap().len(), 1);
    // A stale plan (same version) does not apply twice.
    assert_eq!(s.apply(vec![step], 1000).await.unwrap().len(), 0);
    assert!(s.due(1000, 10).await.unwrap().is_empty());
    // A second alert joins: announce.
    let r = s.ingest(batch(2, "g", &[("a", Status::Firing), ("b", Status::Firing)], 2000)).await.unwrap();
    assert_eq!(r, Ingested::Stored { incident: Some(inc.id), opened: false, resolved: false });
    let due = s.due(2000, 10).await.unwrap();
    assert!(due[0].announce);
    assert_eq!(due[0].paged, vec![(t.clone(), 1)]);
    // One resolved: still firing. Both: resolved.
    s.ingest(batch(3, "g", &[("a", Status::Resolved), ("b", Status::Firing)], 3000)).await.unwrap();
    let r = s.ingest(batch(4, "g", &[("a", Status::Resolved), ("b", Status::Resolved)], 4000)).await.unwrap();
    assert_eq!(r, Ingested::Stored { incident: None, opened: false, resolved: true });
    let due = s.due(4000, 10).await.unwrap();
    assert!(!due[0].firing && due[0].resolve_pending && due[0].next_at.is_none());
    // The group fires again later: a new incident.
    let r = s.ingest(batch(5, "g", &[("a", Status::Firing)], 9000)).await.unwrap();
    assert!(matches!(r, Ingested::Stored { opened: true, .. }));
}

#[tokio::test]
async fn concurrent_ingests_share_commits() {
    let (_d, s) = open();
    let s = Arc::new(s);
    let mut tasks = Vec::new();
    for i in 0..200u8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut b = batch(i, &format!("g{i}"), &[("a", Status::Firing)], 1000);
            b.key[0] = i;
            b.key[1] = 7;
            s.ingest(b).await
        }));
    }
    for t in tasks {
        assert!(matches!(t.await.unwrap().unwrap(), Ingested::Stored { opened: true, .. }));
    }
    assert_eq!(s.due(1000, 1000).await.unwrap().len(), 200);
}

/// Opens `path`, ingests one alert and queues one page; the outbox id.
async fn one_page(path: &Path) -> i64 {
    let s = Sqlite::open(path).unwrap();
    let inc = open_incident(&s).await;
    s.apply(vec![to_level_1(&inc, vec![page(alice_by_email())])], 1000).await.unwrap();
    let claimed = s.claim(1000, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    // Claimed rows are not handed out twice.
    assert!(s.claim(1000, 10).await.unwrap().is_empty());
    claimed[0].id
    // "Crash": dropped without finishing.
}

fn outcomes(path: &Path, id: i64) -> Vec<String> {
    let c = Connection::open(path).unwrap();
    let mut st = c.prepare("SELECT outcome FROM attempts WHERE outbox_id = ?1 ORDER BY rowid").unwrap();
    st.query_map([id], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

#[tokio::test]
async fn interrupted_attempts_are_retried_once_per_crash_then_given_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.db");
    let id = one_page(&path).await;
    // Crash 1 and crash 2 each interrupt an attempt: each time it is sent again, so a page
    // that never got through is not lost (at most one duplicate per crash).
    for attempt in 2..=3 {
        let s = Sqlite::open(&path).unwrap();
        let again = s.claim(now_ms(), 10).await.unwrap();
        assert_eq!(again.len(), 1, "an interrupted attempt is sent again (attempt {attempt})");
        assert_eq!((again[0].id, again[0].attempts), (id, attempt));
    }
    // A third interruption: given up, recorded, never a fourth copy.
    let s = Sqlite::open(&path).unwrap();
    assert!(s.claim(now_ms(), 10).await.unwrap().is_empty(), "not sent a fourth time");
    drop(s);
    assert_eq!(outcomes(&path, id), ["interrupted", "interrupted", "interrupted", "uncertain"]);
}

#[tokio::test]
async fn a_page_left_uncertain_by_the_old_rule_gets_one_more_attempt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.db");
    let id = one_page(&path).await;
    // What versions before this one left after two crashes: `uncertain`, never sent again.
    Connection::open(&path)
        .unwrap()
        .execute("UPDATE outbox SET state = 'uncertain', inflight = 0, maybe_sent = 2 WHERE id = ?1", [id])
        .unwrap();
    let s = Sqlite::open(&path).unwrap();
    let again = s.claim(now_ms(), 10).await.unwrap();
    assert_eq!(again.len(), 1, "never confirmed sent: one more attempt");
    s.finish(id, Outcome::Sent("250 ok".into()), now_ms()).await.unwrap();
    drop(s);
    let s = Sqlite::open(&path).unwrap();
    assert!(s.claim(now_ms(), 10).await.unwrap().is_empty(), "sent: done");
    drop(s);
    assert_eq!(outcomes(&path, id), ["retry", "sent"]);
}

#[tokio::test]
async fn old_idempotency_keys_are_pruned() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.db");
    let now = now_ms();
    {
        // Keys older than the retention (an hour here), more than one commit prunes at once.
        let mut c = Connection::open(&path).unwrap();
        c.execute_batch(SCHEMA).unwrap();
        let tx = c.transaction().unwrap();
        {
            let mut ins = tx.prepare("INSERT INTO batches(key, at) VALUES (?1, ?2)").unwrap();
            for i in 0..1200u32 {
                ins.execute(params![&i.to_be_bytes()[..], now - 7_200_000]).unwrap();
            }
            ins.execute(params![&[9u8; 32][..], now - 60_000]).unwrap();
        }
        tx.commit().unwrap();
    }
    let s = Sqlite::open_with(&path, Options { key_retention: Duration::from_secs(3600) }).unwrap();
    let count =
        || Connection::open(&path).unwrap().query_row("SELECT count(*) FROM batches", [], |r| r.get::<_, i64>(0));
    // Each commit deletes a few hundred; commits happen as the store is used.
    let t0 = Instant::now();
    while count().unwrap() > 1 && t0.elapsed() < Duration::from_secs(20) {
        s.wakeups().await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(count().unwrap(), 1, "only the recent key is left");
    // The recent key still recognises its retry.
    let mut b = batch(9, "g", &[("a", Status::Firing)], now);
    b.key = [9; 32];
    assert_eq!(s.ingest(b).await.unwrap(), Ingested::Duplicate);
}

#[tokio::test]
async fn failed_page_escalates_now() {
    let (_d, s) = open();
    let inc = open_incident(&s).await;
    let step = Step { next_at: Some(99_000), ..to_level_1(&inc, vec![page(alice_by_email())]) };
    s.apply(vec![step], 1000).await.unwrap();
    let item = s.claim(1000, 10).await.unwrap().remove(0);
    s.finish(item.id, Outcome::Failed("550 no such user".into()), 2000).await.unwrap();
    let due = s.due(2000, 10).await.unwrap();
    assert_eq!(due.len(), 1, "the next level is due now");
    assert_eq!(due[0].next_at, Some(2000));
}

fn act(id: i64, what: What) -> Act {
    Act { incident: id, actor: "api:test".into(), via: crate::model::Via::Api, what, note: None }
}

#[tokio::test]
async fn ack_unack_resolve_and_the_timeline_in_order() {
    let (dir, s) = open();
    let inc = open_incident(&s).await;
    let step = Step {
        next_at: Some(5000),
        events: vec![Event::new(EventKind::Paged, Some(1), "paged level 1")],
        ..to_level_1(&inc, vec![page(alice_by_email())])
    };
    s.apply(vec![step], 1000).await.unwrap();
    let claimed = s.claim(1100, 10).await.unwrap();
    s.finish(claimed[0].id, Outcome::Sent("250 ok".into()), 1200).await.unwrap();

    // Ack: escalation waits for the expiry (no step due at 5000 any more).
    let r = s.act(act(inc.id, What::Ack { until: 60_000 }), 2000).await.unwrap();
    assert_eq!(r, Acted::Done { first_ack_after: Some(1000) });
    assert!(s.due(5000, 10).await.unwrap().is_empty(), "acked: level 2 not due");
    let due = s.due(60_000, 10).await.unwrap();
    assert!(due[0].acked, "the expiry is due at 60 s");
    // A second ack is not a first one; unack resumes now.
    let r = s.act(act(inc.id, What::Ack { until: 70_000 }), 3000).await.unwrap();
    assert_eq!(r, Acted::Done { first_ack_after: None });
    assert_eq!(s.act(act(inc.id, What::Unack), 4000).await.unwrap(), Acted::Done { first_ack_after: None });
    let due = s.due(4000, 10).await.unwrap();
    assert!(due[0].resume && !due[0].acked);
    s.act(act(inc.id, What::Note("looking at the disk".into())), 4500).await.unwrap();
    assert_eq!(s.act(act(inc.id, What::Resolve), 5000).await.unwrap(), Acted::Done { first_ack_after: None });
    assert_eq!(s.act(act(inc.id, What::Ack { until: 9000 }), 5100).await.unwrap(), Acted::NotApplicable);
    assert_eq!(s.act(act(99, What::Resolve), 5100).await.unwrap(), Acted::NotFound);

    let d = s.incident(inc.id).await.unwrap().unwrap();
    let kinds: Vec<&str> = d.timeline.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "alert_fired",
            "paged",
            "notification_attempted",
            "notification_sent",
            "acked",
            "acked",
            "unacked",
            "note",
            "resolved"
        ]
    );
    assert_eq!(d.timeline[3].contact.as_deref(), Some("alice"));
    assert_eq!(d.timeline[3].channel.as_deref(), Some("email"));
    assert_eq!(d.timeline[4].actor.as_deref(), Some("api:test"));
    assert_eq!((d.summary.state, d.summary.first_ack_at_ms, d.max_level), ("resolved", Some(2000), 1));
    // The CLI's reader sees the same thing from another connection.
    let r = Reader::open(&dir.path().join("r.db")).unwrap();
    assert_eq!(r.incident(inc.id).unwrap().unwrap().timeline.len(), 9);
    let st = s.stats(6000).await.unwrap();
    assert_eq!((st.open_by_level.len(), st.outbox_depth), (0, 0));
}

#[tokio::test]
async fn first_receipt_finds_the_first_delivered_message() {
    let (_d, s) = open();
    let inc = open_incident(&s).await;
    let t = crate::model::Target { contact: "ops".into(), channel: ChannelKind::Slack, address: "C1".into() };
    s.apply(vec![to_level_1(&inc, vec![page(t)])], 1000).await.unwrap();
    let none = s.first_receipt(inc.id, ChannelKind::Slack, "C1".into(), "slack:").await.unwrap();
    assert_eq!(none, None);
    let item = s.claim(1000, 10).await.unwrap().remove(0);
    s.finish(item.id, Outcome::Retry { reason: "429".into(), at: 1500 }, 1100).await.unwrap();
    let item = s.claim(2000, 10).await.unwrap().remove(0);
    s.finish(item.id, Outcome::Sent("slack:C1:1.000".into()), 2100).await.unwrap();
    let inc = s.due(1000, 10).await.unwrap();
    assert!(inc.is_empty());
    let got = s.first_receipt(item.incident, ChannelKind::Slack, "C1".into(), "slack:").await.unwrap();
    assert_eq!(got.as_deref(), Some("slack:C1:1.000"));
    assert_eq!(s.first_receipt(item.incident, ChannelKind::Slack, "C2".into(), "slack:").await.unwrap(), None);
    assert_eq!(s.first_receipt(item.incident, ChannelKind::Slack, "C1".into(), "other:").await.unwrap(), None);
}

#[tokio::test]
async fn claim_on_takes_only_the_channels_asked() {
    let (_d, s) = open();
    let inc = open_incident(&s).await;
    let o = |ch| page(crate::model::Target { contact: "ops".into(), channel: ch, address: "x".into() });
    let outbox = vec![o(ChannelKind::Slack), o(ChannelKind::Slack), o(ChannelKind::Email)];
    s.apply(vec![to_level_1(&inc, outbox)], 1000).await.unwrap();
    assert!(s.claim_on(1000, 10, vec![]).await.unwrap().is_empty());
    let got = s.claim_on(1000, 10, vec![ChannelKind::Email, ChannelKind::Sms]).await.unwrap();
    assert_eq!(got.iter().map(|i| i.channel).collect::<Vec<_>>(), vec![Some(ChannelKind::Email)]);
    assert_eq!(s.claim(1000, 10).await.unwrap().len(), 2, "the Slack rows are left for later");
}
