//! Bad input: an HTML page where stub_status should be, an nginx that is down or never
//! answers, a log file that is missing then appears, a 1 MB line, invalid UTF-8. Each is
//! counted or gives `nginx_up 0`; none crashes the exporter or hangs a scrape.

use crate::env::{append, exporter, page_server, scrape_until, sum, upstream, value, Nginx};

#[test]
fn html_page_down_and_silent_nginx_give_nginx_up_0_and_keep_serving() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let html = page_server(200, b"<html><body>Welcome to nginx!</body></html>\n", false);
    let hung = page_server(200, b"", true);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let exp = exporter(&[
        format!("--nginx.scrape-uri=http://{html}/stub_status"),
        format!("--nginx.access-log={}:service=web", log.display()),
    ]);
    append(
        &log,
        br#"127.0.0.1 - - [07/Dec/2026:20:09:22 +0000] "GET /a HTTP/1.1" 200 3 "-" "curl/7.88.1" 0.001 0.001
"#,
    );
    let text = scrape_until(&exp, "the line", |t| sum(t, "nginx_http_response_count_total", &[]) == 1.0);
    // An HTML page is no stub_status page: down, but the access log families stay.
    assert_eq!(value(&text, "nginx_up "), Some(0.0), "{text}");
    assert!(!text.contains("nginx_connections_active"), "{text}");
    assert_eq!(value(&text, "vigie_nginx_scrape_collector_success{collector=\"stub_status\"} "), Some(0.0));
    assert_eq!(value(&text, "vigie_nginx_scrape_collector_success{collector=\"access_log\"} "), Some(1.0));
    // Down (connection refused) and silent (accepts, never answers) nginx, through /probe;
    // the silent one is cut by Prometheus' scrape timeout, not left hanging.
    for target in [format!("http://{closed}/stub_status"), format!("http://{hung}/stub_status")] {
        let r = exp.get(&format!("/probe?target={target}"), &[("X-Prometheus-Scrape-Timeout-Seconds", "2")]);
        assert_eq!(r.status, 200);
        let text = r.text();
        assert_eq!(value(&text, "nginx_up "), Some(0.0), "{target}: {text}");
        assert!(!text.contains("nginx_http_response_count_total"), "probes carry no local logs: {text}");
    }
    let bad = exp.get("/probe?target=ftp://x/", &[]);
    assert_eq!(bad.status, 404, "{}", bad.text());
    assert!(bad.text().contains("not http://"), "{}", bad.text());
}

#[test]
fn missing_file_overlong_line_and_invalid_utf8_are_counted_never_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("later.log");
    let page = page_server(200, include_bytes!("../fixtures/stub_status.txt"), false);
    let exp = exporter(&[
        format!("--nginx.scrape-uri=http://{page}/stub_status"),
        format!("--nginx.access-log={}:service=late", log.display()),
    ]);
    let text = exp.scrape();
    assert_eq!(value(&text, "nginx_up "), Some(1.0), "{text}");
    assert_eq!(value(&text, "nginx_parse_errors_total{service=\"late\"} "), Some(0.0), "{text}");
    // The file appears: read from its start.
    let good = br#"127.0.0.1 - - [07/Dec/2026:20:09:22 +0000] "GET /a HTTP/1.1" 200 3 "-" "curl/7.88.1" 0.001 0.001
"#;
    append(&log, good);
    // A 1 MB line, a line of invalid UTF-8 garbage, and a good line with invalid UTF-8 in
    // its user agent (nginx escapes only `"` and control bytes).
    let mut big = vec![b'x'; 1 << 20];
    big.push(b'\n');
    append(&log, &big);
    append(&log, b"\xff\xfe\xfd garbage \xc3\x28\n");
    append(&log, b"127.0.0.1 - - [07/Dec/2026:20:09:22 +0000] \"GET /b HTTP/1.1\" 404 9 \"-\" \"\xe9t\xe9\" 0.002 -\n");
    let text = scrape_until(&exp, "four lines", |t| {
        sum(t, "nginx_http_response_count_total", &[]) + sum(t, "nginx_parse_errors_total", &[]) >= 4.0
    });
    assert_eq!(sum(&text, "nginx_http_response_count_total", &["status=\"200\""]), 1.0, "{text}");
    assert_eq!(sum(&text, "nginx_http_response_count_total", &["status=\"404\""]), 1.0, "{text}");
    assert_eq!(value(&text, "nginx_parse_errors_total{service=\"late\"} "), Some(2.0), "{text}");
    // Logged, at most once a minute: the second malformed line was not logged again.
    let log_text = exp.log();
    assert_eq!(log_text.matches("Malformed access log lines").count(), 1, "{log_text}");
    assert!(log_text.contains("Access log not found"), "{log_text}");
}

#[test]
fn a_kept_connection_that_nginx_closed_is_replaced_without_nginx_up_0() {
    let Some(nginx) = Nginx::start(upstream()) else { return };
    let exp = exporter(&[format!("--nginx.scrape-uri={}", nginx.stub_status())]);
    let first = exp.scrape();
    assert_eq!(value(&first, "nginx_up "), Some(1.0), "{first}");
    // nginx's keepalive_timeout (1 s in this config) closes the idle kept connection.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let second = exp.scrape();
    assert_eq!(value(&second, "nginx_up "), Some(1.0), "{second}\n{}", exp.log());
    // Kept between scrapes: two scrapes in a row are served on one connection.
    let third = exp.scrape();
    let (a, b) = (value(&second, "nginx_connections_accepted "), value(&third, "nginx_connections_accepted "));
    assert_eq!(a, b, "a new connection per scrape:\n{second}\n{third}");
}
