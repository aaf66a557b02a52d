//! Heartbeats, as specifications: the issue's YAML as written, its checks with file, line and
//! field, and the state machine per (heartbeat, source) fed with real Alertmanager webhooks.

use std::time::Duration;

use jiff::Timestamp;
use serde::Deserialize;

use super::*;
use crate::maintenance::tests::ISSUE_EXAMPLE;
use crate::payload;

/// The heartbeats section as `router.yml` will hold it, beside the maintenance windows
/// (phase 2 adds both fields to `config::File`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Section {
    #[serde(default)]
    pub heartbeats: Vec<File>,
    #[serde(default, rename = "maintenance")]
    _maintenance: serde::de::IgnoredAny,
}

/// Parses through the kit's loader, as `check-config` does, naming `router.yml`.
fn parse_section(yaml: &str) -> Result<Section, vigie_kit::config::ConfigError> {
    vigie_kit::config::parse("router.yml".as_ref(), yaml)
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("test timestamp")
}

fn checked(yaml: &str) -> (Vec<Heartbeat>, Vec<String>) {
    let s = parse_section(yaml).expect("parses");
    let mut errs = Vec::new();
    let hbs = check(&s.heartbeats, |p| p == "standard", &mut |f, m| {
        errs.push(vigie_kit::config::ConfigError::at_field("router.yml".as_ref(), yaml, &f, m).to_string())
    });
    (hbs, errs)
}

#[test]
fn the_issue_example_is_a_pipeline_heartbeat_quiet_after_three_minutes() {
    let (hbs, errs) = checked(ISSUE_EXAMPLE);
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(hbs.len(), 1);
    assert_eq!(hbs[0].name, "pipeline");
    assert_eq!(hbs[0].matchers.iter().map(ToString::to_string).collect::<Vec<_>>(), ["alertname=\"Watchdog\""]);
    assert_eq!(hbs[0].timeout(), Duration::from_secs(180));
    assert_eq!(hbs[0].policy, "standard");
}

#[test]
fn matchers_default_to_the_watchdog_and_grace_to_one_interval() {
    let (hbs, errs) = checked("heartbeats:\n  - {name: p, interval: 30s, policy: standard}\n");
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(hbs[0].matchers.iter().map(ToString::to_string).collect::<Vec<_>>(), ["alertname=\"Watchdog\""]);
    assert_eq!(hbs[0].grace, Duration::from_secs(30));
}

#[test]
fn bad_heartbeats_are_all_reported_with_file_line_and_field() {
    let yaml = r#"heartbeats:
  - name: no-matchers
    matchers: []
    interval: 1m
    policy: standard
  - name: too-fast
    interval: 5s
    policy: standard
  - name: too-fast
    interval: 1m
    policy: nobody
"#;
    let (hbs, errs) = checked(yaml);
    assert!(hbs.is_empty());
    assert_eq!(
        errs,
        [
            "router.yml:3:5: heartbeats[0].matchers: no matchers: a heartbeat needs the alert that feeds it (leave the field out for alertname=\"Watchdog\")",
            "router.yml:7:5: heartbeats[1].interval: 5s is under the minimum of 10s",
            "router.yml:9:3: heartbeats[2].name: duplicate heartbeat \"too-fast\" (also heartbeats[1])",
            "router.yml:11:5: heartbeats[2].policy: unknown policy \"nobody\"",
        ]
    );
    let e = parse_section("heartbeats:\n  - name: p\n    interval: 1 minute\n    policy: standard\n").expect_err("bad");
    // serde_yaml places a value's error at its mapping (line 2 here): the kit's loader
    // decides the line, this module the field and the message.
    let e = e.to_string();
    assert!(e.starts_with("router.yml:2:"), "{e}");
    assert!(
        e.ends_with(": heartbeats[0].interval: invalid duration \"1 minute\" (e.g. \"10s\", \"1m30s\", \"250ms\")"),
        "{e}"
    );
    let e = parse_section("heartbeats:\n  - name: p\n    intervall: 1m\n    policy: standard\n").expect_err("bad");
    assert!(e.to_string().starts_with("router.yml:3:5: heartbeats[0].intervall: unknown field `intervall`"), "{e}");
}

// ---- the state machine ----

const AM0_FIRING: &[u8] = include_bytes!("../../tests/fixtures/alertmanager-ha/001-normal-am0-firing.json");
const AM0_RESOLVED: &[u8] = include_bytes!("../../tests/fixtures/alertmanager-ha/002-normal-am0-resolved.json");
const AM1_FIRING: &[u8] = include_bytes!("../../tests/fixtures/alertmanager-ha/004-slow-am1-firing.json");

/// A heartbeat fed by the captured `MysqlDown` (no Watchdog was captured; the matching is
/// the same), 1 m + 2 m.
fn tracker(now: Timestamp) -> Tracker {
    let (mut hbs, errs) = checked(ISSUE_EXAMPLE);
    assert!(errs.is_empty());
    hbs[0].matchers = vec![Matcher::parse("alertname=~\"MysqlDown|MysqlReplicationLag\"").expect("valid")];
    Tracker::new(hbs, [], now)
}

fn msg(body: &[u8]) -> payload::Message {
    payload::parse(body).expect("real payload")
}

fn quiet_sources(events: &[Event]) -> Vec<(&str, &str)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Quiet { source, .. } => Some((source.kind(), source.label())),
            Event::Back { .. } => None,
        })
        .collect()
}

#[test]
fn each_alertmanager_and_each_prometheus_has_its_own_heartbeat() {
    let t0 = ts("2026-12-07T20:00:00Z");
    let mut t = tracker(t0);
    assert!(t.feed(&msg(AM0_FIRING), t0).is_empty());
    assert!(t.feed(&msg(AM1_FIRING), t0).is_empty());
    let keys: Vec<(&str, &str, &str)> = t.beats().map(|(h, s, _)| (h, s.kind(), s.label())).collect();
    assert_eq!(
        keys,
        [
            ("pipeline", "alertmanager", "http://127.0.0.1:47655"),
            ("pipeline", "alertmanager", "http://127.0.0.1:51711"),
            ("pipeline", "prometheus", "http://prometheus.example:9090"),
        ],
        "the armed placeholder is gone once a source beats"
    );
    // am1 goes silent; am0 keeps posting every minute.
    for m in 1..=2 {
        let at = t0.checked_add(Duration::from_secs(60 * m)).expect("in range");
        t.feed(&msg(AM0_FIRING), at);
        assert!(t.due(at).is_empty(), "minute {m}: within interval + grace");
    }
    let at = ts("2026-12-07T20:03:00Z");
    assert_eq!(t.next_due(), Some(at), "am1's deadline: last beat + 1m + 2m");
    let events = t.due(at);
    assert_eq!(quiet_sources(&events), [("alertmanager", "http://127.0.0.1:51711")]);
    assert_eq!(
        events[0],
        Event::Quiet {
            heartbeat: "pipeline".into(),
            source: Source::Alertmanager("http://127.0.0.1:51711".into()),
            last_seen: t0,
            since: at
        }
    );
    assert!(t.due(ts("2026-12-07T20:03:30Z")).is_empty(), "quiet is reported once");
    // am1 comes back.
    let back = t.feed(&msg(AM1_FIRING), ts("2026-12-07T20:04:00Z"));
    assert_eq!(
        back,
        [Event::Back {
            heartbeat: "pipeline".into(),
            source: Source::Alertmanager("http://127.0.0.1:51711".into()),
            quiet_since: at,
            at: ts("2026-12-07T20:04:00Z")
        }]
    );
}

#[test]
fn the_prometheus_label_names_the_prometheus_before_the_generator_url() {
    let mut m = msg(AM0_FIRING);
    m.alerts[0].labels.insert("prometheus".into(), "monitoring/k8s".into());
    assert_eq!(Source::prometheus_of(&m.alerts[0]), Some(Source::Prometheus("monitoring/k8s".into())));
    m.alerts[0].labels.remove("prometheus");
    m.alerts[0].generator_url = String::new();
    assert_eq!(Source::prometheus_of(&m.alerts[0]), None);
    m.alerts[0].generator_url = "https://prom.example.org/sub/graph?g0.expr=vector%281%29".into();
    assert_eq!(Source::prometheus_of(&m.alerts[0]), Some(Source::Prometheus("https://prom.example.org/sub".into())));
}

#[test]
fn a_resolved_alert_beats_for_its_alertmanager_but_not_for_its_prometheus() {
    let t0 = ts("2026-12-07T20:00:00Z");
    let mut t = tracker(t0);
    t.feed(&msg(AM0_FIRING), t0);
    // Prometheus stopped: Alertmanager lets the alert expire and posts it resolved.
    t.feed(&msg(AM0_RESOLVED), ts("2026-12-07T20:02:00Z"));
    let seen: Vec<(&str, Timestamp)> = t.beats().map(|(_, s, b)| (s.kind(), b.last_seen)).collect();
    assert_eq!(seen, [("alertmanager", ts("2026-12-07T20:02:00Z")), ("prometheus", t0)]);
    assert_eq!(quiet_sources(&t.due(ts("2026-12-07T20:03:00Z"))), [("prometheus", "http://prometheus.example:9090")]);
}

#[test]
fn a_heartbeat_is_never_fed_by_its_own_incident() {
    let t0 = ts("2026-12-07T20:00:00Z");
    let (mut hbs, _) = checked(ISSUE_EXAMPLE);
    // The loosest matchers possible: every alert with a name.
    hbs[0].matchers = vec![Matcher::parse("alertname=~\".+\"").expect("valid")];
    let mut t = Tracker::new(hbs, [], t0);
    let quiet = t.due(ts("2026-12-07T20:03:00Z"));
    assert_eq!(quiet_sources(&quiet), [("none", "")]);
    // The incident's alert comes back through Alertmanager (a user routed the router's own
    // alerts there): it must not feed the heartbeat.
    let mut m = msg(AM0_FIRING);
    m.alerts[0].labels = quiet[0].labels();
    assert_eq!(m.alerts[0].labels[OWN_LABEL], "pipeline");
    assert!(t.feed(&m, ts("2026-12-07T20:04:00Z")).is_empty());
    assert_eq!(t.beats().count(), 1, "still only the quiet placeholder");
}

#[test]
fn a_heartbeat_nobody_ever_feeds_goes_quiet_and_the_first_beat_resolves_it() {
    let t0 = ts("2026-12-07T20:00:00Z");
    let mut t = tracker(t0);
    assert!(t.due(ts("2026-12-07T20:02:59Z")).is_empty());
    assert_eq!(quiet_sources(&t.due(ts("2026-12-07T20:03:00Z"))), [("none", "")]);
    let mut out = vigie_kit::MetricSet::new();
    t.collect(&mut out);
    assert!(out.encode().contains("vigie_router_heartbeat_up{heartbeat=\"pipeline\",source=\"\"} 0\n"));
    let events = t.feed(&msg(AM0_FIRING), ts("2026-12-07T20:05:00Z"));
    assert!(matches!(&events[..], [Event::Back { source: Source::None, .. }]), "{events:?}");
}

#[test]
fn state_restored_from_the_store_keeps_deadlines_and_quiet_flags() {
    let t0 = ts("2026-12-07T20:00:00Z");
    let mut t = tracker(t0);
    t.feed(&msg(AM0_FIRING), t0);
    t.due(ts("2026-12-07T20:03:00Z"));
    let saved: Vec<(String, Source, Beat)> = t.beats().map(|(h, s, b)| (h.to_owned(), s.clone(), *b)).collect();
    // Restart (kill -9) at 20:10: nothing new is quiet (it already was), and the first beat
    // reports the return, once.
    let (mut hbs, _) = checked(ISSUE_EXAMPLE);
    hbs[0].matchers = vec![Matcher::parse("alertname=\"MysqlDown\"").expect("valid")];
    let mut gone = saved.clone();
    gone.push(("removed-from-config".into(), Source::None, Beat { last_seen: t0, quiet_since: None }));
    let mut r = Tracker::new(hbs, gone, ts("2026-12-07T20:10:00Z"));
    assert_eq!(r.beats().count(), saved.len(), "rows of unconfigured heartbeats are dropped");
    assert!(r.due(ts("2026-12-07T20:10:00Z")).is_empty());
    let back = r.feed(&msg(AM0_FIRING), ts("2026-12-07T20:10:01Z"));
    assert_eq!(back.len(), 2, "the Alertmanager and the Prometheus: {back:?}");
    assert!(r.forget("pipeline", &Source::Prometheus("http://prometheus.example:9090".into())));
    assert_eq!(r.beats().count(), 1);
}

#[test]
fn metrics_read_one_when_fed_zero_when_quiet_and_the_last_beat_time() {
    let t0 = ts("2026-12-07T20:00:00Z");
    let mut t = tracker(t0);
    t.feed(&msg(AM0_FIRING), t0);
    t.feed(&msg(AM1_FIRING), ts("2026-12-07T20:02:30Z"));
    t.due(ts("2026-12-07T20:04:00Z"));
    let mut out = vigie_kit::MetricSet::new();
    t.collect(&mut out);
    let text = out.encode();
    let body: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        body,
        [
            "vigie_router_heartbeat_last_seen_timestamp_seconds{heartbeat=\"pipeline\",source=\"http://127.0.0.1:47655\"} 1.7966736e+09",
            "vigie_router_heartbeat_last_seen_timestamp_seconds{heartbeat=\"pipeline\",source=\"http://127.0.0.1:51711\"} 1.79667375e+09",
            "vigie_router_heartbeat_last_seen_timestamp_seconds{heartbeat=\"pipeline\",source=\"http://prometheus.example:9090\"} 1.79667375e+09",
            "vigie_router_heartbeat_up{heartbeat=\"pipeline\",source=\"http://127.0.0.1:47655\"} 0",
            "vigie_router_heartbeat_up{heartbeat=\"pipeline\",source=\"http://127.0.0.1:51711\"} 1",
            "vigie_router_heartbeat_up{heartbeat=\"pipeline\",source=\"http://prometheus.example:9090\"} 1",
        ]
    );
}
