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

fn replay(venv: &Path, extra: &[&str]) -> Running {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/getDiagnosticData.data-4.2.8-rs-primary.json");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/replay.py");
    Running::spawn(&venv.join("bin/python"), |a| {
        let mut v = vec![script.into(), port_of(a), fixture.into()];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    })
    .unwrap()
}

/// Runs `code` with pymongo against `server` (as `c`, a MongoClient).
fn pymongo(venv: &Path, server: &Running, code: &str) {
    let prelude =
        format!("import pymongo, time\nc = pymongo.MongoClient('mongodb://{}/?directConnection=true')\n", server.addr);
    let out = std::process::Command::new(venv.join("bin/python")).arg("-c").arg(prelude + code).output().unwrap();
    assert!(out.status.success(), "pymongo: {}", String::from_utf8_lossy(&out.stderr));
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
    let server = replay(&v, &[]);
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
    // PBM's own collections, shaped as PBM writes them (its BackupMeta bson fields); no PBM
    // agent runs here.
    pymongo(
        &v,
        &server,
        "c.app.users.insert_one({'a': 1}); c.app.users.create_index('a')\n\
         c.admin.pbmConfig.insert_one({'pitr': {'enabled': True}, 'storage': {'type': 'filesystem'}})\n\
         now = int(time.time())\n\
         c.admin.pbmBackups.insert_one({'opid': '6a1', 'name': 'b1', 'type': 'logical', 'status': 'done',\
           'size': 4096, 'start_ts': now - 100, 'last_transition_ts': now - 40,\
           'replsets': [{'name': 'secantus', 'node': 'elsewhere:27017'}]})",
    );
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
        "mongodb_collstats_storageStats_count{",
        "mongodb_indexstats_accesses_ops{",
        // The collectors added since: SecantusDB claims 8.2.
        "mongodb_fcv_feature_compatibility_version{version=\"8.2\"} 8.2\n",
        "mongodb_currentop_fsync_lock_state 0\n",
        "mongodb_profile_slow_query_count{",
        "mongodb_pbm_cluster_backup_configured 1\n",
        "mongodb_pbm_cluster_pitr_backup_enabled 1\n",
        "mongodb_pbm_backup_duration_seconds{host=\"elsewhere:27017\",name=\"b1\",opid=\"6a1\",replica_set=\"secantus\",self=\"0\",status=\"done\",type=\"logical\"} 60\n",
        "mongodb_pbm_backup_size_bytes{",
        // SecantusDB has no replSetGetConfig (code 59): the collector fails, the scrape goes on.
        "vigie_mongodb_collector_success{collector=\"replicasetconfig\"} 0\n",
    ] {
        assert!(text.contains(want), "missing {want}\n{text}");
    }
    // The default slow time (5m): none of the operations running now is reported.
    assert!(!text.contains("mongodb_currentop_query_uptime{"), "{text}");
    // Not a mongos: no shard families.
    assert!(!text.contains("mongodb_mongos_") && !text.contains("mongodb_shards_"), "{text}");
    let (probe, _) = scrape(&e, &format!("/scrape?target={}", server.addr), "10");
    assert!(probe.contains("mongodb_up{cluster_role=\"mongod\"} 1\n"), "{probe}");
    // Percona answers an unknown target 404 "Unable to find target"; so do we.
    let unknown = e.get("/scrape?target=mongodb://127.0.0.2:1", &[]);
    assert_eq!(unknown.status, 404, "{}", unknown.text());
    assert!(unknown.text().contains("Unable to find target"));
    drop(server);
    let (down, took) = scrape(&e, "/metrics", "3");
    assert!(down.contains("mongodb_up{cluster_role=\"\"} 0\n"), "{down}");
    assert!(took < Duration::from_secs(4), "{took:?}");
}

#[test]
fn collstats_limit_lists_collections_once_per_scrape() {
    let Some(v) = venv() else { return };
    // mockupdb answers listDatabases (app, shop) and listCollections (2 each) and prints a
    // line per listCollections: 4 collections, over a limit of 3.
    let server = replay(&v, &["namespaces"]);
    let uri = format!("--mongodb.uri=mongodb://{}/?directConnection=true", server.addr);
    let e = exporter(&[
        &uri,
        "--collector.dbstats",
        "--collector.collstats",
        "--collector.indexstats",
        "--collector.topmetrics",
        "--collector.profile",
        "--discovering-mode",
        "--collector.collstats-limit=3",
    ]);
    let listed = || server.log().lines().filter(|l| l.starts_with("listCollections")).count();
    for round in 1..=2 {
        let (text, _) = scrape(&e, "/metrics", "8");
        assert!(text.contains("mongodb_up{cluster_role=\"mongod\"} 1\n"), "{text}");
        for skipped in
            ["mongodb_dbstats_", "mongodb_collstats_", "mongodb_indexstats_", "mongodb_top_", "mongodb_profile_"]
        {
            assert!(!text.contains(skipped), "{skipped} despite the limit\n{text}");
        }
        std::thread::sleep(Duration::from_millis(200));
        // One listing per database per scrape, shared by the five collectors.
        assert_eq!(listed(), 2 * round, "{}", server.log());
    }
}

#[test]
fn one_scrape_sends_each_command_once_and_keeps_process_facts() {
    let Some(v) = venv() else { return };
    // mockupdb prints `command NAME` for every command; buildInfo and replSetGetConfig are
    // not in the capture (CommandNotFound, kept like a reply); config.version has no document
    // (kept: no cluster id). The replica-set state comes from getDiagnosticData's own
    // replSetGetStatus, or from the command when the diagnostic data lacks it; the
    // replicasetstatus collector's command serves the topology too.
    for (extra, collector, status_per_scrape) in [
        (None, None, 0),
        (Some("no-status-in-data"), None, 1),
        (Some("no-status-in-data"), Some("--collector.replicasetstatus"), 1),
    ] {
        let server = replay(&v, &[&["commands"][..], extra.as_slice()].concat());
        let uri = format!("--mongodb.uri=mongodb://{}/?directConnection=true", server.addr);
        let flags =
            [&[uri.as_str(), "--collector.diagnosticdata", "--compatible-mode"][..], collector.as_slice()].concat();
        let e = exporter(&flags);
        let count = |name: &str| server.log().lines().filter(|l| *l == format!("command {name}")).count();
        for round in 1..=3 {
            let (text, _) = scrape(&e, "/metrics", "8");
            assert!(text.contains("mongodb_up{cluster_role=\"mongod\"} 1\n"), "{text}");
            assert!(text.contains("mongodb_mongod_replset_my_state{set=\"\"} 1\n"), "{text}");
            // Every sample with the topology labels carries the state, whichever reply gave it.
            let generic = text.lines().filter(|l| l.contains("cl_role=\""));
            let (mut n, mut with_state) = (0, 0);
            for l in generic {
                n += 1;
                with_state += usize::from(l.contains("rs_state=\"1\""));
            }
            assert!(n > 1000 && with_state == n, "{extra:?} {collector:?}: {with_state} of {n} carry rs_state=\"1\"");
            std::thread::sleep(Duration::from_millis(200));
            let log = server.log();
            // isMaster is the up check: no ping; the driver's handshakes send isMaster too.
            assert_eq!(count("ping"), 0, "{log}");
            assert!(count("isMaster") >= round, "{log}");
            assert_eq!(count("getDiagnosticData"), round, "{log}");
            assert_eq!(count("replSetGetStatus"), status_per_scrape * round, "{extra:?} {collector:?}\n{log}");
            // Asked once, kept across scrapes while the process lives.
            for kept in ["getCmdLineOpts", "buildInfo", "replSetGetConfig"] {
                assert_eq!(count(kept), 1, "{kept}\n{log}");
            }
            // The oplog's two ends every scrape, config.version once.
            assert_eq!(count("find"), 2 * round + 1, "{log}");
        }
    }
}

#[test]
fn promtool_accepts_replayed_and_live_output() {
    let Some(v) = venv() else { return };
    let Some(promtool) = vigie_kit::testing::program(&["promtool"], "apt-get install -y prometheus") else { return };
    let replayed = replay(&v, &[]);
    let live = secantus(&v);
    let mut outputs = Vec::new();
    for (server, flags) in [
        (&replayed, &["--collector.diagnosticdata", "--compatible-mode"][..]),
        (&live, &["--collect-all", "--compatible-mode"][..]),
    ] {
        let uri = format!("--mongodb.uri=mongodb://{}/?directConnection=true", server.addr);
        let mut args = vec![uri.as_str()];
        args.extend_from_slice(flags);
        let e = exporter(&args);
        outputs.push(scrape(&e, "/metrics", "10").0);
    }
    for text in &outputs {
        assert!(text.contains("mongodb_up{cluster_role=\"mongod\"} 1\n"), "{text}");
        let lint = vigie_kit::testing::promtool_check_metrics(&promtool, text).unwrap();
        assert!(lint.errors.is_empty(), "promtool: {:?}", lint.errors);
        // Every family has a HELP line (promtool only says "no help text" for an empty one).
        let helps: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("# HELP ")?.split(' ').next()).collect();
        for family in text.lines().filter_map(|l| l.strip_prefix("# TYPE ")?.split(' ').next()) {
            assert!(helps.contains(&family), "{family} has no HELP");
        }
        for (metric, problem) in &lint.problems {
            assert!(!problem.contains("help"), "{metric}: {problem}");
            // Naming warnings only for the incumbent's names (mongodb_*, collector_scrape_time_ms),
            // which Percona's output draws too; our own vigie_* and process_* names lint clean.
            assert!(
                metric.starts_with("mongodb_") || metric == "collector_scrape_time_ms",
                "lint on a name of ours: {metric} {problem}"
            );
        }
        assert!(
            !lint.problems.is_empty() || text.lines().count() < 100,
            "expected the incumbent's names to draw warnings"
        );
    }
}

/// Families left out of the golden file, each with why; a trailing `*` is a prefix.
const VOLATILE: &[(&str, &str)] = &[
    ("process_*", "the exporter process itself"),
    ("vigie_mongodb_exporter_build_info", "revision and rustc change with every commit and toolchain"),
    ("collector_scrape_time_ms", "how long each collector took"),
    ("vigie_mongodb_collector_duration_seconds", "how long each collector took"),
];

/// The golden exposition: the replayed 4.2.8 capture, scraped with the collectors the
/// capture can answer (`--collector.diagnosticdata`) in Percona's compatible mode (the new
/// names and the old ones), minus the families that change between runs, compared with
/// `tests/golden/mongodb.prom`; `VIGIE_UPDATE_GOLDEN=1` rewrites it.
#[test]
fn replayed_capture_exposition_matches_golden() {
    let Some(v) = venv() else { return };
    let server = replay(&v, &[]);
    let uri = format!("--mongodb.uri=mongodb://{}/?directConnection=true", server.addr);
    let e = exporter(&[&uri, "--collector.diagnosticdata", "--compatible-mode"]);
    let first = vigie_kit::testing::without_families(&scrape(&e, "/metrics", "10").0, VOLATILE);
    assert!(first.contains("mongodb_up{cluster_role=\"mongod\"} 1\n"), "{first}");
    let second = vigie_kit::testing::without_families(&scrape(&e, "/metrics", "10").0, VOLATILE);
    assert!(
        first == second,
        "two scrapes of the same capture differ; add the families to VOLATILE with a reason:\n{}",
        vigie_kit::testing::line_diff(&first, &second)
    );
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/mongodb.prom");
    vigie_kit::testing::assert_golden_exposition(&golden, &first);
}
