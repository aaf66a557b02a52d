//! A config with the issue's schedule loads; `load_schedules` needs no secret. (Bad
//! schedules are files under `tests/config/bad/`.)

use std::path::Path;

use super::super::{check, load, File};
use super::load_schedules;
use vigie_kit::config as kitconfig;

/// The issue's example in a whole config, whose SMTP password is an unset variable.
const ONCALL: &str = include_str!("../../../tests/config/oncall.yml");
const PASSWORD: &str = ", username: vigie, password: {env: VIGIE_TEST_UNSET_PASSWORD}";

#[test]
fn the_issues_example_loads_and_a_schedule_team_is_checked_as_its_members() {
    let text = ONCALL.replace(PASSWORD, "");
    let file: File = kitconfig::parse(Path::new("oncall.yml"), &text).unwrap();
    let cfg = check(Path::new("oncall.yml"), &text, file).unwrap();
    assert_eq!(cfg.schedules.len(), 2);
    assert_eq!(cfg.schedules[0].tz_name, "Europe/Paris");
    // Phase 1: until paging follows the schedule, level 1 still reaches all of them.
    let who: Vec<&str> = cfg.policies[0].levels[0].targets.iter().map(|t| t.contact.as_str()).collect();
    assert_eq!(who, ["alice", "bob", "carol"]);
}

#[test]
fn load_schedules_needs_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("router.yml");
    std::fs::write(&path, ONCALL).unwrap();
    let full = load(&path).unwrap_err();
    assert!(full[0].to_string().contains("VIGIE_TEST_UNSET_PASSWORD is unset"), "{}", full[0]);
    let s = load_schedules(&path).unwrap();
    assert_eq!(s[0].name, "support-rota");
    // Its errors still name file, line and field.
    std::fs::write(&path, ONCALL.replace("Europe/Paris", "Mars/Olympus")).unwrap();
    let e = load_schedules(&path).unwrap_err();
    let shown = e[0].to_string();
    let want = ":10:5: schedules[0].time_zone: unknown time zone \"Mars/Olympus\" (an IANA name such as Europe/Paris)";
    assert!(shown.ends_with(want), "{shown}");
}
