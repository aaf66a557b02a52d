//! The test environment: a small upstream (fast, slow 300 ms, 500), Debian's nginx on a
//! free loopback port with its own config (stub_status, the `vigie` log_format, a proxy to
//! the upstream), our exporter, and readers of its `/metrics`.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use vigie_kit::testing::{self, Running, TempDir};

/// The log_format of issue 21, exactly as the README documents it.
pub const VIGIE_FORMAT: &str = r#"log_format vigie '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time $upstream_response_time';"#;

/// An upstream on a loopback port: `/slow…` answers after 300 ms, `/err…` with 500, anything
/// else at once with 200. One thread per connection; lives as long as the test process.
pub fn upstream() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || answer(conn));
        }
    });
    addr
}

fn answer(mut conn: TcpStream) {
    let mut buf = [0u8; 4096];
    let mut got = Vec::new();
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    let line = String::from_utf8_lossy(&got);
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let (status, body) = if path.starts_with("/slow") {
        std::thread::sleep(Duration::from_millis(300));
        ("200 OK", "slow\n")
    } else if path.starts_with("/err") {
        ("500 Internal Server Error", "error\n")
    } else {
        ("200 OK", "ok\n")
    };
    let _ = write!(conn, "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
}

/// A running nginx with its own prefix directory.
pub struct Nginx {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its prefix: config, pid, logs, temp paths.
    pub dir: TempDir,
    child: Child,
}

impl Nginx {
    /// Starts nginx proxying to `upstream`, logging with the vigie format to
    /// `DIR/access.log`; `None` (after `skip`) when nginx is not installed.
    pub fn start(upstream: SocketAddr) -> Option<Nginx> {
        let program = testing::program(&["nginx"], "apt-get install -y nginx")?;
        for attempt in 0..3 {
            let dir = TempDir::new("vigie-nginx").unwrap();
            let d = dir.path().display().to_string();
            let port = testing::free_port();
            let conf = format!(
                r#"daemon off;
worker_processes 2;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 256; }}
http {{
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    {VIGIE_FORMAT}
    access_log {d}/access.log vigie;
    # Short, so that a test sees nginx close the exporter's kept connection.
    keepalive_timeout 1s;
    server {{
        listen 127.0.0.1:{port};
        location = /stub_status {{ stub_status; access_log off; }}
        location = /html {{ default_type text/html; return 200 "<html><body>Welcome to nginx!</body></html>\n"; access_log off; }}
        location / {{ proxy_pass http://{upstream}; }}
    }}
}}
"#
            );
            std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
            let child = Command::new(&program)
                .args(["-c", &format!("{d}/nginx.conf"), "-p", &d, "-e", &format!("{d}/error.log")])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let mut nginx = Nginx { addr, dir, child };
            // A hang guard: nginx listens within milliseconds.
            let end = Instant::now() + Duration::from_secs(20);
            while Instant::now() < end {
                if let Ok(Some(_)) = nginx.child.try_wait() {
                    break;
                }
                if TcpStream::connect(addr).is_ok() && nginx.dir.path().join("nginx.pid").exists() {
                    return Some(nginx);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let log = std::fs::read_to_string(nginx.dir.path().join("error.log")).unwrap_or_default();
            eprintln!("nginx attempt {attempt} failed (port taken?): {log}");
        }
        panic!("nginx did not start");
    }

    /// The access log.
    pub fn log(&self) -> PathBuf {
        self.dir.path().join("access.log")
    }

    /// The stub_status URL.
    pub fn stub_status(&self) -> String {
        format!("http://{}/stub_status", self.addr)
    }

    /// `GET path`; returns the status.
    pub fn get(&self, path: &str) -> u16 {
        testing::get(self.addr, path, &[]).unwrap().status
    }

    /// `nginx -s reopen`, as logrotate's postrotate does (SIGUSR1 to the master).
    pub fn reopen(&self) {
        let pid = std::fs::read_to_string(self.dir.path().join("nginx.pid")).unwrap();
        let ok = Command::new("kill").args(["-USR1", pid.trim()]).status().unwrap().success();
        assert!(ok, "kill -USR1 {pid}");
    }
}

impl Drop for Nginx {
    /// SIGTERM, which the master passes on to its workers; a SIGKILL would leave the
    /// workers running, orphaned, on their port. SIGKILL only if it is still there after 10 s.
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Our exporter with `args` (plus a listen address and a 50 ms poll interval).
pub fn exporter(args: &[String]) -> Running {
    let bin = Path::new(env!("CARGO_BIN_EXE_vigie-nginx-exporter"));
    Running::spawn(bin, |listen| {
        let mut a = vec![format!("--web.listen-address={listen}"), "--nginx.access-log.poll-interval=50ms".into()];
        a.extend(args.iter().cloned());
        a
    })
    .unwrap()
}

/// The value of the sample whose line starts with `prefix` (name and labels as written).
pub fn value(text: &str, prefix: &str) -> Option<f64> {
    text.lines().find(|l| l.starts_with(prefix)).and_then(|l| l.rsplit(' ').next()).and_then(|v| v.parse().ok())
}

/// The sum of every sample of `name` whose labels contain all of `labels` (`k="v"`).
pub fn sum(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter(|l| labels.iter().all(|want| l.contains(want)))
        .filter_map(|l| l.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()))
        .sum()
}

/// Scrapes until `done` holds (a hang guard of 30 s, not a measurement); returns the text.
pub fn scrape_until(exporter: &Running, what: &str, done: impl Fn(&str) -> bool) -> String {
    let end = Instant::now() + Duration::from_secs(30);
    loop {
        let text = exporter.scrape();
        if done(&text) {
            return text;
        }
        assert!(Instant::now() < end, "never got {what}:\n{text}\n--- exporter ---\n{}", exporter.log());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Appends `bytes` to `path`.
pub fn append(path: &Path, bytes: &[u8]) {
    std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap().write_all(bytes).unwrap();
}

/// A loopback HTTP server answering every request with `status` and `body` (a captured
/// stub_status page, an HTML page), or, with `hang`, accepting and never answering.
pub fn page_server(status: u16, body: &'static [u8], hang: bool) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for mut conn in listener.incoming().flatten() {
            if hang {
                held.push(conn);
                continue;
            }
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf);
                let head =
                    format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
                let _ = conn.write_all(head.as_bytes());
                let _ = conn.write_all(body);
            });
        }
    });
    addr
}

/// A fixture file's path.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}
