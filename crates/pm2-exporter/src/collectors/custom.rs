//! `@pm2/io` custom metrics (`pm2_env.axm_monitor`) → one `pm2_<name>` gauge per metric, named
//! as pm2-metrics names them (name lowercased, runs of other characters → `_`), with the
//! original name and unit in the help; plus the HTTP meter and latencies as
//! `vigie_pm2_http_requests_per_second` and `vigie_pm2_http_{median,p95}_latency_seconds`
//! {scheme}, in base units, for SLOs.
//!
//! A value that is not a number (a gauge reporting `"v1.2.3"`) or a name that collides with a
//! fixed family (`pm2_up`…) drops that sample, never the scrape.

use std::borrow::Cow;

use vigie_kit::{CollectResult, Desc, Kind, MetricSet, Registration, Scrape};
use vigie_kit::{BoxFuture, Collector};

use crate::collectors::{compat_values, COMPAT_LABELS};

/// The registration.
pub const REG: Registration<crate::Snapshot> = Registration {
    name: "custom",
    default_enabled: true,
    help: "@pm2/io custom metrics, and the HTTP metrics mapped for SLOs.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(CustomMetrics)),
};

const LABELS: &[&str] = &["id", "name", "instance", "scheme"];
const RATE: Desc = Desc::gauge(
    "vigie_pm2_http_requests_per_second",
    "HTTP requests per second served by the process (@pm2/io meter, 1-minute moving average).",
    LABELS,
);
const MEDIAN: Desc = Desc::gauge(
    "vigie_pm2_http_median_latency_seconds",
    "Median HTTP response time of the process (@pm2/io \"Mean Latency\", a p50 over a decaying sample).",
    LABELS,
);
const P95: Desc = Desc::gauge(
    "vigie_pm2_http_p95_latency_seconds",
    "95th percentile HTTP response time of the process (@pm2/io, over a decaying sample).",
    LABELS,
);

/// Families the process collector writes: a custom metric may not take their names.
const RESERVED: &[&str] =
    &["pm2_up", "pm2_cpu", "pm2_memory", "pm2_uptime", "pm2_instances", "pm2_restarts", "pm2_prev_restart_delay"];

/// Exposes every process's `axm_monitor`.
pub struct CustomMetrics;

// Not a SyncCollector: the kit would hand the batch to its collector thread and back, which
// costs more than the work itself (a few /proc/PID/stat reads that never block, and no I/O
// at all for the custom metrics); this runs on the scrape's own thread instead.
impl Collector<crate::Snapshot> for CustomMetrics {
    fn collect<'a>(&'a self, cx: &'a Scrape<crate::Snapshot>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(std::future::ready(self.collect_now(cx, out)))
    }
}

impl CustomMetrics {
    fn collect_now(&self, cx: &Scrape<crate::Snapshot>, out: &mut MetricSet) -> CollectResult {
        for p in cx.target.iter() {
            let id = p.pm_id.to_string();
            let values = compat_values(p, &id);
            let mut labels = [("", ""); 6];
            for (pair, (k, v)) in labels.iter_mut().zip(COMPAT_LABELS.iter().zip(values)) {
                *pair = (k, v);
            }
            for m in &p.custom {
                let Some(value) = m.value else {
                    tracing::debug!(metric = %m.name, "Custom metric value is not a number; sample dropped.");
                    continue;
                };
                let name = metric_name(&m.name);
                if RESERVED.contains(&name.as_str()) {
                    tracing::debug!(metric = %m.name, "Custom metric name collides with a fixed family; sample dropped.");
                    continue;
                }
                // Every instance of an app has the same metrics: the help text is written once.
                let help = if out.contains(&name) {
                    Cow::Borrowed("")
                } else {
                    Cow::Owned(match &m.unit {
                        Some(unit) => format!("@pm2/io metric \"{}\" (unit: {unit}).", m.name),
                        None => format!("@pm2/io metric \"{}\".", m.name),
                    })
                };
                let family = out.family(Cow::Owned(name), help, Kind::Gauge);
                family.push(&labels, value);
                if let Some((desc, scheme, v)) = slo(m.id.as_deref(), m.unit.as_deref(), value) {
                    out.add(desc, &[values[0], values[1], values[2], scheme], v);
                }
            }
        }
        Ok(())
    }
}

/// pm2-metrics' name: `pm2_` + the name with each run of characters other than ASCII letters
/// and digits replaced by `_`, lowercased.
pub fn metric_name(display: &str) -> String {
    let mut out = String::with_capacity(display.len() + 4);
    out.push_str("pm2_");
    let mut in_run = false;
    for c in display.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
            in_run = false;
        } else if !in_run {
            out.push('_');
            in_run = true;
        }
    }
    out
}

/// The SLO family for a built-in HTTP metric id, with the value in base units.
fn slo(id: Option<&str>, unit: Option<&str>, value: f64) -> Option<(&'static Desc, &'static str, f64)> {
    let id = id?;
    let (scheme, rest) = if let Some(r) = id.strip_prefix("internal/http/builtin/") {
        ("http", r)
    } else if let Some(r) = id.strip_prefix("internal/https/builtin/") {
        ("https", r)
    } else {
        return None;
    };
    let seconds = |v: f64| match unit {
        Some("ms") => Some(v / 1000.0),
        Some("s") => Some(v),
        _ => None,
    };
    match rest {
        // The meter reports per second whatever its unit says (see the test environment notes).
        "reqs" => Some((&RATE, scheme, value)),
        "latency/p50" => Some((&MEDIAN, scheme, seconds(value)?)),
        "latency/p95" => Some((&P95, scheme, seconds(value)?)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_pm2_metrics_makes_them() {
        assert_eq!(metric_name("HTTP P95 Latency"), "pm2_http_p95_latency");
        assert_eq!(metric_name("req/sec"), "pm2_req_sec");
        assert_eq!(metric_name("Event Loop Latency p95"), "pm2_event_loop_latency_p95");
        // JavaScript's replace(/[^a-z\d]+/gi, "_") turns the leading space into "_" too.
        assert_eq!(metric_name(" Jobs  done!"), "pm2__jobs_done_");
        assert_eq!(metric_name("Köln"), "pm2_k_ln");
    }

    #[test]
    fn families_over_the_captured_reply() {
        let text = crate::collectors::testing::text(&CustomMetrics, std::path::Path::new("/nonexistent"));
        let io = r#"id="2",instance="0",interpreter="node",name="io-app",node_version="20.20.2",version="1.0.0""#;
        assert!(text.contains("# HELP pm2_heap_size @pm2/io metric \"Heap Size\" (unit: MiB).\n"), "{text}");
        assert!(text.contains(&format!("pm2_http{{{io}}} 2.75\n")), "{text}");
        assert!(text.contains(r#"vigie_pm2_http_requests_per_second{id="2",instance="0",name="io-app",scheme="http"} 2.75"#), "{text}");
        assert!(text.contains("vigie_pm2_http_p95_latency_seconds{id=\"2\""), "{text}");
        assert!(!text.contains("pm2_build_tag"), "non-numeric value dropped");
        // The fixture's 7 built-ins appear for each of the 4 online Node processes.
        assert_eq!(text.matches("\npm2_active_handles{").count(), 4, "{text}");
    }
}
