//! `maintenance:` as written in `router.yml`, and the body of `POST /api/v1/maintenance`
//! (`{"name", "matchers", "start", "end"}`): both are checked by the same code into a
//! [`Window`], so a rule (end after start, at least one matcher) cannot differ between them.
//!
//! Parse errors (`"25:00"`, an unknown zone) come from the `Deserialize` impls here and reach
//! the user through the kit's loader as `router.yml:7:24: maintenance[0].recurring.from: …`;
//! semantic errors go through the caller's `err(field, message)`, the same closure
//! `config::check` uses, so they get their line too.

use std::collections::BTreeMap;

use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::{Deserialize, Deserializer};

use super::{Clock, Days, Weekly, When, Window};
use crate::config::Matcher;

/// `maintenance[]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    /// Unique name, shown on the timeline ("muted by sunday-backup").
    pub name: String,
    /// Alertmanager matchers, all of which must match; at least one (required, as in an
    /// Alertmanager silence).
    pub matchers: Vec<Matcher>,
    /// One-off: first muted instant, RFC 3339 with an offset.
    #[serde(default)]
    pub start: Option<Stamp>,
    /// One-off: first instant paging again.
    #[serde(default)]
    pub end: Option<Stamp>,
    /// Recurring: weekdays and a time of day.
    #[serde(default)]
    pub recurring: Option<RecurringFile>,
}

/// `maintenance[].recurring`: `{days: [sun], from: "02:00", to: "03:00", time_zone: Europe/Paris}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecurringFile {
    /// `sun`, `sunday`, or a range `mon:fri` (Alertmanager's `time_intervals` form); every
    /// day when left out.
    #[serde(default)]
    pub days: Option<Vec<DaySpec>>,
    /// Start, `HH:MM` local time.
    pub from: Clock,
    /// End, `HH:MM` (`24:00` = midnight ending the day); at or before `from`, the next day.
    pub to: Clock,
    /// IANA name. Required: a window at "02:00" in an unstated zone is a guess.
    pub time_zone: Zone,
}

/// An instant written as RFC 3339 with an offset (`2026-12-24T02:00:00+01:00`, `…Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp(pub Timestamp);

/// An IANA time zone, checked against the bundled tz database at load.
#[derive(Debug, Clone)]
pub struct Zone(pub TimeZone);

/// One item of `days`: a set of weekdays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DaySpec(pub Days);

impl Stamp {
    /// Parses RFC 3339 with an offset; the message names the value.
    pub fn parse(s: &str) -> Result<Stamp, String> {
        s.trim()
            .parse::<Timestamp>()
            .map(Stamp)
            .map_err(|_| format!("invalid timestamp {s:?} (RFC 3339 with an offset, e.g. 2026-12-24T02:00:00+01:00)"))
    }
}

impl Clock {
    /// Parses `HH:MM`, `00:00` to `24:00`.
    pub fn parse(s: &str) -> Result<Clock, String> {
        let bad = || format!("invalid time {s:?} (HH:MM, from 00:00 to 24:00)");
        let (h, m) = s.split_once(':').ok_or_else(bad)?;
        let two_digits = |t: &str| t.len() == 2 && t.bytes().all(|b| b.is_ascii_digit());
        if !two_digits(h) || !two_digits(m) {
            return Err(bad());
        }
        let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if h > 24 || m > 59 || (h == 24 && m != 0) {
            return Err(bad());
        }
        Ok(Clock(h * 60 + m))
    }
}

impl std::fmt::Display for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

pub(super) const DAY_NAMES: [(&str, &str, Weekday); 7] = [
    ("mon", "monday", Weekday::Monday),
    ("tue", "tuesday", Weekday::Tuesday),
    ("wed", "wednesday", Weekday::Wednesday),
    ("thu", "thursday", Weekday::Thursday),
    ("fri", "friday", Weekday::Friday),
    ("sat", "saturday", Weekday::Saturday),
    ("sun", "sunday", Weekday::Sunday),
];

impl DaySpec {
    /// Parses `sun`, `Sunday`, or an inclusive range `mon:fri` (which may wrap: `fri:mon`).
    pub fn parse(s: &str) -> Result<DaySpec, String> {
        let one = |t: &str| {
            let t = t.trim().to_ascii_lowercase();
            DAY_NAMES.iter().find(|(short, long, _)| t == *short || t == *long).map(|(_, _, d)| *d)
        };
        let bad = || format!("invalid day {s:?} (mon … sun, a full name, or a range such as mon:fri)");
        let (first, last) = match s.split_once(':') {
            Some((a, b)) => (one(a).ok_or_else(bad)?, one(b).ok_or_else(bad)?),
            None => {
                let d = one(s).ok_or_else(bad)?;
                (d, d)
            }
        };
        let mut bits = 0u8;
        let mut d = first;
        loop {
            bits |= 1 << d.to_monday_zero_offset();
            if d == last {
                break;
            }
            d = d.next();
        }
        Ok(DaySpec(Days(bits)))
    }
}

macro_rules! from_string {
    ($t:ty) => {
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<$t, D::Error> {
                let s = String::deserialize(d)?;
                <$t>::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}
from_string!(Stamp);
from_string!(Clock);
from_string!(DaySpec);

impl Zone {
    /// Looks `name` up in the tz database.
    pub fn parse(name: &str) -> Result<Zone, String> {
        TimeZone::get(name.trim())
            .map(Zone)
            .map_err(|_| format!("unknown time zone {name:?} (an IANA name such as Europe/Paris)"))
    }
}
from_string!(Zone);

/// Checks `maintenance:`; each problem goes to `err(field, message)` with a field path such
/// as `maintenance[2].end`. Returns the windows that passed.
pub fn check(files: &[File], err: &mut impl FnMut(String, String)) -> Vec<Window> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut out = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let at = format!("maintenance[{i}]");
        if let Some(first) = seen.insert(f.name.as_str(), i) {
            err(format!("{at}.name"), format!("duplicate window {:?} (also maintenance[{first}])", f.name));
        }
        if let Some(w) = check_one(f, &at, err) {
            out.push(w);
        }
    }
    out
}

/// The checks one window passes, from the config (`at` = `maintenance[i]`) or the API
/// (`at` = ""): fields are named `at.field`.
fn check_one(f: &File, at: &str, err: &mut impl FnMut(String, String)) -> Option<Window> {
    let field = |name: &str| if at.is_empty() { name.to_owned() } else { format!("{at}.{name}") };
    let mut ok = true;
    let mut fail = |name: &str, msg: String| {
        ok = false;
        err(field(name), msg);
    };
    if f.name.trim().is_empty() {
        fail("name", "empty".into());
    } else if f.name.len() > 128 || f.name.chars().any(char::is_control) {
        fail("name", "at most 128 characters, none of them control characters".into());
    }
    if f.matchers.is_empty() {
        // As Alertmanager's silences: a window muting every alert is one typo away.
        fail("matchers", "no matchers: a window needs at least one (e.g. 'service=\"mysql\"')".into());
    }
    let when = match (f.start, f.end, &f.recurring) {
        (Some(Stamp(start)), Some(Stamp(end)), None) => {
            if end <= start {
                fail("end", format!("{end} is not after start {start}"));
            }
            When::Once { start, end }
        }
        (None, None, Some(r)) => {
            if r.days.as_ref().is_some_and(Vec::is_empty) {
                fail("recurring.days", "empty (leave it out for every day)".into());
            }
            if r.from.0 >= 1440 {
                fail("recurring.from", "24:00 is only valid as `to`".into());
            }
            if r.from == r.to {
                fail(
                    "recurring.to",
                    format!("equal to from ({}): an empty window; a whole day is from: \"00:00\", to: \"24:00\"", r.to),
                );
            }
            let days = r.days.as_ref().map_or(Days::ALL, |d| Days(d.iter().fold(0, |acc, s| acc | s.0 .0)));
            When::Weekly(Weekly { days, from: r.from, to: r.to, zone: r.time_zone.0.clone() })
        }
        // Reported on the item: a field that is not in the file has no line.
        (Some(_), None, None) => {
            err(at.to_owned(), "start without end: a one-off window needs both".into());
            return None;
        }
        (None, Some(_), None) => {
            err(at.to_owned(), "end without start: a one-off window needs both".into());
            return None;
        }
        (None, None, None) => {
            err(at.to_owned(), "give start and end (one-off) or recurring".into());
            return None;
        }
        _ => {
            err(at.to_owned(), "give either start and end (one-off) or recurring, not both".into());
            return None;
        }
    };
    ok.then(|| Window { name: f.name.trim().to_owned(), matchers: f.matchers.clone(), when })
}

/// Why `POST /api/v1/maintenance` was refused: the 400's text.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// Not JSON, or not `{"name", "matchers", "start", "end"}`.
    #[error("invalid body: {0}")]
    Json(#[from] serde_json::Error),
    /// A field that parsed but is wrong; every problem found, `; `-separated.
    #[error("{0}")]
    Fields(String),
}

/// The API's body: `matchers` as Alertmanager strings, `start` and `end` RFC 3339 (`start`
/// may be left out: now).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    name: String,
    matchers: Vec<String>,
    #[serde(default)]
    start: Option<String>,
    end: String,
}

/// Parses and checks the body of `POST /api/v1/maintenance` into a one-off window. Beyond
/// the config's rules, `end` must be after `now`: a window already over would be stored and
/// do nothing, which is never what the caller meant.
pub fn parse_request(body: &[u8], now: Timestamp) -> Result<Window, RequestError> {
    let req: Request = serde_json::from_slice(body)?;
    let mut problems = Vec::new();
    let mut matchers = Vec::new();
    for (i, m) in req.matchers.iter().enumerate() {
        match Matcher::parse(m) {
            Ok(m) => matchers.push(m),
            Err(e) => problems.push(format!("matchers[{i}]: {e}")),
        }
    }
    let start = match req.start.as_deref().map(Stamp::parse).transpose() {
        Ok(s) => Some(s.unwrap_or(Stamp(now))),
        Err(e) => {
            problems.push(format!("start: {e}"));
            None
        }
    };
    let end = Stamp::parse(&req.end).map_err(|e| problems.push(format!("end: {e}"))).ok();
    if let Some(Stamp(end)) = end {
        if end <= now {
            problems.push(format!("end: {end} is already past"));
        }
    }
    let file = File { name: req.name, matchers, start, end, recurring: None };
    let window = if start.is_some() && end.is_some() && req.matchers.len() == file.matchers.len() {
        check_one(&file, "", &mut |field, msg| problems.push(format!("{field}: {msg}")))
    } else {
        None
    };
    match window {
        Some(w) if problems.is_empty() => Ok(w),
        _ => Err(RequestError::Fields(problems.join("; "))),
    }
}
