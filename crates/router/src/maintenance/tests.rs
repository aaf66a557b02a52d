//! Maintenance windows, as specifications: the issue's YAML, recurring windows across
//! midnight and DST in their zone, overlaps, the end that pages, and every bad input with its
//! field path (config) or 400 reason (API).

use jiff::Timestamp;

use super::parse::DaySpec;
use super::*;
use serde::Deserialize;

/// Issue 19's example, byte for byte.
pub(crate) const ISSUE_EXAMPLE: &str = r#"heartbeats:
  - name: pipeline
    matchers: ['alertname="Watchdog"']
    interval: 1m          # Alertmanager re-sends the Watchdog at least this often
    grace: 2m             # quiet for interval + grace → page
    policy: standard
maintenance:
  - name: sunday-backup
    matchers: ['service="mysql"']
    recurring: {days: [sun], from: "02:00", to: "03:00", time_zone: Europe/Paris}
"#;

/// The maintenance section as `router.yml` will hold it, beside the heartbeats (read by the
/// heartbeat tests, and skipped here so this module stays below `heartbeat`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Section {
    #[serde(default, rename = "heartbeats")]
    _heartbeats: serde::de::IgnoredAny,
    #[serde(default)]
    pub maintenance: Vec<File>,
}

/// Parses through the kit's loader, as `check-config` does, naming `router.yml`.
pub(crate) fn parse_section(yaml: &str) -> Result<Section, vigie_kit::config::ConfigError> {
    vigie_kit::config::parse("router.yml".as_ref(), yaml)
}

pub(crate) fn parse_example() -> Section {
    parse_section(ISSUE_EXAMPLE).expect("the issue's example parses")
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("test timestamp")
}

fn labels(pairs: &[(&str, &str)]) -> KV {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn windows(yaml: &str) -> Vec<Window> {
    let section = parse_section(yaml).expect("parses");
    let mut errs = Vec::new();
    let w = check(&section.maintenance, &mut |f, m| errs.push(format!("{f}: {m}")));
    assert_eq!(errs, Vec::<String>::new());
    w
}

/// The semantic errors of `yaml`, as `check-config` prints them (`file:line:col: field: msg`).
fn problems(yaml: &str) -> Vec<String> {
    let section = parse_section(yaml).expect("parses");
    let mut errs = Vec::new();
    check(&section.maintenance, &mut |f, m| {
        errs.push(vigie_kit::config::ConfigError::at_field("router.yml".as_ref(), yaml, &f, m).to_string())
    });
    errs
}

#[test]
fn the_issue_example_mutes_mysql_on_sunday_from_two_to_three_paris_time() {
    let section = parse_example();
    let mut errs = Vec::new();
    let w = check(&section.maintenance, &mut |f, m| errs.push(format!("{f}: {m}")));
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(w[0].name, "sunday-backup");
    let mysql = labels(&[("alertname", "MysqlDown"), ("service", "mysql")]);
    let web = labels(&[("alertname", "ProbeFailing"), ("service", "web")]);
    // 2026-12-06 is a Sunday; Paris is UTC+1 in winter.
    assert!(w[0].active(&mysql, ts("2026-12-06T01:00:00Z")), "02:00 Paris: starts, included");
    assert!(w[0].active(&mysql, ts("2026-12-06T01:59:59Z")));
    assert!(!w[0].active(&mysql, ts("2026-12-06T02:00:00Z")), "03:00 Paris: ended, excluded");
    assert!(!w[0].active(&mysql, ts("2026-12-06T00:59:59Z")));
    assert!(!w[0].active(&web, ts("2026-12-06T01:30:00Z")), "other services page");
    assert!(!w[0].active(&mysql, ts("2026-12-07T01:30:00Z")), "Monday is not in days");
    // Summer: UTC+2.
    assert!(w[0].active(&mysql, ts("2026-06-07T00:30:00Z")));
    assert!(!w[0].active(&mysql, ts("2026-06-07T01:30:00Z")));
    assert!(ISSUE_EXAMPLE.contains("time_zone: Europe/Paris"));
}

#[test]
fn an_incident_still_firing_when_the_window_ends_pages_at_that_end() {
    let w = windows(ISSUE_EXAMPLE);
    let mysql = labels(&[("service", "mysql")]);
    assert_eq!(muted_until(&w, &mysql, ts("2026-12-06T01:20:00Z")), Some(ts("2026-12-06T02:00:00Z")));
    assert_eq!(muted_until(&w, &mysql, ts("2026-12-06T02:00:00Z")), None, "at the end: pages");
    assert_eq!(muted_until(&w, &labels(&[("service", "web")]), ts("2026-12-06T01:20:00Z")), None);
    assert_eq!(muting(&w, &mysql, ts("2026-12-06T01:20:00Z")), vec!["sunday-backup"]);
}

#[test]
fn overlapping_and_touching_windows_mute_until_the_last_end() {
    let yaml = r#"
maintenance:
  - name: backup
    matchers: ['service="mysql"']
    recurring: {days: [sun], from: "02:00", to: "03:00", time_zone: UTC}
  - name: upgrade
    matchers: ['instance=~"db-.*"']
    start: 2026-12-06T02:30:00Z
    end: 2026-12-06T04:00:00Z
  - name: reindex
    matchers: ['service="mysql"']
    start: 2026-12-06T04:00:00Z
    end: 2026-12-06T04:30:00Z
"#;
    let w = windows(yaml);
    let db1 = labels(&[("service", "mysql"), ("instance", "db-1")]);
    assert_eq!(muted_until(&w, &db1, ts("2026-12-06T02:10:00Z")), Some(ts("2026-12-06T04:30:00Z")));
    assert_eq!(muting(&w, &db1, ts("2026-12-06T02:45:00Z")), vec!["backup", "upgrade"]);
    // Another MySQL host is covered by backup and reindex only: the gap 03:00–04:00 pages.
    let db9 = labels(&[("service", "mysql"), ("instance", "other")]);
    assert_eq!(muted_until(&w, &db9, ts("2026-12-06T02:10:00Z")), Some(ts("2026-12-06T03:00:00Z")));
}

#[test]
fn a_window_on_every_day_all_day_chains_a_bounded_number_of_times() {
    let yaml = r#"
maintenance:
  - name: lab
    matchers: ['env="lab"']
    recurring: {from: "00:00", to: "24:00", time_zone: UTC}
"#;
    let w = windows(yaml);
    let until = muted_until(&w, &labels(&[("env", "lab")]), ts("2026-12-06T10:00:00Z"));
    // One hop per day: the 64th midnight after 2026-12-06, then the caller asks again.
    assert_eq!(until, Some(ts("2027-02-08T00:00:00Z")));
}

#[test]
fn a_recurring_window_crossing_midnight_ends_the_next_day() {
    let yaml = r#"
maintenance:
  - name: nightly
    matchers: ['job="etl"']
    recurring: {days: ["fri:sat"], from: "23:00", to: "01:30", time_zone: America/New_York}
"#;
    let w = windows(yaml);
    let etl = labels(&[("job", "etl")]);
    // Friday 2026-12-04 23:00 EST = Saturday 04:00 UTC; ends Saturday 01:30 EST.
    assert!(w[0].active(&etl, ts("2026-12-05T04:00:00Z")));
    assert_eq!(muted_until(&w, &etl, ts("2026-12-05T05:00:00Z")), Some(ts("2026-12-05T06:30:00Z")));
    // Sunday 00:30 local still belongs to Saturday's occurrence.
    assert!(w[0].active(&etl, ts("2026-12-06T05:30:00Z")));
    // Monday 00:30 local: Sunday is not a start day.
    assert!(!w[0].active(&etl, ts("2026-12-07T05:30:00Z")));
}

#[test]
fn dst_days_follow_the_zone_a_missing_hour_is_empty_a_repeated_one_is_longer() {
    let w = windows(ISSUE_EXAMPLE);
    let mysql = labels(&[("service", "mysql")]);
    let Window { when: When::Weekly(weekly), .. } = &w[0] else { panic!("recurring") };
    // 2026-03-29: Paris springs forward at 02:00 → 03:00; 02:00–03:00 does not exist.
    assert_eq!(weekly.occurrence(jiff::civil::date(2026, 3, 29)), None);
    assert!(!w[0].active(&mysql, ts("2026-03-29T01:00:00Z")));
    // 2026-10-25: 02:00–03:00 happens twice; the window starts at the first 02:00 (UTC 00:00)
    // and ends at 03:00 CET (UTC 02:00): two hours.
    assert_eq!(
        weekly.occurrence(jiff::civil::date(2026, 10, 25)),
        Some((ts("2026-10-25T00:00:00Z"), ts("2026-10-25T02:00:00Z")))
    );
}

#[test]
fn one_off_windows_mute_between_start_and_end_and_then_expire() {
    let yaml = r#"
maintenance:
  - name: mariadb-upgrade
    matchers: ['alertname="MysqlDown"', 'instance="db-1:9104"']
    start: 2026-12-24T02:00:00+01:00
    end: 2026-12-24T03:00:00+01:00
"#;
    let w = windows(yaml);
    let l = labels(&[("alertname", "MysqlDown"), ("instance", "db-1:9104")]);
    assert!(!w[0].active(&l, ts("2026-12-24T00:59:59Z")));
    assert!(w[0].active(&l, ts("2026-12-24T01:00:00Z")));
    assert!(!w[0].active(&l, ts("2026-12-24T02:00:00Z")));
    assert!(!w[0].active(&labels(&[("alertname", "MysqlDown")]), ts("2026-12-24T01:30:00Z")), "all matchers");
    assert!(!w[0].expired(ts("2026-12-24T01:59:59Z")));
    assert!(w[0].expired(ts("2026-12-24T02:00:00Z")));
}

#[test]
fn bad_values_are_named_with_file_line_and_field() {
    let cases = [
        ("from: \"25:00\"", "router.yml:6:24: maintenance[0].recurring.from: invalid time \"25:00\" (HH:MM, from 00:00 to 24:00)"),
        ("from: \"2:00\"", "router.yml:6:24: maintenance[0].recurring.from: invalid time \"2:00\" (HH:MM, from 00:00 to 24:00)"),
        ("time_zone: Europe/Pariss", "router.yml:6:24: maintenance[0].recurring.time_zone: unknown time zone \"Europe/Pariss\" (an IANA name such as Europe/Paris)"),
        ("days: [sundy]", "router.yml:6:24: maintenance[0].recurring.days[0]: invalid day \"sundy\" (mon … sun, a full name, or a range such as mon:fri)"),
    ];
    for (field, want) in cases {
        let key = field.split(':').next().unwrap_or_default();
        let mut rec: Vec<String> = ["days: [sun]", "from: \"02:00\"", "to: \"03:00\"", "time_zone: Europe/Paris"]
            .iter()
            .filter(|f| !f.starts_with(key))
            .map(|f| f.to_string())
            .collect();
        rec.push(field.to_owned());
        let yaml = format!(
            "heartbeats: []\nmaintenance:\n  - name: sunday-backup\n    matchers: ['service=\"mysql\"']\n    recurring:\n      {{{}}}\n",
            rec.join(", ")
        );
        let e = parse_section(&yaml).expect_err(field).to_string();
        // The column is the one serde_yaml reports for the flow mapping; the line is exact.
        assert_eq!(e.split_once(": ").map(|(_, m)| m), want.split_once(": ").map(|(_, m)| m), "{yaml}");
        assert!(e.starts_with("router.yml:6:"), "{e}");
    }
}

#[test]
fn a_window_without_matchers_is_refused_as_alertmanager_refuses_such_a_silence() {
    let yaml = "maintenance:\n  - name: all\n    start: 2026-12-24T03:00:00Z\n    end: 2026-12-24T04:00:00Z\n";
    let e = parse_section(yaml).expect_err("no matchers").to_string();
    assert!(e.starts_with("router.yml:2:"), "{e}");
    assert!(e.ends_with(": maintenance[0]: missing field `matchers`"), "{e}");
}

#[test]
fn semantic_errors_are_all_reported_each_with_its_field_and_line() {
    let yaml = r#"maintenance:
  - name: backwards
    matchers: ['service="mysql"']
    start: 2026-12-24T03:00:00Z
    end: 2026-12-24T02:00:00Z
  - name: no-scope
    matchers: []
    recurring: {from: "02:00", to: "03:00", time_zone: UTC}
  - name: both
    matchers: ['a="b"']
    start: 2026-12-24T03:00:00Z
    end: 2026-12-24T04:00:00Z
    recurring: {from: "02:00", to: "03:00", time_zone: UTC}
  - name: empty
    matchers: ['a="b"']
    recurring:
      days: []
      from: "02:00"
      to: "02:00"
      time_zone: UTC
  - name: backwards
    matchers: ['a="b"']
    start: 2026-12-24T03:00:00Z
"#;
    assert_eq!(
        problems(yaml),
        [
            "router.yml:5:5: maintenance[0].end: 2026-12-24T02:00:00Z is not after start 2026-12-24T03:00:00Z",
            "router.yml:7:5: maintenance[1].matchers: no matchers: a window needs at least one (e.g. 'service=\"mysql\"')",
            "router.yml:9:3: maintenance[2]: give either start and end (one-off) or recurring, not both",
            "router.yml:17:7: maintenance[3].recurring.days: empty (leave it out for every day)",
            "router.yml:19:7: maintenance[3].recurring.to: equal to from (02:00): an empty window; a whole day is from: \"00:00\", to: \"24:00\"",
            "router.yml:21:3: maintenance[4].name: duplicate window \"backwards\" (also maintenance[0])",
            "router.yml:21:3: maintenance[4]: start without end: a one-off window needs both",
        ]
    );
}

/// A `POST /api/v1/maintenance` body: a MariaDB restart on Christmas Eve, Paris time.
const API_BODY: &[u8] = br#"{"name":"mariadb-restart","matchers":["service=\"mysql\"","instance=~\"db-1.*\""],
    "start":"2026-12-24T02:00:00+01:00","end":"2026-12-24T03:00:00+01:00"}"#;

#[test]
fn the_api_body_becomes_the_same_window() {
    let now = ts("2026-12-24T00:00:00Z");
    let w = parse_request(API_BODY, now).expect("valid");
    assert_eq!(w.name, "mariadb-restart");
    let l = labels(&[("service", "mysql"), ("instance", "db-1:9104")]);
    assert_eq!(muted_until(&[w], &l, ts("2026-12-24T01:00:00Z")), Some(ts("2026-12-24T02:00:00Z")));
    // Without start: from now.
    let w =
        parse_request(br#"{"name":"now","matchers":["a=\"b\""],"end":"2026-12-24T01:00:00Z"}"#, now).expect("valid");
    assert!(matches!(w.when, When::Once { start, .. } if start == now));
}

#[test]
fn a_bad_api_body_gets_every_reason_for_its_400() {
    let now = ts("2026-12-24T00:00:00Z");
    let reason = |body: &str| parse_request(body.as_bytes(), now).expect_err(body).to_string();
    assert_eq!(
        reason(r#"{"name":"x","matchers":["service"],"start":"2026-12-24T03:00:00Z","end":"tomorrow"}"#),
        "matchers[0]: invalid matcher \"service\": no operator (=, !=, =~, !~); end: invalid timestamp \"tomorrow\" (RFC 3339 with an offset, e.g. 2026-12-24T02:00:00+01:00)"
    );
    assert_eq!(
        reason(r#"{"name":"x","matchers":["a=\"b\""],"start":"2026-12-24T03:00:00Z","end":"2026-12-24T02:00:00Z"}"#),
        "end: 2026-12-24T02:00:00Z is not after start 2026-12-24T03:00:00Z"
    );
    assert_eq!(
        reason(r#"{"name":"x","matchers":["a=\"b\""],"end":"2026-12-23T02:00:00Z"}"#),
        "end: 2026-12-23T02:00:00Z is already past; end: 2026-12-23T02:00:00Z is not after start 2026-12-24T00:00:00Z"
    );
    assert_eq!(
        reason(r#"{"name":"","matchers":[],"end":"2026-12-24T02:00:00Z"}"#),
        "name: empty; matchers: no matchers: a window needs at least one (e.g. 'service=\"mysql\"')"
    );
    assert_eq!(
        reason(r#"{"name":"x","matchers":["a=\"b\""],"end":"2026-12-24T02:00"}"#),
        "end: invalid timestamp \"2026-12-24T02:00\" (RFC 3339 with an offset, e.g. 2026-12-24T02:00:00+01:00)"
    );
    assert!(reason(r#"{"name":"x","matchers":["a=\"b\""],"end":"2026-12-24T02:00:00Z","recurring":{}}"#)
        .starts_with("invalid body: unknown field `recurring`"));
    assert!(reason(r#"{"name":"x"}"#).starts_with("invalid body: missing field `matchers`"));
}

#[test]
fn day_names_and_ranges_follow_alertmanager_time_intervals() {
    let bits = |s: &str| DaySpec::parse(s).map(|d| d.0 .0);
    assert_eq!(bits("mon"), Ok(0b000_0001));
    assert_eq!(bits("Sunday"), Ok(0b100_0000));
    assert_eq!(bits("mon:fri"), Ok(0b001_1111));
    assert_eq!(bits("fri:mon"), Ok(0b111_0001), "a range may wrap over the week's end");
    assert!(bits("mon-fri").is_err());
    assert_eq!(Clock::parse("24:00"), Ok(Clock(1440)));
    assert!(Clock::parse("24:01").is_err());
    assert!(Clock::parse("12:60").is_err());
}

#[test]
fn a_window_shown_as_json_posts_back_as_the_same_window() {
    let now = ts("2026-12-24T00:00:00Z");
    let w = parse_request(API_BODY, now).expect("valid");
    let json = w.to_json();
    assert_eq!(
        json,
        serde_json::json!({"name": "mariadb-restart", "matchers": ["service=\"mysql\"", "instance=~\"db-1.*\""],
            "start": "2026-12-24T01:00:00Z", "end": "2026-12-24T02:00:00Z"})
    );
    let again = parse_request(json.to_string().as_bytes(), now).expect("round trip");
    assert_eq!(again.to_json(), json);
    let weekly = windows(ISSUE_EXAMPLE);
    assert_eq!(
        weekly[0].to_json()["recurring"],
        serde_json::json!({"days": ["sun"], "from": "02:00", "to": "03:00", "time_zone": "Europe/Paris"})
    );
}
