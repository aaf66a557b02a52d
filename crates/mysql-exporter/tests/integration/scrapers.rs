//! Every off-by-default scraper against a real MariaDB started with performance_schema and
//! userstat on (`mariadb::OPTIONS`): after some activity on `vigie.t`, each writes its
//! families, and the ones whose source MariaDB lacks (MySQL Group Replication, MySQL 8.0's
//! applier timestamps) fail cleanly with success 0 while the scrape still answers.

use crate::mariadb::{families, ours, value, Server, PASSWORD};

/// (flag, success expected, families that must be present).
const SCRAPERS: &[(&str, f64, &[&str])] = &[
    (
        "info_schema.processlist",
        1.0,
        &[
            "mysql_info_schema_processlist_threads",
            "mysql_info_schema_processlist_seconds",
            "mysql_info_schema_processlist_processes_by_user",
            "mysql_info_schema_processlist_processes_by_host",
        ],
    ),
    ("mysql.user", 1.0, &["mysql_mysql_max_questions", "mysql_mysql_max_user_connections", "mysql_mysql_select_priv"]),
    (
        "info_schema.innodb_tablespaces",
        1.0,
        &["mysql_info_schema_innodb_tablespace_space_info", "mysql_info_schema_innodb_tablespace_file_size_bytes"],
    ),
    (
        "perf_schema.tableiowaits",
        1.0,
        &["mysql_perf_schema_table_io_waits_total", "mysql_perf_schema_table_io_waits_seconds_total"],
    ),
    (
        "perf_schema.indexiowaits",
        1.0,
        &["mysql_perf_schema_index_io_waits_total", "mysql_perf_schema_index_io_waits_seconds_total"],
    ),
    (
        "perf_schema.tablelocks",
        1.0,
        &["mysql_perf_schema_sql_lock_waits_total", "mysql_perf_schema_external_lock_waits_seconds_total"],
    ),
    (
        "perf_schema.eventsstatements",
        1.0,
        &["mysql_perf_schema_events_statements_total", "mysql_perf_schema_events_statements_seconds_total"],
    ),
    (
        "perf_schema.eventsstatementssum",
        1.0,
        &["mysql_perf_schema_events_statements_sum_total", "mysql_perf_schema_events_statements_sum_timer_wait"],
    ),
    (
        "perf_schema.eventswaits",
        1.0,
        &["mysql_perf_schema_events_waits_total", "mysql_perf_schema_events_waits_seconds_total"],
    ),
    (
        "perf_schema.file_events",
        1.0,
        &["mysql_perf_schema_file_events_total", "mysql_perf_schema_file_events_bytes_total"],
    ),
    (
        "perf_schema.file_instances",
        1.0,
        &["mysql_perf_schema_file_instances_total", "mysql_perf_schema_file_instances_bytes"],
    ),
    (
        "perf_schema.memory_events",
        1.0,
        &["mysql_perf_schema_memory_events_alloc_bytes_total", "mysql_perf_schema_memory_events_used_bytes"],
    ),
    ("perf_schema.replication_group_members", 0.0, &[]),
    ("perf_schema.replication_group_member_stats", 0.0, &[]),
    ("perf_schema.replication_applier_status_by_worker", 0.0, &[]),
    ("sys.user_summary", 1.0, &["mysql_sys_statements_total", "mysql_sys_current_memory_bytes"]),
    (
        "info_schema.userstats",
        1.0,
        &[
            "mysql_info_schema_user_statistics_total_connections",
            "mysql_info_schema_user_statistics_cpu_time_seconds_total",
        ],
    ),
    (
        "info_schema.clientstats",
        1.0,
        &[
            "mysql_info_schema_client_statistics_total_connections",
            "mysql_info_schema_client_statistics_max_statement_time_exceeded_total",
        ],
    ),
    ("info_schema.tablestats", 1.0, &["mysql_info_schema_table_statistics_rows_read_total"]),
    ("info_schema.schemastats", 1.0, &["mysql_info_schema_schema_statistics_rows_read_total"]),
    ("engine_innodb_status", 1.0, &["mysql_engine_innodb_read_views_open_inside_innodb"]),
    ("heartbeat", 1.0, &["mysql_heartbeat_stored_timestamp_seconds", "mysql_heartbeat_now_timestamp_seconds"]),
    ("slave_hosts", 1.0, &[]),
    ("info_schema.replica_host", 1.0, &[]),
];

#[test]
fn every_scraper_against_mariadb() {
    let Some(server) = Server::own("scrapers") else { return };
    server.sql(
        "USE vigie; SELECT * FROM t WHERE id = 2; SELECT COUNT(*) FROM t; UPDATE t SET v = v + 1 WHERE id = 1;
         CREATE DATABASE heartbeat; CREATE TABLE heartbeat.heartbeat (ts VARCHAR(26) NOT NULL, server_id INT UNSIGNED NOT NULL PRIMARY KEY);
         INSERT INTO heartbeat.heartbeat VALUES (DATE_FORMAT(NOW(6) - INTERVAL 3 SECOND, '%Y-%m-%d %H:%i:%s.%f'), 1);",
    );
    // A session that sleeps through the scrape, for the process list.
    let mut sleeper = server.client().arg("-e").arg("SELECT SLEEP(60)").spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec![
        format!("--mysqld.address={}", server.addr()),
        "--mysqld.username=exporter".to_owned(),
        "--collect.mysql.user.privileges".to_owned(),
        "--collect.perf_schema.file_instances.remove_prefix=".to_owned()
            + &server.dir.path().join("data/").display().to_string(),
    ];
    args.extend(SCRAPERS.iter().map(|(name, ..)| format!("--collect.{name}")));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let exporter = ours(dir.path(), PASSWORD, &args);
    let text = exporter.get("/metrics", Some(10.0));
    assert_eq!(value(&text, "mysql_up "), Some(1.0), "{}", exporter.log());
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    let found = families(&text);
    let mut problems = Vec::new();
    for (name, success, wanted) in SCRAPERS {
        let got = value(&text, &format!("mysql_exporter_collector_success{{collector=\"collect.{name}\"}} "));
        if got != Some(*success) {
            problems.push(format!("{name}: success {got:?}, expected {success}"));
        }
        for family in *wanted {
            if !found.contains_key(*family) {
                problems.push(format!("{name}: no {family}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}\n{text}\n{}", problems.join("\n"), exporter.log());

    // Values and labels that say the scrapers read what they should.
    let hb = |n: &str| value(&text, &format!("mysql_heartbeat_{n}_timestamp_seconds{{server_id=\"1\"}} ")).unwrap();
    let lag = hb("now") - hb("stored");
    assert!((2.0..60.0).contains(&lag), "heartbeat lag {lag}");
    assert!(
        text.contains("mysql_perf_schema_table_io_waits_total{name=\"t\",operation=\"fetch\",schema=\"vigie\"}"),
        "{text}"
    );
    assert!(
        text.contains("mysql_info_schema_table_statistics_rows_read_total{schema=\"vigie\",table=\"t\"}"),
        "{text}"
    );
    assert!(text.contains("mysql_mysql_process_priv{hostmask=\"127.0.0.1\",mysql_user=\"exporter\"} 1"), "{text}");
    assert!(text.contains("mysql_info_schema_processlist_processes_by_user{mysql_user=\"root\"} 1"), "{text}");
    assert!(text.contains("mysql_info_schema_processlist_threads{command=\"query\",state=\"user_sleep\"} 1"), "{text}");
    assert!(
        text.contains("event_name=\"innodb/innodb_data_file\"")
            || text.contains("event_name=\"wait/io/file/innodb/innodb_data_file\""),
        "{text}"
    );
    // The prefix flag removed the data directory from file names.
    assert!(!text.contains(&format!("file_name=\"{}", server.dir.path().join("data").display())), "{text}");
    // The three MariaDB-less sources logged why, and the scrape still answered.
    assert!(exporter.log().contains("replication_group_members"), "{}", exporter.log());
}

#[test]
fn processlist_flags() {
    let Some(server) = Server::get("processlist_flags") else { return };
    let dir = tempfile::tempdir().unwrap();
    let exporter = ours(
        dir.path(),
        server.password(),
        &[
            &format!("--mysqld.address={}", server.addr()),
            "--mysqld.username=exporter",
            "--collect.info_schema.processlist",
            "--no-collect.info_schema.processlist.processes_by_user",
            "--collect.info_schema.processlist.min_time=100000",
        ],
    );
    let text = exporter.get("/metrics", Some(5.0));
    assert_eq!(
        value(&text, "mysql_exporter_collector_success{collector=\"collect.info_schema.processlist\"} "),
        Some(1.0)
    );
    assert!(!text.contains("mysql_info_schema_processlist_processes_by_user{"), "{text}");
    // No thread of a fresh server has been in its state for 100000 s.
    assert!(!text.contains("mysql_info_schema_processlist_threads{"), "{text}");
}
