//! Real traffic through a real nginx: exact counts by status, the slow requests above 0.2 s
//! in the histograms, routes instead of raw URLs, and rotations in the middle of traffic.

use std::collections::BTreeMap;

use crate::env::{exporter, scrape_until, sum, upstream, value, Nginx};

fn args(nginx: &Nginx, extra: &[&str]) -> Vec<String> {
    let mut a = vec![
        format!("--nginx.scrape-uri={}", nginx.stub_status()),
        format!("--nginx.access-log={}:service=shop", nginx.log().display()),
    ];
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

#[test]
fn counts_by_status_match_exactly_and_slow_requests_land_above_0_2_s() {
    let Some(nginx) = Nginx::start(upstream()) else { return };
    let exp = exporter(&args(&nginx, &["--nginx.access-log.route=/api/users/*", "--nginx.access-log.route=/slow"]));
    let first = exp.scrape();
    assert_eq!(value(&first, "nginx_up "), Some(1.0), "{first}");
    let (fast, slow, err, api) = (20, 5, 7, 3);
    for i in 0..fast {
        assert_eq!(nginx.get(&format!("/fast?i={i}")), 200);
    }
    for _ in 0..slow {
        assert_eq!(nginx.get("/slow"), 200);
    }
    for i in 0..err {
        assert_eq!(nginx.get(&format!("/err/{i}")), 500);
    }
    for i in 0..api {
        assert_eq!(nginx.get(&format!("/api/users/{i}")), 200);
    }
    let total = f64::from(fast + slow + err + api);
    let text = scrape_until(&exp, "every request counted", |t| sum(t, "nginx_http_response_count_total", &[]) >= total);
    let count = |labels: &[&str]| sum(&text, "nginx_http_response_count_total", labels);
    assert_eq!(count(&[]), total, "{text}");
    assert_eq!(count(&["status=\"200\"", "method=\"GET\"", "service=\"shop\""]), f64::from(fast + slow + api));
    assert_eq!(count(&["status=\"500\""]), f64::from(err));
    assert_eq!(count(&["route=\"/slow\""]), f64::from(slow));
    assert_eq!(count(&["route=\"/api/users/*\""]), f64::from(api));
    assert_eq!(count(&["route=\"other\""]), f64::from(fast + err));
    assert!(!text.contains("/api/users/0") && !text.contains("?i="), "raw URLs in labels:\n{text}");
    // The 300 ms requests are above 0.2 s, the others below, in both histograms.
    for h in ["nginx_http_response_time_seconds_hist", "nginx_http_upstream_time_seconds_hist"] {
        let le = |b: &str| sum(&text, &format!("{h}_bucket"), &[&format!("le=\"{b}\"")]);
        assert_eq!(le("+Inf"), total, "{h}\n{text}");
        assert_eq!(le("0.2"), f64::from(fast + err + api), "{h}\n{text}");
        assert_eq!(le("0.25"), f64::from(fast + err + api), "{h}\n{text}");
        assert_eq!(sum(&text, &format!("{h}_bucket"), &["route=\"/slow\"", "le=\"0.5\""]), f64::from(slow));
        assert!(sum(&text, &format!("{h}_sum"), &["route=\"/slow\""]) >= 0.3 * f64::from(slow), "{text}");
    }
    assert_eq!(sum(&text, "nginx_http_response_size_bytes", &["status=\"500\""]), f64::from(err * 6), "{text}");
    assert_eq!(value(&text, "nginx_parse_errors_total{service=\"shop\"} "), Some(0.0));
    // stub_status counts every request, including the exporter's own reads.
    assert!(value(&text, "nginx_http_requests_total ").unwrap() >= total, "{text}");
    // Nothing is counted twice on later polls.
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(sum(&exp.scrape(), "nginx_http_response_count_total", &[]), total);
}

/// The request numbers in the log files, with how often each appears.
fn numbers_on_disk(nginx: &Nginx) -> BTreeMap<u32, u32> {
    let mut seen = BTreeMap::new();
    for entry in std::fs::read_dir(nginx.dir.path()).unwrap().flatten() {
        if !entry.file_name().to_string_lossy().starts_with("access.log") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap();
        for line in text.lines() {
            let n = line.split("/fast?n=").nth(1).and_then(|r| r.split(' ').next()).and_then(|n| n.parse().ok());
            if let Some(n) = n {
                *seen.entry(n).or_insert(0) += 1;
            }
        }
    }
    seen
}

#[test]
fn rename_and_copytruncate_in_the_middle_of_traffic_lose_and_double_count_nothing() {
    let Some(nginx) = Nginx::start(upstream()) else { return };
    // Statuses by class here (all 2xx): the same counts, fewer series.
    let exp = exporter(&args(&nginx, &["--nginx.access-log.status=class"]));
    exp.scrape();
    let log = nginx.log();
    let n = 600u32;
    std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::channel();
        let nginx = &nginx;
        s.spawn(move || {
            for i in 0..n {
                assert_eq!(nginx.get(&format!("/fast?n={i}")), 200);
                if i == 150 || i == 350 || i == 500 {
                    tx.send(i).unwrap();
                }
            }
        });
        // logrotate's default: rename, then `nginx -s reopen` while requests go on.
        assert_eq!(rx.recv().unwrap(), 150);
        std::fs::rename(&log, nginx.dir.path().join("access.log.1")).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        nginx.reopen();
        // copytruncate: copy, then truncate in place, nginx never told.
        assert_eq!(rx.recv().unwrap(), 350);
        std::fs::copy(&log, nginx.dir.path().join("access.log.2")).unwrap();
        std::fs::OpenOptions::new().write(true).open(&log).unwrap().set_len(0).unwrap();
        // And a second rename right after, before the first old file went idle.
        assert_eq!(rx.recv().unwrap(), 500);
        std::fs::rename(&log, nginx.dir.path().join("access.log.3")).unwrap();
        nginx.reopen();
    });
    let on_disk = numbers_on_disk(&nginx);
    let duplicated: Vec<_> = on_disk.iter().filter(|(_, c)| **c > 1).collect();
    assert!(duplicated.is_empty(), "lines twice on disk: {duplicated:?}");
    // logrotate's own copytruncate race (a line written between the copy and the
    // truncation) may lose a line on disk; what is on disk is what the exporter must count.
    let expected = on_disk.len() as f64;
    println!("{} of {n} requests on disk", on_disk.len());
    assert!(on_disk.len() as u32 >= n - 2, "{} of {n} on disk", on_disk.len());
    scrape_until(&exp, "every line on disk", |t| sum(t, "nginx_http_response_count_total", &[]) >= expected);
    // Polls go on: nothing may be counted twice later either.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let text = exp.scrape();
    let counted = sum(&text, "nginx_http_response_count_total", &[]);
    assert_eq!(counted, expected, "counted {counted}, on disk {expected}\n{text}\n{}", exp.log());
    assert_eq!(sum(&text, "nginx_http_response_count_total", &["status=\"2xx\""]), expected, "{text}");
    assert_eq!(value(&text, "nginx_parse_errors_total{service=\"shop\"} "), Some(0.0), "{text}");
}
