//! The collector list, and what they share: the naming generation and the pool helper.

vigie_kit::collectors! { crate::Target;
    memory: on,
    gc: on,
    threads: on,
    classes: on,
    buffer_pools: on,
    runtime: on,
    tomcat: on,
    rules: on,
}

/// Which client_java generation's names to speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Names {
    /// client_java 0.x `simpleclient_hotspot`, as jmx_exporter's agent up to 0.20 serves them
    /// (`jvm_memory_bytes_used`, `jvm_info`).
    Simpleclient,
    /// client_java 1.x `prometheus-metrics-instrumentation-jvm`, as jmx_exporter 1.x serves
    /// them (`jvm_memory_used_bytes`, `jvm_runtime_info`).
    ClientJava1,
}

/// The `--jvm.names` flag's id.
pub const NAMES_FLAG: &str = "jvm.names";

/// The generation chosen by `--jvm.names`.
pub fn names(matches: &clap::ArgMatches) -> Names {
    match matches.get_one::<String>(NAMES_FLAG).map(String::as_str) {
        Some("1.x") => Names::ClientJava1,
        _ => Names::Simpleclient,
    }
}

/// The `{init, used, committed, max}` of a `MemoryUsage` composite, in that order.
pub fn usage(v: &serde_json::Value) -> Option<[f64; 4]> {
    let n = |k| v.get(k).and_then(serde_json::Value::as_f64);
    Some([n("init")?, n("used")?, n("committed")?, n("max")?])
}

#[cfg(test)]
pub mod testing {
    //! Runs a collector over a captured reply.
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use vigie_kit::{Collector, MetricSet, Paths, Scrape};

    /// The exposition of `collector` over the captured reply `fixture`.
    pub fn text(collector: &dyn Collector<crate::Target>, fixture: &str) -> String {
        let reply = Arc::new(crate::reply::tests::fixture(fixture));
        let cx = Scrape::new(Instant::now() + Duration::from_secs(5), Arc::new(Paths::default()), reply);
        let mut out = MetricSet::new();
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(collector.collect(&cx, &mut out)).unwrap();
        out.encode()
    }
}

#[cfg(test)]
mod tests {
    use vigie_kit::testing;

    /// The golden expositions: every collector over the captured Tomcat 10 bulk reply
    /// (`tests/fixtures/tomcat10-bulk.json`), in both name generations, compared with
    /// `tests/golden/jvm.prom` (simpleclient, the default) and `tests/golden/jvm-1x.prom`
    /// (`--jvm.names=1.x`); `VIGIE_UPDATE_GOLDEN=1` rewrites them.
    #[test]
    fn captured_reply_exposition_matches_golden() {
        let crate_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for (flags, golden) in [(&[][..], "jvm.prom"), (&["--jvm.names=1.x"][..], "jvm-1x.prom")] {
            let mut args = vec!["vigie-jvm-exporter"];
            args.extend_from_slice(flags);
            let reply = std::sync::Arc::new(crate::reply::tests::fixture("tomcat10-bulk.json"));
            let paths = vigie_kit::Paths::default();
            let registry = super::registry();
            let text = testing::registry_exposition(&crate::EXPORTER, registry, crate::args, &args, paths, reply);
            testing::assert_golden_exposition(&crate_dir.join("tests/golden").join(golden), &text);
        }
    }
}
