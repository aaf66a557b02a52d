//! Alertmanager HA tolerance (issue 19): which of two conflicting posts about one alert is
//! the newer, so that a stale post never reopens what a newer post resolved and never pages.
//!
//! Clustered Alertmanagers each may post the same group (a slow receiver, a partition:
//! alertmanager #3865, #4108, #2222), and a peer that missed a resolution posts `firing`
//! after another posted `resolved` (#2447). Posts carry no sequence number; what orders them
//! is the alert's own history. Per alert (`fingerprint`, within one receiver) the router keeps
//! the status, `startsAt`, `endsAt` and the `externalURL` of the post that set them
//! ([`Stored`]); [`judge`] compares an incoming alert with it:
//!
//! 1. nothing stored, or a later `startsAt`: a new occurrence → [`Verdict::Apply`];
//! 2. an earlier `startsAt`: a post about an occurrence already superseded →
//!    [`Verdict::Stale`] ([`Reason::OlderOccurrence`]);
//! 3. the same `startsAt`: firing→resolved applies; the same status again is a duplicate
//!    ([`Verdict::Unchanged`], the first `endsAt` of a resolution is kept); resolved→firing
//!    applies only when the post comes from the peer that posted the resolution, else it is
//!    [`Verdict::Stale`] ([`Reason::ResolvedByNewerPost`]).
//!
//! Why the peer decides the last case: one Alertmanager sends a group's notifications one
//! flush after another, so its own posts arrive in order, and its `firing` after its own
//! `resolved` with the same `startsAt` is real (Alertmanager merges a re-sent alert into the
//! resolved one when `resolve_timeout` expired while Prometheus was unreachable). Another
//! peer's `firing` is what #2447 shows: it had not heard of the resolution. If that peer is
//! right instead (the resolving peer lost Prometheus and let the alert expire), its
//! heartbeat goes quiet and pages: the loss is not silent.

use jiff::Timestamp;

use crate::payload::{Alert, Status};

/// What the router knows of one alert, or what a post says of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// `firing` or `resolved`.
    pub status: Status,
    /// The occurrence: Prometheus' `activeAt`, unchanged from firing to resolved.
    pub starts_at: Timestamp,
    /// When it resolved; `None` while firing (Alertmanager sends `0001-01-01T00:00:00Z`).
    pub ends_at: Option<Timestamp>,
    /// `externalURL` of the Alertmanager whose post set this state.
    pub peer: String,
}

/// What to do with an incoming alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Store it and act on it (open, update or resolve the incident).
    Apply,
    /// It says what is stored already: absorb it, nothing to do, no page.
    Unchanged,
    /// Older than what is stored: ignore it, log it and count it
    /// (`vigie_router_alerts_stale_total`); never a page.
    Stale(Reason),
}

/// Why a post is stale (the log's `reason` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Its `startsAt` is before the stored one's.
    OlderOccurrence,
    /// It fires an occurrence another peer's post already resolved.
    ResolvedByNewerPost,
}

impl Reason {
    /// The log and metric label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::OlderOccurrence => "older_occurrence",
            Reason::ResolvedByNewerPost => "resolved_by_newer_post",
        }
    }
}

/// A post's timestamp that is not RFC 3339.
#[derive(Debug, thiserror::Error)]
#[error("alert {fingerprint}: invalid {field} {value:?}")]
pub struct TimeError {
    /// The alert.
    pub fingerprint: String,
    /// `startsAt` or `endsAt`.
    pub field: &'static str,
    /// As received (truncated).
    pub value: String,
}

impl Stored {
    /// What an alert of a post from `peer` (its `externalURL`) says.
    pub fn from_alert(alert: &Alert, peer: &str) -> Result<Stored, TimeError> {
        let parse = |field: &'static str, v: &str| {
            v.parse::<Timestamp>().map_err(|_| TimeError {
                fingerprint: alert.fingerprint.clone(),
                field,
                value: v.chars().take(40).collect(),
            })
        };
        let starts_at = parse("startsAt", &alert.starts_at)?;
        // Go's zero time (year 1) and an absent endsAt both mean "not ended".
        let ends_at = match alert.ends_at.as_str() {
            "" => None,
            v => Some(parse("endsAt", v)?).filter(|t| t.as_second() > ZERO_TIME_SECONDS),
        };
        Ok(Stored { status: alert.status, starts_at, ends_at, peer: peer.to_owned() })
    }
}

/// `0001-01-01T00:00:00Z` in Unix seconds: Go's `time.Time{}`.
const ZERO_TIME_SECONDS: i64 = -62_135_596_800;

/// The ordering rule (see the module doc): `stored` is what the router holds for the alert,
/// `incoming` what the new post says.
pub fn judge(stored: Option<&Stored>, incoming: &Stored) -> Verdict {
    let Some(st) = stored else { return Verdict::Apply };
    if incoming.starts_at > st.starts_at {
        return Verdict::Apply;
    }
    if incoming.starts_at < st.starts_at {
        return Verdict::Stale(Reason::OlderOccurrence);
    }
    match (st.status, incoming.status) {
        (Status::Firing, Status::Firing) | (Status::Resolved, Status::Resolved) => Verdict::Unchanged,
        (Status::Firing, Status::Resolved) => Verdict::Apply,
        (Status::Resolved, Status::Firing) if incoming.peer == st.peer => Verdict::Apply,
        (Status::Resolved, Status::Firing) => Verdict::Stale(Reason::ResolvedByNewerPost),
    }
}

#[cfg(test)]
mod tests;
