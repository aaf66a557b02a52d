//! Maintenance windows (issue 19): label-scoped periods in which alerts are stored and shown
//! but page nobody. A window is one-off (`start`, `end`) or recurring (weekdays and a time of
//! day in an IANA time zone), from `router.yml`'s `maintenance:` or from
//! `POST /api/v1/maintenance`; both become the same [`Window`].
//!
//! This module only answers questions about time and labels: is an alert covered at an
//! instant ([`Window::active`]), and until when ([`muted_until`], the instant at which an
//! incident still firing must page). It never touches the store or the escalation: they ask.
//!
//! Overlapping windows are allowed: an alert is muted while *any* window covering it is
//! active, so two windows that overlap or touch (`02:00–03:00` and `02:30–04:00`) mute it
//! until the later end (`04:00`). [`muted_until`] follows such chains.
//!
//! Clock rules for recurring windows, all in the window's `time_zone`: `to` at or before
//! `from` crosses midnight (`from: "23:00", to: "01:00"` on `sun` ends Monday 01:00); `to:
//! "24:00"` is the end of the day; a time that does not exist on a spring-forward day moves
//! forward by the gap and an ambiguous one on a fall-back day takes the first occurrence
//! (jiff's "compatible" rule, as RFC 5545 and Temporal), so `02:00–03:00` in Europe/Paris is
//! empty on the last Sunday of March and two hours long on the last Sunday of October.

mod parse;
#[cfg(test)]
pub(crate) mod tests;

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::config::Matcher;
use crate::payload::KV;

pub use parse::{check, parse_request, File, RecurringFile, RequestError};

/// How many touching or overlapping windows [`muted_until`] follows before it stops: past
/// that, the caller asks again at the returned instant (a window on every day from `00:00`
/// to `24:00` would otherwise chain forever).
pub const MAX_CHAIN: usize = 64;

/// A checked maintenance window.
#[derive(Debug, Clone)]
pub struct Window {
    /// Unique among the config's windows (and, in the store, among the API's).
    pub name: String,
    /// All must match an alert's labels (Alertmanager syntax); never empty.
    pub matchers: Vec<Matcher>,
    /// When it is active.
    pub when: When,
}

/// When a window is active.
#[derive(Debug, Clone)]
pub enum When {
    /// From `start` (included) to `end` (excluded); `start < end`.
    Once {
        /// First muted instant.
        start: Timestamp,
        /// First instant paging again.
        end: Timestamp,
    },
    /// Every selected weekday.
    Weekly(Weekly),
}

/// A recurring window: on each of `days`, from `from` to `to` local time in `zone`.
#[derive(Debug, Clone)]
pub struct Weekly {
    /// The weekdays on which an occurrence *starts*.
    pub days: Days,
    /// Start, local time.
    pub from: Clock,
    /// End, local time; at or before `from` means the next day.
    pub to: Clock,
    /// The IANA zone (`Europe/Paris`); its name is `zone.iana_name()`.
    pub zone: TimeZone,
}

/// A time of day as minutes since midnight, `0..=1440` (`24:00` is 1440, only as an end).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Clock(pub u16);

/// A set of weekdays (bit 0 = Monday … bit 6 = Sunday).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Days(pub u8);

impl Days {
    /// Every day of the week.
    pub const ALL: Days = Days(0x7f);

    /// Whether `d` is in the set.
    pub fn contains(self, d: Weekday) -> bool {
        self.0 & (1 << d.to_monday_zero_offset()) != 0
    }
}

impl Window {
    /// Whether the window's matchers select `labels`, at any time.
    pub fn covers(&self, labels: &KV) -> bool {
        self.matchers.iter().all(|m| m.matches(labels))
    }

    /// The occurrence active at `at`, as `(start, end)`, whatever the labels.
    pub fn span_at(&self, at: Timestamp) -> Option<(Timestamp, Timestamp)> {
        match &self.when {
            When::Once { start, end } => (*start <= at && at < *end).then_some((*start, *end)),
            When::Weekly(w) => w.span_at(at),
        }
    }

    /// Whether the window mutes an alert with `labels` at `at`.
    pub fn active(&self, labels: &KV, at: Timestamp) -> bool {
        self.covers(labels) && self.span_at(at).is_some()
    }

    /// Whether the window can never be active again after `now` (a past one-off window:
    /// the store may drop it).
    pub fn expired(&self, now: Timestamp) -> bool {
        matches!(self.when, When::Once { end, .. } if end <= now)
    }
}

impl Weekly {
    fn span_at(&self, at: Timestamp) -> Option<(Timestamp, Timestamp)> {
        let today = self.zone.to_datetime(at).date();
        // An occurrence is at most 24 h long, so only the one starting today or yesterday
        // (crossing midnight) can contain `at`.
        [today.yesterday().ok(), Some(today)]
            .into_iter()
            .flatten()
            .filter(|d| self.days.contains(d.weekday()))
            .filter_map(|d| self.occurrence(d))
            .find(|(s, e)| *s <= at && at < *e)
    }

    /// The occurrence starting on local date `d` (whether or not `d` is one of the days).
    pub fn occurrence(&self, d: Date) -> Option<(Timestamp, Timestamp)> {
        let start = self.local(d, self.from)?;
        let end_day = if self.to <= self.from { d.tomorrow().ok()? } else { d };
        let end = self.local(end_day, self.to)?;
        // A spring-forward gap can make a short window empty (or, crossing it, inverted).
        (start < end).then_some((start, end))
    }

    fn local(&self, d: Date, c: Clock) -> Option<Timestamp> {
        let (d, minutes) = if c.0 >= 1440 { (d.tomorrow().ok()?, 0) } else { (d, c.0) };
        // Both values are below 24 and 60: the casts cannot truncate.
        let dt = d.at((minutes / 60) as i8, (minutes % 60) as i8, 0, 0);
        self.zone.to_zoned_datetime(dt).ok().map(|z| z.timestamp())
    }
}

impl Window {
    /// The window as `GET /api/v1/maintenance` shows it and the store keeps an API window:
    /// `{"name", "matchers", "start", "end"}` (what `POST` takes back unchanged) or, for a
    /// recurring one, `{"name", "matchers", "recurring": {"days", "from", "to", "time_zone"}}`.
    pub fn to_json(&self) -> serde_json::Value {
        let matchers: Vec<String> = self.matchers.iter().map(ToString::to_string).collect();
        match &self.when {
            When::Once { start, end } => serde_json::json!({
                "name": self.name, "matchers": matchers, "start": start.to_string(), "end": end.to_string(),
            }),
            When::Weekly(w) => {
                let days: Vec<&str> = parse::DAY_NAMES
                    .iter()
                    .filter(|(_, _, d)| w.days.contains(*d))
                    .map(|(short, _, _)| *short)
                    .collect();
                serde_json::json!({
                    "name": self.name, "matchers": matchers,
                    "recurring": {
                        "days": days, "from": w.from.to_string(), "to": w.to.to_string(),
                        "time_zone": w.zone.iana_name().unwrap_or("UTC"),
                    },
                })
            }
        }
    }
}

/// Until when an alert with `labels` is muted, if any window is active for it at `at`: the
/// end of the covering window, following overlapping or touching windows up to
/// [`MAX_CHAIN`] of them. This is the instant at which an incident still firing pages.
pub fn muted_until(windows: &[Window], labels: &KV, at: Timestamp) -> Option<Timestamp> {
    let covering: Vec<&Window> = windows.iter().filter(|w| w.covers(labels)).collect();
    let mut until = None;
    let mut t = at;
    for _ in 0..MAX_CHAIN {
        let end = covering.iter().filter_map(|w| w.span_at(t)).map(|(_, end)| end).max();
        match end {
            Some(end) if end > t => {
                until = Some(end);
                t = end;
            }
            _ => break,
        }
    }
    until
}

/// The names of the windows muting `labels` at `at`, for the timeline ("muted by
/// sunday-backup").
pub fn muting<'w>(windows: &'w [Window], labels: &KV, at: Timestamp) -> Vec<&'w str> {
    windows.iter().filter(|w| w.active(labels, at)).map(|w| w.name.as_str()).collect()
}
