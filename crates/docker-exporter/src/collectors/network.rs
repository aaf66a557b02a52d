//! The container's network namespace, through its init process's `/proc/<pid>/net/dev` →
//! `container_network_{receive,transmit}_{bytes,packets,packets_dropped,errors}_total
//! {interface}` (cAdvisor "network" names; `lo`, `veth*`, `docker*` left out as cAdvisor
//! does). A container on the host network sees the host's interfaces, as in cAdvisor.

use vigie_kit::{BoxFuture, CollectError, CollectResult, Collector, Desc, MetricSet, Registration, Scrape};

use super::{emit, per_container, Conn};
use crate::cgroup::files::read_path;
use crate::cgroup::net_dev;

/// The registration.
pub const REG: Registration<Conn> = Registration {
    name: "network",
    default_enabled: true,
    help: "Bytes, packets, errors and drops per interface of each container's network namespace.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Network)),
};

const L: &[&str] = &["interface"];
const RX: [Desc; 4] = [
    Desc::counter("container_network_receive_bytes_total", "Bytes received.", L),
    Desc::counter("container_network_receive_packets_total", "Packets received.", L),
    Desc::counter("container_network_receive_errors_total", "Errors while receiving.", L),
    Desc::counter("container_network_receive_packets_dropped_total", "Packets dropped while receiving.", L),
];
const TX: [Desc; 4] = [
    Desc::counter("container_network_transmit_bytes_total", "Bytes transmitted.", L),
    Desc::counter("container_network_transmit_packets_total", "Packets transmitted.", L),
    Desc::counter("container_network_transmit_errors_total", "Errors while transmitting.", L),
    Desc::counter("container_network_transmit_packets_dropped_total", "Packets dropped while transmitting.", L),
];

/// Reads `/proc/<pid>/net/dev`.
pub struct Network;

impl Collector<Conn> for Network {
    fn collect<'a>(&'a self, cx: &'a Scrape<Conn>, out: &'a mut MetricSet) -> BoxFuture<'a, CollectResult> {
        per_container(cx, out, |paths, r, out| {
            let path = paths.proc(format!("{}/net/dev", r.container.pid));
            // Gone: the init process exited, the container stopped mid-scrape.
            let Some(text) = read_path(&path)? else { return Ok(()) };
            let ifaces = net_dev(&text).map_err(|m| CollectError::parse(&path, m))?;
            for i in &ifaces {
                for (k, desc) in RX.iter().enumerate() {
                    emit(out, desc, &r.labels, &[&i.name], i.rx[k] as f64);
                }
                for (k, desc) in TX.iter().enumerate() {
                    emit(out, desc, &r.labels, &[&i.name], i.tx[k] as f64);
                }
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::testing::run;

    #[test]
    fn captured_and_constructed() {
        // busy ran with --network none: only lo, which is left out.
        assert_eq!(run(&Network, "v1"), "");
        let text = run(&Network, "v2");
        assert!(text.contains("container_network_receive_bytes_total{id=\"/system.slice/docker-4f3c.scope\",image=\"vigie/busybox:test\",interface=\"eth0\",name=\"busy\"} 1000\n"), "{text}");
        assert!(text.contains("container_network_transmit_packets_dropped_total{") && text.contains("} 4\n"), "{text}");
        assert!(!text.contains("\"lo\""), "{text}");
    }
}
