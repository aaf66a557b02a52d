//! Overrides: "Dora covers Alice from … to …" (`replaces`), or "Dora is on call too" (no
//! `replaces`). They win over layers (see [`super::Schedule::on_call`]). This module holds the
//! type and the checks the API and CLI run before storing one; storing is phase 2's.

use jiff::Timestamp;

use super::Schedule;

/// One override of a schedule, `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    /// Who is on call.
    pub contact: String,
    /// The person the layers give whom `contact` replaces; `None` adds `contact` on top.
    pub replaces: Option<String>,
    /// First instant.
    pub start: Timestamp,
    /// First instant after.
    pub end: Timestamp,
}

impl Override {
    fn overlaps(&self, other: &Override) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// Why `new` cannot join `existing` on `schedule`, if it cannot: reversed or empty, unknown
/// contact, replacing someone the schedule never puts on call, or overlapping an override
/// of the same person (two answers for one instant).
pub fn check_override(
    schedule: &Schedule,
    existing: &[Override],
    new: &Override,
    is_contact: &dyn Fn(&str) -> bool,
) -> Result<(), String> {
    if new.end <= new.start {
        return Err(format!("end {} is not after start {}", schedule.rfc3339(new.end), schedule.rfc3339(new.start)));
    }
    if !is_contact(&new.contact) {
        return Err(format!("unknown contact {:?}", new.contact));
    }
    if let Some(r) = &new.replaces {
        if !schedule.members().contains(&r.as_str()) {
            return Err(format!("{r:?} is not a member of schedule {:?}, so cannot be replaced", schedule.name));
        }
        if *r == new.contact {
            return Err(format!("{r:?} cannot replace themselves"));
        }
    }
    let clash = existing.iter().find(|o| {
        o.overlaps(new)
            && match (&o.replaces, &new.replaces) {
                (Some(a), Some(b)) => a == b,
                (None, None) => o.contact == new.contact,
                _ => false,
            }
    });
    match clash {
        None => Ok(()),
        Some(o) => Err(format!(
            "overlaps the override of {} from {} to {}{}",
            o.contact,
            schedule.rfc3339(o.start),
            schedule.rfc3339(o.end),
            o.replaces.as_ref().map(|r| format!(" replacing {r}")).unwrap_or_default()
        )),
    }
}
