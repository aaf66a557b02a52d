//! How a notification leaves the router: the [`Channel`] trait, the [`Notification`] every
//! channel renders, and the list of channels. A channel only maps outcomes (`Retry` for
//! transient failures, `Reject` for permanent ones); backoff, the durable outbox and
//! escalation on failure belong to `queue.rs`, once.
//!
//! Adding a channel: one file under `channels/` implementing [`Channel`], one variant here.

pub mod email;
pub mod http;
pub mod slack;
pub mod sms;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use vigie_kit::BoxFuture;

use crate::config::ContactFile;
use crate::payload::KV;

/// The channels a level can page on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    /// SMTP (`channels/email.rs`).
    Email,
    /// Slack: incoming webhooks or the Web API with a bot token (`channels/slack.rs`).
    Slack,
    /// SMS: Twilio or an HTTP gateway (`channels/sms.rs`).
    Sms,
}

impl ChannelKind {
    /// The config name.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Email => "email",
            ChannelKind::Slack => "slack",
            ChannelKind::Sms => "sms",
        }
    }

    /// Whether this build can send on it.
    pub fn available(self) -> bool {
        matches!(self, ChannelKind::Email | ChannelKind::Slack | ChannelKind::Sms)
    }

    /// The contact's address on this channel.
    pub fn address(self, c: &ContactFile) -> Option<&str> {
        match self {
            ChannelKind::Email => c.email.as_deref(),
            ChannelKind::Slack => c.slack.as_deref(),
            ChannelKind::Sms => c.phone.as_deref(),
        }
    }

    /// From the stored name.
    pub fn parse(s: &str) -> Option<ChannelKind> {
        match s {
            "email" => Some(ChannelKind::Email),
            "slack" => Some(ChannelKind::Slack),
            "sms" => Some(ChannelKind::Sms),
            _ => None,
        }
    }
}

/// Why a notification is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A level is paged (first page, escalation or repeat).
    Page,
    /// New alerts joined an incident already paged.
    NewAlerts,
    /// The incident is resolved.
    Resolved,
    /// Someone acknowledged: updates Slack messages in place (queued for Slack targets only).
    Acked,
    /// The acknowledgement ended (withdrawn, expired, reassigned): the ack button is back
    /// (queued for Slack targets only).
    Unacked,
}

/// Who acknowledged, how, and until when.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AckView {
    /// Actor, as recorded (`api:NAME`, `slack:U123 (name)`, `sms:alice`…).
    pub by: String,
    /// `link`, `api`, `slack`, `sms`, `web`.
    pub via: String,
    /// When it expires, ms since the epoch.
    pub until_ms: i64,
}

/// One alert as shown in a notification.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AlertView {
    /// `firing` or `resolved`.
    pub status: String,
    /// Labels.
    pub labels: KV,
    /// Annotations (summary, description, runbook_url, dashboard_url…).
    pub annotations: KV,
    /// RFC 3339.
    pub starts_at: String,
    /// Link to the expression.
    pub generator_url: String,
}

/// Everything a channel needs to render one message to one person. Stored as JSON in the
/// outbox, so that what is sent after a restart is what was decided before it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Notification {
    /// Why.
    pub kind: Kind,
    /// Incident id in the store.
    pub incident: i64,
    /// The level paged (1-based); for resolve and new alerts, the highest level paged so far.
    pub level: usize,
    /// Policy name.
    pub policy: String,
    /// Alertmanager receiver.
    pub receiver: String,
    /// Alertmanager group key.
    pub group_key: String,
    /// Labels the group shares.
    pub group_labels: KV,
    /// Incident start, ms since the epoch.
    pub started_at_ms: i64,
    /// Incident end, ms since the epoch.
    pub resolved_at_ms: Option<i64>,
    /// The alerts of the incident.
    pub alerts: Vec<AlertView>,
    /// Alertmanager's external URL.
    pub external_url: String,
    /// Recipient name.
    pub contact: String,
    /// Recipient address on the channel.
    pub address: String,
    /// Extra line, e.g. "Level 1 could not be reached".
    pub note: Option<String>,
    /// `true` when this page repeats a level already paged.
    pub repeat: bool,
    /// Signed, expiring link that acknowledges the incident (no login); `None` when no
    /// public URL is configured. Absent in outbox rows written before acks existed.
    #[serde(default)]
    pub ack_url: Option<String>,
    /// The acknowledgement, on `Kind::Acked`.
    #[serde(default)]
    pub ack: Option<AckView>,
}

impl Notification {
    /// The short code a person replies with to acknowledge by SMS: `ACK 42`.
    pub fn ack_code(&self) -> String {
        format!("ACK {}", self.incident)
    }
}

impl Notification {
    /// Firing alerts.
    pub fn firing(&self) -> usize {
        self.alerts.iter().filter(|a| a.status == "firing").count()
    }

    /// `[FIRING:2] HighCPU (level 1)`, `[RESOLVED] HighCPU`.
    pub fn subject(&self) -> String {
        let name = self
            .group_labels
            .get("alertname")
            .or_else(|| self.alerts.first().and_then(|a| a.labels.get("alertname")))
            .map(String::as_str)
            .unwrap_or("alert");
        let extra: Vec<&str> =
            self.group_labels.iter().filter(|(k, _)| *k != "alertname").map(|(_, v)| v.as_str()).collect();
        let what = if extra.is_empty() { name.to_owned() } else { format!("{name} {}", extra.join(" ")) };
        match self.kind {
            Kind::Resolved => format!("[RESOLVED] {what}"),
            Kind::Acked => format!("[ACKNOWLEDGED] {what} (level {})", self.level),
            Kind::Unacked => {
                format!("[FIRING:{}] {what} (level {}, no longer acknowledged)", self.firing(), self.level)
            }
            Kind::NewAlerts => format!("[FIRING:{}] {what}: new alerts (level {})", self.firing(), self.level),
            Kind::Page if self.repeat => format!("[FIRING:{}] {what} (level {}, repeat)", self.firing(), self.level),
            Kind::Page => format!("[FIRING:{}] {what} (level {})", self.firing(), self.level),
        }
    }
}

/// What a channel got back on success.
#[derive(Debug, Clone)]
pub struct Receipt(pub String);

/// Why a send failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SendError {
    /// Transient: try again, after `after` if the far end said so.
    #[error("retry{}: {reason}", after.map(|a| format!(" after {a:?}")).unwrap_or_default())]
    Retry {
        /// The far end's wish (`Retry-After`), else the queue's backoff.
        after: Option<Duration>,
        /// What happened.
        reason: String,
    },
    /// Permanent: retrying will not help.
    #[error("rejected: {0}")]
    Reject(String),
}

/// A way to reach a person.
pub trait Channel: Send + Sync {
    /// Which one.
    fn kind(&self) -> ChannelKind;
    /// Sends one notification.
    fn send<'a>(&'a self, n: &'a Notification) -> BoxFuture<'a, Result<Receipt, SendError>>;
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A level-2 page of incident 42 (one firing alert, severity warning) to contact `ops`.
    pub(crate) fn notification(kind: Kind) -> Notification {
        let kv = |p: &[(&str, &str)]| p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Notification {
            kind,
            incident: 42,
            level: 2,
            policy: "standard".into(),
            receiver: "vigie".into(),
            group_key: "{}:{alertname=\"HighCPU\"}".into(),
            group_labels: kv(&[("alertname", "HighCPU"), ("severity", "warning")]),
            started_at_ms: 1_700_000_000_000,
            resolved_at_ms: (kind == Kind::Resolved).then_some(1_700_000_100_000),
            alerts: vec![AlertView {
                status: if kind == Kind::Resolved { "resolved" } else { "firing" }.into(),
                labels: kv(&[("alertname", "HighCPU"), ("instance", "web<1>")]),
                annotations: kv(&[("summary", "CPU > 80%"), ("runbook_url", "https://runbooks.example/cpu?a|b")]),
                starts_at: "2026-11-22T10:00:00Z".into(),
                generator_url: "http://prometheus.example/graph".into(),
            }],
            external_url: "http://am.example".into(),
            contact: "ops".into(),
            address: "ops".into(),
            note: None,
            repeat: false,
            ack_url: Some("https://router.example/ack?t=abc".into()),
            ack: None,
        }
    }
}
