//! `replSetGetStatus` flattened with no prefix (`mongodb_members_health`, `mongodb_myState`,
//! `mongodb_optimes_appliedOpTime_t`…), Percona's replicasetstatus collector. Not on mongos;
//! a server that is not in a replica set (codes 76, 94) gives nothing, silently.

use std::sync::Arc;
use std::time::Instant;

use vigie_kit::{BoxFuture, CollectResult, Collector, MetricSet, Registration, Scrape};
use vigie_mongodb_exporter::sink::Sink;

use crate::target::Conn;

/// Registration.
pub const REG: Registration<Arc<Conn>> = Registration {
    name: "replicasetstatus",
    default_enabled: false,
    help: "replSetGetStatus: mongodb_members_*, mongodb_myState, mongodb_optimes_*.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(ReplicaSetStatus)),
};

struct ReplicaSetStatus;

impl Collector<Arc<Conn>> for ReplicaSetStatus {
    fn collect<'a>(&'a self, cx: &'a Scrape<Arc<Conn>>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            let started = Instant::now();
            let conn = &cx.target;
            let Some(client) = super::mongod_client(conn) else { return Ok(()) };
            // The scrape's reply, shared with the topology labels' `rs_state`.
            let status = match conn.status(client).await {
                Ok(s) => s,
                Err(e) => match &*e.kind {
                    mongodb::error::ErrorKind::Command(c) if c.code == 76 || c.code == 94 => return Ok(()),
                    _ => return Err(super::fail(conn, "replSetGetStatus", e)),
                },
            };
            super::write(&mut Sink::new(out, &conn.shared.drops), conn, "", status, conn.topology().await, false);
            super::scrape_time(out, "replset_status", started);
            Ok(())
        })
    }
}
