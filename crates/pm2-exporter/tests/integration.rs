//! vigie-pm2-exporter against a real PM2 daemon: the apps of `tests/apps` (cluster app,
//! @pm2/io app, flapping, errored and stopped apps) run in a private PM2_HOME.
//!
//! Needs `VIGIE_TEST_PM2_APPS`: a copy of `tests/apps` where `npm install` has run (tests/run
//! prepares it). Without it the test says `skipped:` and passes, unless
//! `VIGIE_REQUIRE_SERVICES=1`, when it fails.

#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use vigie_kit::parse;

fn apps_dir() -> Option<PathBuf> {
    match std::env::var_os("VIGIE_TEST_PM2_APPS") {
        Some(dir) => Some(PathBuf::from(dir)),
        None => {
            assert!(
                std::env::var_os("VIGIE_REQUIRE_SERVICES").is_none(),
                "VIGIE_TEST_PM2_APPS unset but VIGIE_REQUIRE_SERVICES=1: run tests/run"
            );
            eprintln!("skipped: VIGIE_TEST_PM2_APPS unset (tests/run installs PM2 and sets it)");
            None
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn get(addr: SocketAddr, path: &str) -> Option<String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(15))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.split_once("\r\n\r\n").map(|(_, body)| body.to_owned())
}

/// The PM2 CLI of the apps dir, with a clean environment.
fn pm2(apps: &Path, home: &Path, args: &[&str]) -> String {
    let out = Command::new(apps.join("node_modules/.bin/pm2"))
        .args(args)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", home)
        .env("PM2_HOME", home)
        .current_dir(apps)
        .output()
        .unwrap();
    assert!(out.status.success(), "pm2 {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

struct Daemon {
    apps: PathBuf,
    home: PathBuf,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = Command::new(self.apps.join("node_modules/.bin/pm2"))
            .arg("kill")
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("PM2_HOME", &self.home)
            .env("HOME", &self.home)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

struct Exporter(Child, SocketAddr);

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_exporter(home: &Path) -> Exporter {
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_vigie-pm2-exporter"))
        .arg(format!("--web.listen-address={addr}"))
        .arg(format!("--pm2.home={}", home.display()))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < until, "exporter did not listen");
        std::thread::sleep(Duration::from_millis(20));
    }
    Exporter(child, addr)
}

/// `family{labels}` → value, for one family of an exposition.
fn samples(text: &str, family: &str) -> Vec<(HashMap<String, String>, f64)> {
    let parsed = parse::parse(text).unwrap();
    parsed
        .families
        .iter()
        .filter(|f| f.name == family)
        .flat_map(|f| &f.samples)
        .map(|s| (s.labels.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(), s.value))
        .collect()
}

fn value(text: &str, family: &str, id: &str) -> Option<f64> {
    samples(text, family).into_iter().find(|(l, _)| l.get("id").map(String::as_str) == Some(id)).map(|(_, v)| v)
}

#[test]
fn matches_pm2_jlist_and_survives_daemon_restarts() {
    let Some(apps) = apps_dir() else { return };
    let tmp = tempfile::Builder::new().prefix("pm2").tempdir_in("/tmp").unwrap();
    let home = tmp.path().join("h");
    let daemon = Daemon { apps: apps.clone(), home: home.clone() };
    let status = Command::new(apps.join("start.sh"))
        .arg(&home)
        .env("WEB_PORT", free_port().to_string())
        .env("IO_PORT", free_port().to_string())
        .current_dir(&apps)
        .status()
        .unwrap();
    assert!(status.success(), "start.sh failed");
    // Let the crashing app reach `errored` and @pm2/io push its first metrics.
    std::thread::sleep(Duration::from_secs(3));

    let exporter = start_exporter(&home);
    let before: serde_json::Value = serde_json::from_str(&pm2(&apps, &home, &["jlist"])).unwrap();
    let text = get(exporter.1, "/metrics").unwrap();
    let after: serde_json::Value = serde_json::from_str(&pm2(&apps, &home, &["jlist"])).unwrap();
    assert!(text.contains("pm2_daemon_up 1\n"), "{text}");

    let list = before.as_array().unwrap();
    assert_eq!(list.len(), 6, "the six apps of start.sh");
    for (p, later) in list.iter().zip(after.as_array().unwrap()) {
        let id = p["pm_id"].to_string();
        let status = p["pm2_env"]["status"].as_str().unwrap();
        let online = value(&text, "pm2_up", &id);
        assert_eq!(online, Some(if status == "online" { 1.0 } else { 0.0 }), "pm2_up of {id} ({status})");
        let state = samples(&text, "vigie_pm2_process_status")
            .into_iter()
            .find(|(l, v)| l["id"] == id && *v == 1.0)
            .map(|(l, _)| l["status"].clone());
        assert_eq!(state.as_deref(), Some(status), "status of {id}");
        // flaky restarts every 4 s: its count lies between the two jlist calls.
        let restarts = value(&text, "vigie_pm2_process_restarts_total", &id).unwrap();
        let (lo, hi) =
            (p["pm2_env"]["restart_time"].as_f64().unwrap(), later["pm2_env"]["restart_time"].as_f64().unwrap());
        assert!(lo <= restarts && restarts <= hi, "restarts of {id}: {restarts} not in {lo}..={hi}");
        if status != "online" || p["name"] != "flaky" {
            let pid = value(&text, "vigie_pm2_process_pid", &id).unwrap();
            assert_eq!(pid, p["pid"].as_f64().unwrap(), "pid of {id}");
        }
        if status == "online" && p["name"] != "flaky" {
            let cpu = value(&text, "vigie_pm2_process_cpu_seconds_total", &id);
            assert!(cpu.is_some_and(|c| c > 0.0), "CPU seconds of {id} from /proc: {cpu:?}");
        }
    }
    // No app environment reaches /metrics.
    assert!(!text.contains("PM2_HOME") && !text.contains(&home.display().to_string()), "environment leaked");

    // The daemon goes away: down quickly, and picked up again once it is back.
    pm2(&apps, &home, &["kill"]);
    let started = Instant::now();
    let down = get(exporter.1, "/metrics").unwrap();
    assert!(down.contains("pm2_daemon_up 0\n") && !down.contains("pm2_up{"), "{down}");
    assert!(started.elapsed() < Duration::from_secs(5), "down must not hang the scrape");
    pm2(&apps, &home, &["ping"]);
    let up = get(exporter.1, "/metrics").unwrap();
    assert!(up.contains("pm2_daemon_up 1\n"), "{up}");
    drop(daemon);
}

#[test]
fn promtool_finds_no_problem_in_our_names() {
    let Some(apps) = apps_dir() else { return };
    if Command::new("promtool").arg("--version").output().is_err() {
        assert!(std::env::var_os("VIGIE_REQUIRE_SERVICES").is_none(), "promtool missing");
        eprintln!("skipped: promtool not installed");
        return;
    }
    let tmp = tempfile::Builder::new().prefix("pm2").tempdir_in("/tmp").unwrap();
    let home = tmp.path().join("h");
    let _daemon = Daemon { apps: apps.clone(), home: home.clone() };
    let status = Command::new(apps.join("start.sh"))
        .arg(&home)
        .env("WEB_PORT", free_port().to_string())
        .env("IO_PORT", free_port().to_string())
        .current_dir(&apps)
        .status()
        .unwrap();
    assert!(status.success());
    std::thread::sleep(Duration::from_secs(2));
    let exporter = start_exporter(&home);
    let text = get(exporter.1, "/metrics").unwrap();
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    // pm2-metrics' own names (pm2_cpu: no unit suffix, pm2_memory…) draw lint warnings
    // that its output gets too; our own vigie_* names must draw none.
    for line in report.lines() {
        assert!(!line.contains("error"), "promtool: {line}");
        assert!(!line.starts_with("vigie_"), "lint on one of our names: {line}");
    }
}
