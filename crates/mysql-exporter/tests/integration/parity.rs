//! Parity with mysqld_exporter: against the same server, with the same flags, every family
//! the incumbent exposes is exposed by us with the same type and label names, except the
//! ones listed in `parity-allow.txt` with a reason. Also: `promtool check metrics` finds no
//! error in our output, and the password never shows.

use std::collections::BTreeMap;

use crate::mariadb::{families, ours, theirs, value, Server};

/// The flags both exporters get: the defaults plus every off-by-default scraper we have.
fn shared_flags() -> Vec<&'static str> {
    let mut flags = Vec::new();
    for f in include_str!("../../parity-flags.txt").lines() {
        let f = f.trim();
        if !f.is_empty() && !f.starts_with('#') {
            flags.push(f);
        }
    }
    flags
}

fn allowed() -> BTreeMap<String, String> {
    include_str!("../../parity-allow.txt")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(char::is_whitespace).map(|(n, r)| (n.to_owned(), r.trim().to_owned())))
        .collect()
}

fn is_allowed(allow: &BTreeMap<String, String>, name: &str) -> bool {
    allow.keys().any(|a| match a.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => a == name,
    })
}

#[test]
fn same_families_types_and_labels_as_mysqld_exporter() {
    let Some(server) = Server::get("parity") else { return };
    // A client session idle through both scrapes, so that the process list is never
    // empty (0.14 opens and closes its connection per scrape: we would not see it).
    let mut idle = match &server {
        Server::Own(own) => Some(own.client().arg("-e").arg("SELECT SLEEP(120)").spawn().unwrap()),
        Server::External { .. } => None,
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    let dir = tempfile::tempdir().unwrap();
    let flags = shared_flags();
    let ours = ours(
        dir.path(),
        server.password(),
        &[&[format!("--mysqld.address={}", server.addr()).as_str(), "--mysqld.username=exporter"][..], &flags].concat(),
    );
    // MariaDB fills information_schema.TABLES.AUTO_INCREMENT of an InnoDB table only once
    // something has opened the table: the first scrape (either exporter's) does. Without
    // this one, the exporter scraped second sees auto_increment columns the first did not.
    let _ = ours.get("/metrics", None);
    let ours_text = ours.get("/metrics", None);
    assert_eq!(value(&ours_text, "mysql_up "), Some(1.0), "{ours_text}\n{}", ours.log());
    assert!(!ours_text.contains(server.password()) && !ours.log().contains(server.password()));
    let Some(theirs) = theirs(dir.path(), &server.addr(), server.password(), &flags) else {
        println!("skipped: prometheus-mysqld-exporter not installed (parity part)");
        return;
    };
    let theirs_text = theirs.get("/metrics", None);
    assert_eq!(value(&theirs_text, "mysql_up "), Some(1.0), "{theirs_text}");
    if let Some(idle) = idle.as_mut() {
        let _ = idle.kill();
        let _ = idle.wait();
    }
    let (a, b) = (families(&ours_text), families(&theirs_text));
    let allow = allowed();
    let mut problems = Vec::new();
    for (name, (kind, labels)) in &b {
        if is_allowed(&allow, name) {
            continue;
        }
        match a.get(name) {
            None => problems.push(format!("missing: {name} ({kind})")),
            Some((k, l)) if k != kind || l != labels => {
                problems.push(format!("differs: {name}: ours {k} {l:?}, theirs {kind} {labels:?}"))
            }
            Some(_) => {}
        }
    }
    let extra: Vec<&String> = a.keys().filter(|n| !b.contains_key(*n)).collect();
    println!("families: ours {}, theirs {}; ours only: {extra:?}", a.len(), b.len());
    assert!(problems.is_empty(), "{} parity problems:\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn promtool_finds_no_error() {
    let Some(server) = Server::get("promtool") else { return };
    let Ok(promtool) = which("promtool") else {
        println!("skipped: promtool not installed");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let flags = shared_flags();
    let ours = ours(
        dir.path(),
        server.password(),
        &[&[format!("--mysqld.address={}", server.addr()).as_str(), "--mysqld.username=exporter"][..], &flags].concat(),
    );
    let text = ours.get("/metrics", None);
    let mut child = std::process::Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    // Naming lints on names kept for compatibility (mysql_global_variables_max_error_count
    // "should not have _count suffix") are accepted, as the incumbent's output gets them
    // too; a parse error or a family without HELP is not.
    for line in report.lines() {
        assert!(!line.contains("error while linting") && !line.contains("no help text"), "promtool: {line}\n{report}");
        assert!(line.starts_with("mysql_"), "promtool lint on a name that is not the incumbent's: {line}");
    }
}

fn which(name: &str) -> Result<std::path::PathBuf, ()> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file()).ok_or(())
}
