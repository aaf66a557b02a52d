//! `java.lang:type=Runtime`, `OperatingSystem` and `Compilation` → `jvm_info` (0.x) or
//! `jvm_runtime_info` (1.x) {version, vendor, runtime}, the JVM's `process_*` families (CPU
//! seconds, open and max fds, start time, virtual memory) and
//! `jvm_compilation_time_seconds_total`.
//!
//! The JVM's `process_*` take the place of the exporter's own on `/metrics` (the kit writes
//! its own only when a target has none), as jmx_exporter's agent serves the JVM's.

use vigie_kit::{CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

use crate::collectors::{names, Names};
use crate::reply::{num, Part, Prop};

/// The registration.
pub const REG: Registration<crate::Target> = Registration {
    name: "runtime",
    default_enabled: true,
    help: "JVM version, process CPU, file descriptors, start time, JIT compilation time.",
    args: vigie_kit::collector::no_args,
    build: |m| Ok(Box::new(Runtime { names: names(m) })),
};

const LABELS: &[&str] = &["version", "vendor", "runtime"];
const INFO_0: Desc = Desc::gauge("jvm_info", "JVM version info.", LABELS);
const INFO_1: Desc = Desc::gauge("jvm_runtime_info", "JVM runtime info.", LABELS);
const CPU: Desc = Desc::counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", &[]);
const START: Desc = Desc::gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", &[]);
const OPEN_FDS: Desc = Desc::gauge("process_open_fds", "Number of open file descriptors.", &[]);
const MAX_FDS: Desc = Desc::gauge("process_max_fds", "Maximum number of open file descriptors.", &[]);
const VSIZE: Desc = Desc::gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", &[]);
const COMPILATION: Desc =
    Desc::counter("jvm_compilation_time_seconds_total", "Time the JIT compiler spent compiling, in seconds.", &[]);

/// Reads version, process and compilation facts.
pub struct Runtime {
    names: Names,
}

impl SyncCollector<crate::Target> for Runtime {
    fn collect_sync(&self, cx: &Scrape<crate::Target>, out: &mut MetricSet) -> CollectResult {
        let r = &cx.target;
        let prop = |p| r.get(Part::Property(p)).and_then(serde_json::Value::as_str).unwrap_or("unknown");
        let info = if self.names == Names::Simpleclient { &INFO_0 } else { &INFO_1 };
        if r.get(Part::Property(Prop::RuntimeVersion)).is_some() {
            out.add(info, &[prop(Prop::RuntimeVersion), prop(Prop::VmVendor), prop(Prop::RuntimeName)], 1.0);
        }
        if let Some(os) = r.get(Part::OperatingSystem) {
            if let Some(ns) = num(os, "ProcessCpuTime").filter(|v| *v >= 0.0) {
                out.add(&CPU, &[], ns / 1e9);
            }
            for (desc, key) in [
                (&OPEN_FDS, "OpenFileDescriptorCount"),
                (&MAX_FDS, "MaxFileDescriptorCount"),
                (&VSIZE, "CommittedVirtualMemorySize"),
            ] {
                if let Some(v) = num(os, key) {
                    out.add(desc, &[], v);
                }
            }
        }
        if let Some(ms) = r.get(Part::Runtime).and_then(|v| num(v, "StartTime")) {
            out.add(&START, &[], ms / 1000.0);
        }
        if let Some(ms) = r.get(Part::Compilation).and_then(|v| num(v, "TotalCompilationTime")) {
            out.add(&COMPILATION, &[], ms / 1000.0);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captured_reply() {
        let t = crate::collectors::testing::text(&Runtime { names: Names::Simpleclient }, "tomcat10-bulk.json");
        assert!(
            t.contains(r#"jvm_info{runtime="OpenJDK Runtime Environment",vendor="Debian",version="17.0.15+6-Debian-1deb12u1"} 1"#),
            "{t}"
        );
        assert!(t.contains("process_cpu_seconds_total 4.26\n"), "{t}");
        assert!(t.contains("process_max_fds 20000\n") && t.contains("process_open_fds 49\n"), "{t}");
        assert!(t.contains("process_start_time_seconds 1.795343947555e+09\n"), "{t}");
        assert!(t.contains("jvm_compilation_time_seconds_total 2.751\n"), "{t}");
        let t = crate::collectors::testing::text(&Runtime { names: Names::ClientJava1 }, "tomcat10-bulk.json");
        assert!(t.contains("jvm_runtime_info{") && !t.contains("jvm_info{"), "{t}");
    }
}
