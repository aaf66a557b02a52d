//! The whole `/metrics` over the captured fixtures (both log formats, a route, the captured
//! stub_status page), minus what changes between runs, against `tests/golden/nginx.prom`;
//! and `promtool check metrics` parses it.

use std::time::Duration;

use vigie_kit::testing::{assert_golden, promtool_check_metrics, which};

use crate::env::{exporter, fixture, page_server, scrape_until, sum};

#[test]
fn golden_exposition_over_captured_logs_and_stub_status() {
    let page = page_server(200, include_bytes!("../fixtures/stub_status.txt"), false);
    let exp = exporter(&[
        format!("--nginx.scrape-uri=http://{page}/stub_status"),
        format!("--nginx.access-log={}:service=shop", fixture("access.log").display()),
        format!("--nginx.access-log={}:service=legacy:format=combined", fixture("combined.log").display()),
        "--nginx.access-log.from-start".into(),
        "--nginx.access-log.route=/api/users/*".into(),
        "--web.disable-exporter-metrics".into(),
    ]);
    scrape_until(&exp, "both files read", |t| sum(t, "nginx_http_response_count_total", &[]) >= 20.0);
    std::thread::sleep(Duration::from_millis(200));
    let text = exp.scrape();
    assert_eq!(sum(&text, "nginx_http_response_count_total", &[]), 20.0, "{text}");
    let stable: String = text
        .lines()
        .filter(|l| !l.contains("vigie_nginx_scrape_collector_duration_seconds"))
        .map(|l| format!("{l}\n"))
        .collect();
    let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/nginx.prom");
    assert_golden(&golden, &stable);
    if let Some(promtool) = which(&["promtool"]) {
        let lint = promtool_check_metrics(&promtool, &stable).unwrap();
        assert!(lint.errors.is_empty(), "promtool: {:?}", lint.errors);
    }
}
