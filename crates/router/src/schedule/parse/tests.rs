//! Bad schedules: each problem is reported, all at once, with its field path.

use super::*;

fn problems(yaml: &str) -> Vec<String> {
    let files: Vec<ScheduleFile> = serde_yaml::from_str(yaml).unwrap();
    let known = |n: &str| ["alice", "bob", "carol"].contains(&n);
    compile(&files, &known).unwrap_err().into_iter().map(|p| p.to_string()).collect()
}

#[test]
fn every_problem_is_named_with_its_field() {
    let got = problems(
        r#"
- name: rota
  time_zone: Europe/Pariss
  layers:
    - rotation: {members: [alice, zed], shift: 1w, handoff: "25:00", start: 2026-01-05}
    - rotation: {members: [bob], shift: 1d, handoff: "monday 09:00", start: 2026-02-30}
      restrict: [{days: [mon, funday], from: "18:00", to: "18:00"}, {from: "9:00", to: "24:00"}]
    - rotation: {members: [], shift: 10m, handoff: "noon", start: 2026-01-05}
- name: rota
  time_zone: UTC
  layers: []
"#,
    );
    let want = [
        "schedules[0].time_zone: unknown time zone \"Europe/Pariss\" (an IANA name such as Europe/Paris)",
        "schedules[0].layers[0].rotation.members[1]: unknown contact \"zed\"",
        "schedules[0].layers[0].rotation.handoff: \"25:00\" is not a time of day: write HH:MM, 00:00 to 23:59",
        "schedules[0].layers[1].rotation.start: \"2026-02-30\" is not a date: write YYYY-MM-DD",
        "schedules[0].layers[1].rotation.handoff: a weekday handoff needs a shift of whole weeks, not \"1d\" (or write only the time)",
        "schedules[0].layers[1].restrict[0].days[1]: \"funday\" is not a weekday (mon, tue, wed, thu, fri, sat, sun)",
        "schedules[0].layers[1].restrict[0].to: empty window: from and to are both \"18:00\" (for a whole day write from: \"00:00\", to: \"24:00\")",
        "schedules[0].layers[1].restrict[1].from: \"9:00\" is not a time of day: write HH:MM, 00:00 to 23:59",
        "schedules[0].layers[2].rotation.members: a rotation needs at least one member",
        "schedules[0].layers[2].rotation.shift: invalid shift \"10m\": write a length such as 12h, 1d, 1w or 2w",
        "schedules[0].layers[2].rotation.handoff: \"noon\" is not a time of day: write HH:MM, 00:00 to 23:59",
        "schedules[1].name: duplicate schedule \"rota\"",
        "schedules[1].layers: a schedule needs at least one layer",
    ];
    assert_eq!(got, want);
}

#[test]
fn a_good_schedule_compiles() {
    let files: Vec<ScheduleFile> = serde_yaml::from_str(&crate::schedule::tests::support_yaml()).unwrap();
    let s = compile(&files, &|_| true).unwrap();
    assert_eq!(s[0].members(), ["alice", "bob", "carol"]);
}

#[test]
fn unknown_fields_are_refused() {
    let r: Result<Vec<ScheduleFile>, _> =
        serde_yaml::from_str("- {name: a, time_zone: UTC, layers: [], timezone: UTC}");
    assert!(r.unwrap_err().to_string().contains("unknown field `timezone`"));
}

#[test]
fn small_parsers() {
    assert_eq!(parse_shift("1d12h"), Ok(36 * 3600));
    assert_eq!(parse_shift("2w"), Ok(14 * DAY));
    assert!(parse_shift("0d").is_err());
    assert!(parse_shift("53w").unwrap_err().contains("longer than 52w"));
    assert_eq!(parse_clock("24:00", true), Ok(DAY));
    assert!(parse_clock("24:00", false).is_err());
    assert!(parse_clock("23:60", false).is_err());
    assert_eq!(parse_weekday("Sunday"), Ok(6));
    assert!(parse_weekday("m").is_err());
    assert_eq!(parse_handoff("tue 18:30"), Ok((Some(1), 18 * 3600 + 1800)));
}
