//! Replication: two primaries (`--log-bin --server-id=1` and `=3`) and a replica
//! (`--server-id=2`) following both, MariaDB multi-source (`CHANGE MASTER 'name' TO`).
//! `mysql_slave_status_*` on the replica has one series per source, labelled by
//! `connection_name`, with the incumbent's types and label names; `slave_hosts` on a
//! primary lists the replica.

use crate::mariadb::{families, ours, theirs, value, Own, OPTIONS, PASSWORD};

fn follow(replica: &Own, name: &str, primary: &Own) {
    primary.sql(
        "CREATE USER 'repl'@'127.0.0.1' IDENTIFIED BY 'repl-pw'; GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1';",
    );
    // Start from the primary's current position: both servers already have the same
    // users and schema, so replaying their creation would stop the SQL thread.
    let status = primary.sql("SHOW MASTER STATUS");
    let mut fields = status.split('\t');
    let (file, pos) = (fields.next().unwrap().trim().to_owned(), fields.next().unwrap().trim().to_owned());
    replica.sql(&format!(
        "CHANGE MASTER '{name}' TO MASTER_HOST='127.0.0.1', MASTER_PORT={}, MASTER_USER='repl', MASTER_PASSWORD='repl-pw', \
         MASTER_LOG_FILE='{file}', MASTER_LOG_POS={pos}, MASTER_USE_GTID=no; START SLAVE '{name}';",
        primary.port
    ));
}

fn with_server_id(id: &str) -> Vec<&str> {
    let mut options: Vec<&str> = OPTIONS.iter().copied().filter(|o| !o.starts_with("--server-id")).collect();
    options.push(id);
    options
}

#[test]
fn slave_status_single_and_multi_source() {
    // The tests' default server has --log-bin --server-id=1: the first primary.
    let Some(primary) = crate::mariadb::Server::own("replication") else { return };
    let other = Own::start(&with_server_id("--server-id=3"));
    let replica = Own::start(&with_server_id("--server-id=2"));
    follow(&replica, "", &primary);
    follow(&replica, "second", &other);
    primary.sql("INSERT INTO vigie.t (v) VALUES (10)");
    other.sql("CREATE DATABASE only_on_other");
    // Wait until both sources are applied.
    let started = std::time::Instant::now();
    while replica.sql("SELECT COUNT(*) FROM vigie.t").trim() != "4"
        || !replica.sql("SHOW DATABASES").contains("only_on_other")
    {
        assert!(
            started.elapsed().as_secs() < 60,
            "replication did not catch up:\n{}",
            replica.sql("SHOW ALL SLAVES STATUS")
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }

    let dir = tempfile::tempdir().unwrap();
    let addr = replica.addr();
    let exporter = ours(dir.path(), PASSWORD, &[&format!("--mysqld.address={addr}"), "--mysqld.username=exporter"]);
    let text = exporter.get("/metrics", Some(5.0));
    assert_eq!(
        value(&text, "mysql_exporter_collector_success{collector=\"collect.slave_status\"} "),
        Some(1.0),
        "{}",
        exporter.log()
    );
    for conn in ["", "second"] {
        for (family, want) in [
            ("slave_io_running", Some(1.0)),
            ("slave_sql_running", Some(1.0)),
            ("seconds_behind_master", Some(0.0)),
            ("last_errno", Some(0.0)),
            ("read_master_log_pos", None),
        ] {
            let prefix = format!(
                "mysql_slave_status_{family}{{channel_name=\"\",connection_name=\"{conn}\",master_host=\"127.0.0.1\",master_uuid=\"\"}} "
            );
            let got = value(&text, &prefix);
            assert!(got.is_some(), "no {prefix}\n{text}");
            if want.is_some() {
                assert_eq!(got, want, "{prefix}");
            }
        }
    }
    // The incumbent on the same replica: same slave_status families, types and labels.
    if let Some(incumbent) = theirs(dir.path(), &addr, PASSWORD, &[]) {
        let theirs_text = incumbent.get("/metrics", None);
        let (a, b) = (families(&text), families(&theirs_text));
        let theirs_slave: Vec<_> = b.iter().filter(|(n, _)| n.starts_with("mysql_slave_status_")).collect();
        assert!(theirs_slave.len() > 20, "incumbent wrote few slave families:\n{theirs_text}");
        for (name, desc) in theirs_slave {
            assert_eq!(a.get(name), Some(desc), "{name}");
        }
        let ours_slave = a.keys().filter(|n| n.starts_with("mysql_slave_status_")).count();
        println!(
            "slave_status families: ours {ours_slave}, theirs {}",
            b.keys().filter(|n| n.starts_with("mysql_slave_status_")).count()
        );
    }

    // The primary lists its replica.
    let on_primary = ours(
        dir.path(),
        PASSWORD,
        &[&format!("--mysqld.address={}", primary.addr()), "--mysqld.username=exporter", "--collect.slave_hosts"],
    );
    let text = on_primary.get("/metrics", Some(5.0));
    let line = text.lines().find(|l| l.starts_with("mysql_heartbeat_mysql_slave_hosts_info{"));
    println!("{line:?}");
    assert!(
        line.is_some_and(|l| l.contains("master_id=\"1\"") && l.contains("server_id=\"2\"") && l.ends_with(" 1")),
        "{text}"
    );
}
