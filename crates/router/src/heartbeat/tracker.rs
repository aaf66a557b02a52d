//! The heartbeat state machine, keyed by (heartbeat, [`Source`]). Pure and clock-free: the
//! caller says when a webhook arrived ([`Tracker::feed`]) and what time it is
//! ([`Tracker::due`]); each call returns the [`Event`]s to act on (open an incident for
//! `Quiet`, resolve it for `Back`). The store persists every [`Beat`] so that `kill -9` loses
//! nothing; [`Tracker::new`] takes them back.
//!
//! States per key: *up* (`quiet_since: None`) until `last_seen + interval + grace` passes,
//! then *quiet* until the next beat. A heartbeat no source ever fed is tracked as
//! [`Source::None`], armed when the tracker starts: an Alertmanager whose route never sends
//! the Watchdog is caught too, not only one that stops.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use vigie_kit::{Kind, MetricSet};

use super::{Heartbeat, PROMETHEUS_LABEL};
use crate::payload::{Alert, Message, Status, KV};

/// Who sends the beats.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// Nothing yet (see the module doc); its `source` label is `""`.
    None,
    /// An Alertmanager, by its `externalURL`.
    Alertmanager(String),
    /// A Prometheus, by its `prometheus` label or its `generatorURL`'s origin.
    Prometheus(String),
}

impl Source {
    /// The `source` label of the metrics and of the incident.
    pub fn label(&self) -> &str {
        match self {
            Source::None => "",
            Source::Alertmanager(s) | Source::Prometheus(s) => s,
        }
    }

    /// The kind, as the store writes it beside [`Source::label`].
    pub fn kind(&self) -> &'static str {
        match self {
            Source::None => "none",
            Source::Alertmanager(_) => "alertmanager",
            Source::Prometheus(_) => "prometheus",
        }
    }

    /// The inverse of ([`Source::kind`], [`Source::label`]), for rows read back.
    pub fn from_parts(kind: &str, label: &str) -> Option<Source> {
        match kind {
            "none" => Some(Source::None),
            "alertmanager" => Some(Source::Alertmanager(label.to_owned())),
            "prometheus" => Some(Source::Prometheus(label.to_owned())),
            _ => None,
        }
    }

    /// The Prometheus that evaluated `alert`: its `prometheus` label, else the part of its
    /// `generatorURL` before `/graph?` (Prometheus builds that URL from its external URL).
    pub fn prometheus_of(alert: &Alert) -> Option<Source> {
        if let Some(p) = alert.labels.get(PROMETHEUS_LABEL).filter(|p| !p.is_empty()) {
            return Some(Source::Prometheus(p.clone()));
        }
        let url = alert.generator_url.as_str();
        let origin = url.split_once("/graph?").map_or_else(|| url.split('?').next().unwrap_or(""), |(o, _)| o);
        (!origin.is_empty()).then(|| Source::Prometheus(origin.to_owned()))
    }
}

/// The persisted state of one (heartbeat, source).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Beat {
    /// The last beat's arrival (for [`Source::None`]: when it was armed).
    pub last_seen: Timestamp,
    /// Set while quiet: the instant it went quiet (`last_seen + interval + grace`).
    pub quiet_since: Option<Timestamp>,
}

/// What the caller acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// No beat for `interval + grace`: open an incident on the heartbeat's policy.
    Quiet {
        /// Heartbeat name.
        heartbeat: String,
        /// Who went quiet.
        source: Source,
        /// The last beat (arming time for [`Source::None`]).
        last_seen: Timestamp,
        /// When the deadline passed.
        since: Timestamp,
    },
    /// A beat after a quiet period: resolve that incident.
    Back {
        /// Heartbeat name.
        heartbeat: String,
        /// Who came back (for [`Source::None`]: the first source ever seen).
        source: Source,
        /// When it had gone quiet.
        quiet_since: Timestamp,
        /// The beat that ended it.
        at: Timestamp,
    },
}

impl Event {
    /// The labels of the incident's alert: `alertname="HeartbeatQuiet"`, the heartbeat (as
    /// [`super::OWN_LABEL`], so the incident can never feed it back) and the source.
    pub fn labels(&self) -> KV {
        let (Event::Quiet { heartbeat, source, .. } | Event::Back { heartbeat, source, .. }) = self;
        KV::from([
            ("alertname".to_owned(), "HeartbeatQuiet".to_owned()),
            (super::OWN_LABEL.to_owned(), heartbeat.clone()),
            ("source".to_owned(), source.label().to_owned()),
            ("source_kind".to_owned(), source.kind().to_owned()),
        ])
    }
}

/// Every heartbeat's state.
#[derive(Debug)]
pub struct Tracker {
    heartbeats: Vec<Heartbeat>,
    beats: BTreeMap<(String, Source), Beat>,
}

impl Tracker {
    /// From the config and the store's rows: rows of heartbeats no longer configured are
    /// dropped, and a heartbeat without any row is armed as [`Source::None`] at `now`.
    pub fn new(
        heartbeats: Vec<Heartbeat>,
        saved: impl IntoIterator<Item = (String, Source, Beat)>,
        now: Timestamp,
    ) -> Tracker {
        let mut beats: BTreeMap<(String, Source), Beat> = saved
            .into_iter()
            .filter(|(h, _, _)| heartbeats.iter().any(|hb| hb.name == *h))
            .map(|(h, s, b)| ((h, s), b))
            .collect();
        for hb in &heartbeats {
            if !beats.keys().any(|(h, _)| *h == hb.name) {
                beats.insert((hb.name.clone(), Source::None), Beat { last_seen: now, quiet_since: None });
            }
        }
        Tracker { heartbeats, beats }
    }

    /// A webhook from an Alertmanager arrived at `at`: every alert a heartbeat's matchers
    /// select beats for that Alertmanager, and a *firing* one also for the alert's
    /// Prometheus. A resolved Watchdog proves the Alertmanager delivers, but means its
    /// Prometheus stopped sending it: that source is left to go quiet. So when a Prometheus
    /// dies, its heartbeat goes quiet before the Alertmanagers' (which then have nothing left
    /// to relay), and the first incident names the cause.
    pub fn feed(&mut self, msg: &Message, at: Timestamp) -> Vec<Event> {
        let mut keys = BTreeSet::new();
        for alert in &msg.alerts {
            for hb in self.heartbeats.iter().filter(|hb| hb.fed_by(&alert.labels)) {
                if !msg.external_url.is_empty() {
                    keys.insert((hb.name.clone(), Source::Alertmanager(msg.external_url.clone())));
                }
                if let Some(p) = Source::prometheus_of(alert).filter(|_| alert.status == Status::Firing) {
                    keys.insert((hb.name.clone(), p));
                }
            }
        }
        keys.into_iter().flat_map(|(h, s)| self.beat(&h, s, at)).collect()
    }

    /// One beat of `heartbeat` from `source` at `at` (ignored for an unknown heartbeat).
    pub fn beat(&mut self, heartbeat: &str, source: Source, at: Timestamp) -> Vec<Event> {
        let mut events = Vec::new();
        if !self.heartbeats.iter().any(|h| h.name == heartbeat) || source == Source::None {
            return events;
        }
        // The first real source replaces the armed placeholder.
        if let Some(b) = self.beats.remove(&(heartbeat.to_owned(), Source::None)) {
            if let Some(quiet_since) = b.quiet_since {
                events.push(Event::Back { heartbeat: heartbeat.to_owned(), source: Source::None, quiet_since, at });
            }
        }
        let b = self
            .beats
            .entry((heartbeat.to_owned(), source.clone()))
            .or_insert(Beat { last_seen: at, quiet_since: None });
        // Webhooks may be handled out of order: the clock only moves forward.
        b.last_seen = b.last_seen.max(at);
        if let Some(quiet_since) = b.quiet_since.take() {
            events.push(Event::Back { heartbeat: heartbeat.to_owned(), source, quiet_since, at });
        }
        events
    }

    /// The keys whose deadline passed at `now` go quiet; each gives one `Quiet` event, once.
    pub fn due(&mut self, now: Timestamp) -> Vec<Event> {
        let mut events = Vec::new();
        for ((h, s), b) in self.beats.iter_mut().filter(|(_, b)| b.quiet_since.is_none()) {
            let Some(hb) = self.heartbeats.iter().find(|hb| hb.name == *h) else { continue };
            let deadline = deadline(b.last_seen, hb);
            if deadline <= now {
                b.quiet_since = Some(deadline);
                events.push(Event::Quiet {
                    heartbeat: h.clone(),
                    source: s.clone(),
                    last_seen: b.last_seen,
                    since: deadline,
                });
            }
        }
        events
    }

    /// The next instant at which [`Tracker::due`] can return something: the escalation
    /// loop sleeps until then (or the next webhook).
    pub fn next_due(&self) -> Option<Timestamp> {
        self.beats
            .iter()
            .filter(|(_, b)| b.quiet_since.is_none())
            .filter_map(|((h, _), b)| {
                self.heartbeats.iter().find(|hb| hb.name == *h).map(|hb| deadline(b.last_seen, hb))
            })
            .min()
    }

    /// Stops tracking a source (a decommissioned Alertmanager): `true` if it was tracked.
    /// Its open incident, if any, is the caller's to resolve.
    pub fn forget(&mut self, heartbeat: &str, source: &Source) -> bool {
        self.beats.remove(&(heartbeat.to_owned(), source.clone())).is_some()
    }

    /// Every (heartbeat, source, state), sorted: what the store writes and the UI lists.
    pub fn beats(&self) -> impl Iterator<Item = (&str, &Source, &Beat)> {
        self.beats.iter().map(|((h, s), b)| (h.as_str(), s, b))
    }

    /// `vigie_router_heartbeat_up{heartbeat,source}` (1 fed, 0 quiet) and
    /// `vigie_router_heartbeat_last_seen_timestamp_seconds{heartbeat,source}`. The armed
    /// placeholder ([`Source::None`], `source=""`) appears only once quiet, and never with a
    /// last-seen time: nothing was seen.
    pub fn collect(&self, out: &mut MetricSet) {
        let up = out.family(
            "vigie_router_heartbeat_up",
            "Whether a heartbeat's source beat within interval + grace (1) or went quiet (0); source=\"\" when no source ever beat.",
            Kind::Gauge,
        );
        for ((h, s), b) in &self.beats {
            if *s != Source::None || b.quiet_since.is_some() {
                up.push(&[("heartbeat", h), ("source", s.label())], if b.quiet_since.is_some() { 0.0 } else { 1.0 });
            }
        }
        let seen = out.family(
            "vigie_router_heartbeat_last_seen_timestamp_seconds",
            "When the router last received a heartbeat's alert from that source (Unix seconds).",
            Kind::Gauge,
        );
        for ((h, s), b) in self.beats.iter().filter(|((_, s), _)| *s != Source::None) {
            seen.push(&[("heartbeat", h), ("source", s.label())], b.last_seen.as_millisecond() as f64 / 1000.0);
        }
    }
}

fn deadline(last_seen: Timestamp, hb: &Heartbeat) -> Timestamp {
    last_seen.checked_add(hb.timeout()).unwrap_or(Timestamp::MAX)
}
