//! The collector list, named after cAdvisor's metric kinds (`--disable_metrics` names, in
//! lower case), in `--help` order; `on`/`off` is cAdvisor's default (it leaves `process`
//! off). `docker` is ours: what the Engine knows and cAdvisor does not expose.
//!
//! Every cAdvisor family carries the container's base labels ([`crate::engine::Running`])
//! then its own (`cpu`, `device`, `interface`…). The helpers here are what the collectors
//! share: writing a sample with the base labels, and running a collector's per-container
//! work on every CPU ([`per_container`]). Files are read through [`crate::cgroup::Files`],
//! where a container that stopped mid-scrape reads as absent and is skipped, not an error.

use std::sync::Arc;

use vigie_kit::collector::BoxFuture;
use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Paths, Scrape};

use crate::engine::{Running, Snapshot};

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
    out.family(desc.name, desc.help, desc.kind).push_dynamic("", &pairs, value);
}

/// Runs `each` for every running container as a task of its own on the server's runtime, so
/// that the collectors of one scrape run on every worker thread (one per CPU) at once, bounded
/// by the scrape deadline, and merges what it wrote into `out`. It stops at the first error,
/// which fails the collector; the samples written before are kept.
///
/// Not on the blocking pool: its extra threads would each keep a malloc arena of their own
/// (RSS went from 11 to 19–26 MiB), for no more parallelism than the workers give.
pub fn per_container<'a, F>(cx: &'a Scrape<Conn>, out: &'a mut MetricSet, each: F) -> BoxFuture<'a, CollectResult>
where
    F: Fn(&Paths, &Running, &mut MetricSet) -> CollectResult + Send + Sync + 'static,
{
    Box::pin(async move {
        let (snap, paths) = (cx.target.clone(), cx.paths.clone());
        let task = tokio::spawn(async move {
            let mut set = MetricSet::new();
            let mut result = Ok(());
            for r in &snap.running {
                result = each(&paths, r, &mut set);
                if result.is_err() {
                    break;
                }
            }
            (set, result)
        });
        let started = std::time::Instant::now();
        let (set, result) = match tokio::time::timeout_at(cx.deadline.into(), task).await {
            Ok(Ok(done)) => done,
            Ok(Err(e)) => return Err(CollectError::Other(format!("collector task failed: {e}"))),
            Err(_) => return Err(CollectError::Timeout(started.elapsed())),
        };
        out.merge(set);
        result
    })
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
            limits: cgroup::Limits::read(&cg).unwrap(),
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use vigie_kit::{MetricSet, Scrape};

    use super::testing::{container, paths};
    use super::*;
    use crate::cgroup::{Cgroup, Dirs};
    use crate::engine::snapshot_of;

    /// The golden exposition: every collector (`process` too) over each fixture tree's
    /// container, compared with `tests/golden/docker.prom` (cgroup v1, captured) and
    /// `tests/golden/docker-cgroup2.prom` (cgroup v2, constructed); `VIGIE_UPDATE_GOLDEN=1`
    /// rewrites them. The fixture folder in label values reads `FIXTURES`.
    #[test]
    fn fixture_trees_exposition_matches_golden() {
        let fixtures = super::testing::tree("");
        for (tree, golden) in [("v1", "docker.prom"), ("v2", "docker-cgroup2.prom")] {
            let snap = Arc::new(snapshot_of(vec![Arc::new(container(tree))]));
            let args = ["vigie-docker-exporter", "--collector.process"];
            let text = vigie_kit::testing::registry_exposition(
                &crate::EXPORTER,
                registry(),
                crate::flags,
                &args,
                paths(tree),
                snap,
            );
            let volatile = [("container_last_seen", "the time of the scrape")];
            let text = vigie_kit::testing::without_families(&text, &volatile);
            let text = text.replace(fixtures.to_string_lossy().trim_end_matches('/'), "FIXTURES");
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(golden);
            vigie_kit::testing::assert_golden_exposition(&path, &text);
        }
    }

    /// A container that stopped between the snapshot and the reads (its cgroup directories
    /// and init process are gone) is skipped by every collector, without an error, and the
    /// containers beside it are still written.
    #[test]
    fn a_container_gone_mid_scrape_is_skipped() {
        for tree in ["v1", "v2"] {
            let live = container(tree);
            let mut gone = container(tree);
            gone.id = "9999".into();
            gone.name = "gone".into();
            gone.pid = 999_999_999;
            gone.base_labels = vec![("name".into(), "gone".into())];
            let cg = gone.cgroup.take().unwrap();
            let dirs = match cg.dirs {
                Dirs::V2(d) => Dirs::V2(d.join("removed")),
                Dirs::V1(m) => Dirs::V1(m.into_iter().map(|(k, d)| (k, d.join("removed"))).collect()),
            };
            gone.cgroup = Some(Cgroup { name: "/gone".into(), dirs, handles: Default::default() });
            let mut all = vec![Arc::new(live)];
            all.extend((0..20).map(|_| Arc::new(gone.clone())));
            let snap = Arc::new(snapshot_of(all));
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let matches = crate::EXPORTER.command(&registry()).get_matches_from(["x", "--collector.process"]);
            // `docker` writes every known container, from the Engine's view: not a cgroup reader.
            for reg in registry().into_iter().filter(|r| r.name != "docker") {
                let collector = (reg.build)(&matches).unwrap();
                let cx = Scrape::new(Instant::now() + Duration::from_secs(10), Arc::new(paths(tree)), snap.clone());
                let mut out = MetricSet::new();
                let result = rt.block_on(collector.collect(&cx, &mut out));
                assert!(result.is_ok(), "{tree} {}: {result:?}", reg.name);
                let text = out.encode();
                assert!(!text.contains("name=\"gone\""), "{tree} {}: {text}", reg.name);
                // busy has no interface but lo and did no block I/O in the v1 capture.
                if !matches!(reg.name, "network" | "diskio") || tree == "v2" {
                    assert!(text.contains("name=\"busy\""), "{tree} {}: {text}", reg.name);
                }
            }
        }
    }
}
