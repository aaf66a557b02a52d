//! A config with the issue's schedule loads; `load_schedules` needs no secret. (Bad
//! schedules are files under `tests/config/bad/`.)

use std::path::Path;

use super::super::{check, File};
use super::load_schedules;
use vigie_kit::config as kitconfig;

/// The issue's example, in a whole config.
const ROTA: &str = r#"
email: {smarthost: "127.0.0.1:25", from: vigie@example.org, tls: none}
contacts:
  - {name: alice, email: alice@example.org}
  - {name: bob, email: bob@example.org}
  - {name: carol, email: carol@example.org}
  - {name: dora, email: dora@example.org}
schedules:
  - name: support-rota
    time_zone: Europe/Paris
    layers:
      - rotation: {members: [alice, bob], shift: 1w, handoff: "monday 09:00", start: 2026-01-05}
      - rotation: {members: [carol], shift: 1d, handoff: "18:00", start: 2026-01-05}
        restrict: [{days: [mon, tue, wed, thu, fri], from: "18:00", to: "09:00"}]
teams:
  - {name: support, level: 1, schedule: support-rota}
  - {name: devops, level: 2, members: [dora]}
policies:
  - name: standard
    levels:
      - {}
      - {delay: 5m}
route: {policy: standard}
"#;

#[test]
fn the_issues_example_loads_and_a_schedule_team_is_checked_as_its_members() {
    let file: File = kitconfig::parse(Path::new("rota.yml"), ROTA).unwrap();
    let cfg = check(Path::new("rota.yml"), ROTA, file).unwrap();
    assert_eq!(cfg.schedules.len(), 1);
    assert_eq!(cfg.schedules[0].tz_name, "Europe/Paris");
    // Phase 1: until paging follows the schedule, level 1 still reaches all of them.
    let who: Vec<&str> = cfg.policies[0].levels[0].targets.iter().map(|t| t.contact.as_str()).collect();
    assert_eq!(who, ["alice", "bob", "carol"]);
    let who: Vec<&str> = cfg.policies[0].levels[1].targets.iter().map(|t| t.contact.as_str()).collect();
    assert_eq!(who, ["dora"]);
}

#[test]
fn load_schedules_needs_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("router.yml");
    let text = ROTA.replace("tls: none}", "tls: none, username: vigie, password: {file: /nonexistent/secret}}");
    std::fs::write(&path, &text).unwrap();
    let full = super::super::load(&path).unwrap_err();
    assert!(full[0].to_string().contains("cannot read secret file /nonexistent/secret"), "{}", full[0]);
    let s = load_schedules(&path).unwrap();
    assert_eq!(s[0].name, "support-rota");
    // Its errors still name file, line and field.
    std::fs::write(&path, text.replace("Europe/Paris", "Mars/Olympus")).unwrap();
    let e = load_schedules(&path).unwrap_err();
    let shown = e[0].to_string();
    assert!(
        shown.ends_with(
            ":10:5: schedules[0].time_zone: unknown time zone \"Mars/Olympus\" (an IANA name such as Europe/Paris)"
        ),
        "{shown}"
    );
}
