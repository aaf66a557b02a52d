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
        Metrics {
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
                    Kind::Counter => fam.push(&labels, m.get_counter().get_value()),
                    Kind::Gauge => fam.push(&labels, m.get_gauge().get_value()),
                    Kind::Histogram => {
                        let h = m.get_histogram();
                        let les: Vec<String> = h.get_bucket().iter().map(|b| fmt_le(b.upper_bound())).collect();
                        for (b, le) in h.get_bucket().iter().zip(&les) {
                            let mut l = labels.clone();
                            l.push(("le", le));
                            fam.push_suffixed("_bucket", &l, b.cumulative_count() as f64);
                        }
                        let mut l = labels.clone();
                        l.push(("le", "+Inf"));
                        fam.push_suffixed("_bucket", &l, h.get_sample_count() as f64);
                        fam.push_suffixed("_sum", &labels, h.get_sample_sum());
                        fam.push_suffixed("_count", &labels, h.get_sample_count() as f64);
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
