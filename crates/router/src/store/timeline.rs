//! The incident timeline and people's actions, as the store keeps them: every event has a
//! kind, and where they apply an actor ("api:ops", "slack:U123", "sms:alice", "link"), a
//! channel, a contact and a level, plus free detail. Events are kept in insertion order
//! (SQLite rowid), which is the order things happened in: each is written in the
//! transaction that made it happen.

use serde::Serialize;

use crate::model::{AlertView, Millis, Via, KV};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The incident opened with its first firing alerts.
    AlertFired,
    /// New firing alerts joined the open incident.
    AlertJoined,
    /// A level was paged for the first time in the incident (level 1, or the start level).
    Paged,
    /// A later level was paged (or a level paged again: repeat, resumed, reassigned).
    Escalated,
    /// A notification was handed to its channel.
    NotificationAttempted,
    /// The channel accepted it.
    NotificationSent,
    /// The attempt failed and will be retried.
    NotificationRetry,
    /// Given up (rejected, or out of attempts).
    NotificationFailed,
    /// Someone acknowledged: escalation stops until the ack expires.
    Acked,
    /// The acknowledgement was withdrawn: escalation resumes now.
    Unacked,
    /// The acknowledgement expired: escalation resumed from the current level.
    AckExpired,
    /// Handed to another contact or level.
    Reassigned,
    /// Resolved (every alert resolved, or closed by hand).
    Resolved,
    /// The resolve notification was sent to everyone paged.
    ResolveAnnounced,
    /// The resolution target passed.
    TargetPassed,
    /// A note.
    Note,
}

impl EventKind {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::AlertFired => "alert_fired",
            EventKind::AlertJoined => "alert_joined",
            EventKind::Paged => "paged",
            EventKind::Escalated => "escalated",
            EventKind::NotificationAttempted => "notification_attempted",
            EventKind::NotificationSent => "notification_sent",
            EventKind::NotificationRetry => "notification_retry",
            EventKind::NotificationFailed => "notification_failed",
            EventKind::Acked => "acked",
            EventKind::Unacked => "unacked",
            EventKind::AckExpired => "ack_expired",
            EventKind::Reassigned => "reassigned",
            EventKind::Resolved => "resolved",
            EventKind::ResolveAnnounced => "resolve_announced",
            EventKind::TargetPassed => "target_passed",
            EventKind::Note => "note",
        }
    }
}

/// One event to record (the engine's, in a [`super::Step`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// What.
    pub kind: EventKind,
    /// Level concerned, if any.
    pub level: Option<usize>,
    /// Free text.
    pub detail: String,
}

impl Event {
    /// An event with detail.
    pub fn new(kind: EventKind, level: Option<usize>, detail: impl Into<String>) -> Event {
        Event { kind, level, detail: detail.into() }
    }
}

/// One event as read back.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineEntry {
    /// Milliseconds since the epoch.
    pub at_ms: Millis,
    /// Stored kind name (see [`EventKind::as_str`]); older rows say `legacy`.
    pub kind: String,
    /// Who acted (`api:NAME`, `link`, `slack:USER`, `sms:CONTACT`, `web`), if a person did.
    pub actor: Option<String>,
    /// Channel, for notifications.
    pub channel: Option<String>,
    /// Contact, for notifications and reassignments.
    pub contact: Option<String>,
    /// Level, where one applies.
    pub level: Option<usize>,
    /// Free text.
    pub detail: String,
}

/// Where a reassignment goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reassign {
    /// One contact, on every channel they have.
    Contact(String),
    /// A level of the incident's policy.
    Level(usize),
}

impl Reassign {
    /// Stored form: `contact:NAME`, `level:N`.
    pub fn encode(&self) -> String {
        match self {
            Reassign::Contact(c) => format!("contact:{c}"),
            Reassign::Level(l) => format!("level:{l}"),
        }
    }

    /// From the stored form.
    pub fn decode(s: &str) -> Option<Reassign> {
        match s.split_once(':')? {
            ("contact", c) => Some(Reassign::Contact(c.to_owned())),
            ("level", l) => l.parse().ok().map(Reassign::Level),
            _ => None,
        }
    }
}

/// What a person does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum What {
    /// Stop escalation until `until` (then it resumes from the current level).
    Ack {
        /// When the acknowledgement expires.
        until: Millis,
    },
    /// Resume escalation now.
    Unack,
    /// Close by hand: pending steps cancelled, everyone paged told.
    Resolve,
    /// Page someone else now; clears any acknowledgement.
    Reassign(Reassign),
    /// Add a note.
    Note(String),
}

/// An action on an incident.
#[derive(Debug, Clone)]
pub struct Act {
    /// Incident id.
    pub incident: i64,
    /// Who (`api:NAME`, `link`, `slack:U123 (name)`, `sms:alice`, `web`).
    pub actor: String,
    /// How.
    pub via: Via,
    /// What.
    pub what: What,
    /// Optional note recorded with the event.
    pub note: Option<String>,
}

/// What an action did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acted {
    /// No such incident.
    NotFound,
    /// The incident is resolved (or not acknowledged, for unack): nothing changed.
    NotApplicable,
    /// Done. `first_ack_after` is set on an incident's first acknowledgement: the time since
    /// it opened, in ms.
    Done {
        /// Time to acknowledge, on the first ack.
        first_ack_after: Option<Millis>,
    },
}

/// An incident in a list.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Id.
    pub id: i64,
    /// `firing`, `acknowledged` or `resolved`.
    pub state: &'static str,
    /// Title (alert name and group labels).
    pub title: String,
    /// Policy.
    pub policy: String,
    /// Highest level paged in the current cycle.
    pub level: usize,
    /// Alertmanager receiver.
    pub receiver: String,
    /// Alertmanager group key.
    pub group_key: String,
    /// Group labels.
    pub group_labels: KV,
    /// Opened.
    pub started_at_ms: Millis,
    /// Resolved.
    pub resolved_at_ms: Option<Millis>,
    /// First acknowledgement.
    pub first_ack_at_ms: Option<Millis>,
    /// Current acknowledgement: by whom, how, until when.
    pub acked_by: Option<String>,
    /// How.
    pub acked_via: Option<Via>,
    /// When the current acknowledgement expires.
    pub ack_until_ms: Option<Millis>,
    /// Resolution target.
    pub deadline_at_ms: Millis,
    /// Next escalation step.
    pub next_at_ms: Option<Millis>,
    /// Pending reassignment or last assignee.
    pub assignee: Option<String>,
    /// Firing alerts.
    pub firing_alerts: usize,
}

/// An incident with its alerts and timeline.
#[derive(Debug, Clone, Serialize)]
pub struct Detail {
    /// The incident.
    #[serde(flatten)]
    pub summary: Summary,
    /// Alerts (all of them).
    pub alerts: Vec<AlertView>,
    /// Every event, in order.
    pub timeline: Vec<TimelineEntry>,
    /// Highest level ever paged (repeats and reassignments included).
    pub max_level: usize,
}

/// Scrape-time state.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Open incidents by current level (0: not paged yet).
    pub open_by_level: Vec<(usize, u64)>,
    /// Open incidents past their resolution target.
    pub over_target: u64,
    /// Open incidents acknowledged now.
    pub acknowledged: u64,
    /// Notifications waiting in the outbox (pending, in flight included).
    pub outbox_depth: u64,
    /// Age of the oldest pending notification, ms.
    pub outbox_oldest_ms: Option<Millis>,
}

/// `HighCPU web-1:9100` from the group labels: an incident's title.
pub fn title(labels: &KV) -> String {
    let mut parts: Vec<&str> = labels.get("alertname").map(String::as_str).into_iter().collect();
    parts.extend(labels.iter().filter(|(k, _)| *k != "alertname").map(|(_, v)| v.as_str()));
    if parts.is_empty() {
        "(no group labels)".into()
    } else {
        parts.join(" ")
    }
}

/// [`Summary::state`] of an incident.
pub fn state_name(firing: bool, acked: bool) -> &'static str {
    match (firing, acked) {
        (false, _) => "resolved",
        (true, true) => "acknowledged",
        (true, false) => "firing",
    }
}

/// An outbox row's stored kind.
pub fn kind_str(k: crate::model::Kind) -> &'static str {
    use crate::model::Kind;
    match k {
        Kind::Page => "page",
        Kind::NewAlerts => "new_alerts",
        Kind::Resolved => "resolved",
        Kind::Acked => "acked",
        Kind::Unacked => "unacked",
    }
}
