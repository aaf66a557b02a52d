//! Engine tests: the plan on a simulated clock (second-scale delays from `config::tests`).

use super::*;
use crate::config::tests::small;
use crate::payload::KV;

fn incident(level: usize, next_at: Option<Millis>) -> Incident {
    Incident {
        id: 1,
        version: 1,
        receiver: "vigie".into(),
        group_key: "g".into(),
        policy: "standard".into(),
        external_url: String::new(),
        group_labels: KV::new(),
        firing: true,
        level,
        cycle: 0,
        start_level: 1,
        next_at,
        deadline_at: 3_600_000,
        started_at: 0,
        resolved_at: None,
        announce: false,
        resolve_pending: false,
        alerts: Vec::new(),
        paged: Vec::new(),
        acked: false,
        resume: false,
        reassign: None,
    }
}

fn who(step: &Step) -> Vec<&str> {
    step.outbox.iter().map(|o| o.target.contact.as_str()).collect()
}

#[test]
fn l1_then_l2_then_l3_then_repeats() {
    let cfg = small();
    let s = plan(&cfg, &incident(0, Some(0)), 0).unwrap();
    assert_eq!((s.level, who(&s), s.next_at), (1, vec!["alice", "bob"], Some(2000)));
    let s = plan(&cfg, &incident(1, Some(2000)), 2000).unwrap();
    assert_eq!((s.level, who(&s), s.next_at), (2, vec!["dora"], Some(5000)));
    let s = plan(&cfg, &incident(2, Some(5000)), 5000).unwrap();
    assert_eq!((s.level, who(&s), s.next_at), (3, vec!["arch"], Some(15_000)));
    let s = plan(&cfg, &incident(3, Some(15_000)), 15_000).unwrap();
    assert_eq!((s.level, s.cycle, who(&s)), (3, 1, vec!["arch"]));
    let mut done = incident(3, Some(99_000));
    done.cycle = 2;
    let s = plan(&cfg, &done, 99_000).unwrap();
    assert!(s.outbox.is_empty() && s.next_at.is_none(), "repeats exhausted");
}

#[test]
fn not_due_is_nothing() {
    assert!(plan(&small(), &incident(1, Some(2000)), 1999).is_none());
}

#[test]
fn level_label_starts_at_level_2() {
    let cfg = small();
    let mut i = incident(0, Some(0));
    i.start_level = 2;
    let s = plan(&cfg, &i, 0).unwrap();
    assert_eq!((s.level, who(&s), s.next_at), (2, vec!["dora"], Some(3000)));
}

#[test]
fn resolution_target_goes_to_level_3() {
    let cfg = small();
    let mut i = incident(1, Some(3_600_000));
    i.deadline_at = 3_600_000;
    let s = plan(&cfg, &i, 3_600_000).unwrap();
    assert_eq!((s.level, who(&s)), (3, vec!["arch"]));
    // And the step after level 1 is capped by the deadline.
    let mut i = incident(0, Some(0));
    i.deadline_at = 1000;
    assert_eq!(plan(&cfg, &i, 0).unwrap().next_at, Some(1000));
}

#[test]
fn resolve_notifies_everyone_paged_and_cancels() {
    let cfg = small();
    let mut i = incident(2, Some(5000));
    i.firing = false;
    i.resolve_pending = true;
    i.resolved_at = Some(4000);
    let t = |c: &str| crate::model::Target {
        contact: c.into(),
        channel: crate::model::ChannelKind::Email,
        address: format!("{c}@x"),
    };
    i.paged = vec![(t("alice"), 1), (t("bob"), 1), (t("dora"), 2)];
    let s = plan(&cfg, &i, 4000).unwrap();
    assert_eq!(who(&s), vec!["alice", "bob", "dora"]);
    assert!(s.outbox.iter().all(|o| o.kind == Kind::Resolved && o.level == 2));
    assert!(s.next_at.is_none() && s.clear_resolve);
}

#[test]
fn dry_run_lists_steps_with_times() {
    let cfg = small();
    let (policy, steps) = dry_run(&cfg, &KV::new());
    assert_eq!(policy, "standard");
    let at: Vec<(u64, usize)> = steps.iter().map(|s| (s.at.as_millis() as u64, s.level)).collect();
    assert_eq!(at, vec![(0, 1), (2000, 2), (5000, 3), (15_000, 3), (25_000, 3)]);
    let db: KV = [("service".to_string(), "db".to_string())].into();
    assert_eq!(dry_run(&cfg, &db).0, "db");
}

#[test]
fn acked_incident_resumes_at_its_level_when_the_ack_expires() {
    let cfg = small();
    // Level 2 was paged, then acknowledged until 60 s: nothing happens before.
    let mut i = incident(2, Some(60_000));
    i.acked = true;
    assert!(plan(&cfg, &i, 59_999).is_none());
    let s = plan(&cfg, &i, 60_000).unwrap();
    assert_eq!((s.level, who(&s), s.clear_ack), (2, vec!["dora"], true));
    assert!(s.outbox.iter().all(|o| o.body.contains("acknowledgement expired")));
    assert_eq!(s.events[0].kind, EventKind::AckExpired);
    // Then level 3 follows with the usual spacing (3 s after level 2), counted from now.
    assert_eq!(s.next_at, Some(63_000));
}

#[test]
fn unack_resumes_now_and_reassign_pages_the_new_target() {
    let cfg = small();
    let mut i = incident(1, Some(10_000));
    i.resume = true;
    let s = plan(&cfg, &i, 10_000).unwrap();
    assert_eq!((s.level, who(&s), s.next_at), (1, vec!["alice", "bob"], Some(12_000)));
    let mut i = incident(1, Some(10_000));
    i.reassign = Some(Reassign::Level(3));
    let s = plan(&cfg, &i, 10_000).unwrap();
    assert_eq!((s.level, who(&s), s.clear_ack), (3, vec!["arch"], true));
    let mut i = incident(1, Some(10_000));
    i.reassign = Some(Reassign::Contact("dora".into()));
    let s = plan(&cfg, &i, 10_000).unwrap();
    assert_eq!((s.level, who(&s)), (1, vec!["dora"]));
    let mut i = incident(1, Some(10_000));
    i.reassign = Some(Reassign::Contact("nobody".into()));
    let s = plan(&cfg, &i, 10_000).unwrap();
    assert!(s.outbox.is_empty() && s.next_at == Some(10_000), "never silent: escalates now");
}

#[test]
fn pages_carry_a_signed_ack_link_when_configured() {
    let text = crate::config::tests::SMALL.replace(
        "resolution:",
        "acks: {public_url: 'https://r.example/', secret: {env: VIGIE_TEST_UNSET_FOR_SURE}}\nresolution:",
    );
    // The secret must come from a file or env: use a temporary file.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("key"), "k".repeat(32)).unwrap();
    let text = text.replace("{env: VIGIE_TEST_UNSET_FOR_SURE}", "{file: key}");
    let path = dir.path().join("r.yml");
    let file: crate::config::File = vigie_kit::config::parse(&path, &text).unwrap();
    let cfg = crate::config::check(&path, &text, file).unwrap();
    let s = plan(&cfg, &incident(0, Some(0)), 0).unwrap();
    let n: Notification = serde_json::from_str(&s.outbox[0].body).unwrap();
    let url = n.ack_url.unwrap();
    assert!(url.starts_with("https://r.example/ack/1?a=ack&c=alice&e="), "{url}");
    let plain = plan(&small(), &incident(0, Some(0)), 0).unwrap();
    assert!(plain.outbox.iter().all(|o| !o.body.contains("/ack/")));
}

#[test]
fn ack_expiry_gives_slack_targets_not_paged_again_their_button_back() {
    let cfg = small();
    // Level 2 (dora, email) acked; a Slack channel paged at level 1 still shows "acknowledged".
    let mut i = incident(2, Some(60_000));
    i.acked = true;
    let slack = crate::model::Target {
        contact: "ops-chan".into(),
        channel: crate::model::ChannelKind::Slack,
        address: "C0OPS".into(),
    };
    let mail = crate::model::Target {
        contact: "alice".into(),
        channel: crate::model::ChannelKind::Email,
        address: "alice@x".into(),
    };
    i.paged = vec![(slack, 1), (mail, 1)];
    let s = plan(&cfg, &i, 60_000).unwrap();
    let kinds: Vec<(&str, Kind)> = s.outbox.iter().map(|o| (o.target.contact.as_str(), o.kind)).collect();
    assert_eq!(kinds, vec![("dora", Kind::Page), ("ops-chan", Kind::Unacked)], "no mail for the ack's end");
}
