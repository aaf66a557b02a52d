//! On-call schedules: who is on call at an instant, and every shift in a window.
//!
//! A [`Schedule`] has an IANA time zone and layers. A layer is a rotation (members in order,
//! a shift length, a handoff, a start date) and optional restrictions (windows of the week in
//! which the layer counts). At an instant, the last layer that has someone wins ("a later
//! layer covers an earlier one where it has someone"); then [`Override`]s apply: one that
//! `replaces` the person the layers give puts its contact in their place, one without
//! `replaces` adds its contact on top. Overrides are passed in, not held here: phase 1 has
//! none, phase 2 reads them from the store (see `docs/schedules-phase2.md`).
//!
//! # Wall-clock time and daylight saving
//!
//! Every handoff and window bound is a local wall-clock time: handoff number `k` is
//! `start + k × shift` computed on the calendar of the schedule's zone, then turned into an
//! instant. So a `09:00` handoff is at 09:00 local on both sides of a daylight-saving change,
//! and the shift that spans the change is an hour shorter or longer (`12h` shifts too: they
//! hand off at 09:00 and 21:00 local). A local time that does not exist or exists twice is
//! resolved the way RFC 5545 and Temporal ("compatible") do:
//! - **spring forward** (a gap, e.g. Europe/Paris 2026-03-29 02:00→03:00): a 02:30 handoff
//!   happens at 03:30 local, i.e. at the instant 02:30 would be on the clock of the winter
//!   offset — one hour after 01:30 —, so the outgoing shift is not cut short by more than
//!   the clocks jumped;
//! - **fall back** (a fold, e.g. 2026-10-25 03:00→02:00): a 02:30 handoff happens at the
//!   first 02:30 (summer time, the earlier instant); the next shift gets the repeated hour.
//!
//! # A rotation's member list changes
//!
//! A rotation is a pure function of (members, shift, handoff, start): shift `k` goes to
//! `members[k mod n]`, counting from `start`. Editing the list re-deals every shift from
//! `start`, so the person on call now may change at once. To change the list without
//! moving the current shift, set `start` to the next handoff and put the person you want
//! then first (`oncall --days` shows the result before it is deployed).

mod file;
mod layer;
mod overrides;
mod parse;
pub mod report;

use std::fmt;

use jiff::tz::TimeZone;
use jiff::Timestamp;

pub use file::{LayerFile, RestrictFile, RotationFile, ScheduleFile};
pub use overrides::{check_override, Override};
pub use parse::{compile, Problem};

use layer::Layer;

/// How a person came to be on call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// Layer N (1-based, in the order written).
    Layer(usize),
    /// An override.
    Override,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Layer(n) => write!(f, "layer {n}"),
            Source::Override => f.write_str("override"),
        }
    }
}

/// One person on call at an instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnCall {
    /// Contact name.
    pub contact: String,
    /// Why.
    pub source: Source,
}

/// One person's stretch of being on call for the same reason, `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shift {
    /// Contact name.
    pub contact: String,
    /// Why.
    pub source: Source,
    /// First instant.
    pub start: Timestamp,
    /// First instant after.
    pub end: Timestamp,
}

/// A checked schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// Unique name.
    pub name: String,
    /// Its zone: handoffs and windows are wall-clock times there.
    pub tz: TimeZone,
    /// Its zone's IANA name, as written.
    pub tz_name: String,
    layers: Vec<Layer>,
}

/// Widest window `shifts` accepts: a bound on the work one call can ask for.
pub const MAX_WINDOW_SECS: i64 = 800 * 86_400;

impl Schedule {
    /// Every contact any layer can put on call, in order of first appearance.
    pub fn members(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for l in &self.layers {
            for m in l.members() {
                if !out.contains(&m) {
                    out.push(m);
                }
            }
        }
        out
    }

    /// Who is on call at `at`: the top layer's person (overrides applied), plus any
    /// override that adds someone. Empty when nobody is.
    pub fn on_call(&self, at: Timestamp, overrides: &[Override]) -> Vec<OnCall> {
        self.on_call_secs(at.as_second(), overrides)
    }

    fn on_call_secs(&self, t: i64, overrides: &[Override]) -> Vec<OnCall> {
        let mut out = Vec::new();
        let base = self.layers.iter().enumerate().rev().find_map(|(i, l)| l.who(&self.tz, t).map(|m| (i, m)));
        if let Some((i, member)) = base {
            let active = |o: &&Override| o.start.as_second() <= t && t < o.end.as_second();
            let replaced = overrides.iter().filter(active).find(|o| o.replaces.as_deref() == Some(member));
            out.push(match replaced {
                Some(o) => OnCall { contact: o.contact.clone(), source: Source::Override },
                None => OnCall { contact: member.to_owned(), source: Source::Layer(i + 1) },
            });
        }
        for o in overrides {
            let active = o.start.as_second() <= t && t < o.end.as_second();
            if active && o.replaces.is_none() && !out.iter().any(|c| c.contact == o.contact) {
                out.push(OnCall { contact: o.contact.clone(), source: Source::Override });
            }
        }
        out
    }

    /// Every shift overlapping `[from, to)`, clipped to it, by start then contact. A person
    /// on call for the same reason across several handoffs (a one-member rotation) gets one
    /// shift. The window is capped at [`MAX_WINDOW_SECS`].
    pub fn shifts(&self, from: Timestamp, to: Timestamp, overrides: &[Override]) -> Vec<Shift> {
        let (a, b) = (from.as_second(), to.as_second().min(from.as_second().saturating_add(MAX_WINDOW_SECS)));
        let mut cuts = vec![a, b];
        for l in &self.layers {
            l.cuts(&self.tz, a, b, &mut cuts);
        }
        for o in overrides {
            cuts.extend([o.start.as_second(), o.end.as_second()]);
        }
        cuts.retain(|c| (a..=b).contains(c));
        cuts.sort_unstable();
        cuts.dedup();
        let mut done: Vec<Shift> = Vec::new();
        let mut open: Vec<(OnCall, i64)> = Vec::new();
        // Each segment between two cuts has one answer: evaluate it at its start.
        for &s in cuts.iter().take(cuts.len().saturating_sub(1)) {
            let now = self.on_call_secs(s, overrides);
            // Close the shifts that do not continue into this segment.
            let (keep, closed): (Vec<_>, Vec<_>) = open.drain(..).partition(|(c, _)| now.contains(c));
            done.extend(closed.into_iter().map(|(c, start)| shift(c, start, s)));
            open = keep;
            for c in now {
                if !open.iter().any(|(o, _)| *o == c) {
                    open.push((c, s));
                }
            }
        }
        done.extend(open.into_iter().map(|(c, start)| shift(c, start, b)));
        done.sort_by(|x, y| (x.start, &x.contact).cmp(&(y.start, &y.contact)));
        done
    }

    /// The stretches of `[from, to)` in which nobody is on call.
    pub fn gaps(&self, from: Timestamp, to: Timestamp, overrides: &[Override]) -> Vec<(Timestamp, Timestamp)> {
        let mut covered: Vec<(Timestamp, Timestamp)> =
            self.shifts(from, to, overrides).into_iter().map(|s| (s.start, s.end)).collect();
        covered.sort();
        let mut gaps = Vec::new();
        let mut at = from;
        for (s, e) in covered {
            if s > at {
                gaps.push((at, s));
            }
            at = at.max(e);
        }
        let end =
            Timestamp::from_second(to.as_second().min(from.as_second().saturating_add(MAX_WINDOW_SECS))).unwrap_or(to);
        if at < end {
            gaps.push((at, end));
        }
        gaps
    }

    /// `at` as RFC 3339 with the schedule's offset at that instant (`2026-03-30T09:00:00+02:00`).
    pub fn rfc3339(&self, at: Timestamp) -> String {
        at.to_zoned_datetime(self.tz.clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
    }
}

fn shift(c: OnCall, start: i64, end: i64) -> Shift {
    Shift { contact: c.contact, source: c.source, start: ts(start), end: ts(end) }
}

/// Seconds to a timestamp; seconds here always come from timestamps, so in range.
fn ts(secs: i64) -> Timestamp {
    Timestamp::from_second(secs).unwrap_or(Timestamp::MAX)
}

#[cfg(test)]
mod tests;
