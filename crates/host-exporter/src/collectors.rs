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

/// Runs `collector` over a proc tree holding only `files` (path under procfs, content) and
/// returns its error text: for tests that a malformed file fails with its name.
#[cfg(test)]
pub fn proc_error(collector: &dyn vigie_kit::Collector, files: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    for (rel, text) in files {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    let paths = vigie_kit::Paths { procfs: dir.path().into(), ..fixtures() };
    let (_, result) = vigie_kit::collector::collect_once(collector, paths);
    match result {
        Ok(()) => "ok".into(),
        Err(e) => e.to_string(),
    }
}
