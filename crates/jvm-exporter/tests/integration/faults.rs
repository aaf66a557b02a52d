//! Faults: Jolokia killed, a listener that never answers, basic auth (right and wrong
//! password, which never shows in logs or `/metrics`).
//!
//! The time checks here are hang guards for "`jvm_up 0` within the scrape deadline": the
//! scrape must answer before Prometheus would give up on it (its timeout header), plus slack
//! for a loaded 2-core machine.

use std::net::TcpListener;
use std::time::Duration;

use vigie_kit::testing::TempDir;

use super::common::{plain_jvm, scrape, scrape_with_timeout, spawn_ours};

/// Prometheus' timeout for these scrapes, and the slack allowed past it.
const TIMEOUT: &str = "3";
const SLACK: Duration = Duration::from_millis(1500);

#[test]
fn jolokia_killed_gives_up_0_then_recovers_on_probe() {
    let Some(mut jvm) = plain_jvm(None) else { return };
    let ours = spawn_ours(&jvm.url, &[]);
    assert_eq!(scrape(&ours).one("jvm_up", &[]), 1.0, "{}", ours.log());
    jvm.process.signal("KILL").expect("kill the JVM");
    assert!(jvm.process.wait_exit(Duration::from_secs(30)).is_some(), "the JVM did not exit");
    let (s, took) = scrape_with_timeout(&ours, TIMEOUT);
    assert_eq!(s.one("jvm_up", &[]), 0.0);
    assert!(took < Duration::from_secs(3) + SLACK, "took {took:?}");
    assert!(!s.has("jvm_threads_current"), "no JVM family when Jolokia is down");
    // A new JVM on the same exporter (through /probe) is read again.
    let Some(jvm2) = plain_jvm(None) else { return };
    let r = ours.get(&format!("/probe?target={}", jvm2.url), &[]);
    assert!(r.text().contains("\njvm_up 1\n"), "{}", r.text());
}

#[test]
fn silent_listener_gives_up_0_within_the_deadline() {
    // Accepts TCP connections (the kernel's backlog) but never answers.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let ours = spawn_ours(&format!("http://{addr}/jolokia"), &[]);
    for _ in 0..2 {
        let (s, took) = scrape_with_timeout(&ours, TIMEOUT);
        assert_eq!(s.one("jvm_up", &[]), 0.0);
        assert!(took < Duration::from_secs(3) + SLACK, "took {took:?}");
    }
    drop(listener);
}

#[test]
fn basic_auth_password_never_shown() {
    let password = "s3cret-vigie-4711";
    let Some(jvm) = plain_jvm(Some(&format!("vigie:{password}"))) else { return };
    let dir = TempDir::new("vigie-jvm-auth").expect("temp dir");
    let good = dir.path().join("good");
    let bad = dir.path().join("bad");
    std::fs::write(&good, format!("{password}\n")).expect("write");
    std::fs::write(&bad, "wrong-pass-0815").expect("write");
    // base64 of "vigie:<password>" would be what a careless log prints.
    let forbidden = [password, "wrong-pass-0815", "dmlnaWU6czNjcmV0"];
    for (file, up) in [(&good, 1.0), (&bad, 0.0)] {
        let ours = spawn_ours(
            &jvm.url,
            &["--jolokia.user=vigie", &format!("--jolokia.password-file={}", file.display()), "--log.level=debug"],
        );
        let s = scrape(&ours);
        assert_eq!(s.one("jvm_up", &[]), up, "{}", ours.log());
        let _ = scrape(&ours);
        let log = ours.log();
        for f in forbidden {
            assert!(!s.text.contains(f) && !log.contains(f), "{f} shown:\n{log}");
        }
        if up == 0.0 {
            assert!(log.contains("401"), "the log says why: {log}");
        }
    }
    // Without credentials: 401, up 0.
    let ours = spawn_ours(&jvm.url, &[]);
    assert_eq!(scrape(&ours).one("jvm_up", &[]), 0.0);
}
