//! What `vigie-router oncall` prints: who is on call at an instant, or every shift of a
//! window, per schedule, as text or JSON (the JSON is also what `GET /api/v1/oncall` will
//! answer in phase 2). A stretch with nobody on call is a row too, with no contact and
//! source `nobody`: a gap is never silent.

use jiff::Timestamp;
use serde_json::{json, Value};

use super::{Override, Schedule, Source, MAX_WINDOW_SECS};

/// Half the window searched for the bounds of the shift in progress: a shift is at most
/// 52 weeks, so one week more always finds both of its ends.
const AROUND_SECS: i64 = 53 * 7 * 86_400;

/// One line of the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Schedule name.
    pub schedule: String,
    /// Who, or `None` when nobody is on call.
    pub contact: Option<String>,
    /// Why; `None` with `contact`.
    pub source: Option<Source>,
    /// First instant.
    pub start: Timestamp,
    /// First instant after.
    pub end: Timestamp,
}

/// Who is on call at `at` in each schedule, with the bounds of their shift; or, with
/// `days`, every shift and gap in `[at, at + days × 24h)`. `overrides` gives a schedule's
/// overrides by name.
pub fn rows(
    schedules: &[Schedule],
    at: Timestamp,
    days: Option<u32>,
    overrides: &dyn Fn(&str) -> Vec<Override>,
) -> Vec<Row> {
    let t = at.as_second();
    let ts = |s: i64| Timestamp::from_second(s).unwrap_or(at);
    let (from, to) = match days {
        Some(d) => (t, t.saturating_add(i64::from(d) * 86_400).min(t + MAX_WINDOW_SECS)),
        None => (t - AROUND_SECS, t + AROUND_SECS),
    };
    let mut out = Vec::new();
    for s in schedules {
        let ov = overrides(&s.name);
        let row = |contact: Option<String>, source: Option<Source>, start, end| Row {
            schedule: s.name.clone(),
            contact,
            source,
            start,
            end,
        };
        let mut mine: Vec<Row> = s
            .shifts(ts(from), ts(to), &ov)
            .into_iter()
            .map(|sh| row(Some(sh.contact), Some(sh.source), sh.start, sh.end))
            .collect();
        mine.extend(s.gaps(ts(from), ts(to), &ov).into_iter().map(|(a, b)| row(None, None, a, b)));
        if days.is_none() {
            mine.retain(|r| r.start <= at && at < r.end);
        }
        mine.sort_by(|a, b| (a.start, &a.contact).cmp(&(b.start, &b.contact)));
        out.extend(mine);
    }
    out
}

fn zone<'a>(schedules: &'a [Schedule], name: &str) -> Option<&'a Schedule> {
    schedules.iter().find(|s| s.name == name)
}

/// The rows as a JSON list of `{schedule, time_zone, contact, start, end, source}`; times
/// are RFC 3339 with the schedule's offset, `contact` is null and `source` is `nobody` in a gap.
pub fn json(schedules: &[Schedule], rows: &[Row]) -> Value {
    let list = rows
        .iter()
        .filter_map(|r| {
            let s = zone(schedules, &r.schedule)?;
            Some(json!({
                "schedule": r.schedule,
                "time_zone": s.tz_name,
                "contact": r.contact,
                "start": s.rfc3339(r.start),
                "end": s.rfc3339(r.end),
                "source": r.source.map_or_else(|| "nobody".to_owned(), |x| x.to_string()),
            }))
        })
        .collect();
    Value::Array(list)
}

/// The rows as aligned text, one block per schedule.
pub fn text(schedules: &[Schedule], rows: &[Row]) -> String {
    let mut out = String::new();
    for s in schedules {
        out.push_str(&format!("{} ({})\n", s.name, s.tz_name));
        let width = s.members().iter().map(|m| m.len()).max().unwrap_or(0).max(6);
        for r in rows.iter().filter(|r| r.schedule == s.name) {
            let who = r.contact.as_deref().unwrap_or("nobody");
            let why = r.source.map_or_else(|| "NOBODY ON CALL".to_owned(), |x| x.to_string());
            out.push_str(&format!("  {who:<width$}  {} → {}  {why}\n", s.rfc3339(r.start), s.rfc3339(r.end)));
        }
    }
    out
}
