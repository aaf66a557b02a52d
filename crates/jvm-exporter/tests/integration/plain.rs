//! A plain JVM (no Tomcat) serving Jolokia through the harness: the JVM families in both
//! naming generations, no Tomcat family, and `/probe?target=` for a JVM other than the default.

use super::common::{check_jvm, plain_jvm, scrape, spawn_ours, Scrape, GENERATIONS};

#[test]
fn plain_jvm_both_generations() {
    let Some(jvm) = plain_jvm(None) else { return };
    for generation in GENERATIONS {
        let ours = spawn_ours(&jvm.url, &[&format!("--jvm.names={generation}")]);
        check_jvm(&jvm, &ours, generation);
        let s = scrape(&ours);
        assert!(!s.text.contains("\ntomcat_"), "a JVM without Tomcat has no tomcat_* families");
        assert!(s.one("jvm_classes_loaded_total", &[]) >= s.one("jvm_classes_currently_loaded", &[]));
        assert!(!s.all("jvm_buffer_pool_used_bytes", &[("pool", "direct")]).is_empty());
    }
}

#[test]
fn probe_reads_the_given_target() {
    let Some(jvm) = plain_jvm(None) else { return };
    // The default URL points nowhere; /probe names the JVM.
    let ours = spawn_ours("http://127.0.0.1:9/jolokia", &[]);
    assert_eq!(scrape(&ours).one("jvm_up", &[]), 0.0);
    let r = ours.get(&format!("/probe?target={}", jvm.url), &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    let s = Scrape::new(r.text());
    assert_eq!(s.one("jvm_up", &[]), 1.0, "{}", ours.log());
    assert!(s.one("jvm_threads_current", &[]) > 0.0);
}
