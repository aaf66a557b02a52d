//! Tomcat 10.1 with Jolokia's own AgentServlet: the JVM families in both generations, and the
//! Tomcat families (named as jmx_exporter's example Tomcat rules name them) against what
//! Tomcat reports, with request and error counts rising after requests for a missing page.

use vigie_kit::testing;

use super::common::{check_jvm, promtool_clean, scrape, spawn_ours, tomcat, GENERATIONS};

#[test]
fn tomcat_both_generations() {
    let Some(jvm) = tomcat() else { return };
    let port = jvm.addr().port().to_string();
    // Tomcat names the connector with its address when the Connector sets one.
    let mbean = format!("Catalina:type=GlobalRequestProcessor,name=\"http-nio-127.0.0.1-{port}\"");
    let labels = [("port", port.as_str()), ("protocol", "http-nio")];
    for generation in GENERATIONS {
        let ours = spawn_ours(&jvm.url, &[&format!("--jvm.names={generation}")]);
        check_jvm(&jvm, &ours, generation);

        let s = scrape(&ours);
        let requests = s.one("tomcat_requestcount_total", &labels);
        let errors = s.one("tomcat_errorcount_total", &labels);
        for _ in 0..3 {
            let r = testing::get(jvm.addr(), "/no-such-app", &[]).expect("GET a missing page");
            assert_eq!(r.status, 404);
        }
        let s = scrape(&ours);
        let requests_after = s.one("tomcat_requestcount_total", &labels);
        let errors_after = s.one("tomcat_errorcount_total", &labels);
        assert!(requests_after >= requests + 3.0, "requestCount {requests} → {requests_after}");
        assert!(errors_after >= errors + 3.0, "errorCount {errors} → {errors_after}");
        // Jolokia's own requests count too; Tomcat's figure read afterwards is at least ours.
        let reported = jvm.read(&mbean, "errorCount").as_f64().expect("errorCount");
        assert!(reported >= errors_after, "Tomcat reports errorCount {reported}, we said {errors_after}");

        let max_threads =
            jvm.read(&format!("Catalina:type=ThreadPool,name=\"http-nio-127.0.0.1-{port}\""), "maxThreads");
        assert_eq!(Some(s.one("tomcat_threadpool_maxthreads", &labels)), max_threads.as_f64());
        let busy = s.one("tomcat_threadpool_currentthreadsbusy", &labels);
        assert!(busy >= 1.0 && busy <= s.one("tomcat_threadpool_currentthreadcount", &labels), "busy {busy}");
        assert!(s.one("tomcat_bytessent_total", &labels) > 0.0);
        let info = s.label_values("tomcat_serverinfo", "serverinfo");
        assert!(info.len() == 1 && info[0].starts_with("Apache Tomcat/10.1"), "{info:?}");
        promtool_clean(&s.text);
    }
}
