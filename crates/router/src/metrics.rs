//! The router's own long-lived metrics (`vigie_router_*`), kept in a `prometheus` crate
//! `Registry` passed by value (no global registry) and written by the kit's encoder, so
//! `/metrics` reads like every other Vigie binary's.

use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, Opts, Registry};
use vigie_kit::{Kind, MetricSet};

/// The counters and histograms.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    /// Webhooks by HTTP status code.
    pub webhooks: IntCounterVec,
    /// Alerts in accepted webhooks.
    pub alerts: IntCounter,
    /// Identical retries recognised.
    pub duplicates: IntCounter,
    /// Time from receiving a body to its commit.
    pub commit_seconds: Histogram,
    /// Notifications put in the outbox.
    pub notifications_queued: IntCounter,
    /// Notifications delivered, by channel.
    pub notifications_sent: IntCounterVec,
    /// Failed attempts, by channel and reason (`retry`, `gave_up`).
    pub notifications_failed: IntCounterVec,
    /// Levels paged (first page, escalations, repeats, resumes), by level.
    pub escalations: IntCounterVec,
    /// Acknowledgements, by how (`link`, `api`, `slack`, `sms`, `web`).
    pub acknowledgements: IntCounterVec,
    /// Time from an incident's start to its first acknowledgement.
    pub acknowledge_seconds: Histogram,
    /// Time from an incident's start to its resolve.
    pub resolve_seconds: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

fn counter_vec(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels).unwrap_or_else(|_| unreachable!("valid static name"));
    let _ = r.register(Box::new(c.clone()));
    c
}

fn histogram(r: &Registry, name: &str, help: &str, buckets: Vec<f64>) -> Histogram {
    let h = Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets))
        .unwrap_or_else(|_| unreachable!("valid static name"));
    let _ = r.register(Box::new(h.clone()));
    h
}

fn counter(r: &Registry, name: &str, help: &str) -> IntCounter {
    let c = IntCounter::new(name, help).unwrap_or_else(|_| unreachable!("valid static name"));
    let _ = r.register(Box::new(c.clone()));
    c
}

impl Metrics {
    /// A fresh registry.
    pub fn new() -> Metrics {
        let r = Registry::new();
        let buckets = vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0];
        let commit_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "vigie_router_ingest_commit_seconds",
                "Time from a webhook's body to its durable commit.",
            )
            .buckets(buckets),
        )
        .unwrap_or_else(|_| unreachable!("valid static name"));
        let _ = r.register(Box::new(commit_seconds.clone()));
        let acknowledge_seconds = histogram(
            &r,
            "vigie_router_incident_acknowledge_seconds",
            "Time from an incident's start to its first acknowledgement.",
            vec![30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0],
        );
        let resolve_seconds = histogram(
            &r,
            "vigie_router_incident_resolve_seconds",
            "Time from an incident's start to its resolve (the target is 4 h: le=\"14400\").",
            vec![300.0, 600.0, 1800.0, 3600.0, 7200.0, 10800.0, 14400.0, 28800.0, 86400.0],
        );
        Metrics {
            escalations: counter_vec(
                &r,
                "vigie_router_escalations_total",
                "Levels paged (first page, escalation, repeat, resume after an acknowledgement), by level.",
                &["level"],
            ),
            acknowledgements: counter_vec(
                &r,
                "vigie_router_acknowledgements_total",
                "Incident acknowledgements, by how they came (link, api, slack, sms, web).",
                &["via"],
            ),
            acknowledge_seconds,
            resolve_seconds,
            webhooks: counter_vec(
                &r,
                "vigie_router_webhooks_total",
                "Alertmanager webhooks received, by HTTP status code.",
                &["code"],
            ),
            alerts: counter(&r, "vigie_router_alerts_received_total", "Alerts in webhooks stored durably."),
            duplicates: counter(
                &r,
                "vigie_router_webhooks_duplicate_total",
                "Identical webhook retries recognised and not stored again.",
            ),
            notifications_queued: counter(
                &r,
                "vigie_router_notifications_queued_total",
                "Notifications put in the outbox.",
            ),
            notifications_sent: counter_vec(
                &r,
                "vigie_router_notifications_sent_total",
                "Notifications delivered, by channel.",
                &["channel"],
            ),
            notifications_failed: counter_vec(
                &r,
                "vigie_router_notifications_failed_total",
                "Failed delivery attempts, by channel and reason (retry, gave_up).",
                &["channel", "reason"],
            ),
            commit_seconds,
            registry: r,
        }
    }

    /// The store's state at scrape time: open incidents by level, past the target,
    /// acknowledged, and the outbox.
    pub fn collect_stats(st: &crate::store::Stats, levels: usize, out: &mut MetricSet) {
        let fam = out.family(
            "vigie_router_incidents_open",
            "Open incidents, by the highest level paged (0: not paged yet).",
            Kind::Gauge,
        );
        let top = st.open_by_level.iter().map(|(l, _)| *l).max().unwrap_or(0).max(levels);
        for l in 0..=top {
            let n = st.open_by_level.iter().find(|(x, _)| *x == l).map_or(0, |(_, n)| *n);
            fam.push(&[("level", &l.to_string())], n as f64);
        }
        let gauges = [
            (
                "vigie_router_incidents_over_target",
                "Open incidents older than the resolution target.",
                st.over_target as f64,
            ),
            ("vigie_router_incidents_acknowledged", "Open incidents acknowledged now.", st.acknowledged as f64),
            (
                "vigie_router_outbox_depth",
                "Notifications waiting in the outbox (due, retrying or being sent).",
                st.outbox_depth as f64,
            ),
            (
                "vigie_router_outbox_oldest_age_seconds",
                "Age of the oldest notification waiting in the outbox (0 when empty).",
                st.outbox_oldest_ms.unwrap_or(0) as f64 / 1000.0,
            ),
        ];
        for (name, help, v) in gauges {
            out.family(name, help, Kind::Gauge).push(&[], v);
        }
    }

    /// Everything, as a kit [`MetricSet`].
    pub fn collect(&self, out: &mut MetricSet) {
        use prometheus::proto::MetricType;
        for mf in self.registry.gather() {
            let kind = match mf.get_field_type() {
                MetricType::COUNTER => Kind::Counter,
                MetricType::GAUGE => Kind::Gauge,
                MetricType::HISTOGRAM => Kind::Histogram,
                MetricType::SUMMARY => Kind::Summary,
                MetricType::UNTYPED => continue, // the router registers none
            };
            let fam = out.family(mf.name().to_owned(), mf.help().to_owned(), kind);
            for m in mf.get_metric() {
                let labels: Vec<(&str, &str)> = m.get_label().iter().map(|l| (l.name(), l.value())).collect();
                match kind {
                    Kind::Counter => fam.push_dynamic("", &labels, m.get_counter().get_value()),
                    Kind::Gauge => fam.push_dynamic("", &labels, m.get_gauge().get_value()),
                    Kind::Histogram => {
                        let h = m.get_histogram();
                        let les: Vec<String> = h.get_bucket().iter().map(|b| fmt_le(b.upper_bound())).collect();
                        for (b, le) in h.get_bucket().iter().zip(&les) {
                            let mut l = labels.clone();
                            l.push(("le", le));
                            fam.push_dynamic("_bucket", &l, b.cumulative_count() as f64);
                        }
                        let mut l = labels.clone();
                        l.push(("le", "+Inf"));
                        fam.push_dynamic("_bucket", &l, h.get_sample_count() as f64);
                        fam.push_dynamic("_sum", &labels, h.get_sample_sum());
                        fam.push_dynamic("_count", &labels, h.get_sample_count() as f64);
                    }
                    _ => {}
                }
            }
        }
    }
}

fn fmt_le(v: f64) -> String {
    let mut s = String::new();
    vigie_kit::exposition::write_value(&mut s, v);
    s
}
