//! The router on PostgreSQL, as a process: bad input at start (database unreachable, schema
//! newer than the binary, a password file missing, a URL without its password), and two
//! routers on one database given the same webhook (Alertmanager HA) opening one incident.
//! The database tests need `VIGIE_TEST_POSTGRES_URL` (a superuser on a throwaway server;
//! `tests/run router` starts one); without it they print `skipped:`.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::*;

const BIN: &str = env!("CARGO_BIN_EXE_vigie-router");

/// The issue's storage section, then the usual contacts and policies.
fn pg_config(dir: &Path, storage: &str) -> std::path::PathBuf {
    let p = router_config(dir, free_port(), "none", "30m", "1h");
    let text = std::fs::read_to_string(&p).unwrap().replace("storage: {path: router.db}\n", storage);
    write(dir, "router.yml", &text)
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn serve(config: &Path, env_url: Option<&str>) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--config"]).arg(config).args(["--web.listen-address", &format!("127.0.0.1:{}", free_port())]);
    cmd.env_remove("VIGIE_ROUTER_POSTGRES_URL");
    if let Some(u) = env_url {
        cmd.env("VIGIE_ROUTER_POSTGRES_URL", u);
    }
    cmd.output().unwrap()
}

const ISSUE_STORAGE: &str =
    "storage:\n  postgres:\n    url: {env: VIGIE_ROUTER_POSTGRES_URL}\n    connect_timeout: 5s\n";

#[test]
fn postgres_unreachable_at_start_is_a_clear_error_without_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let config = pg_config(dir.path(), ISSUE_STORAGE);
    // A loopback port nobody listens on.
    let url = format!("postgres://vigie:Hunter2-not-printed@127.0.0.1:{}/vigie", free_port());
    let out = serve(&config, Some(&url));
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("storage.postgres") && shown.contains("refused"), "{shown}");
    assert!(!shown.contains("Hunter2"), "the password is never printed: {shown}");
    // And with the variable unset: the config check names it.
    let out = serve(&config, None);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("storage.postgres.url: environment variable VIGIE_ROUTER_POSTGRES_URL is unset"), "{shown}");
}

#[test]
fn postgres_missing_password_file_names_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let storage = "storage:\n  postgres:\n    url: {file: pg-url}\n    password: {file: pg-password}\n";
    write(dir.path(), "pg-url", "postgres://vigie@127.0.0.1:5432/vigie");
    let config = pg_config(dir.path(), storage);
    let out = Command::new(BIN).arg("check-config").arg(&config).output().unwrap();
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("router.yml:4:"), "file and line: {shown}");
    assert!(shown.contains("storage.postgres.password: cannot read secret file"), "{shown}");
    assert!(shown.contains("pg-password"), "{shown}");
    // A URL that is not one: named, its text not echoed.
    write(dir.path(), "pg-url", "postgres://vigie:Hunter2@127.0.0.1:notaport/vigie");
    write(dir.path(), "pg-password", "x");
    let out = Command::new(BIN).arg("check-config").arg(&config).output().unwrap();
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("storage.postgres.url: not a PostgreSQL URL"), "{shown}");
    assert!(!shown.contains("Hunter2"), "{shown}");
}

/// A fresh database on the test server: its URL (with the admin's credentials).
fn fresh_database(rt: &tokio::runtime::Runtime) -> Option<String> {
    let admin = match std::env::var("VIGIE_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => u,
        _ => {
            skip("VIGIE_TEST_POSTGRES_URL unset (tests/run router starts a PostgreSQL)");
            return None;
        }
    };
    let name = format!("vigie_it_{}_{}", std::process::id(), free_port());
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(conn);
        client.batch_execute(&format!("CREATE DATABASE {name}")).await.unwrap();
    });
    let (base, _) = admin.rsplit_once('/').unwrap();
    Some(format!("{base}/{name}"))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

async fn query_i64(url: &str, sql: &str) -> i64 {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    client.query_one(sql, &[]).await.unwrap().get(0)
}

#[test]
fn postgres_newer_schema_is_refused() {
    let rt = runtime();
    let Some(url) = fresh_database(&rt) else { return };
    let dir = tempfile::tempdir().unwrap();
    let config = pg_config(dir.path(), ISSUE_STORAGE);
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(conn);
        client
            .batch_execute(
                "CREATE TABLE vigie_schema(version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now());
                 INSERT INTO vigie_schema(version) VALUES (1), (99);",
            )
            .await
            .unwrap();
    });
    let out = serve(&config, Some(&url));
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("schema is version 99, newer than this vigie-router"), "{shown}");
    // Nothing was created beside it.
    let tables = rt.block_on(query_i64(&url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"));
    assert_eq!(tables, 1);
}

#[test]
fn postgres_url_without_its_password_is_refused_by_the_server() {
    let rt = runtime();
    let Some(url) = fresh_database(&rt) else { return };
    // The test server asks TCP clients for a password (scram-sha-256).
    let Some((scheme_user, rest)) = url.split_once('@') else { return };
    let Some((user_part, _password)) = scheme_user.rsplit_once(':') else {
        skip("VIGIE_TEST_POSTGRES_URL has no password: nothing to leave out");
        return;
    };
    let no_password = format!("{user_part}@{rest}");
    let dir = tempfile::tempdir().unwrap();
    let config = pg_config(dir.path(), ISSUE_STORAGE);
    let out = serve(&config, Some(&no_password));
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("storage.postgres") && shown.contains("password"), "{shown}");
}

#[test]
fn postgres_two_routers_one_webhook_one_incident() {
    let rt = runtime();
    let Some(url) = fresh_database(&rt) else { return };
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pg-url", &url);
    let config = pg_config(dir.path(), "storage:\n  postgres:\n    url: {file: pg-url}\n");
    let a = Router::start(&config, free_port());
    let b = Router::start(&config, free_port());
    // Alertmanager HA: both replicas send the same group to both routers, at once.
    let (ra, rb) = std::thread::scope(|s| {
        let ta = s.spawn(|| a.post(FIRING));
        let tb = s.spawn(|| b.post(FIRING));
        (ta.join().unwrap(), tb.join().unwrap())
    });
    assert_eq!((ra.0, rb.0), (200, 200), "{ra:?} {rb:?}");
    // And a different batch of the same group (another replica's view) to B.
    let other = String::from_utf8_lossy(FIRING).replace("10:35:25.115Z", "10:35:26.115Z");
    assert_eq!(b.post(other.as_bytes()).0, 200);
    let (open, total) = rt.block_on(async {
        (
            query_i64(&url, "SELECT count(*) FROM incidents WHERE firing").await,
            query_i64(&url, "SELECT count(*) FROM batches").await,
        )
    });
    assert_eq!(open, 1, "one open incident for the group, whichever router took it");
    assert_eq!(total, 2, "the identical webhook stored once, the other batch once");
}

/// A fresh database, aiosmtpd, and the directory for a config; `None` when skipped.
struct WithMail {
    rt: tokio::runtime::Runtime,
    url: String,
    _smtp: Proc,
    smtp_port: u16,
    dir: tempfile::TempDir,
}

fn with_mail() -> Option<WithMail> {
    let rt = runtime();
    let url = fresh_database(&rt)?;
    let Setup { am: _, py, dir, smtp_port } = setup()?;
    let smtp = smtpd(&py, dir.path(), smtp_port, "plain");
    write(dir.path(), "pg-url", &url);
    Some(WithMail { rt, url, _smtp: smtp, smtp_port, dir })
}

/// `cfg` (written by `router_config` or `ack_config`) moved to the database, with a lease
/// above the mail timeout (5s), short enough for a test.
fn on_postgres(dir: &Path, cfg: &Path) {
    let storage = "storage:\n  postgres:\n    url: {file: pg-url}\n    lease: 8s\n";
    let text = std::fs::read_to_string(cfg).unwrap().replace("storage: {path: router.db}\n", storage);
    write(dir, "router.yml", &text);
}

/// Two routers on one database, 200 groups posted alternately, router A `kill -9`ed while
/// the pages are going out: every group's level-1 page reaches each of its two recipients,
/// and none more than twice (B resends what A's expired leases held, at most once per crash).
#[test]
fn postgres_two_routers_one_killed_mid_delivery_every_page_arrives_at_most_twice() {
    let Some(WithMail { rt, url, _smtp, smtp_port, dir }) = with_mail() else { return };
    let d = dir.path();
    let cfg = router_config(d, smtp_port, "none", "1h", "2h");
    on_postgres(d, &cfg);
    let mut a = Router::start(&cfg, free_port());
    let b = Router::start(&cfg, free_port());
    let groups = 200;
    for i in 0..groups {
        let r = if i % 2 == 0 { &a } else { &b };
        assert_eq!(r.post(&group_body(i)).0, 200, "group {i}");
    }
    let maildir = d.join("maildir");
    a.kill9();
    let at_kill = mails(&maildir).len();
    wait_mails(&maildir, 180, "every group's level 1 at alice and bob", |m| {
        let mut seen = std::collections::BTreeSet::new();
        for mail in m {
            seen.insert((mail.to.clone(), mail.subject.clone()));
        }
        (0..groups).all(|i| {
            let subject = format!("[FIRING:1] Crash i-{i} (level 1)");
            ["alice@example.org", "bob@example.org"]
                .iter()
                .all(|to| seen.iter().any(|(t, s)| t.contains(to) && *s == subject))
        })
    });
    // A page A sent just before the kill is in the maildir while its row still holds A's
    // lease: B resends it once the lease (8 s) expires, then marks it sent. Wait for that
    // (bounded), then count the copies of every page.
    let mut pending = -1;
    for _ in 0..120 {
        pending = rt.block_on(query_i64(&url, "SELECT count(*) FROM outbox WHERE state <> 'sent'"));
        if pending == 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    assert_eq!(pending, 0, "B finished everything A left");
    let m = mails(&maildir);
    let mut copies: std::collections::BTreeMap<(String, String), usize> = Default::default();
    for mail in &m {
        *copies.entry((mail.to.clone(), mail.subject.clone())).or_default() += 1;
    }
    let worst = copies.iter().max_by_key(|(_, n)| **n).map(|(k, n)| (k.clone(), *n));
    println!("{at_kill} of {} mails out when A was killed; most copies of one: {worst:?}", 2 * groups);
    assert!(copies.values().all(|n| *n <= 2), "a page went out more than twice: {worst:?}");
}

/// Router A pages level 1; the acknowledgement is posted to router B, and A is then
/// `kill -9`ed: level 2 never goes out. An unack on B resumes the escalation, and B alone
/// pages level 1 again and then level 2.
#[test]
fn postgres_an_ack_on_b_stops_what_a_paged_and_b_alone_carries_on() {
    let Some(WithMail { rt: _, url: _, _smtp, smtp_port, dir }) = with_mail() else { return };
    let d = dir.path();
    let (port_a, port_b) = (free_port(), free_port());
    let cfg = ack_config(d, smtp_port, port_b, "4s", "1h");
    on_postgres(d, &cfg);
    let mut a = Router::start(&cfg, port_a);
    let b = Router::start(&cfg, port_b);
    assert_eq!(a.post(FIRING).0, 200);
    let maildir = d.join("maildir");
    wait_mails(&maildir, 30, "level 1 to alice and bob", |m| {
        count(m, "alice@", "(level 1)") == 1 && count(m, "bob@", "(level 1)") == 1
    });
    let (st, v) = api(&b, "GET", "/api/v1/incidents", "");
    let id = v["incidents"][0]["id"].as_i64().unwrap_or_else(|| panic!("{st} {v}"));
    let (st, v) = api(&b, "POST", &format!("/api/v1/incidents/{id}/ack"), r#"{"by": "alice"}"#);
    assert_eq!((st, v["state"].as_str()), (200, Some("acknowledged")), "{v}");
    a.kill9();
    // Past level 2's time (4 s from the start): nobody paged it.
    std::thread::sleep(std::time::Duration::from_secs(6));
    assert_eq!(count(&mails(&maildir), "dora@", ""), 0, "level 2 paged despite the ack posted to B");
    // B alone: unack resumes at once, level 1 again, then level 2 after its usual gap.
    let (st, v) = api(&b, "POST", &format!("/api/v1/incidents/{id}/unack"), "{}");
    assert_eq!((st, v["state"].as_str()), (200, Some("firing")), "{v}");
    wait_mails(&maildir, 30, "level 1 again, then level 2, from B", |m| {
        count(m, "alice@", "(level 1, repeat)") == 1 && count(m, "dora@", "(level 2)") == 1
    });
}

/// A TCP relay to PostgreSQL that the test can take away (every connection cut, the port
/// refusing) and bring back on the same port: the database gone and back, as the routers see
/// it, without stopping the shared test server.
struct Relay {
    port: u16,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    conns: std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
}

impl Relay {
    fn start(target: std::net::SocketAddr) -> Relay {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let relay = Relay { port, up: Default::default(), conns: Default::default() };
        relay.serve(listener, target);
        relay
    }

    fn serve(&self, listener: std::net::TcpListener, target: std::net::SocketAddr) {
        use std::sync::atomic::Ordering;
        self.up.store(true, Ordering::SeqCst);
        let (up, conns) = (self.up.clone(), self.conns.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if !up.load(Ordering::SeqCst) {
                    break; // dropping the listener: the port refuses
                }
                let Ok(client) = client else { continue };
                let Ok(server) = std::net::TcpStream::connect(target) else { continue };
                for s in [&client, &server] {
                    conns.lock().unwrap().push(s.try_clone().unwrap());
                }
                for (mut from, mut to) in [(client.try_clone().unwrap(), server.try_clone().unwrap()), (server, client)]
                {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
    }

    fn down(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        // Wake the accept loop so it drops the listener.
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
        for c in self.conns.lock().unwrap().drain(..) {
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
    }

    fn back(&self, target: std::net::SocketAddr) {
        let t0 = std::time::Instant::now();
        let listener = loop {
            match std::net::TcpListener::bind(("127.0.0.1", self.port)) {
                Ok(l) => break l,
                Err(e) if t0.elapsed() < std::time::Duration::from_secs(10) => {
                    let _ = e;
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(e) => panic!("cannot bind the relay's port again: {e}"),
            }
        };
        self.serve(listener, target);
    }
}

/// PostgreSQL away under a stream of webhooks: the router answers 503 while it is away
/// (Alertmanager retries), nothing it answered 200 is lost, and it recovers by itself.
#[test]
fn postgres_away_and_back_503_then_recovery_nothing_accepted_lost() {
    let rt = runtime();
    let Some(url) = fresh_database(&rt) else { return };
    let cfg: tokio_postgres::Config = url.parse().unwrap();
    let port = match cfg.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(_)) => cfg.get_ports().first().copied().unwrap_or(5432),
        _ => return,
    };
    let target: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let relay = Relay::start(target);
    let via_relay = url.replace(&format!(":{port}/"), &format!(":{}/", relay.port));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "pg-url", &via_relay);
    let storage =
        "storage:\n  postgres:\n    url: {file: pg-url}\n    connect_timeout: 2s\n    statement_timeout: 2s\n";
    let config = pg_config(d, storage);
    let r = Router::start(&config, free_port());
    let mut accepted = Vec::new();
    for i in 0..20 {
        assert_eq!(r.post(&group_body(i)).0, 200);
        accepted.push(i);
    }
    relay.down();
    let mut refused = 0;
    for i in 20..30 {
        match r.post(&group_body(i)) {
            (200, _) => accepted.push(i),
            (503, _) => refused += 1,
            other => panic!("group {i}: {other:?}"),
        }
    }
    assert!(refused >= 9, "the database is away: 503 (Alertmanager retries), got {refused} of 10");
    relay.back(target);
    // Alertmanager's retries: the same webhooks again until they are taken.
    for i in 20..40 {
        let t0 = std::time::Instant::now();
        loop {
            match r.post(&group_body(i)) {
                (200, _) => break,
                (503, _) if t0.elapsed() < std::time::Duration::from_secs(60) => {
                    std::thread::sleep(std::time::Duration::from_millis(200))
                }
                other => panic!("group {i} after the database came back: {other:?}"),
            }
        }
        accepted.push(i);
    }
    accepted.sort_unstable();
    accepted.dedup();
    let open = rt.block_on(query_i64(&url, "SELECT count(*) FROM incidents WHERE firing"));
    assert_eq!(open, accepted.len() as i64, "every accepted group has its incident, once");
}
