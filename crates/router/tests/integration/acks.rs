//! Acknowledgements against the real services (Alertmanager posting to the router, aiosmtpd
//! receiving the mail): each ack path (signed link, API, Slack button, Twilio SMS) stops
//! the escalation, so level 2 is never mailed; forged and expired links get 403 and change
//! nothing; an ack that expires and an unack resume the escalation; the Markdown RCA holds
//! every event in order; `/metrics` passes `promtool check metrics`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use vigie_router::acks::{self, Action, Signer};

use crate::support::*;

/// Level 2's delay: long enough to ack level 1 first, short enough for a test.
const L2: &str = "4s";
const L2_WAIT: Duration = Duration::from_secs(6);

/// A router with an acknowledgeable incident (#1), its Alertmanager and SMTP server.
pub struct Running {
    _smtp: Proc,
    _am: Proc,
    pub router: Router,
    pub maildir: PathBuf,
    cfg: PathBuf,
    am_port: u16,
    started: String,
    _dir: tempfile::TempDir,
}

fn post_alert(am_port: u16, ends_at: Option<&str>, starts_at: &str) {
    post_am_alert(
        am_port,
        r#"{"alertname":"DiskFull","instance":"db-1:9100","severity":"critical"}"#,
        r#"{"summary":"/var is 97% full on db-1","runbook_url":"https://runbooks.example/DiskFull"}"#,
        starts_at,
        ends_at,
    );
}

/// Router + Alertmanager + SMTP; one alert fired and level 1 mailed. `None` when skipped.
pub fn start(ack_ttl: &str) -> Option<Running> {
    let Setup { am, py, dir, smtp_port } = setup()?;
    let d = dir.path();
    let smtp = smtpd(&py, d, smtp_port, "plain");
    let port = free_port();
    let cfg = ack_config(d, smtp_port, port, L2, ack_ttl);
    let router = Router::start(&cfg, port);
    let (am_proc, am_port) = alertmanager(&am, d, port);
    let started = now_rfc3339();
    post_alert(am_port, None, &started);
    let maildir = d.join("maildir");
    wait_mails(&maildir, 15, "level 1 to alice and bob", |m| {
        count(m, "alice@", "(level 1)") == 1 && count(m, "bob@", "(level 1)") == 1
    });
    Some(Running { _smtp: smtp, _am: am_proc, router, maildir, cfg, am_port, started, _dir: dir })
}

/// Waits past level 2's delay and checks dora got nothing.
fn level_2_never_mailed(r: &Running) {
    std::thread::sleep(L2_WAIT);
    let m = mails(&r.maildir);
    assert_eq!(count(&m, "dora@", ""), 0, "level 2 was paged despite the ack: {:?}", subjects(&m));
}

fn subjects(m: &[Mail]) -> Vec<String> {
    m.iter().map(|m| format!("{} | {}", m.to, m.subject)).collect()
}

/// The signed link in alice's level-1 mail, as a path + query.
fn link_from_mail(r: &Running) -> String {
    let m = mails(&r.maildir);
    let mail = m.iter().find(|m| m.to.contains("alice@")).unwrap();
    let at = mail.text.find("/ack/").unwrap_or_else(|| panic!("no ack link in the mail:\n{}", mail.text));
    mail.text[at..].split(|c: char| c.is_whitespace() || c == '"' || c == '<').next().unwrap().replace("&amp;", "&")
}

fn timeline_kinds(r: &Router, id: i64) -> Vec<String> {
    let (_, v) = api(r, "GET", &format!("/api/v1/incidents/{id}"), "");
    v["timeline"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn signed_link_acks_and_forged_or_expired_links_get_403() {
    let Some(r) = start("1h") else { return };
    let link = link_from_mail(&r);
    assert!(link.starts_with("/ack/1?a=ack&c=alice&e="), "{link}");
    let addr = r.router.addr;

    // Forged: one signature digit changed. Expired: properly signed, but an hour ago.
    let last = link.chars().last().unwrap();
    let forged = format!("{}{}", &link[..link.len() - 1], if last == '0' { '1' } else { '0' });
    let signer = Signer::new(ACK_KEY.as_bytes());
    let past = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64 - 3600;
    let expired = format!("/ack/1?{}", signer.link_query(1, Action::Ack, "alice", past));
    let other_key = format!("/ack/1?{}", Signer::new(b"not the key").link_query(1, Action::Ack, "alice", past + 7200));
    for bad in [&forged, &expired, &other_key] {
        let (st, body) = request(addr, "GET", bad, &[], b"").unwrap();
        assert_eq!(st, 403, "GET {bad}: {body}");
        let (path, query) = bad.split_once('?').unwrap();
        let (st, body) = post_form(addr, path, &[], query);
        assert_eq!(st, 403, "POST {bad}: {body}");
    }
    assert_eq!(incident_state(&r.router, 1), ("firing".into(), None), "a refused link changed the incident");

    // A GET (what a mail scanner does) only shows the confirmation page.
    let (st, page) = request(addr, "GET", &link, &[], b"").unwrap();
    assert_eq!(st, 200, "{page}");
    assert!(page.contains("<form method=\"post\"") && page.contains("Acknowledge incident #1"), "{page}");
    assert_eq!(incident_state(&r.router, 1).0, "firing", "a GET acknowledged");
    let (path, query) = link.split_once('?').unwrap();
    let (st, page) = post_form(addr, path, &[], query);
    assert_eq!(st, 200, "{page}");
    assert!(page.contains("acknowledged"), "{page}");
    assert_eq!(incident_state(&r.router, 1), ("acknowledged".into(), Some("link:alice".into())));
    level_2_never_mailed(&r);
}

#[test]
fn api_ack_unack_reassign_note_resolve_and_the_rca() {
    let Some(r) = start("1h") else { return };
    let rt = &r.router;
    // Without the token: 401, nothing changes.
    let (st, _) = request(rt.addr, "POST", "/api/v1/incidents/1/ack", &[], b"{}").unwrap();
    assert_eq!(st, 401);
    let (st, _) = request(rt.addr, "GET", "/api/v1/incidents", &[("Authorization", "Bearer nope")], b"").unwrap();
    assert_eq!(st, 401);
    let (st, v) = api(rt, "GET", "/api/v1/incidents", "");
    assert_eq!((st, v["incidents"][0]["id"].as_i64()), (200, Some(1)), "{v}");

    let (st, v) = api(rt, "POST", "/api/v1/incidents/1/ack", r#"{"by": "alice", "note": "on it"}"#);
    assert_eq!((st, v["state"].as_str()), (200, Some("acknowledged")), "{v}");
    assert_eq!(v["acked_by"], "api:alice");
    level_2_never_mailed(&r);

    // Unack resumes at once: level 1 paged again now, then level 2 after its usual gap.
    let (st, v) = api(rt, "POST", "/api/v1/incidents/1/unack", "{}");
    assert_eq!((st, v["state"].as_str()), (200, Some("firing")), "{v}");
    let m = wait_mails(&r.maildir, 15, "level 1 again, then level 2", |m| {
        count(m, "alice@", "(level 1, repeat)") == 1 && count(m, "dora@", "(level 2)") == 1
    });
    let again = m.iter().find(|m| m.to.contains("alice@") && m.subject.contains("repeat")).unwrap();
    assert!(again.text.contains("withdrawn"), "{}", again.text);

    // Reassign to arch (a contact), a note, a bad request, then close by hand.
    let (st, v) = api(rt, "POST", "/api/v1/incidents/1/reassign", r#"{"contact": "arch", "by": "dora"}"#);
    assert_eq!(st, 200, "{v}");
    wait_mails(&r.maildir, 15, "the reassignment to arch", |m| count(m, "arch@", "DiskFull") == 1);
    let (st, _) = api(rt, "POST", "/api/v1/incidents/1/reassign", r#"{"contact": "nobody"}"#);
    assert_eq!(st, 400);
    let (st, _) = api(rt, "POST", "/api/v1/incidents/1/notes", r#"{"text": "purged old WAL files", "by": "arch"}"#);
    assert_eq!(st, 200);
    let (st, _) = api(rt, "POST", "/api/v1/incidents/1/notes", r#"{"text": "  "}"#);
    assert_eq!(st, 400);
    let (st, v) = api(rt, "POST", "/api/v1/incidents/1/resolve", r#"{"by": "arch"}"#);
    assert_eq!((st, v["state"].as_str()), (200, Some("resolved")), "{v}");
    wait_mails(&r.maildir, 15, "resolve to everyone paged", |m| {
        ["alice@", "bob@", "dora@", "arch@"].iter().all(|to| count(m, to, "[RESOLVED]") == 1)
    });
    let (st, _) = api(rt, "POST", "/api/v1/incidents/1/ack", "{}");
    assert_eq!(st, 409, "a resolved incident cannot be acknowledged");

    // The RCA, read by the CLI from the store file while the router runs.
    let out = Command::new(env!("CARGO_BIN_EXE_vigie-router"))
        .args(["incident", "show", "1", "--format", "markdown", "--config"])
        .arg(&r.cfg)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let md = String::from_utf8(out.stdout).unwrap();
    println!("{md}");
    let kinds = timeline_kinds(rt, 1);
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| 20")).collect();
    assert_eq!(rows.len(), kinds.len(), "every event is in the RCA:\n{md}");
    for (row, kind) in rows.iter().zip(&kinds) {
        assert!(row.contains(&format!("| {kind} |")), "RCA out of order: {row} vs {kind}\n{md}");
    }
    // And the story is the one that happened, in order.
    let want = [
        "alert_fired",
        "paged",
        "notification_sent",
        "acked",
        "unacked",
        "escalated",
        "reassigned",
        "note",
        "resolved",
        "resolve_announced",
    ];
    let mut at = 0;
    for w in want {
        let found = kinds[at..].iter().position(|k| k == w).unwrap_or_else(|| panic!("no {w} after {at}: {kinds:?}"));
        at += found + 1;
    }
    for want in [
        "# Incident #1: DiskFull db-1:9100",
        "| time to acknowledge | ",
        "by api:alice",
        "(target 4h: met)",
        "| levels reached | 1, 2 |",
        "on it",
        "purged old WAL files",
        "## Summary",
        "## Cause",
        "## Corrective actions",
        "## Prevention",
    ] {
        assert!(md.contains(want), "RCA lacks {want:?}:\n{md}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_vigie-router"))
        .args(["incident", "show", "1", "--format", "json", "--config"])
        .arg(&r.cfg)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["figures"]["levels_reached"], serde_json::json!([1, 2]));
    assert_eq!(v["incident"]["timeline"].as_array().unwrap().len(), kinds.len());
}

#[test]
fn ack_expiry_resumes_escalation_from_the_current_level() {
    let Some(r) = start("2s") else { return };
    let (st, _) = api(&r.router, "POST", "/api/v1/incidents/1/ack", "{}");
    assert_eq!(st, 200);
    // After 2 s the ack expires: level 1 again (saying so), then level 2 follows.
    let m = wait_mails(&r.maildir, 20, "level 1 again after the expiry, then level 2", |m| {
        count(m, "alice@", "(level 1, repeat)") == 1 && count(m, "dora@", "(level 2)") == 1
    });
    let again = m.iter().find(|m| m.to.contains("alice@") && m.subject.contains("repeat")).unwrap();
    assert!(again.text.contains("acknowledgement expired"), "{}", again.text);
    let kinds = timeline_kinds(&r.router, 1);
    let expired = kinds.iter().position(|k| k == "ack_expired").unwrap();
    let escalated = kinds.iter().rposition(|k| k == "escalated").unwrap();
    assert!(kinds.iter().position(|k| k == "acked").unwrap() < expired && expired < escalated, "{kinds:?}");
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn slack_body(incident: &str) -> String {
    let payload = format!(
        r#"{{"type":"block_actions","user":{{"id":"U0ALICE","username":"alice.s","name":"alice.s"}},"actions":[{{"action_id":"vigie_ack","block_id":"b","value":"{incident}","type":"button"}}]}}"#
    );
    let enc: String = form_urlencoded::byte_serialize(payload.as_bytes()).collect();
    format!("payload={enc}")
}

#[test]
fn slack_button_acks_with_a_good_signature_only() {
    let Some(r) = start("1h") else { return };
    let addr = r.router.addr;
    let path = "/api/v1/slack/interactions";
    let body = slack_body("1");
    let ts = unix_now();
    let good = acks::slack_sign(SLACK_SECRET.as_bytes(), ts, body.as_bytes());
    let bad = acks::slack_sign(b"wrong secret", ts, body.as_bytes());
    let stale = acks::slack_sign(SLACK_SECRET.as_bytes(), ts - 400, body.as_bytes());
    let ts_s = ts.to_string();
    let stale_ts = (ts - 400).to_string();
    for (t, sig, why) in
        [(&ts_s, &bad, "wrong secret"), (&stale_ts, &stale, "older than 5 min"), (&ts_s, &stale, "ts changed")]
    {
        let (st, text) = post_form(addr, path, &[("X-Slack-Request-Timestamp", t), ("X-Slack-Signature", sig)], &body);
        assert_eq!(st, 403, "{why}: {text}");
    }
    // The body altered after signing.
    let (st, _) =
        post_form(addr, path, &[("X-Slack-Request-Timestamp", &ts_s), ("X-Slack-Signature", &good)], &slack_body("2"));
    assert_eq!(st, 403);
    assert_eq!(incident_state(&r.router, 1), ("firing".into(), None));
    let (st, text) =
        post_form(addr, path, &[("X-Slack-Request-Timestamp", &ts_s), ("X-Slack-Signature", &good)], &body);
    assert_eq!(st, 200, "{text}");
    assert_eq!(incident_state(&r.router, 1), ("acknowledged".into(), Some("slack:alice".into())));
    level_2_never_mailed(&r);
}

#[test]
fn twilio_sms_reply_acks_with_a_good_signature_only() {
    let Some(r) = start("1h") else { return };
    let addr = r.router.addr;
    let path = "/api/v1/twilio/sms";
    let url = format!("http://127.0.0.1:{}{path}", addr.port());
    let params: Vec<(String, String)> = [
        ("AccountSid", "ACtest"),
        ("Body", " ack  1 "),
        ("From", ALICE_PHONE),
        ("MessageSid", "SMtest"),
        ("To", "+15005550006"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(&params).finish();
    let good = acks::twilio_sign(TWILIO_TOKEN.as_bytes(), &url, &params);
    let bad = acks::twilio_sign(b"wrong token", &url, &params);
    let (st, text) = post_form(addr, path, &[("X-Twilio-Signature", &bad)], &body);
    assert_eq!(st, 403, "{text}");
    let (st, _) = post_form(addr, path, &[], &body);
    assert_eq!(st, 403, "no signature");
    assert_eq!(incident_state(&r.router, 1), ("firing".into(), None));
    let (st, text) = post_form(addr, path, &[("X-Twilio-Signature", &good)], &body);
    assert_eq!(st, 200, "{text}");
    assert!(text.contains("<Response><Message>Incident 1 acknowledged"), "{text}");
    assert_eq!(incident_state(&r.router, 1), ("acknowledged".into(), Some("sms:alice".into())));
    level_2_never_mailed(&r);
}

#[test]
fn metrics_pass_promtool_and_carry_the_on_call_families() {
    let Some(r) = start("1h") else { return };
    let (st, _) = api(&r.router, "POST", "/api/v1/incidents/1/ack", "{}");
    assert_eq!(st, 200);
    // Resolve through Alertmanager: the same alert with an end time.
    post_alert(r.am_port, Some(&now_rfc3339()), &r.started);
    let t0 = Instant::now();
    let text = loop {
        let (_, text) = request(r.router.addr, "GET", "/metrics", &[], b"").unwrap();
        if text.contains("vigie_router_incident_resolve_seconds_count 1") || t0.elapsed() > Duration::from_secs(15) {
            break text;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    for want in [
        "vigie_router_incidents_open{level=\"1\"}",
        "vigie_router_incident_acknowledge_seconds_bucket{le=\"30\"} 1",
        "vigie_router_incident_acknowledge_seconds_count 1",
        "vigie_router_incident_resolve_seconds_bucket{le=\"14400\"} 1",
        "vigie_router_incident_resolve_seconds_count 1",
        "vigie_router_escalations_total{level=\"1\"} 1",
        "vigie_router_acknowledgements_total{via=\"api\"} 1",
        "vigie_router_notifications_sent_total{channel=\"email\"}",
        "vigie_router_incidents_over_target 0",
        "vigie_router_outbox_depth ",
        "vigie_router_outbox_oldest_age_seconds ",
    ] {
        assert!(text.contains(want), "/metrics lacks {want:?}:\n{text}");
    }
    let Some(promtool) = ["/usr/bin/promtool", "/usr/local/bin/promtool"].iter().find(|p| Path::new(p).exists()) else {
        skip("no promtool (apt prometheus)");
        return;
    };
    let lint = vigie_kit::testing::promtool_check_metrics(Path::new(promtool), &text).unwrap();
    assert!(lint.code == 0 && lint.errors.is_empty() && lint.problems.is_empty(), "promtool check metrics: {lint:?}");
}
