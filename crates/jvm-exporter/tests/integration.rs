//! The JVM exporter's one integration test binary: the built binary against real JVMs that the
//! tests start themselves on free loopback ports: Tomcat 10.1 with Jolokia's own AgentServlet
//! (`tomcat.rs`) and a plain JVM serving Jolokia through a small harness (`plain.rs`,
//! `harness/JolokiaHarness.java`), `--config.file` rules (`rules.rs`), plus faults (Jolokia killed, a silent listener, basic auth)
//! in `faults.rs`. Values are checked against what the JVM itself reports through Jolokia.
//!
//! A test whose tools are missing (java, javac, Debian's jolokia-core, tomcat10-common,
//! promtool) prints `skipped: …`, unless `VIGIE_REQUIRE_SERVICES=1` (set by `tests/run`), which
//! makes it fail.

mod integration {
    mod common;
    mod faults;
    mod plain;
    mod rules;
    mod tomcat;
}
