//! The Slack and SMS channels against local HTTP servers standing in for Slack's and
//! Twilio's endpoints (`mock_http.rs`; the real services are out of reach here, and tests
//! must not page anyone), scripted to answer 200/201, 429 with `Retry-After`, and 5xx. The
//! router runs as a process and gets its alerts from a real Alertmanager where that adds
//! something (the fire → escalate → resolve path of the bot-token test), else from posts to
//! its webhook.
//!
//! Assertions are on recorded request order and arrival times against what the router was
//! told (`Retry-After`, the spacing per webhook), never on how fast anything went.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use vigie_router::channels::sms::{segments, Encoding};

use crate::mock_http::{MockHttp, Recorded, Reply};
use crate::support::*;

/// The router's log, `/metrics` and store files hold none of `secrets`.
fn assert_no_secrets(r: &Router, dir: &Path, secrets: &[&str]) {
    let log = std::fs::read_to_string(&r.log).unwrap();
    let (st, metrics) = request(r.addr, "GET", "/metrics", &[], b"").unwrap();
    assert_eq!(st, 200);
    assert!(metrics.contains("vigie_router_notifications_sent_total"), "{metrics}");
    let mut db = Vec::new();
    for f in ["router.db", "router.db-wal"] {
        db.extend(std::fs::read(dir.join(f)).unwrap_or_default());
    }
    assert!(db.len() > 1000, "no store found");
    for s in secrets {
        assert!(!log.contains(s), "secret {s} in the log:\n{log}");
        assert!(!metrics.contains(s), "secret {s} in /metrics");
        assert!(!db.windows(s.len()).any(|w| w == s.as_bytes()), "secret {s} in the store");
    }
}

/// The incident id the "Acknowledge" button carries.
fn ack_value(r: &Recorded) -> i64 {
    let m = r.json();
    let actions = m["blocks"]
        .as_array()
        .unwrap_or_else(|| panic!("no blocks: {m}"))
        .iter()
        .find(|b| b["type"] == "actions")
        .unwrap_or_else(|| panic!("no actions block: {m}"));
    assert_eq!(actions["elements"][0]["action_id"], "vigie_ack", "{m}");
    actions["elements"][0]["value"].as_str().unwrap().parse().unwrap()
}

#[test]
fn slack_webhook_honours_retry_after_retries_5xx_and_spaces_messages() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let hook = "/services/T000/B000/SECRETHOOK";
    let slack = MockHttp::start(|_, n| match n {
        0 => Reply::new(429, "rate_limited").header("Retry-After", "2"),
        1 => Reply::new(500, "rollup_error"),
        _ => Reply::new(200, "ok"),
    });
    write(d, "slack-url", &format!("{}{hook}\n", slack.base()));
    let cfg = write_config(
        d,
        "slack:
  webhooks:
    - name: ops-l1
      url: {file: slack-url}
  min_interval: 300ms
delivery: {initial_backoff: 200ms, max_backoff: 1s, max_attempts: 100}
contacts:
  - {name: ops, slack: ops-l1}
policies:
  - name: p
    levels:
      - {targets: [ops], channels: [slack]}
route: {policy: p}
",
    );
    let r = Router::start(&cfg, free_port());
    for i in 0..3 {
        assert_eq!(r.post(&group_body(i)).0, 200);
    }
    let delivered = |all: &[Recorded]| {
        let mut by: BTreeMap<i64, usize> = BTreeMap::new();
        for x in all.iter().filter(|x| x.status == 200) {
            *by.entry(ack_value(x)).or_default() += 1;
        }
        by
    };
    slack.wait(40, "a message for each of the three incidents", |all| delivered(all).len() == 3);
    std::thread::sleep(Duration::from_millis(1500)); // would a duplicate follow?
    let all = slack.all();
    let by = delivered(&all);
    println!("requests: {:?}", all.iter().map(|x| x.status).collect::<Vec<_>>());
    assert_eq!(by.keys().copied().collect::<Vec<_>>(), vec![1, 2, 3], "nothing lost");
    assert!(by.values().all(|n| *n <= 2), "more than one duplicate: {by:?}");
    assert!(all.iter().all(|x| x.path == hook && x.method == "POST"));

    // The 429 asked for 2 s: nothing reached the webhook sooner.
    assert_eq!((all[0].status, all[1].status), (429, 500));
    for x in &all[1..] {
        assert!(x.t.duration_since(all[0].t) >= Duration::from_secs(2), "request {:?} after the 429", x.t - all[0].t);
    }
    // One message per 300 ms per webhook (50 ms allowed for loopback jitter between arrivals).
    for w in all.windows(2) {
        let gap = w[1].t.duration_since(w[0].t);
        assert!(gap >= Duration::from_millis(250), "two requests {gap:?} apart");
    }

    // Block Kit: header, fields, the ack button for the incident, the severity colour.
    let m = all.iter().find(|x| x.status == 200).unwrap();
    let id = ack_value(m);
    let j = m.json();
    assert_eq!(j["blocks"][0]["type"], "header");
    assert!(j["text"].as_str().unwrap().starts_with("[FIRING:1] Crash i-"), "{j}");
    assert_eq!(j["attachments"][0]["color"], "#e01e5a", "critical is red");
    let s = j.to_string();
    assert!(s.contains(&format!("Incident #{id}")), "{s}");
    for want in ["<https://runbooks.example/HighCPU|Runbook>", "|Source>", "`severity=critical`", "*Level*\\n1"] {
        assert!(s.contains(want), "message lacks {want}: {s}");
    }
    assert_eq!(m.header("content-type"), Some("application/json"));

    let log = std::fs::read_to_string(&r.log).unwrap();
    assert!(log.contains("slack webhook: 429 rate limited") && log.contains("500 rollup_error"), "{log}");
    assert_no_secrets(&r, d, &["SECRETHOOK"]);
}

fn am_post(am_port: u16, ends_at: Option<&str>, starts_at: &str) {
    post_am_alert(
        am_port,
        r#"{"alertname":"DiskFull","instance":"db-1","severity":"warning"}"#,
        r#"{"summary":"Disk 95% full on db-1"}"#,
        starts_at,
        ends_at,
    );
}

#[test]
fn alertmanager_to_slack_bot_posts_then_updates_in_place() {
    // Alertmanager, and an SMTP server to show that an ack mails nobody.
    let Some(Setup { am, py, dir, smtp_port }) = setup() else { return };
    let d = dir.path();
    let _smtp = smtpd(&py, d, smtp_port, "plain");
    let maildir = d.join("maildir");
    let ts = "1700000000.000100";
    let slack = MockHttp::start(move |r, n| match r.path.as_str() {
        "/api/chat.postMessage" => Reply::new(
            200,
            &format!(
                r#"{{"ok":true,"channel":"C0TESTCHAN","ts":"{}"}}"#,
                if n == 0 { ts } else { "1700000000.000200" }
            ),
        ),
        "/api/chat.update" => Reply::new(200, &format!(r#"{{"ok":true,"channel":"C0TESTCHAN","ts":"{ts}"}}"#)),
        _ => Reply::new(404, r#"{"ok":false,"error":"unknown_method"}"#),
    });
    write(d, "slack-bot-token", "xoxb-SECRETBOT\n");
    write(d, "api-token", API_TOKEN);
    let cfg = write_config(
        d,
        &format!(
            "slack:
  bot_token: {{file: slack-bot-token}}
  api_url: {}/api
  min_interval: 100ms
email: {{smarthost: '127.0.0.1:{smtp_port}', from: vigie@example.org, tls: none, timeout: 5s}}
api: {{bearer_token: {{file: api-token}}}}
delivery: {{initial_backoff: 200ms, max_backoff: 1s, max_attempts: 100}}
contacts:
  - {{name: ops, slack: C0TESTCHAN, email: ops@example.org}}
policies:
  - name: p
    levels:
      - {{targets: [ops], channels: [slack, email]}}
      - {{targets: [ops], channels: [slack], delay: 2s}}
route: {{policy: p}}
",
            slack.base()
        ),
    );
    let router_port = free_port();
    let r = Router::start(&cfg, router_port);
    let (_am, am_port) = alertmanager(&am, d, router_port);
    let start = now_rfc3339();
    am_post(am_port, None, &start);

    // Level 1: a new message.
    let all = slack.wait(15, "chat.postMessage", |a| a.iter().any(|x| x.path == "/api/chat.postMessage"));
    let first = &all[0];
    assert_eq!(first.path, "/api/chat.postMessage");
    assert_eq!(first.header("authorization"), Some("Bearer xoxb-SECRETBOT"));
    let j = first.json();
    assert_eq!(j["channel"], "C0TESTCHAN");
    assert!(j.get("ts").is_none() && j.get("thread_ts").is_none(), "{j}");
    assert_eq!(j["attachments"][0]["color"], "#ecb22e", "warning is yellow");
    let id = ack_value(first);

    // Level 2: the same message updated, and a broadcast reply in its thread.
    let all = slack.wait(15, "level 2: chat.update + thread reply", |a| {
        a.iter().any(|x| x.path == "/api/chat.update")
            && a.iter().filter(|x| x.path == "/api/chat.postMessage").count() == 2
    });
    let up = all.iter().find(|x| x.path == "/api/chat.update").unwrap().json();
    assert_eq!((up["channel"].as_str(), up["ts"].as_str()), (Some("C0TESTCHAN"), Some(ts)), "{up}");
    assert!(up["text"].as_str().unwrap().contains("(level 2)"), "{up}");
    let reply = all.iter().filter(|x| x.path == "/api/chat.postMessage").nth(1).unwrap().json();
    assert_eq!((reply["thread_ts"].as_str(), reply["reply_broadcast"].as_bool()), (Some(ts), Some(true)), "{reply}");

    // Ack through the API: the same message updated in place, saying who, how and until
    // when, without the ack button; no thread reply, and no mail (a sent mail cannot change).
    let (st, v) = api(&r, "POST", &format!("/api/v1/incidents/{id}/ack"), r#"{"by": "dora"}"#);
    assert_eq!(st, 200, "{v}");
    let all = slack.wait(15, "ack: chat.update", |a| {
        a.iter().any(|x| x.path == "/api/chat.update" && x.body.contains("Acknowledged by"))
    });
    let ack = all.iter().find(|x| x.path == "/api/chat.update" && x.body.contains("Acknowledged by")).unwrap();
    let aj = ack.json();
    assert_eq!((aj["channel"].as_str(), aj["ts"].as_str()), (Some("C0TESTCHAN"), Some(ts)), "{aj}");
    let blocks = aj["blocks"].to_string();
    assert!(blocks.contains("Acknowledged by") && blocks.contains("via api, until"), "{blocks}");
    assert!(!ack.body.contains("vigie_ack"), "no ack button while acknowledged: {}", ack.body);
    assert_eq!(all.iter().filter(|x| x.path == "/api/chat.postMessage").count(), 2, "no reply for an ack");
    let m = wait_mails(&maildir, 15, "level 1 mail", |m| count(m, "ops@", "(level 1)") == 1);
    assert_eq!(m.len(), 1, "only level 1 mailed: {:?}", m.iter().map(|m| &m.subject).collect::<Vec<_>>());

    // Resolve: the same message again, green, without the ack button.
    am_post(am_port, Some(&now_rfc3339()), &start);
    let all = slack.wait(15, "resolve: chat.update", |a| {
        a.iter().any(|x| x.path == "/api/chat.update" && x.body.contains("[RESOLVED]"))
    });
    let res = all.iter().find(|x| x.path == "/api/chat.update" && x.body.contains("[RESOLVED]")).unwrap();
    let rj = res.json();
    assert_eq!((rj["channel"].as_str(), rj["ts"].as_str()), (Some("C0TESTCHAN"), Some(ts)));
    assert_eq!(rj["attachments"][0]["color"], "#2eb67d");
    assert!(!res.body.contains("vigie_ack"), "no ack button once resolved");
    assert!(res.body.contains(&format!("Incident #{id} resolved")), "{}", res.body);
    // Only one top-level message for the whole incident (resolved notifications go once per
    // paged target; both levels paged the same channel, so at most two updates follow).
    std::thread::sleep(Duration::from_millis(1500));
    let all = slack.all();
    let top = all.iter().filter(|x| x.path == "/api/chat.postMessage" && !x.body.contains("thread_ts")).count();
    assert_eq!(top, 1, "{:?}", all.iter().map(|x| &x.path).collect::<Vec<_>>());
    let m = wait_mails(&maildir, 15, "resolve mail", |m| count(m, "ops@", "[RESOLVED]") == 1);
    assert!(m.iter().all(|m| !m.subject.contains("ACKNOWLEDGED")), "an ack was mailed");
    assert_eq!(m.len(), 2, "{:?}", m.iter().map(|m| &m.subject).collect::<Vec<_>>());
    assert_no_secrets(&r, d, &["SECRETBOT", API_TOKEN]);
}

#[test]
fn twilio_retries_429_and_5xx_and_sends_two_segments_with_the_ack_code() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let path = "/2010-04-01/Accounts/AC0123456789/Messages.json";
    let twilio = MockHttp::start(|_, n| match n {
        0 => Reply::new(429, r#"{"code":20429,"message":"Too Many Requests","status":429}"#).header("Retry-After", "1"),
        1 => Reply::new(503, r#"{"code":20503,"message":"Service unavailable","status":503}"#),
        _ => Reply::new(201, &format!(r#"{{"sid":"SM{n:032}","status":"queued","error_code":null}}"#)),
    });
    write(d, "twilio-token", "SECRETTWILIO\n");
    let cfg = write_config(
        d,
        &format!(
            "sms:
  twilio:
    account_sid: AC0123456789
    auth_token: {{file: twilio-token}}
    from: \"+15005550006\"
    api_url: {}
delivery: {{initial_backoff: 200ms, max_backoff: 1s, max_attempts: 100}}
contacts:
  - {{name: alice, phone: \"+33600000001\"}}
policies:
  - name: p
    levels:
      - {{targets: [alice], channels: [sms]}}
route: {{policy: p}}
",
            twilio.base()
        ),
    );
    let r = Router::start(&cfg, free_port());
    // A long summary with a character outside GSM-7: UCS-2, two segments = 134 units.
    let long = format!("Disk on db-1 is filling: {}", "żółw ".repeat(60));
    let body = String::from_utf8_lossy(FIRING).replace("CPU \\u003e 80% on web-1", &long);
    assert_ne!(body.as_bytes(), FIRING);
    assert_eq!(r.post(body.as_bytes()).0, 200);
    let all = twilio.wait(20, "a 201", |a| a.iter().any(|x| x.status == 201));
    std::thread::sleep(Duration::from_millis(1500)); // would a duplicate follow?
    let all2 = twilio.all();
    assert!(all2.iter().filter(|x| x.status == 201).count() <= 2, "more than one duplicate");
    assert_eq!(all.iter().map(|x| x.status).collect::<Vec<_>>(), vec![429, 503, 201]);
    assert!(all[1].t.duration_since(all[0].t) >= Duration::from_secs(1), "Retry-After: 1 not honoured");

    let ok = &all[2];
    assert_eq!((ok.method.as_str(), ok.path.as_str()), ("POST", path));
    let auth = format!("Basic {}", vigie_kit::web_config::base64_encode(b"AC0123456789:SECRETTWILIO"));
    assert_eq!(ok.header("authorization"), Some(auth.as_str()));
    assert_eq!(ok.header("content-type"), Some("application/x-www-form-urlencoded"));
    let f: BTreeMap<String, String> = ok.form().into_iter().collect();
    assert_eq!(f.get("To").map(String::as_str), Some("+33600000001"));
    assert_eq!(f.get("From").map(String::as_str), Some("+15005550006"));
    let text = &f["Body"];
    assert!(text.starts_with("FIRING L1 #1 HighCPU web-1:9100: Disk on db-1"), "{text}");
    assert!(text.ends_with("Reply ACK 1"), "{text}");
    let (enc, units, n) = segments(text);
    assert_eq!(enc, Encoding::Ucs2);
    assert!(n <= 2 && units <= 134, "{n} segments, {units} units: {text}");
    assert!(text.contains("..."), "the summary was shortened: {text}");

    let log = std::fs::read_to_string(&r.log).unwrap();
    assert!(log.contains("20429") && log.contains("twilio 503"), "{log}");
    assert_no_secrets(&r, d, &["SECRETTWILIO", &auth["Basic ".len()..]]);
}

#[test]
fn sms_gateway_template_and_a_rejected_number_pages_the_next_level_now() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let gw = MockHttp::start(|r, _| {
        if r.path.contains("to=%2B33600000001") {
            Reply::new(400, r#"{"error":"unknown subscriber"}"#)
        } else {
            Reply::new(202, r#"{"id":"m-1"}"#)
        }
    });
    write(d, "gw-key", "SECRETGW\n");
    let cfg = write_config(
        d,
        &format!(
            "sms:
  gateway:
    url: \"{}/send?key={{{{secret}}}}&to={{{{to}}}}\"
    headers: {{Authorization: \"Bearer {{{{secret}}}}\"}}
    body: '{{\"text\": \"{{{{text}}}}\", \"ref\": {{{{incident}}}}}}'
    secret: {{file: gw-key}}
    success: [202]
delivery: {{initial_backoff: 200ms, max_backoff: 1s, max_attempts: 100}}
contacts:
  - {{name: alice, phone: \"+33600000001\"}}
  - {{name: bob, phone: \"+33600000002\"}}
policies:
  - name: p
    levels:
      - {{targets: [alice], channels: [sms]}}
      - {{targets: [bob], channels: [sms], delay: 1h}}
route: {{policy: p}}
",
            gw.base()
        ),
    );
    let r = Router::start(&cfg, free_port());
    assert_eq!(r.post(FIRING).0, 200);
    let all =
        gw.wait(20, "level 2 (bob) paged after alice's number was rejected", |a| a.iter().any(|x| x.status == 202));
    let rejected = all.iter().find(|x| x.status == 400).unwrap();
    assert!(rejected.path.starts_with("/send?key=SECRETGW&to=%2B33600000001"), "{}", rejected.path);
    assert_eq!(all.iter().filter(|x| x.status == 400).count(), 1, "a rejection is not retried");
    let ok = all.iter().find(|x| x.status == 202).unwrap();
    assert_eq!(ok.path, "/send?key=SECRETGW&to=%2B33600000002");
    assert_eq!(ok.header("authorization"), Some("Bearer SECRETGW"));
    assert_eq!(ok.header("content-type"), Some("application/json"));
    let j = ok.json();
    assert_eq!(j["ref"], 1);
    let text = j["text"].as_str().unwrap();
    assert!(text.starts_with("FIRING L2 #1 HighCPU web-1:9100: CPU > 80% on web-1"), "{text}");
    assert!(text.ends_with("Reply ACK 1"), "{text}");
    assert!(segments(text).2 <= 2, "{text}");
    let log = std::fs::read_to_string(&r.log).unwrap();
    assert!(log.contains("rejected: gateway: 400"), "{log}");
    assert_no_secrets(&r, d, &["SECRETGW"]);
}

#[test]
fn slack_over_https_needs_a_trusted_certificate_and_loses_nothing_meanwhile() {
    let (Some(ssl), Some(py)) = (openssl(), python()) else {
        skip("no openssl or python3 for the HTTPS stand-in (apt openssl python3)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    make_cert(&ssl, d);
    let port = free_port();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/https_server.py");
    let record = d.join("received.txt");
    let _server = Proc(
        std::process::Command::new(py)
            .arg(script)
            .arg(port.to_string())
            .arg(d.join("cert.pem"))
            .arg(d.join("key.pem"))
            .arg(&record)
            .spawn()
            .unwrap(),
    );
    wait_port(port);
    write(d, "slack-url", &format!("https://localhost:{port}/services/T000/B000/SECRETTLS\n"));
    let config = |ca: &str| {
        format!(
            "slack:
  webhooks:
    - {{name: ops-l1, url: {{file: slack-url}}}}
{ca}delivery: {{initial_backoff: 200ms, max_backoff: 500ms, max_attempts: 1000}}
contacts:
  - {{name: ops, slack: ops-l1}}
policies:
  - name: p
    levels:
      - {{targets: [ops], channels: [slack]}}
route: {{policy: p}}
"
        )
    };
    // The test CA is not trusted: every attempt fails its TLS handshake and is retried.
    let cfg = write_config(d, &config(""));
    let mut r = Router::start(&cfg, free_port());
    assert_eq!(r.post(FIRING).0, 200);
    let t0 = std::time::Instant::now();
    while !std::fs::read_to_string(&r.log).unwrap().contains("TLS") {
        assert!(t0.elapsed() < Duration::from_secs(15), "no TLS failure logged");
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = std::fs::read_to_string(&r.log).unwrap();
    let line = log.lines().find(|l| l.contains("TLS")).unwrap();
    println!("{line}");
    assert!(line.contains(&format!("localhost:{port}: TLS")), "{line}");
    assert!(!record.exists(), "delivered to an untrusted server");
    r.kill9();
    // Trusting it (slack.ca_file), the same store delivers the page once.
    let cfg = write_config(d, &config("  ca_file: ca.pem\n"));
    let r = Router::start(&cfg, free_port());
    let t0 = std::time::Instant::now();
    while std::fs::read_to_string(&record).unwrap_or_default().is_empty() {
        assert!(t0.elapsed() < Duration::from_secs(15), "nothing delivered over TLS");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(1000));
    let got = std::fs::read_to_string(&record).unwrap();
    assert_eq!(got.lines().count(), 1, "{got}");
    assert!(got.starts_with("/services/T000/B000/SECRETTLS "), "{got}");
    assert_no_secrets(&r, d, &["SECRETTLS"]);
}

/// A python3 (any: the HTTPS stand-in uses only the standard library).
fn python() -> Option<std::path::PathBuf> {
    let p = std::path::PathBuf::from(std::env::var("VIGIE_TEST_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into()));
    p.exists().then_some(p)
}

#[test]
fn a_slack_storm_does_not_hold_up_sms() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let slack = MockHttp::start(|_, _| Reply::new(200, "ok"));
    let twilio = MockHttp::start(|_, _| Reply::new(201, r#"{"sid":"SM1","status":"queued"}"#));
    write(d, "slack-url", &format!("{}/services/T000/B000/STORM\n", slack.base()));
    write(d, "twilio-token", "t\n");
    let cfg = write_config(
        d,
        &format!(
            "slack:
  webhooks:
    - {{name: ops-l1, url: {{file: slack-url}}}}
  min_interval: 500ms
sms:
  twilio: {{account_sid: AC1, auth_token: {{file: twilio-token}}, from: \"+15005550006\", api_url: {}}}
contacts:
  - {{name: ops, slack: ops-l1}}
  - {{name: alice, phone: \"+33600000001\"}}
policies:
  - name: chat
    levels:
      - {{targets: [ops], channels: [slack]}}
  - name: phone
    levels:
      - {{targets: [alice], channels: [sms]}}
route:
  policy: chat
  routes:
    - matchers: ['pager=\"sms\"']
      policy: phone
",
            twilio.base()
        ),
    );
    let r = Router::start(&cfg, free_port());
    // 60 Slack pages to one webhook: 30 s of spacing at 500 ms. Then one SMS page.
    for i in 0..60 {
        assert_eq!(r.post(&group_body(i)).0, 200);
    }
    slack.wait(15, "the storm's first Slack message", |a| !a.is_empty());
    let paging = String::from_utf8_lossy(FIRING).replace(
        "\"groupLabels\":{\"alertname\":\"HighCPU\",",
        "\"groupLabels\":{\"pager\":\"sms\",\"alertname\":\"HighCPU\",",
    );
    assert_ne!(paging.as_bytes(), FIRING);
    assert_eq!(r.post(paging.as_bytes()).0, 200);
    let sms = twilio.wait(15, "the SMS page", |a| !a.is_empty());
    let slack_before = slack.all().iter().filter(|x| x.t < sms[0].t).count();
    println!("Slack messages sent before the SMS: {slack_before} of 60");
    // The Slack sends waiting for their turn hold at most half of the 32 delivery slots, so
    // the SMS is claimed at once. Without that, it would queue behind the older Slack rows:
    // each of the 60 - 32 not yet claimed goes first as a slot frees (29 messages, ~14 s).
    assert!(slack_before < 8, "the SMS waited for {slack_before} Slack messages");
}
