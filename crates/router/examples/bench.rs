//! Benchmark (not a test): durable ingest rate of `vigie-router` beside Alertmanager's own
//! in-memory `/api/v2/alerts` ingest, same load generator, same run, and the router's
//! webhook-to-dispatch latency at 100 alerts/s.
//!
//! ```sh
//! cargo build --release -p vigie-router --examples --bins
//! target/release/examples/bench [--connections 16] [--seconds 10] [--new-alerts] \
//!     [--postgres postgres://user:pass@127.0.0.1:5432/postgres]
//! ```
//! `--postgres ADMIN_URL` adds two routers sharing one PostgreSQL database (created fresh on
//! that server), the connections split between them, measured in the same run.
//! Env: `VIGIE_ROUTER_BIN` (default: `../vigie-router` beside this example),
//! `VIGIE_TEST_ALERTMANAGER` (default `/usr/bin/prometheus-alertmanager`; skipped if absent),
//! `VIGIE_TEST_PYTHON` (a python3 with aiosmtpd for the latency phase; else SMTP is a
//! closed port and "dispatch" is the first delivery attempt).
//!
//! Load: C keep-alive HTTP/1.1 connections, each posting 10-alert batches back to back; every
//! router batch is distinct (fresh `startsAt`, so no duplicate short-cut), over 1,000 groups.
//! `--new-alerts`: every batch brings 10 new alerts into its group instead, so each one is
//! announced by mail to the people already paged (the worst case).

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wait_ready(addr: SocketAddr) {
    let t0 = Instant::now();
    loop {
        if let Ok(mut s) = std::net::TcpStream::connect(addr) {
            use std::io::{Read, Write};
            let _ = s.write_all(b"GET /-/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            let mut b = String::new();
            let _ = s.read_to_string(&mut b);
            if b.starts_with("HTTP/1.1 200") {
                return;
            }
        }
        assert!(t0.elapsed() < Duration::from_secs(20), "{addr} not ready");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn now() -> String {
    vigie_kit::log::rfc3339_millis(std::time::SystemTime::now())
}

/// A v4 webhook with 10 alerts for group `g`, request number `n`: the group's same 10
/// alerts with a fresh `startsAt` (a distinct batch, as Alertmanager re-sending a group),
/// or with `fresh` 10 new alerts joining the group (each batch is announced to the paged).
fn webhook_with(g: u64, n: u64, fresh: bool) -> String {
    let id = if fresh { n } else { g };
    let starts = now();
    let alerts: Vec<serde_json::Value> = (0..10)
        .map(|j| {
            serde_json::json!({
                "status": "firing",
                "labels": {"alertname": "Bench", "group": format!("g{g}"), "instance": format!("i{id}-{j}"), "severity": "warning"},
                "annotations": {"summary": "bench alert"},
                "startsAt": starts, "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "",
                "fingerprint": format!("{:016x}", id * 10 + j),
            })
        })
        .collect();
    serde_json::json!({
        "receiver": "vigie", "status": "firing", "alerts": alerts,
        "groupLabels": {"alertname": "Bench", "group": format!("g{g}")},
        "commonLabels": {"alertname": "Bench", "group": format!("g{g}")}, "commonAnnotations": {},
        "externalURL": "http://bench", "version": "4",
        "groupKey": format!("{{}}:{{alertname=\"Bench\", group=\"g{g}\"}}"), "truncatedAlerts": 0
    })
    .to_string()
}

fn webhook(g: u64, n: u64) -> String {
    webhook_with(g, n, false)
}

fn webhook_new_alerts(g: u64, n: u64) -> String {
    webhook_with(g, n, true)
}

/// 10 alerts for Alertmanager's API v2.
fn am_alerts(n: u64) -> String {
    let starts = now();
    let alerts: Vec<serde_json::Value> = (0..10)
        .map(|j| {
            serde_json::json!({
                "labels": {"alertname": "Bench", "group": format!("g{}", n % 1000), "instance": format!("i{n}-{j}")},
                "annotations": {"summary": "bench alert"}, "startsAt": starts,
            })
        })
        .collect();
    serde_json::Value::Array(alerts).to_string()
}

async fn post(s: &mut TcpStream, buf: &mut Vec<u8>, path: &str, auth: &str, body: &str) -> std::io::Result<u16> {
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await?;
    buf.clear();
    // Read headers, then Content-Length bytes of body.
    loop {
        let mut chunk = [0u8; 4096];
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::other("closed"));
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = s.read(&mut chunk).await?;
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
            return Ok(status);
        }
    }
}

/// Requests/s with `conns` connections for `secs`; `make(n)` builds request n's body.
async fn load(
    addr: SocketAddr,
    path: &'static str,
    auth: &'static str,
    conns: usize,
    secs: u64,
    make: fn(u64) -> String,
) -> (f64, u64) {
    let ok = Arc::new(AtomicU64::new(0));
    let bad = Arc::new(AtomicU64::new(0));
    let next = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let (ok, bad, next) = (ok.clone(), bad.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.set_nodelay(true).unwrap();
            let mut buf = Vec::new();
            while Instant::now() < deadline {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let body = make(n);
                match post(&mut s, &mut buf, path, auth, &body).await {
                    Ok(200..=299) => ok.fetch_add(1, Ordering::Relaxed),
                    Ok(_) => bad.fetch_add(1, Ordering::Relaxed),
                    Err(_) => {
                        bad.fetch_add(1, Ordering::Relaxed);
                        s = TcpStream::connect(addr).await.unwrap();
                        0
                    }
                };
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let el = t0.elapsed().as_secs_f64();
    (ok.load(Ordering::Relaxed) as f64 / el, bad.load(Ordering::Relaxed))
}

fn router_bin() -> PathBuf {
    std::env::var_os("VIGIE_ROUTER_BIN").map(PathBuf::from).unwrap_or_else(|| {
        let exe = std::env::current_exe().unwrap();
        exe.parent().unwrap().parent().unwrap().join("vigie-router")
    })
}

fn start_router(dir: &Path, smtp_port: u16) -> (Proc, SocketAddr) {
    start_router_on(dir, smtp_port, "storage: {path: router.db}")
}

fn start_router_on(dir: &Path, smtp_port: u16, storage: &str) -> (Proc, SocketAddr) {
    std::fs::write(dir.join("token"), "bench-token").unwrap();
    std::fs::write(
        dir.join("router.yml"),
        format!(
            "{storage}
ingest: {{bearer_token: {{file: token}}}}
email: {{smarthost: \"127.0.0.1:{smtp_port}\", from: vigie@example.org, tls: none}}
delivery: {{initial_backoff: 1h, max_backoff: 1h}}
contacts: [{{name: alice, email: alice@example.org}}]
policies: [{{name: p, levels: [{{targets: [alice]}}]}}]
route: {{policy: p}}
"
        ),
    )
    .unwrap();
    let port = free_port();
    let log = std::fs::File::create(dir.join("router.log")).unwrap();
    let child = Command::new(router_bin())
        .args(["serve", "--config"])
        .arg(dir.join("router.yml"))
        .args(["--web.listen-address", &format!("127.0.0.1:{port}"), "--log.level", "warn"])
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("router binary (build with --bins, or set VIGIE_ROUTER_BIN)");
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    wait_ready(addr);
    (Proc(child), addr)
}

fn arg(name: &str, default: u64) -> u64 {
    arg_str(name).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn arg_str(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

/// A fresh database on the server `admin` names; its URL.
async fn fresh_database(admin: &str) -> String {
    let (client, conn) = tokio_postgres::connect(admin, tokio_postgres::NoTls).await.expect("--postgres: connect");
    tokio::spawn(conn);
    let name = format!("vigie_bench_{}", std::process::id());
    client.batch_execute(&format!("DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name}")).await.unwrap();
    let (base, _) = admin.rsplit_once('/').expect("--postgres: a URL ending in /DATABASE");
    format!("{base}/{name}")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let conns = arg("--connections", 16) as usize;
    let secs = arg("--seconds", 10);
    let base = std::env::temp_dir().join(format!("vigie-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    println!("load: {conns} connections, 10 alerts per request, {secs}s per target, 2 cores shared");

    // 1. Router, durable.
    let rdir = base.join("router");
    std::fs::create_dir_all(&rdir).unwrap();
    let (router, raddr) = start_router(&rdir, free_port());
    let new_alerts = std::env::args().any(|a| a == "--new-alerts");
    let make: fn(u64) -> String =
        if new_alerts { |n| webhook_new_alerts(n % 1000, n) } else { |n| webhook(n % 1000, n) };
    let auth = "Authorization: Bearer bench-token\r\n";
    let (r_rps, r_bad) = load(raddr, "/api/v1/alertmanager", auth, conns, secs, make).await;
    drop(router);
    println!(
        "vigie-router /api/v1/alertmanager (fsync'd, group commit{}): {:>8.0} req/s {:>9.0} alerts/s  ({r_bad} non-2xx)",
        if new_alerts { ", every batch new alerts" } else { ", groups re-sent" },
        r_rps,
        r_rps * 10.0
    );

    // 1b. Two routers on one PostgreSQL, the connections split between them.
    let mut pg_rps = None;
    if let Some(admin) = arg_str("--postgres") {
        let url = fresh_database(&admin).await;
        let mut routers = Vec::new();
        for name in ["pg-a", "pg-b"] {
            let dir = base.join(name);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("pg-url"), &url).unwrap();
            routers.push(start_router_on(
                &dir,
                free_port(),
                "storage: {postgres: {url: {file: pg-url}, pool_size: 32}}",
            ));
        }
        let half = conns.div_ceil(2);
        let (a, b) = tokio::join!(
            load(routers[0].1, "/api/v1/alertmanager", auth, half, secs, make),
            load(routers[1].1, "/api/v1/alertmanager", auth, half, secs, make)
        );
        drop(routers);
        let rps = a.0 + b.0;
        println!(
            "2 vigie-routers on one PostgreSQL ({half}+{half} connections):      {:>8.0} req/s {:>9.0} alerts/s  ({} non-2xx)",
            rps,
            rps * 10.0,
            a.1 + b.1
        );
        println!("ratio postgres(2 routers)/sqlite(1 router): {:.2}", rps / r_rps.max(1.0));
        pg_rps = Some(rps);
    }

    // 2. Alertmanager, in memory.
    let am_bin = std::env::var_os("VIGIE_TEST_ALERTMANAGER")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/usr/bin/prometheus-alertmanager".into());
    if am_bin.exists() {
        let adir = base.join("am");
        std::fs::create_dir_all(&adir).unwrap();
        std::fs::write(
            adir.join("am.yml"),
            format!("route: {{receiver: void, group_wait: 1h, group_interval: 1h}}\nreceivers:\n  - name: void\n    webhook_configs: [{{url: \"http://127.0.0.1:{}/\"}}]\n", free_port()),
        )
        .unwrap();
        let port = free_port();
        let log = std::fs::File::create(adir.join("am.log")).unwrap();
        let child = Command::new(&am_bin)
            .arg(format!("--config.file={}", adir.join("am.yml").display()))
            .arg(format!("--storage.path={}", adir.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let am = Proc(child);
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        wait_ready(addr);
        let (a_rps, a_bad) = load(addr, "/api/v2/alerts", "", conns, secs, am_alerts).await;
        drop(am);
        println!(
            "Alertmanager /api/v2/alerts (in memory):                   {:>8.0} req/s {:>9.0} alerts/s  ({a_bad} non-2xx)",
            a_rps,
            a_rps * 10.0
        );
        println!("ratio router/alertmanager: {:.2}", r_rps / a_rps.max(1.0));
        if let Some(p) = pg_rps {
            println!("ratio postgres(2 routers)/alertmanager: {:.2}", p / a_rps.max(1.0));
        }
    } else {
        println!("Alertmanager: skipped ({} not found)", am_bin.display());
    }
    println!("target: >= 20000 alerts/s durable: {}", if r_rps * 10.0 >= 20_000.0 { "met" } else { "NOT met" });

    // 3. Webhook-to-dispatch latency at 100 alerts/s (10 webhooks/s, one new group each).
    let ldir = base.join("latency");
    std::fs::create_dir_all(&ldir).unwrap();
    let py = std::env::var_os("VIGIE_TEST_PYTHON").map(PathBuf::from).unwrap_or_else(|| "/usr/bin/python3".into());
    let smtp_port = free_port();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtpd.py");
    let smtp = Command::new(&py)
        .arg(&script)
        .arg(smtp_port.to_string())
        .arg(ldir.join("maildir"))
        .arg("none")
        .arg("none")
        .arg("plain")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()
        .map(Proc);
    // Python starts slowly on a loaded machine: wait for the port (up to 20 s).
    let t0 = Instant::now();
    let mut smtp_up = false;
    while smtp.is_some() && !smtp_up && t0.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(100));
        smtp_up = std::net::TcpStream::connect(("127.0.0.1", smtp_port)).is_ok();
    }
    let (router, raddr) = start_router(&ldir, smtp_port);
    let mut s = TcpStream::connect(raddr).await.unwrap();
    let mut buf = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    for n in 0..100u64 {
        tick.tick().await;
        let st = post(
            &mut s,
            &mut buf,
            "/api/v1/alertmanager",
            "Authorization: Bearer bench-token\r\n",
            &webhook(1_000_000 + n, n),
        )
        .await
        .unwrap();
        assert_eq!(st, 200);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    drop(router);
    drop(smtp);
    let conn = rusqlite::Connection::open(ldir.join("router.db")).unwrap();
    // Per incident: receive → page queued in the outbox → first attempt recorded.
    let mut stmt = conn
        .prepare(
            "SELECT min(a.at) - i.started_at, min(o.created_at) - i.started_at, min(a.at) - min(o.created_at)
             FROM incidents i JOIN outbox o ON o.incident_id = i.id
             JOIN attempts a ON a.outbox_id = o.id GROUP BY i.id",
        )
        .unwrap();
    let rows: Vec<(i64, i64, i64)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().filter_map(Result::ok).collect();
    if rows.is_empty() {
        println!("latency: no dispatch recorded");
    } else {
        let pct = |mut v: Vec<i64>, q: f64| {
            v.sort_unstable();
            v[((v.len() - 1) as f64 * q).round() as usize]
        };
        let total: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let queued: Vec<i64> = rows.iter().map(|r| r.1).collect();
        let sent: Vec<i64> = rows.iter().map(|r| r.2).collect();
        println!(
            "webhook-to-dispatch at 100 alerts/s ({} incidents, {}): p50 {} ms, p99 {} ms, max {} ms (target p99 < 50 ms)",
            rows.len(),
            if smtp_up { "first mail accepted by aiosmtpd" } else { "first attempt, SMTP closed" },
            pct(total.clone(), 0.5),
            pct(total.clone(), 0.99),
            pct(total, 1.0)
        );
        println!(
            "  of which receive-to-queued p50 {} ms, p99 {} ms; queued-to-sent p50 {} ms, p99 {} ms",
            pct(queued.clone(), 0.5),
            pct(queued, 0.99),
            pct(sent.clone(), 0.5),
            pct(sent, 0.99)
        );
    }
    let _ = std::fs::remove_dir_all(&base);
}
