//! Tomcat's `Catalina` MBeans → the families jmx_exporter's example Tomcat configuration
//! (`examples/tomcat.yml`, lowercased output names) produces, which the community Tomcat
//! dashboards query: `tomcat_threadpool_<attr>{port,protocol}`,
//! `tomcat_<attr>_total{port,protocol}` from the global request processor,
//! `tomcat_session_<attr>_total{context,host}` and `tomcat_serverinfo{serverinfo}`.
//!
//! A connector named with its address (`http-nio-127.0.0.1-8080`, Tomcat's name when the
//! Connector sets `address=`) does not match the example's `(\w+-\w+)-(\d+)` pattern, so
//! jmx_exporter drops it; here the port is the last part and the protocol the first two.

use vigie_kit::{CollectResult, Kind, MetricSet, Registration, Scrape, SyncCollector};

use crate::reply::{object_key, Part};

/// The registration.
pub const REG: Registration<crate::Target> = Registration {
    name: "tomcat",
    default_enabled: true,
    help: "Tomcat thread pools, request processors, sessions (only when the JVM runs Tomcat).",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Tomcat)),
};

const THREADPOOL_ATTRS: &[&str] = &[
    "currentThreadCount",
    "currentThreadsBusy",
    "keepAliveCount",
    "connectionCount",
    "acceptCount",
    "acceptorThreadCount",
    "pollerThreadCount",
    "maxThreads",
    "minSpareThreads",
];
const SESSION_ATTRS: &[&str] = &["processingTime", "sessionCounter", "rejectedSessions", "expiredSessions"];

/// Reads the Catalina MBeans.
pub struct Tomcat;

/// `http-nio-8080` → (`http-nio`, `8080`); `http-nio-127.0.0.1-8080` → the same protocol and port.
pub fn connector(name: &str) -> Option<(&str, &str)> {
    let (rest, port) = name.rsplit_once('-')?;
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut dashes = rest.match_indices('-');
    let protocol = match (dashes.next(), dashes.next()) {
        (Some(_), Some((second, _))) => &rest[..second],
        _ => rest,
    };
    Some((protocol, port))
}

impl SyncCollector<crate::Target> for Tomcat {
    fn collect_sync(&self, cx: &Scrape<crate::Target>, out: &mut MetricSet) -> CollectResult {
        let r = &cx.target;
        if let Some(pools) = r.get(Part::TomcatThreadPools).and_then(serde_json::Value::as_object) {
            for (object_name, attrs) in pools {
                let Some((protocol, port)) = object_key(object_name, "name").and_then(connector) else { continue };
                for attr in THREADPOOL_ATTRS {
                    if let Some(v) = attrs.get(*attr).and_then(serde_json::Value::as_f64) {
                        let name = format!("tomcat_threadpool_{}", attr.to_ascii_lowercase());
                        let help = format!("Tomcat thread pool {attr}.");
                        out.family(name, help, Kind::Gauge).push(&[("port", port), ("protocol", protocol)], v);
                    }
                }
            }
        }
        if let Some(grps) = r.get(Part::TomcatRequests).and_then(serde_json::Value::as_object) {
            for (object_name, attrs) in grps {
                let Some((protocol, port)) = object_key(object_name, "name").and_then(connector) else { continue };
                let Some(attrs) = attrs.as_object() else { continue };
                // Every numeric attribute, as the example's `(\w+):` pattern takes them.
                for (attr, v) in attrs {
                    let Some(v) = v.as_f64() else { continue };
                    if !attr.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                        continue;
                    }
                    let name = format!("tomcat_{}_total", attr.to_ascii_lowercase());
                    let help = format!("Tomcat global request processor {attr}.");
                    out.family(name, help, Kind::Counter).push(&[("port", port), ("protocol", protocol)], v);
                }
            }
        }
        if let Some(managers) = r.get(Part::TomcatSessions).and_then(serde_json::Value::as_object) {
            for (object_name, attrs) in managers {
                let (Some(host), Some(context)) = (object_key(object_name, "host"), object_key(object_name, "context"))
                else {
                    continue;
                };
                for attr in SESSION_ATTRS {
                    if let Some(v) = attrs.get(*attr).and_then(serde_json::Value::as_f64) {
                        let name = format!("tomcat_session_{}_total", attr.to_ascii_lowercase());
                        let help = format!("Tomcat session manager {attr}.");
                        out.family(name, help, Kind::Counter).push(&[("context", context), ("host", host)], v);
                    }
                }
            }
        }
        if let Some(info) = r.get(Part::TomcatServer).and_then(|s| s.get("serverInfo")).and_then(serde_json::Value::as_str) {
            out.family("tomcat_serverinfo", "Tomcat version, as a label.", Kind::Gauge).push(&[("serverinfo", info)], 1.0);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connector_names() {
        assert_eq!(connector("http-nio-8080"), Some(("http-nio", "8080")));
        assert_eq!(connector("http-nio-127.0.0.1-55025"), Some(("http-nio", "55025")));
        assert_eq!(connector("ajp-nio-0.0.0.0-8009"), Some(("ajp-nio", "8009")));
        assert_eq!(connector("http-nio-auto-1"), Some(("http-nio", "1")));
        assert_eq!(connector("weird"), None);
        assert_eq!(connector("http-nio-x"), None);
    }

    #[test]
    fn captured_reply() {
        let t = crate::collectors::testing::text(&Tomcat, "tomcat10-bulk.json");
        let l = r#"{port="55025",protocol="http-nio"}"#;
        assert!(t.contains(&format!("tomcat_threadpool_currentthreadsbusy{l} 1\n")), "{t}");
        assert!(t.contains(&format!("tomcat_threadpool_maxthreads{l} 200\n")), "{t}");
        assert!(t.contains(&format!("tomcat_requestcount_total{l} 8\n")), "{t}");
        assert!(t.contains(&format!("tomcat_errorcount_total{l} 3\n")), "{t}");
        assert!(t.contains(&format!("tomcat_bytessent_total{l} 5399\n")), "{t}");
        assert!(t.contains("# TYPE tomcat_errorcount_total counter\n"), "{t}");
        assert!(t.contains(r#"tomcat_serverinfo{serverinfo="Apache Tomcat/10.1.60 (Debian)"} 1"#), "{t}");
        let plain = crate::collectors::testing::text(&Tomcat, "plain-jvm-bulk.json");
        assert_eq!(plain, "", "a JVM without Tomcat has none of these");
    }
}
