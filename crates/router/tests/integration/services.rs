//! With real services: Alertmanager 0.25 posting to the router, aiosmtpd with STARTTLS +
//! AUTH receiving the mail. Skipped (printing why) when they are not installed, unless
//! `VIGIE_REQUIRE_SERVICES=1`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::*;

fn post_alert(am_port: u16, ends_at: Option<&str>, starts_at: &str) {
    post_am_alert(
        am_port,
        r#"{"alertname":"HighCPU","instance":"web-1:9100","severity":"critical"}"#,
        r#"{"summary":"CPU > 80% on web-1","runbook_url":"https://runbooks.example/HighCPU","dashboard_url":"https://grafana.example/d/cpu"}"#,
        starts_at,
        ends_at,
    );
}

#[test]
fn alertmanager_to_mail_l1_l2_l3_then_resolve() {
    let Some(Setup { am, py, dir, smtp_port }) = setup() else { return };
    let d = dir.path();
    let _smtp = smtpd(&py, d, smtp_port, "starttls");
    let router_port = free_port();
    let cfg = router_config(d, smtp_port, "starttls", "3s", "6s");
    let _router = Router::start(&cfg, router_port);
    let (_am, am_port) = alertmanager(&am, d, router_port);
    let maildir = d.join("maildir");

    let start = now_rfc3339();
    post_alert(am_port, None, &start);
    let m = wait_mails(&maildir, 15, "level 1 to alice and bob", |m| {
        count(m, "alice@", "(level 1)") == 1 && count(m, "bob@", "(level 1)") == 1
    });
    assert_eq!(count(&m, "dora@", "level"), 0, "level 2 paged too early");
    let l1 = m.iter().find(|m| m.to.contains("alice@")).unwrap();
    assert!(l1.subject.starts_with("[FIRING:1] HighCPU web-1:9100 (level 1)"), "{}", l1.subject);
    for want in [
        "CPU > 80% on web-1",
        "https://runbooks.example/HighCPU",
        "https://grafana.example/d/cpu",
        "http://prometheus.example:9090/graph",
        "severity=critical",
        "text/html",
        "paged up to level 1",
    ] {
        assert!(l1.text.contains(want), "mail lacks {want:?}:\n{}", l1.text);
    }

    let m = wait_mails(&maildir, 15, "level 2 to dora", |m| count(m, "dora@", "(level 2)") == 1);
    assert_eq!(count(&m, "arch@", "level"), 0, "level 3 paged too early");
    wait_mails(&maildir, 15, "level 3 to arch", |m| count(m, "arch@", "(level 3)") == 1);

    post_alert(am_port, Some(&now_rfc3339()), &start);
    let m = wait_mails(&maildir, 15, "resolve to everyone paged", |m| {
        ["alice@", "bob@", "dora@", "arch@"].iter().all(|to| count(m, to, "[RESOLVED] HighCPU") == 1)
    });
    let r = m.iter().find(|m| m.to.contains("dora@") && m.subject.contains("RESOLVED")).unwrap();
    assert!(r.text.contains("resolved at"), "{}", r.text);
    // Nothing more after the resolve: no repeat, no late escalation.
    std::thread::sleep(Duration::from_secs(2));
    let after = mails(&maildir);
    assert_eq!(after.len(), 8, "{:?}", after.iter().map(|m| (&m.to, &m.subject)).collect::<Vec<_>>());
}

#[test]
fn kill_9_under_a_stream_of_webhooks() {
    let Some(Setup { am: _, py, dir, smtp_port }) = setup() else { return };
    let d = dir.path();
    let _smtp = smtpd(&py, d, smtp_port, "plain");
    let port = free_port();
    let cfg = router_config(d, smtp_port, "none", "1h", "2h");
    let router = Arc::new(Mutex::new(Router::start(&cfg, port)));
    let addr = router.lock().unwrap().addr;

    let acked = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut threads = Vec::new();
    for _ in 0..4 {
        let (acked, stop, next) = (acked.clone(), stop.clone(), next.clone());
        threads.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let body = group_body(i);
                let auth = format!("Bearer {TOKEN}");
                if let Ok((200, _)) = request(addr, "POST", "/api/v1/alertmanager", &[("Authorization", &auth)], &body)
                {
                    acked.lock().unwrap().push(i);
                }
            }
        }));
    }
    std::thread::sleep(Duration::from_millis(1500));
    router.lock().unwrap().kill9();
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 20, "only {} webhooks acknowledged before the kill", acked.len());
    // Restart on the same store.
    let _restarted = Router::start(&cfg, port);
    let maildir = d.join("maildir");
    let m = wait_mails(&maildir, 120, "level 1 mails for every acknowledged webhook", |m| {
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for mail in m {
            if mail.to.contains("alice@") {
                *seen.entry(mail.subject.clone()).or_default() += 1;
            }
        }
        acked.iter().all(|i| seen.contains_key(&format!("[FIRING:1] Crash i-{i} (level 1)")))
    });
    let mut copies: BTreeMap<(String, String), usize> = BTreeMap::new();
    for mail in &m {
        *copies.entry((mail.to.clone(), mail.subject.clone())).or_default() += 1;
    }
    let worst = copies.iter().max_by_key(|(_, n)| **n).map(|(k, n)| (k.clone(), *n));
    println!("{} acknowledged, {} mails, most copies of one: {worst:?}", acked.len(), m.len());
    assert!(copies.values().all(|n| *n <= 2), "a notification went out more than twice: {worst:?}");
}

#[test]
fn smtp_down_for_a_while_then_mail_arrives() {
    let Some(Setup { am: _, py, dir, smtp_port }) = setup() else { return };
    let d = dir.path();
    let cfg = router_config(d, smtp_port, "starttls", "1h", "2h");
    let r = Router::start(&cfg, free_port());
    assert_eq!(r.post(FIRING).0, 200);
    std::thread::sleep(Duration::from_millis(1500));
    let maildir = d.join("maildir");
    assert!(mails(&maildir).is_empty());
    let _smtp = smtpd(&py, d, smtp_port, "starttls");
    wait_mails(&maildir, 20, "level 1 after the SMTP server came back", |m| {
        count(m, "alice@", "(level 1)") == 1 && count(m, "bob@", "(level 1)") == 1
    });
    let log = std::fs::read_to_string(&r.log).unwrap();
    assert!(log.contains("will retry"), "no retry logged:\n{log}");
}
