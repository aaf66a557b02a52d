//! Bad input over HTTP: each gets its status and a reason; nothing accepted is lost.

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use crate::support::*;

fn metric(r: &Router, name: &str) -> f64 {
    let (_, body) = request(r.addr, "GET", "/metrics", &[], b"").unwrap();
    body.lines()
        .find(|l| l.starts_with(name) && l.as_bytes().get(name.len()) == Some(&b' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[test]
fn bad_input_gets_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = router_config(dir.path(), free_port(), "none", "1h", "2h");
    let r = Router::start(&cfg, free_port());

    let (st, body) = r.post(b"{\"version\":\"4\",\"receiver\":");
    assert_eq!(st, 400, "{body}");
    assert!(body.starts_with("invalid webhook body: EOF while parsing"), "{body}");

    let v5 = String::from_utf8_lossy(FIRING).replace("\"version\":\"4\"", "\"version\":\"5\"");
    let (st, body) = r.post(v5.as_bytes());
    assert_eq!((st, body.as_str()), (400, "unsupported payload version \"5\" (expected \"4\")\n"));

    let wrong = request(r.addr, "POST", "/api/v1/alertmanager", &[("Authorization", "Bearer nope")], FIRING).unwrap();
    assert_eq!(wrong.0, 401, "{}", wrong.1);
    assert!(wrong.1.contains("Unauthorized"));
    let none = request(r.addr, "POST", "/api/v1/alertmanager", &[], FIRING).unwrap();
    assert_eq!(none.0, 401);

    // 10 MB declared: refused from the header.
    let big = vec![b' '; 10 << 20];
    let (st, body) = r.post(&big);
    assert_eq!(st, 413, "{body}");
    assert!(body.contains("larger than 1048576 bytes"), "{body}");

    // 10 MB chunked (no length): refused once the limit is crossed, while still sending.
    let mut s = TcpStream::connect(r.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let head = format!(
        "POST /api/v1/alertmanager HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).unwrap();
    let mut w = s.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        let chunk = vec![b'x'; 64 << 10];
        for _ in 0..160 {
            if w.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).is_err()
                || w.write_all(&chunk).is_err()
                || w.write_all(b"\r\n").is_err()
            {
                break;
            }
        }
        let _ = w.write_all(b"0\r\n\r\n");
    });
    let (st, body) = read_response(s).unwrap();
    let _ = writer.join();
    assert_eq!(st, 413, "{body}");

    let (st, _) = request(r.addr, "GET", "/api/v1/alertmanager", &[], b"").unwrap();
    assert_eq!(st, 405);

    // The real capture is accepted; its identical retry is recognised.
    assert_eq!(r.post(FIRING).0, 200);
    assert_eq!(r.post(FIRING).0, 200);
    assert_eq!(metric(&r, "vigie_router_alerts_received_total"), 1.0);
    assert_eq!(metric(&r, "vigie_router_webhooks_duplicate_total"), 1.0);
}

#[test]
fn check_config_prints_every_error_and_exits_1() {
    let bad = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/config/bad/email_missing.yml");
    let out =
        std::process::Command::new(env!("CARGO_BIN_EXE_vigie-router")).arg("check-config").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("email_missing.yml:7:7: policies[0].levels[0]: channel email needs"), "{err}");
    let good = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/config/good.yml");
    let out =
        std::process::Command::new(env!("CARGO_BIN_EXE_vigie-router")).arg("check-config").arg(&good).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn routes_test_prints_policy_and_steps() {
    let good = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/config/good.yml");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vigie-router"))
        .args(["routes", "test", "--config"])
        .arg(&good)
        .args(["--labels", "severity=critical,level=2"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let want = "policy: critical\n  +0s         level 2: dora <email:dora@example.org>\n  +20m        level 3: arch <email:arch@example.org>\n";
    assert_eq!(text, want);
}
