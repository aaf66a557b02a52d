//! From [`ScheduleFile`]s to [`Schedule`]s: parses the strings (zones, shift lengths,
//! handoffs, dates, windows) and checks the meaning, collecting every problem with the path
//! of its field (`schedules[0].layers[1].rotation.handoff`) so the config loader can name the
//! line.

use std::collections::BTreeSet;
use std::fmt;

use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::file::{LayerFile, RestrictFile, ScheduleFile};
use super::layer::{Layer, Rotation, Window, DAY};
use super::Schedule;

const HOUR: i64 = 3600;
const WEEK: i64 = 7 * DAY;
/// Longest shift accepted: a year of weeks. Longer is a typo, and keeps the arithmetic small.
const MAX_SHIFT: i64 = 52 * WEEK;

/// One problem in `schedules`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted field path from the file's root.
    pub field: String,
    /// What is wrong.
    pub msg: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.msg)
    }
}

/// Checks and compiles `schedules[]`. `is_contact` says whether a name is a known contact.
/// Returns every schedule, or every problem found.
pub fn compile(files: &[ScheduleFile], is_contact: &dyn Fn(&str) -> bool) -> Result<Vec<Schedule>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut names = BTreeSet::new();
    let mut out = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let at = format!("schedules[{i}]");
        let mut bad = |field: &str, msg: String| problems.push(Problem { field: format!("{at}.{field}"), msg });
        if !names.insert(f.name.as_str()) {
            bad("name", format!("duplicate schedule {:?}", f.name));
        }
        let tz = match TimeZone::get(&f.time_zone) {
            Ok(tz) => Some(tz),
            Err(_) => {
                bad("time_zone", format!("unknown time zone {:?} (an IANA name such as Europe/Paris)", f.time_zone));
                None
            }
        };
        if f.layers.is_empty() {
            bad("layers", "a schedule needs at least one layer".into());
        }
        let layers: Vec<Option<Layer>> = f
            .layers
            .iter()
            .enumerate()
            .map(|(l, lf)| layer(lf, &format!("layers[{l}]"), is_contact, &mut bad))
            .collect();
        if let (Some(tz), Some(layers)) = (tz, layers.into_iter().collect::<Option<Vec<_>>>()) {
            out.push(Schedule { name: f.name.clone(), tz, tz_name: f.time_zone.clone(), layers });
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

fn layer(
    lf: &LayerFile,
    at: &str,
    is_contact: &dyn Fn(&str) -> bool,
    bad: &mut dyn FnMut(&str, String),
) -> Option<Layer> {
    let r = &lf.rotation;
    let rot = format!("{at}.rotation");
    if r.members.is_empty() {
        bad(&format!("{rot}.members"), "a rotation needs at least one member".into());
    }
    for (k, m) in r.members.iter().enumerate() {
        if !is_contact(m) {
            bad(&format!("{rot}.members[{k}]"), format!("unknown contact {m:?}"));
        }
    }
    let shift = parse_shift(&r.shift).map_err(|m| bad(&format!("{rot}.shift"), m)).ok();
    let handoff = parse_handoff(&r.handoff).map_err(|m| bad(&format!("{rot}.handoff"), m)).ok();
    let start = parse_date(&r.start).map_err(|m| bad(&format!("{rot}.start"), m)).ok();
    if let (Some(shift), Some((Some(_), _))) = (shift, handoff) {
        if shift % WEEK != 0 {
            bad(
                &format!("{rot}.handoff"),
                format!("a weekday handoff needs a shift of whole weeks, not {:?} (or write only the time)", r.shift),
            );
        }
    }
    let windows: Vec<Option<Window>> =
        lf.restrict.iter().enumerate().map(|(w, rf)| window(rf, &format!("{at}.restrict[{w}]"), bad)).collect();
    let windows = windows.into_iter().collect::<Option<Vec<_>>>()?;
    let (shift, (weekday, clock), start_day) = (shift?, handoff?, start?);
    let day = match weekday {
        Some(wd) => start_day + i64::from((wd + 7 - super::layer::weekday(start_day)) % 7),
        None => start_day,
    };
    let rotation = Rotation { members: r.members.clone(), shift, first: day * DAY + clock };
    (!r.members.is_empty()).then_some(Layer { rotation, windows })
}

fn window(rf: &RestrictFile, at: &str, bad: &mut dyn FnMut(&str, String)) -> Option<Window> {
    let mut days = 0u8;
    let mut ok = true;
    for (d, name) in rf.days.iter().enumerate() {
        match parse_weekday(name) {
            Ok(wd) => days |= 1 << wd,
            Err(m) => {
                bad(&format!("{at}.days[{d}]"), m);
                ok = false;
            }
        }
    }
    if rf.days.is_empty() {
        days = 0x7f;
    }
    let from = parse_clock(&rf.from, false).map_err(|m| bad(&format!("{at}.from"), m)).ok();
    let to = parse_clock(&rf.to, true).map_err(|m| bad(&format!("{at}.to"), m)).ok();
    let (from, to) = (from?, to?);
    if from == to {
        bad(
            &format!("{at}.to"),
            format!(
                "empty window: from and to are both {:?} (for a whole day write from: \"00:00\", to: \"24:00\")",
                rf.from
            ),
        );
        return None;
    }
    ok.then_some(Window { days, from, to })
}

/// `12h`, `1d`, `1w`, `1d12h`: a length on the local calendar, at least 1h.
pub(super) fn parse_shift(s: &str) -> Result<i64, String> {
    let err = || format!("invalid shift {s:?}: write a length such as 12h, 1d, 1w or 2w");
    let mut total: i64 = 0;
    let mut digits = String::new();
    for ch in s.trim().chars() {
        if ch.is_ascii_digit() {
            digits.push(ch);
            continue;
        }
        let unit = match ch {
            'h' => HOUR,
            'd' => DAY,
            'w' => WEEK,
            _ => return Err(err()),
        };
        let n: i64 = digits.parse().map_err(|_| err())?;
        total = n.checked_mul(unit).and_then(|v| total.checked_add(v)).ok_or_else(err)?;
        digits.clear();
    }
    if !digits.is_empty() || total == 0 {
        return Err(err());
    }
    if total > MAX_SHIFT {
        return Err(format!("shift {s:?} is longer than 52w"));
    }
    Ok(total)
}

/// `HH:MM` to seconds after midnight; `24:00` only when `end_of_day`.
pub(super) fn parse_clock(s: &str, end_of_day: bool) -> Result<i64, String> {
    let err = || format!("{s:?} is not a time of day: write HH:MM, 00:00 to 23:59");
    let (h, m) = s.trim().split_once(':').ok_or_else(err)?;
    let ok = |p: &str| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit());
    if !ok(h) || !ok(m) {
        return Err(err());
    }
    let (h, m): (i64, i64) = (h.parse().map_err(|_| err())?, m.parse().map_err(|_| err())?);
    if end_of_day && h == 24 && m == 0 {
        return Ok(DAY);
    }
    if h > 23 || m > 59 {
        return Err(err());
    }
    Ok(h * HOUR + m * 60)
}

/// `mon` or `monday` (any case) to 0 … `sun` to 6.
pub(super) fn parse_weekday(s: &str) -> Result<u32, String> {
    const NAMES: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
    let l = s.trim().to_ascii_lowercase();
    NAMES
        .iter()
        .position(|n| l.len() >= 3 && n.starts_with(&l))
        .map(|i| i as u32)
        .ok_or_else(|| format!("{s:?} is not a weekday (mon, tue, wed, thu, fri, sat, sun)"))
}

/// `"18:00"` or `"monday 09:00"`.
pub(super) fn parse_handoff(s: &str) -> Result<(Option<u32>, i64), String> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    match parts.as_slice() {
        [clock] => Ok((None, parse_clock(clock, false)?)),
        [day, clock] => Ok((Some(parse_weekday(day)?), parse_clock(clock, false)?)),
        _ => Err(format!("invalid handoff {s:?}: write \"18:00\" or \"monday 09:00\"")),
    }
}

/// `2026-01-05` to a local day number.
pub(super) fn parse_date(s: &str) -> Result<i64, String> {
    let d: Date = s.trim().parse().map_err(|_| format!("{s:?} is not a date: write YYYY-MM-DD"))?;
    let midnight = TimeZone::UTC.to_timestamp(d.at(0, 0, 0, 0)).map_err(|e| format!("{s:?}: {e}"))?;
    Ok(midnight.as_second().div_euclid(DAY))
}

#[cfg(test)]
mod tests;
