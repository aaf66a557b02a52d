//! The router's shared vocabulary, at the bottom of the crate: which channels exist
//! ([`ChannelKind`], from the one [`channel_list!`]), who is paged ([`Target`]), what is sent
//! ([`Notification`] with its [`AlertView`]s and [`AckView`]), why ([`Kind`]), how a person
//! acted ([`Via`]) and an alert's [`Status`].
//!
//! It depends on nothing in the crate but `payload` (the wire types these views are made
//! from): config, store, escalation, queue, channels and HTTP all build on it, and it must
//! never import any of them. The module map is checked by `tests/layers.rs`.

use serde::{Deserialize, Serialize};

pub use crate::payload::{Status, KV};

/// THE list of channels: one line per channel, `Variant module contact_field`.
///
/// - `Variant` names the [`ChannelKind`] and the channel's type (`channels::email::Email`);
/// - `module` is its file under `channels/`, its top-level config section (`email:`), its
///   name in `levels[].channels`, in the store and in metric labels (so it must be the
///   variant in lower case);
/// - `contact_field` is the field of `contacts[]` that holds a person's address on it.
///
/// Adding a channel is one file under `channels/` and one line here. The list is expanded
/// by a callback macro in each layer that needs it (`$then! { … }`): the kinds here, the
/// config sections and contact addresses in `config`, the registry in `channels`.
macro_rules! channel_list {
    ($then:ident) => {
        $then! {
            Email email email,
            Slack slack slack,
            Sms sms phone,
        }
    };
}
pub(crate) use channel_list;

macro_rules! kinds {
    ($($variant:ident $module:ident $field:ident,)*) => {
        /// The channels a level can page on (see [`channel_list!`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum ChannelKind {
            $(
                #[doc = concat!("`channels/", stringify!($module), ".rs`.")]
                $variant,
            )*
        }

        impl ChannelKind {
            /// Every channel, in list order.
            pub const ALL: &'static [ChannelKind] = &[$(ChannelKind::$variant),*];

            /// The config, store and metric-label name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ChannelKind::$variant => stringify!($module),)*
                }
            }

            /// From the stored name.
            pub fn parse(s: &str) -> Option<ChannelKind> {
                match s {
                    $(stringify!($module) => Some(ChannelKind::$variant),)*
                    _ => None,
                }
            }

            /// Whether the channel edits what it already posted (Slack's `chat.update`):
            /// acknowledgements and their end are queued for its targets as updates
            /// (`Kind::Acked`, `Kind::Unacked`). A sent mail or text cannot change.
            pub fn edits_in_place(self) -> bool {
                matches!(self, ChannelKind::Slack)
            }
        }
    };
}
channel_list!(kinds);

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// Now, in [`Millis`].
pub fn now_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// RFC 3339 (UTC, milliseconds) of a [`Millis`].
pub fn rfc3339(ms: Millis) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    vigie_kit::log::rfc3339_millis(t)
}

/// Where signed acknowledgement links point: `/ack/{id}` (escalation writes them, HTTP
/// serves them).
pub const LINK_PATH: &str = "/ack/";

/// One contact on one channel.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Target {
    /// Contact name.
    pub contact: String,
    /// Channel.
    pub channel: ChannelKind,
    /// Address on that channel.
    pub address: String,
}

/// How a person acted on an incident: stored in `incidents.acked_via`, shown in the timeline
/// and the `via` label of `vigie_router_acknowledgements_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    /// The signed link in a notification.
    Link,
    /// The incidents API.
    Api,
    /// A Slack button.
    Slack,
    /// An SMS reply.
    Sms,
    /// The web page.
    Web,
}

impl Via {
    /// The stored and shown name.
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Link => "link",
            Via::Api => "api",
            Via::Slack => "slack",
            Via::Sms => "sms",
            Via::Web => "web",
        }
    }

    /// From the stored name.
    pub fn parse(s: &str) -> Option<Via> {
        [Via::Link, Via::Api, Via::Slack, Via::Sms, Via::Web].into_iter().find(|v| v.as_str() == s)
    }
}

impl std::fmt::Display for Via {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
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
    /// How.
    pub via: Via,
    /// When it expires, ms since the epoch.
    pub until_ms: i64,
}

/// One alert as shown in a notification.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AlertView {
    /// Firing or resolved (`"firing"`, `"resolved"` in JSON).
    pub status: Status,
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

    /// Firing alerts.
    pub fn firing(&self) -> usize {
        self.alerts.iter().filter(|a| a.status == Status::Firing).count()
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
                status: if kind == Kind::Resolved { Status::Resolved } else { Status::Firing },
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

    #[test]
    fn names_round_trip_through_serde_and_the_store() {
        for k in ChannelKind::ALL {
            let json = serde_json::to_string(k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()), "module name must be the variant in lower case");
            assert_eq!(ChannelKind::parse(k.as_str()), Some(*k));
        }
        for v in [Via::Link, Via::Api, Via::Slack, Via::Sms, Via::Web] {
            assert_eq!(serde_json::to_string(&v).unwrap(), format!("\"{v}\""));
            assert_eq!(Via::parse(v.as_str()), Some(v));
        }
        assert_eq!(Via::parse("carrier pigeon"), None);
    }

    #[test]
    fn stored_notifications_keep_their_json() {
        // Outbox rows written before the enums: `status` and `via` were strings.
        let mut n = notification(Kind::Acked);
        n.ack = Some(AckView { by: "api:dora".into(), via: Via::Api, until_ms: 1 });
        let json = serde_json::to_string(&n).unwrap();
        assert!(json.contains(r#""status":"firing""#), "{json}");
        assert!(json.contains(r#""via":"api""#), "{json}");
        let back: Notification = serde_json::from_str(&json).unwrap();
        assert_eq!(back.alerts[0].status, Status::Firing);
        assert_eq!(back.firing(), 1);
    }
}
