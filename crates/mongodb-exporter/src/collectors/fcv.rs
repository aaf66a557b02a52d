//! `getParameter featureCompatibilityVersion` → `mongodb_fcv_feature_compatibility_version
//! {version}` (Percona's fcv collector): the version as the value (`7.0` → 7) and as a label.
//! Not on mongos or arbiters.

use std::sync::Arc;
use std::time::Instant;

use mongodb::bson::{doc, Bson, Document};
use vigie_kit::{BoxFuture, CollectError, CollectResult, Collector, Kind, MetricSet, Registration, Scrape};
use vigie_mongodb_exporter::sink::Sink;

use crate::target::{admin, walk, Conn};

/// Registration.
pub const REG: Registration<Arc<Conn>> = Registration {
    name: "fcv",
    default_enabled: false,
    help: "Feature compatibility version: mongodb_fcv_feature_compatibility_version{version}.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Fcv)),
};

struct Fcv;

/// The version string of a `getParameter` reply and its numeric value.
pub fn version(reply: &Document) -> Option<Result<(String, f64), String>> {
    let v = match walk(reply, &["featureCompatibilityVersion", "version"])? {
        Bson::String(s) => s.clone(),
        Bson::Double(d) => d.to_string(),
        other => return Some(Err(format!("featureCompatibilityVersion.version is {other}, not a version"))),
    };
    Some(v.trim().parse::<f64>().map(|f| (v.clone(), f)).map_err(|_| format!("featureCompatibilityVersion {v:?} is not a number")))
}

impl Collector<Arc<Conn>> for Fcv {
    fn collect<'a>(&'a self, cx: &'a Scrape<Arc<Conn>>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            let started = Instant::now();
            let conn = &cx.target;
            let Some(client) = super::mongod_client(conn) else { return Ok(()) };
            let reply = admin(client, doc! { "getParameter": 1, "featureCompatibilityVersion": 1 })
                .await
                .map_err(|e| super::fail(conn, "getParameter featureCompatibilityVersion", &e))?;
            let result = match version(&reply) {
                Some(Ok((label, value))) => {
                    let mut sink = Sink::new(out, &conn.shared.drops);
                    super::gauge(
                        &mut sink,
                        "mongodb_fcv_feature_compatibility_version",
                        "The feature compatibility version the server runs with, as a number and as a label.",
                        Kind::Gauge,
                        &[("version", &label)],
                        value,
                    );
                    Ok(())
                }
                Some(Err(why)) => Err(CollectError::Other(format!("{}: {why}", conn.hosts))),
                None => Ok(()),
            };
            super::scrape_time(out, "fcv", started);
            result
        })
    }
}
