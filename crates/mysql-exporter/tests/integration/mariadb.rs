//! Real MariaDB servers for the tests: `mariadb-install-db` + `mariadbd` on a free loopback
//! port in a temporary directory (../shared/testenv/mysql.md), with an `exporter` user.
//! Without the binaries, `VIGIE_TEST_MYSQL_ADDR` (plus `VIGIE_TEST_MYSQL_PASSWORD`) names
//! an existing server whose `exporter`@`127.0.0.1` user has PROCESS, REPLICATION CLIENT and
//! SELECT; tests that must stop or lock the server then skip.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The exporter user's password in the servers the tests start.
pub const PASSWORD: &str = "Vigie-test-pw-7f3a";

/// Options of every server the tests start: performance_schema with every instrument
/// and consumer (the perf_schema.* scrapers), userstat (info_schema.*stats), a binary
/// log and a server id (binlog_size, slave_hosts; a replica can follow it).
pub const OPTIONS: &[&str] = &[
    "--performance-schema=ON",
    "--performance-schema-instrument=%=ON",
    "--performance-schema-consumer-events-statements-history=ON",
    "--userstat=1",
    "--log-bin=binlog",
    "--server-id=1",
];

/// A free loopback port (bound then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn find(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/bin".into(), "/usr/local/bin".into()])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// A server the test may use.
pub enum Server {
    /// Started by this test: can be stopped, locked, restarted.
    Own(Own),
    /// Given by `VIGIE_TEST_MYSQL_ADDR`.
    External { addr: String, password: String },
}

/// A `mariadbd` this test started.
pub struct Own {
    pub dir: tempfile::TempDir,
    pub port: u16,
    child: Option<Child>,
    extra: Vec<String>,
}

impl Server {
    /// A server, or `None` (after printing why) when there is none and none is required.
    pub fn get(name: &str) -> Option<Server> {
        if find("mariadbd").is_some() && find("mariadb-install-db").is_some() {
            return Some(Server::Own(Own::start(OPTIONS)));
        }
        match std::env::var("VIGIE_TEST_MYSQL_ADDR") {
            Ok(addr) if !addr.is_empty() => Some(Server::External {
                addr,
                password: std::env::var("VIGIE_TEST_MYSQL_PASSWORD").unwrap_or_else(|_| PASSWORD.to_owned()),
            }),
            _ => {
                assert!(
                    std::env::var_os("VIGIE_REQUIRE_SERVICES").is_none(),
                    "{name}: VIGIE_REQUIRE_SERVICES is set but mariadbd is not installed and VIGIE_TEST_MYSQL_ADDR is unset"
                );
                println!("skipped: VIGIE_TEST_MYSQL_ADDR unset and mariadbd not installed");
                None
            }
        }
    }

    /// Only a server this test controls.
    pub fn own(name: &str) -> Option<Own> {
        match Server::get(name)? {
            Server::Own(own) => Some(own),
            Server::External { .. } => {
                println!("skipped: {name} needs a server it can stop (mariadbd not installed)");
                None
            }
        }
    }

    pub fn addr(&self) -> String {
        match self {
            Server::Own(o) => o.addr(),
            Server::External { addr, .. } => addr.clone(),
        }
    }

    pub fn password(&self) -> &str {
        match self {
            Server::Own(_) => PASSWORD,
            Server::External { password, .. } => password,
        }
    }
}

impl Own {
    /// Initialises a data directory and starts `mariadbd` with `extra` options.
    pub fn start(extra: &[&str]) -> Own {
        // mariadb-install-db sometimes exits 1 with nothing but a warning when several run
        // at once on a loaded machine (its bootstrap server is killed by a timeout): a
        // second try in a fresh directory is the fix, not the thing under test.
        let mut tries = 0;
        let dir = loop {
            tries += 1;
            let dir = tempfile::tempdir().unwrap();
            let out = Command::new(find("mariadb-install-db").unwrap())
                .args(["--user=root", "--auth-root-authentication-method=normal", "--skip-test-db"])
                .arg(format!("--datadir={}", dir.path().join("data").display()))
                .output()
                .unwrap();
            if out.status.success() {
                break dir;
            }
            assert!(
                tries < 3,
                "mariadb-install-db: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let mut own = Own { dir, port: free_port(), child: None, extra: extra.iter().map(|s| s.to_string()).collect() };
        own.launch();
        own.sql(&format!(
            "CREATE USER 'exporter'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}';
             GRANT PROCESS, REPLICATION CLIENT, SELECT ON *.* TO 'exporter'@'127.0.0.1';
             GRANT SLAVE MONITOR, REPLICATION MASTER ADMIN ON *.* TO 'exporter'@'127.0.0.1';
             CREATE DATABASE vigie; CREATE TABLE vigie.t (id INT AUTO_INCREMENT PRIMARY KEY, v INT);
             INSERT INTO vigie.t (v) VALUES (1),(2),(3);"
        ));
        own
    }

    /// (Re)starts `mariadbd` on the same port and data directory; waits until it answers.
    pub fn launch(&mut self) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.dir.path().join("log")).unwrap();
        let child = Command::new(find("mariadbd").unwrap())
            .arg("--no-defaults")
            .arg("--user=root")
            .arg(format!("--datadir={}", self.dir.path().join("data").display()))
            .arg(format!("--socket={}", self.socket().display()))
            .arg(format!("--port={}", self.port))
            .arg(format!("--pid-file={}", self.dir.path().join("pid").display()))
            .args(["--bind-address=127.0.0.1", "--skip-name-resolve", "--innodb-buffer-pool-size=16M"])
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let started = Instant::now();
        while !self.socket().exists() || TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(60), "mariadbd did not start: {}", self.log());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Kills the server (SIGKILL: a crash, not a clean stop).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_file(self.socket());
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("sock")
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    /// Runs SQL as root over the socket; panics with the client's message on failure.
    pub fn sql(&self, sql: &str) -> String {
        let out = self.client().arg("-e").arg(sql).output().unwrap();
        assert!(out.status.success(), "{sql}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A root `mariadb` client on the socket.
    pub fn client(&self) -> Command {
        let mut c = Command::new(find("mariadb").unwrap());
        c.args(["-uroot", "-N", "-B"]).arg(format!("--socket={}", self.socket().display()));
        c
    }
}

impl Drop for Own {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A process killed when dropped (an exporter under test).
pub struct Proc {
    pub child: Child,
    pub port: u16,
    pub stderr: PathBuf,
}

impl Proc {
    /// Starts `cmd` (which must listen on `port`) with stderr to `stderr`, waits for the port.
    pub fn start(mut cmd: Command, port: u16, stderr: &Path) -> Proc {
        let err = std::fs::File::create(stderr).unwrap();
        let child = cmd.stdout(Stdio::null()).stderr(err).spawn().unwrap();
        let p = Proc { child, port, stderr: stderr.to_owned() };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(20), "did not listen: {}", p.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        p
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// GETs `path` with Prometheus' timeout header; returns the body. A 30 s socket timeout
    /// guards against a hung scrape (the assertion is on the body, not the time).
    pub fn get(&self, path: &str, timeout_header: Option<f64>) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let header =
            timeout_header.map(|t| format!("X-Prometheus-Scrape-Timeout-Seconds: {t}\r\n")).unwrap_or_default();
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n{header}Connection: close\r\n\r\n").unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).expect("scrape answered before the socket timeout");
        // Lossy: the incumbent passes label values from the server through unchecked.
        let out = String::from_utf8_lossy(&raw).into_owned();
        let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
        if out.contains("Transfer-Encoding: chunked") || out.contains("transfer-encoding: chunked") {
            dechunk(&body)
        } else {
            body
        }
    }
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].strip_prefix("\r\n").unwrap_or(&tail[n..]);
    }
    out
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts our exporter with `args`, the password in `MYSQLD_EXPORTER_PASSWORD`.
pub fn ours(dir: &Path, password: &str, args: &[&str]) -> Proc {
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vigie-mysql-exporter"));
    cmd.arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg(format!("--config.my-cnf={}", dir.join("absent.cnf").display()))
        .arg("--log.level=debug")
        .args(args)
        .env("MYSQLD_EXPORTER_PASSWORD", password)
        .env_remove("DATA_SOURCE_NAME");
    Proc::start(cmd, port, &dir.join(format!("ours-{port}.log")))
}

/// The incumbent (Debian's prometheus-mysqld-exporter 0.14), if installed.
pub fn theirs(dir: &Path, addr: &str, password: &str, args: &[&str]) -> Option<Proc> {
    let bin = find("prometheus-mysqld-exporter")?;
    let port = free_port();
    let mut cmd = Command::new(bin);
    cmd.arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .args(args)
        .env("DATA_SOURCE_NAME", format!("exporter:{password}@({addr})/"));
    Some(Proc::start(cmd, port, &dir.join(format!("theirs-{port}.log"))))
}

/// Family name → (type, sorted label names) from exposition text.
pub fn families(text: &str) -> std::collections::BTreeMap<String, (String, std::collections::BTreeSet<String>)> {
    let mut out = std::collections::BTreeMap::<String, (String, std::collections::BTreeSet<String>)>::new();
    let mut current = String::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            current = name.to_owned();
            out.entry(name.to_owned()).or_default().0 = kind.to_owned();
        } else if !line.starts_with('#') && !line.is_empty() {
            let labels = line.split_once('{').map(|(_, l)| l.rsplit_once('}').unwrap().0).unwrap_or("");
            let entry = out.entry(current.clone()).or_default();
            for pair in split_labels(labels) {
                if pair != "le" && pair != "quantile" {
                    entry.1.insert(pair);
                }
            }
        }
    }
    out
}

fn split_labels(labels: &str) -> Vec<String> {
    let (mut names, mut in_value, mut escaped, mut name) = (Vec::new(), false, false, String::new());
    for c in labels.chars() {
        if in_value {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_value = false,
                _ => {}
            }
        } else if c == '=' {
            names.push(std::mem::take(&mut name));
        } else if c == '"' {
            in_value = true;
        } else if c != ',' {
            name.push(c);
        }
    }
    names
}

/// The value of the first sample line starting with `prefix` (`mysql_up `).
pub fn value(text: &str, prefix: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(prefix)).and_then(|v| v.trim().parse().ok())
}
