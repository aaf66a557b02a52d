//! The arithmetic of one layer: a rotation's handoffs and a restriction's windows, on the
//! wall clock of the schedule's zone.
//!
//! Times are whole seconds. A *local* second count is the wall-clock reading as if it were
//! UTC (seconds since 1970-01-01T00:00 local), so calendar steps (a day, a week) are plain
//! additions there, and [`instant`] turns one into a real instant with the "compatible"
//! disambiguation documented in the parent module.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// Seconds in a calendar day.
pub(super) const DAY: i64 = 86_400;

/// A rotation: shift `k` (from 0) starts at local `first + k × shift` and goes to
/// `members[k mod n]`.
#[derive(Debug, Clone)]
pub(super) struct Rotation {
    pub(super) members: Vec<String>,
    /// Shift length in local seconds (a `1d` shift is one calendar day).
    pub(super) shift: i64,
    /// Local time of the first handoff.
    pub(super) first: i64,
}

/// A restriction window: starts on each day in `days` at `from`, ends at `to` the same day,
/// or the next day when `to <= from`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Window {
    /// Bit `i` set: the window starts on weekday `i` (Monday = 0).
    pub(super) days: u8,
    /// Seconds after local midnight, `[0, 86400)`.
    pub(super) from: i64,
    /// Seconds after local midnight, `(0, 86400]`.
    pub(super) to: i64,
}

/// A rotation and the windows in which it counts (none: always).
#[derive(Debug, Clone)]
pub(super) struct Layer {
    pub(super) rotation: Rotation,
    pub(super) windows: Vec<Window>,
}

/// The local second count of instant `t` in `tz`.
pub(super) fn local(tz: &TimeZone, t: i64) -> i64 {
    t + i64::from(tz.to_offset(to_ts(t)).seconds())
}

/// The instant of local second count `l` in `tz`: in a gap, as if the clock had not jumped
/// (later); in a fold, the first occurrence (earlier).
pub(super) fn instant(tz: &TimeZone, l: i64) -> i64 {
    let dt: DateTime = TimeZone::UTC.to_datetime(to_ts(l));
    tz.to_ambiguous_timestamp(dt).compatible().map_or(l, |t| t.as_second())
}

fn to_ts(secs: i64) -> Timestamp {
    Timestamp::from_second(secs.clamp(Timestamp::MIN.as_second() + DAY, Timestamp::MAX.as_second() - DAY))
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Monday = 0 … Sunday = 6 of a local day number (1970-01-01 was a Thursday).
pub(super) fn weekday(day: i64) -> u32 {
    (day + 3).rem_euclid(7) as u32
}

impl Rotation {
    /// The instant of handoff `k`.
    fn handoff(&self, tz: &TimeZone, k: i64) -> i64 {
        instant(tz, self.first.saturating_add(k.saturating_mul(self.shift)))
    }

    /// The shift containing `t`; `None` before the first handoff.
    fn index(&self, tz: &TimeZone, t: i64) -> Option<i64> {
        if t < self.handoff(tz, 0) {
            return None;
        }
        // Exact on the local clock; the instant can differ by a DST jump, hence the nudges.
        let mut k = (local(tz, t) - self.first).div_euclid(self.shift).max(0);
        while k > 0 && self.handoff(tz, k) > t {
            k -= 1;
        }
        while self.handoff(tz, k + 1) <= t {
            k += 1;
        }
        Some(k)
    }

    fn member(&self, k: i64) -> &str {
        let n = self.members.len() as i64;
        self.members.get(k.rem_euclid(n.max(1)) as usize).map_or("", String::as_str)
    }
}

impl Window {
    fn starts_on(&self, day: i64) -> bool {
        self.days & (1 << weekday(day)) != 0
    }

    /// The instants of the window that starts on local day `day`.
    fn bounds(&self, tz: &TimeZone, day: i64) -> (i64, i64) {
        let end_day = if self.to > self.from { day } else { day + 1 };
        (instant(tz, day * DAY + self.from), instant(tz, end_day * DAY + self.to))
    }

    fn contains(&self, tz: &TimeZone, t: i64) -> bool {
        let today = local(tz, t).div_euclid(DAY);
        [today - 1, today].into_iter().any(|d| {
            let (s, e) = self.bounds(tz, d);
            self.starts_on(d) && s <= t && t < e
        })
    }
}

impl Layer {
    /// The layer's person at `t`, if its rotation has started and a window (if any) is open.
    pub(super) fn who(&self, tz: &TimeZone, t: i64) -> Option<&str> {
        if !self.windows.is_empty() && !self.windows.iter().any(|w| w.contains(tz, t)) {
            return None;
        }
        self.rotation.index(tz, t).map(|k| self.rotation.member(k))
    }

    /// Every contact the layer can put on call.
    pub(super) fn members(&self) -> impl Iterator<Item = &str> {
        self.rotation.members.iter().map(String::as_str)
    }

    /// Pushes every instant in `[a, b]` at which this layer's answer may change.
    pub(super) fn cuts(&self, tz: &TimeZone, a: i64, b: i64, out: &mut Vec<i64>) {
        let r = &self.rotation;
        let first = r.index(tz, a).unwrap_or(0);
        let last = r.index(tz, b).unwrap_or(-1);
        out.extend((first..=last + 1).map(|k| r.handoff(tz, k)));
        let (d0, d1) = (local(tz, a).div_euclid(DAY) - 1, local(tz, b).div_euclid(DAY) + 1);
        for w in &self.windows {
            for d in (d0..=d1).filter(|d| w.starts_on(*d)) {
                let (s, e) = w.bounds(tz, d);
                out.extend([s, e]);
            }
        }
    }
}
