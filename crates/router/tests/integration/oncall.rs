//! `vigie-router oncall` and `check-config`'s coverage warnings, as a user runs them.

use std::process::{Command, Output};

/// Two schedules (one with gaps); its SMTP password is an unset variable.
const CONFIG: &str = include_str!("../config/oncall.yml");

fn run(dir: &std::path::Path, args: &[&str]) -> Output {
    let path = dir.join("router.yml");
    std::fs::write(&path, CONFIG).unwrap();
    Command::new(env!("CARGO_BIN_EXE_vigie-router"))
        .args(args.iter().map(|a| if *a == "CONFIG" { path.to_str().unwrap() } else { a }))
        .env_remove("VIGIE_TEST_UNSET_PASSWORD")
        .output()
        .unwrap()
}

#[test]
fn oncall_json_at_an_instant_needs_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let out =
        run(dir.path(), &["oncall", "--config", "CONFIG", "--at", "2026-03-30T20:00:00+02:00", "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{v:#}");
    assert_eq!(rows[0]["schedule"], "support-rota");
    assert_eq!(rows[0]["contact"], "carol");
    assert_eq!(rows[0]["source"], "layer 2");
    assert_eq!(rows[0]["start"], "2026-03-30T18:00:00+02:00");
    assert_eq!(rows[0]["end"], "2026-03-31T09:00:00+02:00");
    // Monday 14:00 in New York: nobody since Saturday morning, and said so.
    assert_eq!(rows[1]["schedule"], "nights");
    assert_eq!(rows[1]["contact"], serde_json::Value::Null);
    assert_eq!(rows[1]["source"], "nobody");
    assert_eq!(rows[1]["start"], "2026-03-28T09:00:00-04:00");
    assert_eq!(rows[1]["end"], "2026-03-30T18:00:00-04:00");
}

#[test]
fn oncall_days_lists_every_shift_across_a_dst_change() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["oncall", "--config", "CONFIG", "--at", "2026-03-27T12:00:00+01:00", "--days", "4"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    // Week 11 is bob's; the Monday handoff after the spring change is still 09:00 local.
    assert!(text.contains("bob     2026-03-28T09:00:00+01:00 → 2026-03-30T09:00:00+02:00  layer 1"), "{text}");
    assert!(text.contains("alice   2026-03-30T09:00:00+02:00 → 2026-03-30T18:00:00+02:00  layer 1"), "{text}");
    assert!(text.contains("nobody  2026-03-27T09:00:00-04:00 → 2026-03-27T18:00:00-04:00  NOBODY ON CALL"), "{text}");
}

#[test]
fn oncall_bad_arguments_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["oncall", "--config", "CONFIG", "--at", "tomorrow"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--at: \"tomorrow\" is not an RFC 3339 instant"));
    let out = run(dir.path(), &["oncall", "--config", "CONFIG", "--days", "0"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn check_config_warns_about_uncovered_hours() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("router.yml");
    std::fs::write(&path, CONFIG.replace(", username: vigie, password: {env: VIGIE_TEST_UNSET_PASSWORD}", "")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_vigie-router")).arg("check-config").arg(&path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8(out.stderr).unwrap();
    // Only `nights` has holes (days and weekends): at least 4 weekends in 28 days.
    assert!(!err.contains("support-rota"), "{err}");
    let lines: Vec<&str> =
        err.lines().filter(|l| l.starts_with("warning: schedules[1] (nights): nobody on call from ")).collect();
    assert!(lines.len() >= 20, "{err}");
    assert!(lines.iter().filter(|l| l.ends_with("(57.0h)")).count() >= 3, "{err}");
}
