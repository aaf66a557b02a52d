//! `replSetGetConfig`'s `config` flattened under `rs_cfg` (`mongodb_rs_cfg_version`,
//! `mongodb_rs_cfg_members_priority{member_idx}`, `mongodb_rs_cfg_settings_heartbeatTimeoutSecs`…),
//! Percona's replicasetconfig collector. Not on mongos; a server that is not in a replica set
//! (codes 76, 94) gives nothing, silently.

use std::sync::Arc;
use std::time::Instant;

use vigie_kit::{BoxFuture, CollectError, CollectResult, Collector, MetricSet, Registration, Scrape};
use vigie_mongodb_exporter::sink::Sink;

use crate::target::{admin, Conn, NodeType};

/// Registration.
pub const REG: Registration<Arc<Conn>> = Registration {
    name: "replicasetconfig",
    default_enabled: false,
    help: "replSetGetConfig: mongodb_rs_cfg_*.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(ReplicaSetConfig)),
};

struct ReplicaSetConfig;

impl Collector<Arc<Conn>> for ReplicaSetConfig {
    fn collect<'a>(&'a self, cx: &'a Scrape<Arc<Conn>>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        Box::pin(async move {
            let started = Instant::now();
            let conn = &cx.target;
            // Percona keeps this one on arbiters.
            let Some(client) = super::client(conn) else { return Ok(()) };
            if conn.node == NodeType::Mongos {
                return Ok(());
            }
            let reply = match admin(client, super::cmd("replSetGetConfig")).await {
                Ok(r) => r,
                Err(e) => match &*e.kind {
                    mongodb::error::ErrorKind::Command(c) if c.code == 76 || c.code == 94 => return Ok(()),
                    _ => return Err(super::fail(conn, "replSetGetConfig", &e)),
                },
            };
            let Ok(config) = reply.get_document("config") else {
                return Err(CollectError::Other(format!("{}: replSetGetConfig reply has no config document", conn.hosts)));
            };
            super::write(&mut Sink::new(out, &conn.shared.drops), conn, "rs_cfg", config, conn.topology().await, false);
            super::scrape_time(out, "replset_config", started);
            Ok(())
        })
    }
}
