//! Faults: a stopped server, a wrong password, a server that accepts TCP and never
//! answers, a locked table. Each scrape must answer (the client's 30 s socket timeout
//! guards against a hang) with `mysql_up 0` when the server is unusable, and the next
//! scrape after recovery reconnects. The password never appears in logs or `/metrics`.

use std::net::TcpListener;
use std::time::Duration;

use crate::mariadb::{ours, value, Own, Server};

fn addr_flag(addr: &str) -> String {
    format!("--mysqld.address={addr}")
}

#[test]
fn stopped_server_gives_up_0_then_reconnects() {
    let Some(mut server) = Server::own("stopped_server") else { return };
    let dir = tempfile::tempdir().unwrap();
    let exporter =
        ours(dir.path(), crate::mariadb::PASSWORD, &[&addr_flag(&server.addr()), "--mysqld.username=exporter"]);
    let first = exporter.get("/metrics", Some(3.0));
    assert_eq!(value(&first, "mysql_up "), Some(1.0), "{first}\n{}", exporter.log());
    server.kill();
    let down = exporter.get("/metrics", Some(3.0));
    assert_eq!(value(&down, "mysql_up "), Some(0.0), "{down}");
    assert!(!down.contains("mysql_global_status_"), "no scraper runs when down");
    assert!(exporter.log().contains("Target is down."), "{}", exporter.log());
    server.launch();
    let again = exporter.get("/metrics", Some(3.0));
    assert_eq!(value(&again, "mysql_up "), Some(1.0), "{again}\n{}", exporter.log());
    assert!(again.contains("mysql_global_status_uptime "), "{again}");
    assert!(!exporter.log().contains(crate::mariadb::PASSWORD));
}

#[test]
fn wrong_password_gives_up_0_and_is_never_shown() {
    let Some(server) = Server::get("wrong_password") else { return };
    let dir = tempfile::tempdir().unwrap();
    let wrong = "Wrong-pw-do-not-print-91c";
    let exporter = ours(dir.path(), wrong, &[&addr_flag(&server.addr()), "--mysqld.username=exporter"]);
    let text = exporter.get("/metrics", Some(3.0));
    assert_eq!(value(&text, "mysql_up "), Some(0.0), "{text}");
    let log = exporter.log();
    assert!(log.contains("Access denied"), "a clear log line: {log}");
    assert!(!log.contains(wrong) && !text.contains(wrong), "password leaked: {log}");
}

#[test]
fn silent_server_gives_up_0_within_the_deadline() {
    // Accepts TCP connections and never sends the handshake.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in silent.incoming().flatten() {
            held.push(conn);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let exporter = ours(dir.path(), "pw", &[&addr_flag(&addr), "--mysqld.username=exporter"]);
    let started = std::time::Instant::now();
    let text = exporter.get("/metrics", Some(1.5));
    assert_eq!(value(&text, "mysql_up "), Some(0.0), "{text}");
    // Also through /probe, with a fresh per-target session.
    let probe = exporter.get(&format!("/probe?target={addr}"), Some(1.5));
    assert_eq!(value(&probe, "mysql_up "), Some(0.0), "{probe}");
    println!("two silent-server scrapes answered in {:?}", started.elapsed());
}

/// A root session that takes a write lock on `table` and keeps it (sleeping) until killed.
fn hold_write_lock(server: &Own, table: &str) -> std::process::Child {
    let mut holder =
        server.client().stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::null()).spawn().unwrap();
    {
        use std::io::Write as _;
        let stdin = holder.stdin.as_mut().unwrap();
        writeln!(stdin, "LOCK TABLES {table} WRITE; SELECT SLEEP(600);").unwrap();
    }
    std::thread::sleep(Duration::from_millis(500));
    holder
}

#[test]
fn locked_table_does_not_hang_the_scrape() {
    let Some(server) = Server::own("locked_table") else { return };
    // A root session holds a write lock on vigie.t and a global read lock for the test.
    let mut holder = hold_write_lock(&server, "vigie.t");
    let dir = tempfile::tempdir().unwrap();
    let exporter = ours(
        dir.path(),
        crate::mariadb::PASSWORD,
        &[
            &addr_flag(&server.addr()),
            "--mysqld.username=exporter",
            "--collect.info_schema.tables",
            "--collect.auto_increment.columns",
        ],
    );
    let text = exporter.get("/metrics", Some(3.0));
    assert_eq!(value(&text, "mysql_up "), Some(1.0), "{text}\n{}", exporter.log());
    assert!(text.contains("mysql_exporter_collector_success{collector=\"collect.global_status\"} 1"), "{text}");
    let _ = holder.kill();
    let _ = holder.wait();
}

#[test]
fn probe_uses_the_named_section() {
    let Some(server) = Server::get("probe") else { return };
    let dir = tempfile::tempdir().unwrap();
    let cnf = dir.path().join("my.cnf");
    std::fs::write(
        &cnf,
        format!(
            "[client]\nuser=nobody\npassword=nothing\n[client.servers]\nuser=exporter\npassword={}\n",
            server.password()
        ),
    )
    .unwrap();
    let port = crate::mariadb::free_port();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_vigie-mysql-exporter"));
    cmd.arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg(format!("--config.my-cnf={}", cnf.display()))
        .env_remove("MYSQLD_EXPORTER_PASSWORD")
        .env_remove("DATA_SOURCE_NAME");
    let exporter = crate::mariadb::Proc::start(cmd, port, &dir.path().join("log"));
    let ok = exporter.get(&format!("/probe?target={}&auth_module=client.servers", server.addr()), Some(5.0));
    assert_eq!(value(&ok, "mysql_up "), Some(1.0), "{ok}\n{}", exporter.log());
    assert!(ok.contains("mysql_global_status_uptime "), "{ok}");
    assert!(!ok.contains("process_cpu_seconds_total"), "a probe carries no exporter metrics");
    let denied = exporter.get(&format!("/probe?target={}", server.addr()), Some(5.0));
    assert_eq!(value(&denied, "mysql_up "), Some(0.0), "[client] has the wrong user: {denied}");
    let unknown = exporter.get(&format!("/probe?target={}&auth_module=nope", server.addr()), Some(5.0));
    assert_eq!(value(&unknown, "mysql_up "), Some(0.0), "{unknown}");
    assert!(!exporter.log().contains(server.password()));
}

/// `--exporter.lock_wait_timeout` at work: a session holds `LOCK TABLES … WRITE` on the
/// heartbeat table, so the heartbeat scraper's SELECT waits on a metadata lock. The
/// server gives up after the session's lock_wait_timeout (1 s here), well inside the
/// scrape deadline: heartbeat success 0 with the server's lock-timeout error, every
/// other scraper and `mysql_up` 1, and the connection is kept for the next scrape.
/// (information_schema.tables takes a high-priority shared lock that a table lock does
/// not block, so it cannot show this on MariaDB.)
#[test]
fn metadata_lock_is_cut_by_lock_wait_timeout() {
    let Some(server) = Server::own("metadata_lock") else { return };
    server.sql(
        "CREATE DATABASE heartbeat; CREATE TABLE heartbeat.heartbeat (ts VARCHAR(26) NOT NULL, server_id INT UNSIGNED NOT NULL PRIMARY KEY);
         INSERT INTO heartbeat.heartbeat VALUES (DATE_FORMAT(NOW(6), '%Y-%m-%d %H:%i:%s.%f'), 1);",
    );
    let mut holder = hold_write_lock(&server, "heartbeat.heartbeat");
    let dir = tempfile::tempdir().unwrap();
    let exporter = ours(
        dir.path(),
        crate::mariadb::PASSWORD,
        &[
            &addr_flag(&server.addr()),
            "--mysqld.username=exporter",
            "--collect.heartbeat",
            "--exporter.lock_wait_timeout=1",
        ],
    );
    let started = std::time::Instant::now();
    let text = exporter.get("/metrics", Some(10.0));
    let took = started.elapsed();
    assert_eq!(value(&text, "mysql_up "), Some(1.0), "{text}\n{}", exporter.log());
    assert_eq!(value(&text, "mysql_exporter_collector_success{collector=\"collect.heartbeat\"} "), Some(0.0), "{text}");
    assert_eq!(
        value(&text, "mysql_exporter_collector_success{collector=\"collect.global_status\"} "),
        Some(1.0),
        "{text}"
    );
    // The server's own lock-wait error, not the scrape deadline, ended the query.
    assert!(exporter.log().contains("Lock wait timeout exceeded"), "{}", exporter.log());
    println!("scrape with a metadata lock held answered in {took:?} (deadline 10 s, lock_wait_timeout 1 s)");
    // Release the lock: end the holder's session on the server (killing the client alone
    // leaves it sleeping until the server notices), then the client.
    let id = server.sql("SELECT id FROM information_schema.processlist WHERE info = 'SELECT SLEEP(600)'");
    server.sql(&format!("KILL {}", id.trim()));
    let _ = holder.kill();
    let _ = holder.wait();
    // The same exporter (same connection) reads the heartbeat again.
    let text = exporter.get("/metrics", Some(10.0));
    assert_eq!(value(&text, "mysql_exporter_collector_success{collector=\"collect.heartbeat\"} "), Some(1.0), "{text}");
}
