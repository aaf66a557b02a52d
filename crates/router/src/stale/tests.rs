//! The ordering rule on the real posts of two clustered Alertmanagers 0.25
//! (`tests/fixtures/alertmanager-ha/`, see PROVENANCE.md there), replayed through a map that
//! stands for the store: what it applies, absorbs and ignores, and how often it would page.

use std::collections::BTreeMap;

use super::*;
use crate::payload::{self, Message};

macro_rules! fixture {
    ($name:literal) => {
        ($name, include_bytes!(concat!("../../tests/fixtures/alertmanager-ha/", $name, ".json")) as &[u8])
    };
}

const POSTS: [(&str, &[u8]); 10] = [
    fixture!("001-normal-am0-firing"),
    fixture!("002-normal-am0-resolved"),
    fixture!("003-slow-am0-firing"),
    fixture!("004-slow-am1-firing"),
    fixture!("005-slow-resolve-am0-resolved"),
    fixture!("006-slow-resolve-am1-resolved"),
    fixture!("007-stale-am0-firing"),
    fixture!("008-stale-partition-am0-resolved"),
    fixture!("009-stale-partition-am1-firing"),
    fixture!("010-stale-heal-am1-resolved"),
];

fn post(name: &str) -> Message {
    let (_, body) = POSTS.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("no fixture {name}"));
    payload::parse(body).expect("real payload")
}

/// The store as the rule sees it, and what it did.
#[derive(Default)]
struct Replay {
    alerts: BTreeMap<(String, String), Stored>,
    /// Firing alerts applied over nothing or a resolution: each opens (or reopens) and pages.
    pages: usize,
    stale: usize,
}

impl Replay {
    fn post(&mut self, msg: &Message) -> Vec<Verdict> {
        let mut out = Vec::new();
        for a in &msg.alerts {
            let key = (msg.receiver.clone(), a.fingerprint.clone());
            let incoming = Stored::from_alert(a, &msg.external_url).expect("valid times");
            let stored = self.alerts.get(&key);
            let v = judge(stored, &incoming);
            match v {
                Verdict::Apply => {
                    let was_firing = stored.is_some_and(|s| s.status == Status::Firing);
                    if incoming.status == Status::Firing && !was_firing {
                        self.pages += 1;
                    }
                    self.alerts.insert(key, incoming);
                }
                Verdict::Unchanged => {}
                Verdict::Stale(_) => self.stale += 1,
            }
            out.push(v);
        }
        out
    }

    fn status(&self, msg: &Message) -> Status {
        self.alerts[&(msg.receiver.clone(), msg.alerts[0].fingerprint.clone())].status
    }
}

#[test]
fn a_stale_firing_after_another_peers_resolution_is_ignored_and_never_pages() {
    let mut r = Replay::default();
    assert_eq!(r.post(&post("007-stale-am0-firing")), [Verdict::Apply]);
    assert_eq!(r.post(&post("008-stale-partition-am0-resolved")), [Verdict::Apply]);
    let stale = post("009-stale-partition-am1-firing");
    assert_eq!(r.post(&stale), [Verdict::Stale(Reason::ResolvedByNewerPost)]);
    assert_eq!(r.status(&stale), Status::Resolved, "the resolution stands");
    assert_eq!((r.pages, r.stale), (1, 1));
    // The partition heals: am1's own resolution, later endsAt, changes nothing.
    assert_eq!(r.post(&post("010-stale-heal-am1-resolved")), [Verdict::Unchanged]);
    let kept = &r.alerts[&(stale.receiver.clone(), stale.alerts[0].fingerprint.clone())];
    assert_eq!(kept.ends_at, Some("2026-12-07T20:06:59Z".parse().expect("ts")), "first endsAt kept");
    assert_eq!(kept.peer, post("008-stale-partition-am0-resolved").external_url);
}

#[test]
fn both_peers_posting_the_same_alert_is_one_alert_and_one_page() {
    let mut r = Replay::default();
    assert_eq!(r.post(&post("003-slow-am0-firing")), [Verdict::Apply]);
    assert_eq!(r.post(&post("004-slow-am1-firing")), [Verdict::Unchanged]);
    assert_eq!(r.post(&post("005-slow-resolve-am0-resolved")), [Verdict::Apply]);
    assert_eq!(r.post(&post("006-slow-resolve-am1-resolved")), [Verdict::Unchanged]);
    assert_eq!((r.pages, r.stale), (1, 0));
    assert_ne!(post("003-slow-am0-firing").external_url, post("004-slow-am1-firing").external_url, "two peers");
}

#[test]
fn the_whole_capture_in_arrival_order_pages_once_per_alert_and_counts_one_stale() {
    let mut r = Replay::default();
    for (name, _) in POSTS {
        r.post(&post(name));
    }
    assert_eq!((r.pages, r.stale), (3, 1));
    assert!(r.alerts.values().all(|s| s.status == Status::Resolved));
}

#[test]
fn any_arrival_order_keeping_each_peers_own_order_pages_once_and_ends_resolved() {
    let am0 = ["007-stale-am0-firing", "008-stale-partition-am0-resolved"];
    let am1 = ["009-stale-partition-am1-firing", "010-stale-heal-am1-resolved"];
    // The 6 interleavings of two sequences of two: choose which 2 of 4 slots are am0's.
    let mut seen = 0;
    for mask in 0u8..16 {
        if mask.count_ones() != 2 {
            continue;
        }
        let (mut i0, mut i1) = (0, 0);
        let mut r = Replay::default();
        let mut order = Vec::new();
        for slot in 0..4 {
            let name = if mask & (1 << slot) != 0 {
                i0 += 1;
                am0[i0 - 1]
            } else {
                i1 += 1;
                am1[i1 - 1]
            };
            order.push(name);
            r.post(&post(name));
        }
        assert_eq!(r.pages, 1, "{order:?}");
        assert!(r.alerts.values().all(|s| s.status == Status::Resolved), "{order:?}");
        seen += 1;
    }
    assert_eq!(seen, 6);
}

#[test]
fn a_post_about_an_older_occurrence_never_touches_a_newer_one() {
    let msg = post("001-normal-am0-firing");
    let older = Stored::from_alert(&msg.alerts[0], &msg.external_url).expect("valid");
    let newer = Stored { starts_at: "2026-12-07T21:00:00Z".parse().expect("ts"), ..older.clone() };
    let resolved_old =
        Stored::from_alert(&post("002-normal-am0-resolved").alerts[0], &msg.external_url).expect("valid");
    assert_eq!(judge(Some(&newer), &resolved_old), Verdict::Stale(Reason::OlderOccurrence));
    assert_eq!(judge(Some(&newer), &older), Verdict::Stale(Reason::OlderOccurrence));
    // The other way round, a new occurrence after a resolution fires again: a real page.
    let resolved_new = Stored { status: Status::Resolved, ..newer.clone() };
    assert_eq!(judge(Some(&resolved_old), &newer), Verdict::Apply);
    assert_eq!(judge(Some(&resolved_new), &resolved_old), Verdict::Stale(Reason::OlderOccurrence));
}

#[test]
fn the_resolving_peers_own_later_firing_reopens() {
    // Alertmanager merged a re-sent alert into one it had expired (resolve_timeout): the
    // same peer, same startsAt, firing after resolved. Ignoring it would hide a real alert.
    let res = post("008-stale-partition-am0-resolved");
    let fire = post("007-stale-am0-firing");
    let stored = Stored::from_alert(&res.alerts[0], &res.external_url).expect("valid");
    let again = Stored::from_alert(&fire.alerts[0], &fire.external_url).expect("valid");
    assert_eq!(judge(Some(&stored), &again), Verdict::Apply);
}

#[test]
fn go_zero_end_time_reads_as_not_ended_and_bad_times_are_named() {
    let mut msg = post("001-normal-am0-firing");
    assert_eq!(msg.alerts[0].ends_at, "0001-01-01T00:00:00Z");
    assert_eq!(Stored::from_alert(&msg.alerts[0], "am").expect("valid").ends_at, None);
    msg.alerts[0].starts_at = "yesterday".into();
    let e = Stored::from_alert(&msg.alerts[0], "am").expect_err("bad").to_string();
    assert_eq!(e, "alert 512125e27d703a37: invalid startsAt \"yesterday\"");
}
