//! The cases of the store suite, each generic over the backend.

use std::sync::Arc;

use super::*;

pub(super) async fn identical_retry_is_recognised<B: Backend>(b: &B) {
    let s = b.open().await;
    let bt = batch(1, "g", &[("a", Status::Firing)], 1000);
    let first = s.ingest(bt.clone()).await.unwrap();
    assert!(matches!(first, Ingested::Stored { opened: true, .. }), "{first:?}");
    assert_eq!(s.ingest(bt).await.unwrap(), Ingested::Duplicate);
    let due = s.due(1000, 10).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].alerts.len(), 1);
}

pub(super) async fn lifecycle_new_alert_then_resolve<B: Backend>(b: &B) {
    let s = b.open().await;
    let inc = open_incident(&*s).await;
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

/// 200 webhooks at once (SQLite shares commits between them; PostgreSQL runs them on its
/// pool): every one is stored and opens its incident.
pub(super) async fn concurrent_ingests_all_commit<B: Backend>(b: &B) {
    let s = b.open().await;
    let mut tasks = Vec::new();
    for i in 0..200u8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut bt = batch(i, &format!("g{i}"), &[("a", Status::Firing)], 1000);
            bt.key[0] = i;
            bt.key[1] = 7;
            s.ingest(bt).await
        }));
    }
    for t in tasks {
        assert!(matches!(t.await.unwrap().unwrap(), Ingested::Stored { opened: true, .. }));
    }
    assert_eq!(s.due(1000, 1000).await.unwrap().len(), 200);
}

pub(super) async fn interrupted_attempts_are_retried_once_per_crash_then_given_up<B: Backend>(b: &B) {
    let id = one_page(b).await;
    // Crash 1 and crash 2 each interrupt an attempt: each time it is sent again, so a page
    // that never got through is not lost (at most one duplicate per crash).
    // (Later and later clocks: each restart comes after the last attempt's lease ran out.)
    for attempt in 2..=3 {
        let s = b.open().await;
        let again = s.claim(now_ms() + 10 * i64::from(attempt), 10).await.unwrap();
        assert_eq!(again.len(), 1, "an interrupted attempt is sent again (attempt {attempt})");
        assert_eq!((again[0].id, again[0].attempts), (id, attempt));
    }
    // A third interruption: given up, recorded, never a fourth copy.
    let s = b.open().await;
    assert!(s.claim(now_ms() + 100, 10).await.unwrap().is_empty(), "not sent a fourth time");
    drop(s);
    assert_eq!(b.outcomes(id).await, ["interrupted", "interrupted", "interrupted", "uncertain"]);
}

pub(super) async fn failed_page_escalates_now<B: Backend>(b: &B) {
    let s = b.open().await;
    let inc = open_incident(&*s).await;
    let step = Step { next_at: Some(99_000), ..to_level_1(&inc, vec![page(alice_by_email())]) };
    s.apply(vec![step], 1000).await.unwrap();
    let item = s.claim(1000, 10).await.unwrap().remove(0);
    s.finish(item.id, Outcome::Failed("550 no such user".into()), 2000).await.unwrap();
    let due = s.due(2000, 10).await.unwrap();
    assert_eq!(due.len(), 1, "the next level is due now");
    assert_eq!(due[0].next_at, Some(2000));
}

pub(super) async fn ack_unack_resolve_and_the_timeline_in_order<B: Backend>(b: &B) {
    let s = b.open().await;
    let inc = open_incident(&*s).await;
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
    // Another store on the same data (the CLI, another router) sees the same thing.
    let other = b.open().await;
    assert_eq!(other.incident(inc.id).await.unwrap().unwrap().timeline.len(), 9);
    let listed = other.incidents(0, 10).await.unwrap();
    assert_eq!(listed.iter().map(|i| (i.id, i.state)).collect::<Vec<_>>(), [(inc.id, "resolved")]);
    let st = s.stats(6000).await.unwrap();
    assert_eq!((st.open_by_level.len(), st.outbox_depth), (0, 0));
}

pub(super) async fn first_receipt_finds_the_first_delivered_message<B: Backend>(b: &B) {
    let s = b.open().await;
    let inc = open_incident(&*s).await;
    let t = Target { contact: "ops".into(), channel: ChannelKind::Slack, address: "C1".into() };
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

pub(super) async fn claim_on_takes_only_the_channels_asked<B: Backend>(b: &B) {
    let s: Arc<dyn Store> = b.open().await;
    let inc = open_incident(&*s).await;
    let o = |ch| page(Target { contact: "ops".into(), channel: ch, address: "x".into() });
    let outbox = vec![o(ChannelKind::Slack), o(ChannelKind::Slack), o(ChannelKind::Email)];
    s.apply(vec![to_level_1(&inc, outbox)], 1000).await.unwrap();
    assert!(s.claim_on(1000, 10, vec![]).await.unwrap().is_empty());
    let got = s.claim_on(1000, 10, vec![ChannelKind::Email, ChannelKind::Sms]).await.unwrap();
    assert_eq!(got.iter().map(|i| i.channel).collect::<Vec<_>>(), vec![Some(ChannelKind::Email)]);
    assert_eq!(s.claim(1000, 10).await.unwrap().len(), 2, "the Slack rows are left for later");
}
