//! The collector list: one line per collector, in `--help` order; `on` or `off` is its
//! default, as in node_exporter 1.5.

vigie_kit::collectors! { ();
    arp: on,
    bonding: on,
    conntrack: on,
    fibrechannel: on,
    infiniband: on,
    ipvs: on,
    loadavg: on,
    netclass: on,
    netdev: on,
    netstat: on,
    sockstat: on,
    softnet: on,
    udp_queues: on,
}

/// Paths of the captured fixture tree (`tests/fixtures/{proc,sys,rootfs,udev}`).
#[cfg(test)]
pub fn fixtures() -> vigie_kit::Paths {
    let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    vigie_kit::Paths {
        procfs: base.join("proc"),
        sysfs: base.join("sys"),
        rootfs: base.join("rootfs"),
        udev_data: base.join("udev"),
    }
}

/// Runs `collector` over the fixture tree and returns its exposition text (or the error).
#[cfg(test)]
pub fn fixture_text(collector: &dyn vigie_kit::Collector) -> Result<String, vigie_kit::CollectError> {
    let (set, result) = vigie_kit::collector::collect_once(collector, fixtures());
    result.map(|()| set.encode())
}
