//! Schedule arithmetic: rotations, restrictions, layers, overrides, daylight saving, a
//! changed member list. Bad input is in `parse/tests.rs`.

use super::*;

/// The issue's example, as written (`schedules[0]` of the `oncall` test config).
pub(crate) fn support_yaml() -> String {
    let file: serde_yaml::Value = serde_yaml::from_str(include_str!("../../tests/config/oncall.yml")).unwrap();
    serde_yaml::to_string(&[&file["schedules"][0]]).unwrap()
}

pub(crate) fn sched(yaml: &str) -> Schedule {
    let files: Vec<ScheduleFile> = serde_yaml::from_str(yaml).unwrap();
    compile(&files, &|_| true).unwrap().remove(0)
}

/// One rotation in `zone`.
fn rota(zone: &str, members: &str, shift: &str, handoff: &str, start: &str) -> Schedule {
    sched(&format!(
        "- {{name: s, time_zone: {zone}, layers: [{{rotation: {{members: [{members}], shift: {shift}, handoff: \"{handoff}\", start: {start}}}}}]}}"
    ))
}

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// `contact (source)` of everyone on call at `at`.
fn who(s: &Schedule, at: &str, ov: &[Override]) -> Vec<String> {
    s.on_call(t(at), ov).into_iter().map(|c| format!("{} ({})", c.contact, c.source)).collect()
}

fn one(s: &Schedule, at: &str) -> String {
    who(s, at, &[]).join(", ")
}

#[test]
fn weekly_rotation_hands_off_on_monday_at_nine() {
    let s = sched(&support_yaml());
    assert_eq!(one(&s, "2026-01-05T08:59:59+01:00"), "", "before the start nobody");
    assert_eq!(one(&s, "2026-01-05T09:00:00+01:00"), "alice (layer 1)");
    assert_eq!(one(&s, "2026-01-12T08:59:59+01:00"), "alice (layer 1)");
    assert_eq!(one(&s, "2026-01-12T09:00:00+01:00"), "bob (layer 1)");
    assert_eq!(one(&s, "2026-01-19T09:00:00+01:00"), "alice (layer 1)");
    // Week 11 after the start (odd): bob, on a Saturday.
    assert_eq!(one(&s, "2026-03-28T12:00:00+01:00"), "bob (layer 1)");
}

#[test]
fn a_weekday_handoff_starts_on_the_first_such_day_on_or_after_start() {
    // 2026-01-07 is a Wednesday: the first shift starts Monday 2026-01-12.
    let s = rota("UTC", "alice, bob", "1w", "monday 09:00", "2026-01-07");
    assert_eq!(one(&s, "2026-01-12T08:59:00Z"), "");
    assert_eq!(one(&s, "2026-01-12T09:00:00Z"), "alice (layer 1)");
    assert_eq!(one(&s, "2026-01-19T09:00:00Z"), "bob (layer 1)");
}

#[test]
fn daily_and_twelve_hour_rotations() {
    let s = rota("Europe/Paris", "a, b, c", "1d", "18:00", "2026-01-05");
    assert_eq!(one(&s, "2026-01-05T17:59:59+01:00"), "");
    assert_eq!(one(&s, "2026-01-05T18:00:00+01:00"), "a (layer 1)");
    assert_eq!(one(&s, "2026-01-06T17:59:59+01:00"), "a (layer 1)");
    assert_eq!(one(&s, "2026-01-06T18:00:00+01:00"), "b (layer 1)");
    assert_eq!(one(&s, "2026-01-07T18:00:00+01:00"), "c (layer 1)");
    assert_eq!(one(&s, "2026-01-08T18:00:00+01:00"), "a (layer 1)");
    let s = rota("UTC", "day, night", "12h", "08:00", "2026-01-05");
    assert_eq!(one(&s, "2026-01-05T19:59:00Z"), "day (layer 1)");
    assert_eq!(one(&s, "2026-01-05T20:00:00Z"), "night (layer 1)");
    assert_eq!(one(&s, "2026-01-06T08:00:00Z"), "day (layer 1)");
}

#[test]
fn a_restriction_across_midnight_and_a_later_layer_covering_an_earlier_one() {
    let s = sched(&support_yaml());
    // Tuesday evening to Wednesday morning: carol's window.
    assert_eq!(one(&s, "2026-01-06T17:59:59+01:00"), "alice (layer 1)");
    assert_eq!(one(&s, "2026-01-06T18:00:00+01:00"), "carol (layer 2)");
    assert_eq!(one(&s, "2026-01-07T03:00:00+01:00"), "carol (layer 2)");
    assert_eq!(one(&s, "2026-01-07T08:59:59+01:00"), "carol (layer 2)");
    assert_eq!(one(&s, "2026-01-07T09:00:00+01:00"), "alice (layer 1)");
    // Friday's window runs into Saturday morning; Saturday and Sunday start none.
    assert_eq!(one(&s, "2026-01-10T08:59:59+01:00"), "carol (layer 2)");
    assert_eq!(one(&s, "2026-01-10T20:00:00+01:00"), "alice (layer 1)");
    assert_eq!(one(&s, "2026-01-12T08:00:00+01:00"), "alice (layer 1)");
    assert_eq!(one(&s, "2026-01-12T09:00:00+01:00"), "bob (layer 1)");
    assert_eq!(one(&s, "2026-01-12T18:00:00+01:00"), "carol (layer 2)");
}

#[test]
fn a_restricted_layer_alone_leaves_gaps() {
    let s = sched(
        r#"
- name: nights
  time_zone: Europe/Paris
  layers:
    - rotation: {members: [carol], shift: 1d, handoff: "18:00", start: 2026-01-05}
      restrict: [{days: [mon, tue, wed, thu, fri], from: "18:00", to: "09:00"}]
"#,
    );
    let gaps = s.gaps(t("2026-01-12T00:00:00+01:00"), t("2026-01-19T00:00:00+01:00"), &[]);
    let shown: Vec<String> = gaps.iter().map(|(a, b)| format!("{} {}", s.rfc3339(*a), s.rfc3339(*b))).collect();
    assert_eq!(
        shown,
        [
            "2026-01-12T00:00:00+01:00 2026-01-12T18:00:00+01:00",
            "2026-01-13T09:00:00+01:00 2026-01-13T18:00:00+01:00",
            "2026-01-14T09:00:00+01:00 2026-01-14T18:00:00+01:00",
            "2026-01-15T09:00:00+01:00 2026-01-15T18:00:00+01:00",
            "2026-01-16T09:00:00+01:00 2026-01-16T18:00:00+01:00",
            "2026-01-17T09:00:00+01:00 2026-01-19T00:00:00+01:00",
        ]
    );
    // The one-member rotation hands off daily, yet each night is one shift.
    let shifts = s.shifts(t("2026-01-12T00:00:00+01:00"), t("2026-01-19T00:00:00+01:00"), &[]);
    assert_eq!(shifts.len(), 5);
    assert!(shifts.iter().all(|x| x.end.as_second() - x.start.as_second() == 15 * 3600));
}

#[test]
fn shifts_tile_the_window_with_the_layers_answers() {
    let s = sched(&support_yaml());
    let (from, to) = (t("2026-01-05T00:00:00+01:00"), t("2026-01-19T09:00:00+01:00"));
    let shifts = s.shifts(from, to, &[]);
    // Consecutive, each agreeing with on_call at its start and just before its end.
    let mut at = t("2026-01-05T09:00:00+01:00");
    for x in &shifts {
        assert_eq!(x.start, at, "{shifts:#?}");
        let now = s.on_call(x.start, &[]);
        assert_eq!((now[0].contact.as_str(), now[0].source), (x.contact.as_str(), x.source));
        let last = s.on_call(Timestamp::from_second(x.end.as_second() - 1).unwrap(), &[]);
        assert_eq!(last[0].contact, x.contact);
        at = x.end;
    }
    assert_eq!(at, to);
    assert_eq!(s.gaps(from, to, &[]), [(from, t("2026-01-05T09:00:00+01:00"))]);
    // Two weeks: 5 + 5 carol nights, each breaking a layer-1 week into day pieces.
    assert_eq!(shifts.iter().filter(|x| x.contact == "carol").count(), 10);
}

fn ov(contact: &str, replaces: Option<&str>, start: &str, end: &str) -> Override {
    Override { contact: contact.into(), replaces: replaces.map(Into::into), start: t(start), end: t(end) }
}

#[test]
fn overrides_win_over_layers() {
    let s = sched(&support_yaml());
    let dora = [ov("dora", Some("alice"), "2026-01-07T12:00:00+01:00", "2026-01-14T12:00:00+01:00")];
    // Replaces alice while the layers give alice, not carol at night nor bob the next week.
    assert_eq!(who(&s, "2026-01-07T11:59:59+01:00", &dora), ["alice (layer 1)"]);
    assert_eq!(who(&s, "2026-01-07T12:00:00+01:00", &dora), ["dora (override)"]);
    assert_eq!(who(&s, "2026-01-07T20:00:00+01:00", &dora), ["carol (layer 2)"]);
    assert_eq!(who(&s, "2026-01-12T10:00:00+01:00", &dora), ["bob (layer 1)"]);
    // Adding on top: both are on call; an added person also fills a gap.
    let eve = [ov("eve", None, "2026-01-05T00:00:00+01:00", "2026-01-07T00:00:00+01:00")];
    assert_eq!(who(&s, "2026-01-05T08:00:00+01:00", &eve), ["eve (override)"]);
    assert_eq!(who(&s, "2026-01-06T10:00:00+01:00", &eve), ["alice (layer 1)", "eve (override)"]);
    let shifts = s.shifts(t("2026-01-07T00:00:00+01:00"), t("2026-01-08T00:00:00+01:00"), &dora);
    let shown: Vec<String> =
        shifts.iter().map(|x| format!("{} {} {}", x.contact, x.source, s.rfc3339(x.start))).collect();
    assert_eq!(
        shown,
        [
            "carol layer 2 2026-01-07T00:00:00+01:00",
            "alice layer 1 2026-01-07T09:00:00+01:00",
            "dora override 2026-01-07T12:00:00+01:00",
            "carol layer 2 2026-01-07T18:00:00+01:00",
        ]
    );
}

#[test]
fn override_checks() {
    let s = sched(&support_yaml());
    let known = |n: &str| ["alice", "bob", "carol", "dora"].contains(&n);
    let existing = [ov("dora", Some("alice"), "2026-01-07T12:00:00+01:00", "2026-01-08T12:00:00+01:00")];
    let check = |o: Override| check_override(&s, &existing, &o, &known);
    let reversed = check(ov("bob", Some("alice"), "2026-01-09T12:00:00+01:00", "2026-01-09T11:00:00+01:00"));
    assert!(reversed.unwrap_err().contains("is not after start"));
    let overlap = check(ov("bob", Some("alice"), "2026-01-08T00:00:00+01:00", "2026-01-09T00:00:00+01:00"));
    assert!(overlap.unwrap_err().contains("overlaps the override of dora"));
    let stranger = check(ov("zed", None, "2026-01-09T00:00:00+01:00", "2026-01-10T00:00:00+01:00"));
    assert_eq!(stranger.unwrap_err(), "unknown contact \"zed\"");
    let not_member = check(ov("bob", Some("dora"), "2026-01-09T00:00:00+01:00", "2026-01-10T00:00:00+01:00"));
    assert!(not_member.unwrap_err().contains("not a member"));
    // Back to back, or replacing someone else at the same time, is fine.
    assert!(check(ov("bob", Some("alice"), "2026-01-08T12:00:00+01:00", "2026-01-09T00:00:00+01:00")).is_ok());
    assert!(check(ov("dora", Some("carol"), "2026-01-07T12:00:00+01:00", "2026-01-08T00:00:00+01:00")).is_ok());
}

/// Start of each shift of `s` in `[from, to)`, as local RFC 3339, and its length in hours.
fn handoffs(s: &Schedule, from: &str, to: &str) -> Vec<(String, i64)> {
    s.shifts(t(from), t(to), &[])
        .into_iter()
        .map(|x| (s.rfc3339(x.start), (x.end.as_second() - x.start.as_second()) / 3600))
        .collect()
}

#[test]
fn nine_stays_nine_across_daylight_saving_in_paris_and_new_york() {
    // Paris: spring forward Sunday 2026-03-29, fall back Sunday 2026-10-25.
    let s = rota("Europe/Paris", "a, b", "1d", "09:00", "2026-01-05");
    let got = handoffs(&s, "2026-03-28T09:00:00+01:00", "2026-03-31T09:00:00+02:00");
    let want =
        [("2026-03-28T09:00:00+01:00", 23), ("2026-03-29T09:00:00+02:00", 24), ("2026-03-30T09:00:00+02:00", 24)];
    assert_eq!(got, want.map(|(a, h)| (a.to_owned(), h)));
    let got = handoffs(&s, "2026-10-24T09:00:00+02:00", "2026-10-26T09:00:00+01:00");
    assert_eq!(got, [("2026-10-24T09:00:00+02:00".to_owned(), 25), ("2026-10-25T09:00:00+01:00".to_owned(), 24)]);
    // A weekly Monday handoff around the same weekends: 167 h and 169 h weeks.
    let w = rota("Europe/Paris", "a, b", "1w", "monday 09:00", "2026-01-05");
    let got = handoffs(&w, "2026-03-23T09:00:00+01:00", "2026-04-06T09:00:00+02:00");
    assert_eq!(got, [("2026-03-23T09:00:00+01:00".to_owned(), 167), ("2026-03-30T09:00:00+02:00".to_owned(), 168)]);
    let got = handoffs(&w, "2026-10-19T09:00:00+02:00", "2026-10-26T09:00:00+01:00");
    assert_eq!(got, [("2026-10-19T09:00:00+02:00".to_owned(), 169)]);
    // New York: spring forward 2026-03-08, fall back 2026-11-01.
    let ny = rota("America/New_York", "a, b", "1d", "09:00", "2026-01-05");
    let got = handoffs(&ny, "2026-03-07T09:00:00-05:00", "2026-03-09T09:00:00-04:00");
    assert_eq!(got, [("2026-03-07T09:00:00-05:00".to_owned(), 23), ("2026-03-08T09:00:00-04:00".to_owned(), 24)]);
    let got = handoffs(&ny, "2026-10-31T09:00:00-04:00", "2026-11-02T09:00:00-05:00");
    assert_eq!(got, [("2026-10-31T09:00:00-04:00".to_owned(), 25), ("2026-11-01T09:00:00-05:00".to_owned(), 24)]);
    // 12 h shifts keep 09:00 and 21:00 too.
    let h = rota("America/New_York", "a, b", "12h", "09:00", "2026-01-05");
    let got = handoffs(&h, "2026-03-07T21:00:00-05:00", "2026-03-08T21:00:00-04:00");
    assert_eq!(got, [("2026-03-07T21:00:00-05:00".to_owned(), 11), ("2026-03-08T09:00:00-04:00".to_owned(), 12)]);
}

#[test]
fn a_handoff_in_the_spring_gap_or_the_autumn_fold_is_defined() {
    // Paris 2026-03-29: 02:00 → 03:00. The 02:30 handoff happens at 03:30 local.
    let s = rota("Europe/Paris", "a, b", "1d", "02:30", "2026-01-05");
    let got = handoffs(&s, "2026-03-28T02:30:00+01:00", "2026-03-30T02:30:00+02:00");
    assert_eq!(got, [("2026-03-28T02:30:00+01:00".to_owned(), 24), ("2026-03-29T03:30:00+02:00".to_owned(), 23)]);
    // Paris 2026-10-25: 03:00 → 02:00. The handoff is at the first 02:30 (summer time).
    let got = handoffs(&s, "2026-10-24T02:30:00+02:00", "2026-10-26T02:30:00+01:00");
    assert_eq!(got, [("2026-10-24T02:30:00+02:00".to_owned(), 24), ("2026-10-25T02:30:00+02:00".to_owned(), 25)]);
    // New York: 02:30 on 2026-03-08 becomes 03:30 EDT; 01:30 on 2026-11-01 is the EDT one.
    let ny = rota("America/New_York", "a, b", "1d", "02:30", "2026-01-05");
    assert_eq!(one(&ny, "2026-03-08T03:29:59-04:00"), one(&ny, "2026-03-07T12:00:00-05:00"));
    assert_ne!(one(&ny, "2026-03-08T03:30:00-04:00"), one(&ny, "2026-03-07T12:00:00-05:00"));
    let fold = rota("America/New_York", "a, b", "1d", "01:30", "2026-01-05");
    assert_ne!(one(&fold, "2026-11-01T01:30:00-04:00"), one(&fold, "2026-11-01T01:29:59-04:00"));
    assert_eq!(one(&fold, "2026-11-01T01:30:00-05:00"), one(&fold, "2026-11-01T01:30:00-04:00"));
}

#[test]
fn a_restriction_window_follows_the_wall_clock_across_daylight_saving() {
    let s = sched(
        r#"
- name: office
  time_zone: America/New_York
  layers:
    - rotation: {members: [ann], shift: 1w, handoff: "monday 00:00", start: 2026-01-05}
      restrict: [{from: "08:00", to: "18:00"}]
"#,
    );
    let got = handoffs(&s, "2026-03-07T00:00:00-05:00", "2026-03-09T00:00:00-04:00");
    assert_eq!(got, [("2026-03-07T08:00:00-05:00".to_owned(), 10), ("2026-03-08T08:00:00-04:00".to_owned(), 10)]);
}

#[test]
fn a_changed_member_list_re_deals_every_shift_from_start() {
    let two = rota("UTC", "alice, bob", "1w", "monday 09:00", "2026-01-05");
    let three = rota("UTC", "alice, bob, carol", "1w", "monday 09:00", "2026-01-05");
    // Weeks 0 and 1 agree; week 2 was alice's and is now carol's; week 3 moves too.
    for (week, a, b) in [("2026-01-05", "alice", "alice"), ("2026-01-12", "bob", "bob")] {
        assert_eq!(
            (one(&two, &format!("{week}T12:00:00Z")), one(&three, &format!("{week}T12:00:00Z"))),
            (format!("{a} (layer 1)"), format!("{b} (layer 1)"))
        );
    }
    assert_eq!(one(&two, "2026-01-19T12:00:00Z"), "alice (layer 1)");
    assert_eq!(one(&three, "2026-01-19T12:00:00Z"), "carol (layer 1)");
    assert_eq!(one(&three, "2026-01-26T12:00:00Z"), "alice (layer 1)");
    // Re-based as the module doc says (start at the next handoff, wanted person first):
    // the shift in progress under the old list is kept, the new order starts after it.
    let rebased = rota("UTC", "carol, alice, bob", "1w", "monday 09:00", "2026-01-19");
    let layered = sched(
        r#"
- name: s
  time_zone: UTC
  layers:
    - rotation: {members: [alice, bob], shift: 1w, handoff: "monday 09:00", start: 2026-01-05}
    - rotation: {members: [carol, alice, bob], shift: 1w, handoff: "monday 09:00", start: 2026-01-19}
"#,
    );
    assert_eq!(one(&layered, "2026-01-12T12:00:00Z"), "bob (layer 1)");
    assert_eq!(one(&layered, "2026-01-19T12:00:00Z"), "carol (layer 2)");
    assert_eq!(one(&rebased, "2026-01-26T12:00:00Z"), "alice (layer 1)");
}

#[test]
fn rfc3339_uses_the_schedules_offset() {
    let s = sched(&support_yaml());
    assert_eq!(s.rfc3339(t("2026-07-01T07:00:00Z")), "2026-07-01T09:00:00+02:00");
    assert_eq!(s.rfc3339(t("2026-01-01T08:00:00Z")), "2026-01-01T09:00:00+01:00");
}

#[test]
fn report_rows_at_an_instant_and_over_days() {
    let s = vec![sched(&support_yaml())];
    let none = |_: &str| Vec::new();
    let rows = report::rows(&s, t("2026-01-06T20:00:00+01:00"), None, &none);
    let v = report::json(&s, &rows);
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["schedule"], "support-rota");
    assert_eq!(v[0]["contact"], "carol");
    assert_eq!(v[0]["source"], "layer 2");
    assert_eq!(v[0]["start"], "2026-01-06T18:00:00+01:00");
    assert_eq!(v[0]["end"], "2026-01-07T09:00:00+01:00");
    // Over days, the gap before the start is a row with no contact.
    let rows = report::rows(&s, t("2026-01-05T00:00:00+01:00"), Some(2), &none);
    let v = report::json(&s, &rows);
    assert_eq!(v[0]["contact"], serde_json::Value::Null);
    assert_eq!(v[0]["source"], "nobody");
    assert_eq!(v[0]["end"], "2026-01-05T09:00:00+01:00");
    let text = report::text(&s, &rows);
    assert!(text.contains("NOBODY ON CALL"), "{text}");
    assert!(text.contains("carol   2026-01-05T18:00:00+01:00 → 2026-01-06T09:00:00+01:00  layer 2"), "{text}");
}
