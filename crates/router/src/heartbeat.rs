//! Heartbeats (issue 19), the router's dead-man's switch: `heartbeats:` in `router.yml` names
//! an always-firing alert (Alertmanager's `Watchdog` by default) that must keep arriving, and
//! the policy paged when it stops. GoAlert's heartbeat monitors and Grafana OnCall's
//! integration heartbeats are the models; unlike them, Vigie keeps one heartbeat per *source*
//! so that one silently dead peer is caught while the others still post:
//!
//! - per Alertmanager, by the webhook's `externalURL`;
//! - per Prometheus, by the alert's `prometheus` label (the external label the
//!   prometheus-operator and kube-prometheus set, and the Vigie stack sets), else the origin
//!   of its `generatorURL` (Prometheus' `--web.external-url`). Not `instance`: the Watchdog
//!   rule (`expr: vector(1)`) carries no `instance` label.
//!
//! This file is the config side (types parsing the YAML, checks with field paths);
//! [`tracker`] is the state machine the store persists and the escalation is told about. A
//! heartbeat is fed only by webhooks from an Alertmanager, never by an alert carrying
//! [`OWN_LABEL`], which the router puts on the incidents it opens for quiet heartbeats.

#[cfg(test)]
mod tests;
pub mod tracker;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use vigie_kit::config::Dur;

use crate::config::Matcher;

pub use tracker::{Beat, Event, Source, Tracker};

/// Label on every alert of an incident the router opens for a quiet heartbeat (value: the
/// heartbeat's name). An alert carrying it never feeds a heartbeat, whatever the matchers.
pub const OWN_LABEL: &str = "vigie_heartbeat";

/// The label naming the Prometheus that evaluated the alert (its external label).
pub const PROMETHEUS_LABEL: &str = "prometheus";

/// Shortest accepted `interval`: Alertmanager's repeats are checked on `group_interval` ticks,
/// and a beat expected more often than every 10 s pages on any scheduling hiccup.
pub const MIN_INTERVAL: Duration = Duration::from_secs(10);

/// `heartbeats[]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    /// Unique name: the `heartbeat` label of the metrics and of the incident.
    pub name: String,
    /// The alert that feeds it (all must match); default `alertname="Watchdog"`.
    #[serde(default = "watchdog")]
    pub matchers: Vec<Matcher>,
    /// How often Alertmanager re-sends it (its route's effective repeat).
    pub interval: Dur,
    /// Extra quiet time tolerated: the heartbeat goes quiet after `interval + grace` without
    /// a beat. Default: one `interval`.
    #[serde(default)]
    pub grace: Option<Dur>,
    /// The escalation policy paged when it goes quiet.
    pub policy: String,
}

fn watchdog() -> Vec<Matcher> {
    // A literal the parser accepts; an empty list would only hide the bug.
    Matcher::parse("alertname=\"Watchdog\"").into_iter().collect()
}

/// A checked heartbeat.
#[derive(Debug, Clone)]
pub struct Heartbeat {
    /// Unique name.
    pub name: String,
    /// Never empty.
    pub matchers: Vec<Matcher>,
    /// Expected time between beats, at least [`MIN_INTERVAL`].
    pub interval: Duration,
    /// Tolerance on top of `interval`.
    pub grace: Duration,
    /// A policy that exists.
    pub policy: String,
}

impl Heartbeat {
    /// How long a source may stay silent before it is quiet.
    pub fn timeout(&self) -> Duration {
        self.interval + self.grace
    }

    /// Whether an alert with `labels` feeds this heartbeat.
    pub fn fed_by(&self, labels: &crate::payload::KV) -> bool {
        !labels.contains_key(OWN_LABEL) && self.matchers.iter().all(|m| m.matches(labels))
    }
}

/// Checks `heartbeats:`; each problem goes to `err(field, message)` (the closure
/// `config::check` uses, which finds the line), with paths such as `heartbeats[0].interval`.
/// `policy_exists` answers for the config's policies. Returns the heartbeats that passed.
pub fn check(
    files: &[File],
    policy_exists: impl Fn(&str) -> bool,
    err: &mut impl FnMut(String, String),
) -> Vec<Heartbeat> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut out = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let at = format!("heartbeats[{i}]");
        let mut ok = true;
        let mut fail = |field: &str, msg: String| {
            ok = false;
            err(format!("{at}.{field}"), msg);
        };
        if f.name.trim().is_empty() {
            fail("name", "empty".into());
        } else if let Some(first) = seen.insert(f.name.as_str(), i) {
            fail("name", format!("duplicate heartbeat {:?} (also heartbeats[{first}])", f.name));
        }
        if f.matchers.is_empty() {
            fail(
                "matchers",
                "no matchers: a heartbeat needs the alert that feeds it (leave the field out for alertname=\"Watchdog\")"
                    .into(),
            );
        }
        if f.interval.0 < MIN_INTERVAL {
            fail("interval", format!("{:?} is under the minimum of 10s", f.interval.0));
        }
        if !policy_exists(&f.policy) {
            fail("policy", format!("unknown policy {:?}", f.policy));
        }
        if ok {
            out.push(Heartbeat {
                name: f.name.clone(),
                matchers: f.matchers.clone(),
                interval: f.interval.0,
                grace: f.grace.map_or(f.interval.0, |g| g.0),
                policy: f.policy.clone(),
            });
        }
    }
    out
}
