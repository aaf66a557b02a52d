//! The collector list: one line per collector, in `--help` order.

vigie_kit::collectors! { crate::Snapshot;
    process: on,
    custom: on,
}

/// Labels of every pm2-metrics family, in its order.
pub const COMPAT_LABELS: &[&str] = &["id", "name", "instance", "version", "interpreter", "node_version"];

/// The pm2-metrics label values of a process whose pm_id reads `id`, borrowed from it.
pub fn compat_values<'a>(p: &'a crate::model::Process, id: &'a str) -> [&'a str; 6] {
    [id, &p.name, &p.instance, &p.version, &p.interpreter, &p.node_version]
}

#[cfg(test)]
pub mod testing {
    //! Runs a collector over the captured reply.
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use vigie_kit::{Collector, MetricSet, Paths, Scrape};

    /// The captured 7-process reply, as the collectors see it.
    pub fn snapshot() -> crate::Snapshot {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/getMonitorData.json");
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        Arc::new(crate::model::parse_list(&json).unwrap())
    }

    /// Exposition of `collector` over the captured reply, with `/proc` from `procfs`.
    pub fn text(collector: &dyn Collector<crate::Snapshot>, procfs: &std::path::Path) -> String {
        let paths = Paths { procfs: procfs.to_path_buf(), ..Paths::default() };
        let cx = Scrape::new(Instant::now() + Duration::from_secs(5), Arc::new(paths), snapshot());
        let mut out = MetricSet::new();
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(collector.collect(&cx, &mut out)).unwrap();
        out.encode()
    }
}

#[cfg(test)]
mod tests {
    use vigie_kit::testing;

    /// The golden exposition: every collector over the captured 7-process getMonitorData
    /// reply (`tests/fixtures/getMonitorData.json`), with a `/proc` that has none of its
    /// processes, compared with `tests/golden/pm2.prom`; `VIGIE_UPDATE_GOLDEN=1` rewrites it.
    #[test]
    fn captured_reply_exposition_matches_golden() {
        let crate_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let paths = vigie_kit::Paths { procfs: crate_dir.join("tests/fixtures"), ..vigie_kit::Paths::default() };
        let args = ["vigie-pm2-exporter"];
        let snapshot = super::testing::snapshot();
        let registry = super::registry();
        let text = testing::registry_exposition(&crate::EXPORTER, registry, crate::args, &args, paths, snapshot);
        let volatile = [("pm2_uptime", "now minus the capture's start times")];
        let text = testing::without_families(&text, &volatile);
        testing::assert_golden_exposition(&crate_dir.join("tests/golden/pm2.prom"), &text);
    }
}
