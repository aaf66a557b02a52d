//! vigie-pm2-exporter against a real PM2 daemon: the apps of `tests/apps` (cluster app,
//! @pm2/io app, flapping, errored and stopped apps) run in a private PM2_HOME.
//!
//! Needs `VIGIE_TEST_PM2_APPS`: a copy of `tests/apps` where `npm install` has run (tests/run
//! prepares it). Without it the test says `skipped:` and passes, unless
//! `VIGIE_REQUIRE_SERVICES=1`, when it fails.

#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use vigie_kit::parse;
use vigie_kit::testing::{self, Running, TempDir};

fn apps_dir() -> Option<PathBuf> {
    match std::env::var_os("VIGIE_TEST_PM2_APPS") {
        Some(dir) => Some(PathBuf::from(dir)),
        None => {
            testing::skip("VIGIE_TEST_PM2_APPS unset (tests/run installs PM2 and sets it)");
            None
        }
    }
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

/// A private PM2 daemon running the apps of start.sh; killed on drop.
struct Daemon {
    apps: PathBuf,
    home: PathBuf,
    _dir: TempDir,
}

impl Daemon {
    fn start(apps: &Path) -> Daemon {
        // Short path: PM2_HOME holds a unix socket (at most 107 bytes).
        let dir = TempDir::new("pm2").unwrap();
        let home = dir.path().join("h");
        let status = Command::new(apps.join("start.sh"))
            .arg(&home)
            .env("WEB_PORT", testing::free_port().to_string())
            .env("IO_PORT", testing::free_port().to_string())
            .current_dir(apps)
            .status()
            .unwrap();
        assert!(status.success(), "start.sh failed");
        Daemon { apps: apps.to_path_buf(), home, _dir: dir }
    }

    fn exporter(&self) -> Running {
        let home = format!("--pm2.home={}", self.home.display());
        Running::spawn(Path::new(env!("CARGO_BIN_EXE_vigie-pm2-exporter")), |addr| {
            vec![format!("--web.listen-address={addr}"), home.clone()]
        })
        .unwrap()
    }
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

/// `family{labels}` → value, for one family of an exposition.
fn samples(text: &str, family: &str) -> Vec<(HashMap<String, String>, f64)> {
    let parsed = parse::parse(text).unwrap();
    parsed
        .families
        .iter()
        .filter(|f| f.name == family)
        .flat_map(|f| &f.samples)
        .map(|s| (s.labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), s.value))
        .collect()
}

fn value(text: &str, family: &str, id: &str) -> Option<f64> {
    samples(text, family).into_iter().find(|(l, _)| l.get("id").map(String::as_str) == Some(id)).map(|(_, v)| v)
}

#[test]
fn matches_pm2_jlist_and_survives_daemon_restarts() {
    let Some(apps) = apps_dir() else { return };
    let daemon = Daemon::start(&apps);
    let home = daemon.home.clone();
    // Let the crashing app reach `errored` and @pm2/io push its first metrics.
    std::thread::sleep(Duration::from_secs(3));

    let exporter = daemon.exporter();
    let before: serde_json::Value = serde_json::from_str(&pm2(&apps, &home, &["jlist"])).unwrap();
    let text = exporter.scrape();
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
    let down = exporter.scrape();
    assert!(down.contains("pm2_daemon_up 0\n") && !down.contains("pm2_up{"), "{down}");
    assert!(started.elapsed() < Duration::from_secs(5), "down must not hang the scrape");
    pm2(&apps, &home, &["ping"]);
    let up = exporter.scrape();
    assert!(up.contains("pm2_daemon_up 1\n"), "{up}");
    drop(daemon);
}

#[test]
fn promtool_finds_no_problem_in_our_names() {
    let Some(apps) = apps_dir() else { return };
    let Some(promtool) = testing::program(&["promtool"], "apt-get install -y prometheus") else { return };
    let daemon = Daemon::start(&apps);
    std::thread::sleep(Duration::from_secs(2));
    let text = daemon.exporter().scrape();
    let lint = testing::promtool_check_metrics(&promtool, &text).unwrap();
    assert!(lint.errors.is_empty(), "promtool: {:?}", lint.errors);
    // pm2-metrics' own names (pm2_req_sec, from an app's "req/sec") draw lint warnings that
    // its output gets too; our own vigie_* names must draw none.
    let ours: Vec<_> =
        lint.problems.iter().filter(|(m, _)| m.starts_with("vigie_") || m.starts_with("pm2_daemon")).collect();
    assert!(ours.is_empty(), "lint on our names: {ours:?}");
}
