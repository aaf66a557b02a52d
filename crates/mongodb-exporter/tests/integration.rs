//! Integration tests against wire-compatible servers on loopback (no MongoDB server can be
//! installed here): mockupdb replaying the real 4.2.8 getDiagnosticData capture, SecantusDB
//! (a Python server speaking OP_MSG) for live commands, and a TCP listener that never
//! answers. `VIGIE_TEST_MONGODB_VENV` names a Python venv with `SecantusDB` and `mockupdb`
//! (tests/run's prep_mongodb makes one); unset, the tests skip.

#![allow(clippy::unwrap_used)] // Tests may unwrap.
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use vigie_kit::testing::{skip, Running};

const EXPORTER: &str = env!("CARGO_BIN_EXE_vigie-mongodb-exporter");

fn venv() -> Option<PathBuf> {
    match std::env::var_os("VIGIE_TEST_MONGODB_VENV") {
        Some(v) => Some(PathBuf::from(v)),
        None => {
            skip("VIGIE_TEST_MONGODB_VENV unset");
            None
        }
    }
}

fn port_of(addr: &str) -> String {
    addr.rsplit(':').next().unwrap_or("0").to_owned()
}

fn replay(venv: &Path) -> Running {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/getDiagnosticData.data-4.2.8-rs-primary.json");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/replay.py");
    Running::spawn(&venv.join("bin/python"), |a| vec![script.into(), port_of(a), fixture.into()]).unwrap()
}

fn secantus(venv: &Path) -> Running {
    Running::spawn(&venv.join("bin/secantusd-py"), |a| {
        ["--host", "127.0.0.1", "--port", &port_of(a), "--storage-path", ":memory:", "--log-level", "WARNING"]
            .map(String::from)
            .to_vec()
    })
    .unwrap()
}

fn exporter(args: &[&str]) -> Running {
    Running::spawn(Path::new(EXPORTER), |a| {
        let mut v = vec![format!("--web.listen-address={a}"), "--log.level=debug".into()];
        v.extend(args.iter().map(|s| s.to_string()));
        v
    })
    .unwrap()
}

fn scrape(e: &Running, path: &str, timeout: &str) -> (String, Duration) {
    let t = Instant::now();
    let body = e.get(path, &[("X-Prometheus-Scrape-Timeout-Seconds", timeout)]).text();
    (body, t.elapsed())
}

#[test]
fn replayed_4_2_8_capture_gives_percona_names() {
    let Some(v) = venv() else { return };
    let server = replay(&v);
    let uri = format!("--mongodb.uri=mongodb://{}/?directConnection=true", server.addr);
    let e = exporter(&[&uri, "--collector.diagnosticdata"]);
    let (text, _) = scrape(&e, "/metrics", "8");
    assert!(text.contains("mongodb_up{cluster_role=\"mongod\"} 1\n"), "{text}");
    for want in [
        "member_idx=\"172.19.0.6:27017\",member_state=\"SECONDARY\",rs_state=\"1\"} 1\n",
        "# TYPE mongodb_ss_connections untyped",
        "csr_type=\"total\",rs_state=\"1\"} ",
        "mongodb_rs_members_health{",
        "# TYPE mongodb_ss_wt_session_open_session_count counter",
        "mongodb_ss_opLatencies_latency{op_type=\"reads\"}",
        "mongodb_ss_locks_acquireCount{lock_mode=\"r\",resource=\"Global\"}",
    ] {
        assert!(text.contains(want), "missing {want}");
    }
    let families = text.lines().filter(|l| l.starts_with("# TYPE mongodb_")).count();
    assert!(families > 1000, "{families} families");
    assert!(!text.contains("mongodb_connections{"), "old names only in compatible mode");
}

#[test]
fn silent_server_and_password_give_up_0_fast_and_no_secret() {
    // Needs nothing but the exporter: always runs.
    // Accepts TCP and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap();
    let hold = std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in silent.incoming().take(8).flatten() {
            held.push(s);
        }
        std::thread::sleep(Duration::from_secs(30));
    });
    let uri = format!("--mongodb.uri=mongodb://watcher:Sup3rS3cretPw@{addr}/admin");
    let e = exporter(&[&uri, "--collector.diagnosticdata", "--collector.dbstats"]);
    let (text, took) = scrape(&e, "/metrics", "2");
    assert!(text.contains("mongodb_up{cluster_role=\"\"} 0\n"), "{text}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
    let (again, took) = scrape(&e, "/metrics", "2");
    assert!(again.contains("mongodb_up{cluster_role=\"\"} 0\n") && took < Duration::from_secs(3));
    std::thread::sleep(Duration::from_millis(200));
    let log = e.log();
    assert!(log.contains("MongoDB is down"), "{log}");
    assert!(!log.contains("Sup3rS3cretPw") && !text.contains("Sup3rS3cretPw"), "{log}");
    // Nothing listening at all.
    let closed = format!("--mongodb.uri=127.0.0.1:{}", vigie_kit::testing::free_port());
    let e2 = exporter(&[&closed]);
    let (text, took) = scrape(&e2, "/metrics", "2");
    assert!(text.contains("mongodb_up{cluster_role=\"\"} 0\n") && took < Duration::from_secs(3), "{took:?} {text}");
    drop(hold);
}

#[test]
fn secantus_live_collectors_multi_target_and_stop() {
    let Some(v) = venv() else { return };
    let server = secantus(&v);
    let uri = format!("--mongodb.uri=mongodb://{}/?directConnection=true", server.addr);
    let e = exporter(&[&uri, "--collect-all", "--compatible-mode"]);
    let (text, _) = scrape(&e, "/metrics", "10");
    for want in [
        "mongodb_up{cluster_role=\"mongod\"} 1\n",
        "mongodb_dbstats_collections{",
        "mongodb_members_health{",
        "mongodb_myState{",
        "mongodb_top_queries_count{",
        "# TYPE mongodb_mongod_replset_oplog_head_timestamp gauge",
        "# TYPE mongodb_mongod_replset_oplog_tail_timestamp gauge",
        "mongodb_mongod_db_collections_total{",
        "collector_scrape_time_ms{collector=\"general\",exporter=\"mongodb\"}",
    ] {
        assert!(text.contains(want), "missing {want}\n{text}");
    }
    let (probe, _) = scrape(&e, &format!("/scrape?target={}", server.addr), "10");
    assert!(probe.contains("mongodb_up{cluster_role=\"mongod\"} 1\n"), "{probe}");
    drop(server);
    let (down, took) = scrape(&e, "/metrics", "3");
    assert!(down.contains("mongodb_up{cluster_role=\"\"} 0\n"), "{down}");
    assert!(took < Duration::from_secs(4), "{took:?}");
}
