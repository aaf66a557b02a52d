//! The Alertmanager webhook body, payload version 4 (`notify/webhook/webhook.go` `Message` in
//! Alertmanager 0.25): parsed strictly where the router depends on a field, leniently
//! elsewhere (unknown fields such as `notification_reason` and `routeLabels` are ignored).
//!
//! Also derives the idempotency key of a delivery: Alertmanager sends no notification id, and
//! a retried notification carries the identical body, so the key is a SHA-256 over
//! `receiver`, `groupKey` and each alert's `fingerprint`, `status`, `startsAt` and `endsAt`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Labels or annotations, sorted by name.
pub type KV = BTreeMap<String, String>;

/// The webhook body.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// Payload version; only `"4"` is accepted.
    pub version: String,
    /// Receiver name in the Alertmanager config.
    pub receiver: String,
    /// `firing` if any alert fires, else `resolved`.
    pub status: Status,
    /// Every alert of the group (firing and resolved since the last notification).
    pub alerts: Vec<Alert>,
    /// Labels of the route's `group_by`.
    #[serde(default)]
    pub group_labels: KV,
    /// Labels all alerts share.
    #[serde(default)]
    pub common_labels: KV,
    /// Annotations all alerts share.
    #[serde(default)]
    pub common_annotations: KV,
    /// Alertmanager's `--web.external-url`.
    #[serde(default, rename = "externalURL")]
    pub external_url: String,
    /// Identifies the group: with `receiver`, the incident.
    pub group_key: String,
    /// Alerts left out by `max_alerts`.
    #[serde(default)]
    pub truncated_alerts: u64,
}

/// `firing` or `resolved`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Still active.
    Firing,
    /// Over.
    Resolved,
}

impl Status {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Firing => "firing",
            Status::Resolved => "resolved",
        }
    }

    /// From the wire (and stored) name.
    pub fn parse(s: &str) -> Option<Status> {
        [Status::Firing, Status::Resolved].into_iter().find(|x| x.as_str() == s)
    }
}

/// One alert of the group.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    /// `firing` or `resolved`.
    pub status: Status,
    /// Identifying labels.
    pub labels: KV,
    /// Summary, description, runbook_url…
    #[serde(default)]
    pub annotations: KV,
    /// RFC 3339.
    pub starts_at: String,
    /// RFC 3339; `0001-01-01T00:00:00Z` while firing.
    #[serde(default)]
    pub ends_at: String,
    /// Link to the expression in Prometheus; `""` when none.
    #[serde(default, rename = "generatorURL")]
    pub generator_url: String,
    /// Hash of the labels, stable from firing to resolved.
    pub fingerprint: String,
}

/// Why a body was refused: becomes the 400's text.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    /// Not JSON, or not the expected shape.
    #[error("invalid webhook body: {0}")]
    Json(#[from] serde_json::Error),
    /// A version other than 4.
    #[error("unsupported payload version {0:?} (expected \"4\")")]
    Version(String),
    /// A field the router needs is empty.
    #[error("invalid webhook body: {0}")]
    Field(&'static str),
}

/// Parses and checks a body.
pub fn parse(body: &[u8]) -> Result<Message, PayloadError> {
    let msg: Message = match serde_json::from_slice(body) {
        Ok(m) => m,
        Err(e) => {
            // Only on failure, a second look at the version, so that a v5 body gets
            // "unsupported version" rather than an error about a field v5 changed.
            #[derive(Deserialize)]
            struct Version {
                version: Option<serde_json::Value>,
            }
            if let Ok(Version { version: Some(v) }) = serde_json::from_slice::<Version>(body) {
                match v.as_str() {
                    Some("4") => {}
                    Some(s) => return Err(PayloadError::Version(s.chars().take(32).collect())),
                    None => return Err(PayloadError::Field("version must be a string (\"4\")")),
                }
            }
            return Err(e.into());
        }
    };
    if msg.version != "4" {
        return Err(PayloadError::Version(msg.version.chars().take(32).collect()));
    }
    if msg.group_key.is_empty() {
        return Err(PayloadError::Field("groupKey is empty"));
    }
    if msg.alerts.iter().any(|a| a.fingerprint.is_empty()) {
        return Err(PayloadError::Field("an alert has an empty fingerprint"));
    }
    Ok(msg)
}

impl Message {
    /// The idempotency key: identical retries give identical keys.
    pub fn key(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        // Length-prefix every field so that no two different sequences hash alike.
        let mut put = |s: &str| {
            h.update((s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        };
        put(&self.receiver);
        put(&self.group_key);
        for a in &self.alerts {
            put(&a.fingerprint);
            put(a.status.as_str());
            put(&a.starts_at);
            put(&a.ends_at);
        }
        h.finalize().into()
    }

    /// Labels to route on: the common labels, plus the group labels.
    pub fn route_labels(&self) -> KV {
        let mut l = self.group_labels.clone();
        l.extend(self.common_labels.iter().map(|(k, v)| (k.clone(), v.clone())));
        l
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRING: &[u8] = include_bytes!("../tests/fixtures/alertmanager/webhook-v4-firing.json");
    const RESOLVED: &[u8] = include_bytes!("../tests/fixtures/alertmanager/webhook-v4-resolved.json");

    #[test]
    fn real_payloads_parse() {
        let f = parse(FIRING).unwrap();
        assert_eq!(f.receiver, "vigie");
        assert_eq!(f.status, Status::Firing);
        assert_eq!(f.alerts[0].fingerprint, "42324f53b8d47c3b");
        assert_eq!(f.alerts[0].annotations["summary"], "CPU > 80% on web-1");
        let r = parse(RESOLVED).unwrap();
        assert_eq!(r.status, Status::Resolved);
        assert_eq!(r.group_key, f.group_key);
        assert_ne!(f.key(), r.key());
        assert_eq!(f.key(), parse(FIRING).unwrap().key());
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let mut v: serde_json::Value = serde_json::from_slice(FIRING).unwrap();
        v["notification_reason"] = "first notification".into();
        v["routeLabels"] = serde_json::json!({"a": "b"});
        parse(v.to_string().as_bytes()).unwrap();
    }

    #[test]
    fn wrong_version_is_named() {
        let body = String::from_utf8_lossy(FIRING).replace("\"version\":\"4\"", "\"version\":\"5\"");
        let e = parse(body.as_bytes()).unwrap_err().to_string();
        assert_eq!(e, "unsupported payload version \"5\" (expected \"4\")");
        let e = parse(b"{\"version\": 4}").unwrap_err().to_string();
        assert_eq!(e, "invalid webhook body: version must be a string (\"4\")");
    }

    #[test]
    fn malformed_json_is_named() {
        let e = parse(b"{\"version\":\"4\",").unwrap_err().to_string();
        assert!(e.starts_with("invalid webhook body: EOF"), "{e}");
        let e = parse(b"{\"version\":\"4\"}").unwrap_err().to_string();
        assert!(e.contains("missing field"), "{e}");
    }
}
