//! The collector list, named after cAdvisor's metric kinds (`--disable_metrics` names, in
//! lower case), in `--help` order; `on`/`off` is cAdvisor's default (it leaves `process`
//! off). `docker` is ours: what the Engine knows and cAdvisor does not expose.
//!
//! Every cAdvisor family carries the container's base labels ([`crate::engine::Running`])
//! then its own (`cpu`, `device`, `interface`…). The helpers here are what the collectors
//! share: writing a sample with the base labels, and reading a cgroup file where a container
//! that stopped mid-scrape is skipped rather than failing the collector.

use std::sync::Arc;

use vigie_kit::{CollectError, Desc, MetricSet, Scrape};

use crate::cgroup::Cgroup;
use crate::engine::Snapshot;

/// What collectors get per scrape: the registry snapshot.
pub type Conn = Arc<Snapshot>;

vigie_kit::collectors! { Conn;
    cpu: on,
    memory: on,
    spec: on,
    diskio: on,
    network: on,
    process: off,
    oom_event: on,
    docker: on,
}

/// Adds a sample of `desc` with the container's base labels plus `extra` (in `desc.labels`
/// order).
pub fn emit(out: &mut MetricSet, desc: &'static Desc, base: &[(String, String)], extra: &[&str], value: f64) {
    debug_assert_eq!(desc.labels.len(), extra.len(), "{}", desc.name);
    let mut pairs: Vec<(&str, &str)> = Vec::with_capacity(base.len() + extra.len());
    pairs.extend(base.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    pairs.extend(desc.labels.iter().copied().zip(extra.iter().copied()));
    out.family(desc.name, desc.help, desc.kind).push(&pairs, value);
}

/// Reads `file` of controller `ctrl` (v1; ignored on v2). `Ok(None)`: the controller is not
/// mounted, or the file is gone (the container stopped, or the kernel lacks the file).
pub fn read(cx: &Scrape<Conn>, cg: &Cgroup, ctrl: &str, file: &str) -> Result<Option<Arc<str>>, CollectError> {
    let Some(path) = cg.file(ctrl, file) else { return Ok(None) };
    match cx.read(&path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.is_not_found() => Ok(None),
        // Reading a removed cgroup's file can also fail with ENODEV.
        Err(CollectError::Io { source, .. }) if source.raw_os_error() == Some(19) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether the container's cgroup still exists: a collector skips a container whose
/// files vanished mid-scrape instead of writing zeros for it.
pub fn exists(cg: &Cgroup, ctrl: &str) -> bool {
    cg.file(ctrl, "cgroup.procs").is_some_and(|p| p.exists())
}

/// Test helpers: a fixture tree, the snapshot of its container, a run of one collector.
#[cfg(test)]
pub mod testing {
    use std::path::{Path, PathBuf};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use vigie_kit::{Collector, Paths, Scrape};

    use crate::cgroup::{self, Layout};
    use crate::engine::{snapshot_of, Container};

    /// `tests/fixtures/<tree>`.
    pub fn tree(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
    }

    /// The paths of a fixture tree.
    pub fn paths(name: &str) -> Paths {
        let base = tree(name);
        Paths { procfs: base.join("proc"), sysfs: base.join("sys"), ..Paths::default() }
    }

    /// The one container of a fixture tree (its pid is the only directory under `proc`).
    pub fn container(name: &str) -> Container {
        let paths = paths(name);
        let pid = std::fs::read_dir(&paths.procfs)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .next()
            .unwrap();
        let text = std::fs::read_to_string(paths.proc(format!("{pid}/cgroup"))).unwrap();
        let cg = cgroup::locate(&Layout::detect(&paths), &text).unwrap();
        let mut c = Container {
            id: "0ba3a770abc1".into(),
            name: "busy".into(),
            image: "vigie/busybox:test".into(),
            state: "running".into(),
            pid,
            created: Some(1_700_000_000.0),
            started: Some(1_700_000_001.5),
            cgroup: Some(cg),
            ..Container::default()
        };
        c.base_labels = vec![("name".into(), c.name.clone()), ("image".into(), c.image.clone())];
        c
    }

    /// Runs `collector` over fixture tree `name` and returns the exposition.
    pub fn run(collector: &dyn Collector<super::Conn>, name: &str) -> String {
        let snap = Arc::new(snapshot_of(vec![Arc::new(container(name))]));
        let cx = Scrape::new(Instant::now() + Duration::from_secs(10), Arc::new(paths(name)), snap);
        let mut out = vigie_kit::MetricSet::new();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(collector.collect(&cx, &mut out)).unwrap();
        out.encode()
    }
}
