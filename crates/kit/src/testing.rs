//! Helpers for exporters' integration tests (cargo feature `testing`): start a binary on a free
//! loopback port and wait until it answers, plain HTTP/1.1 requests over a `TcpStream`, golden
//! files, `promtool check metrics`, and the rule for tests that need a real service.
//!
//! The service rule: when a program or service a test needs is missing, the test prints
//! `skipped: <why>` and returns, so that a plain `cargo test` passes on a bare machine; under
//! `tests/run`, which sets `VIGIE_REQUIRE_SERVICES=1` after installing everything, the same
//! test fails instead, so that nothing is silently skipped in CI.

use std::fmt::Display;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

mod golden;

/// Set to `1` by `tests/run`: missing services fail tests instead of skipping them.
pub const REQUIRE_ENV: &str = "VIGIE_REQUIRE_SERVICES";
/// Set to `1` to rewrite golden files instead of comparing against them.
pub const UPDATE_GOLDEN_ENV: &str = "VIGIE_UPDATE_GOLDEN";

/// Whether `VIGIE_REQUIRE_SERVICES=1`.
pub fn services_required() -> bool {
    std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1")
}

/// Reports a missing prerequisite: prints `skipped: <why>` and returns, or panics when
/// services are required. Use as `let Some(x) = … else { return skip(…) };`.
pub fn skip(why: impl Display) {
    if services_required() {
        panic!("{REQUIRE_ENV}=1 but a prerequisite is missing: {why}");
    }
    println!("skipped: {why}");
}

/// The first of `names` found on `PATH`.
pub fn which(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).flat_map(|dir| names.iter().map(move |n| dir.join(n))).find(|p| p.is_file())
}

/// The first of `names` on `PATH`, or `None` after [`skip`] (`install` is the command that
/// would provide it, quoted in the message).
pub fn program(names: &[&str], install: &str) -> Option<PathBuf> {
    let found = which(names);
    if found.is_none() {
        skip(format!("{} not on PATH (install: {install})", names.join(" or ")));
    }
    found
}

/// A loopback port that was free a moment ago (bind port 0, read it, close). Another
/// process may take it before it is used: [`Running::spawn`] retries with a new one.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(0)
}

/// A directory under the system temp dir, removed when dropped.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates a fresh, empty directory whose name starts with `prefix`.
    pub fn new(prefix: &str) -> std::io::Result<TempDir> {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "{prefix}-{}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0)
        ));
        std::fs::create_dir_all(&dir)?;
        Ok(TempDir(dir))
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process serving HTTP on a loopback port; killed (SIGKILL) when dropped.
#[derive(Debug)]
pub struct Running {
    /// A short name for messages (`vigie-host-exporter`, `node_exporter`).
    pub name: String,
    /// Where it listens.
    pub addr: SocketAddr,
    child: Child,
    logs: TempDir,
}

impl Running {
    /// Starts `program` with `args(listen_address)` (e.g. `127.0.0.1:41234`) on a free port,
    /// its stdout and stderr going to a log file, and waits until the port accepts a
    /// connection. Retries with another port if the child exits first (the port was taken).
    /// `Err` holds the child's log.
    pub fn spawn(program: &Path, args: impl Fn(&str) -> Vec<String>) -> Result<Running, String> {
        let name = program.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mut last = String::new();
        for _attempt in 0..3 {
            let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
            let (mut child, logs) = start(program, &args(&addr.to_string()))?;
            match wait_listening(&mut child, addr) {
                Ok(()) => return Ok(Running { name, addr, child, logs }),
                Err(why) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    last = format!("{name} at {addr}: {why}\n--- its output ---\n{}", read_log(logs.path()));
                }
            }
        }
        Err(last)
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What it wrote to stdout and stderr so far.
    pub fn log(&self) -> String {
        read_log(self.logs.path())
    }

    /// `GET path` with extra headers.
    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        match get(self.addr, path, headers) {
            Ok(r) => r,
            Err(e) => panic!("GET {path} from {} at {}: {e}\n--- its output ---\n{}", self.name, self.addr, self.log()),
        }
    }

    /// `GET /metrics`, which must answer 200; returns the body as text.
    pub fn scrape(&self) -> String {
        let r = self.get("/metrics", &[]);
        assert_eq!(r.status, 200, "{} /metrics answered {}: {}\n{}", self.name, r.status, r.text(), self.log());
        r.text()
    }

    /// Sends `signal` (`TERM`, `INT`…) with the `kill` command.
    pub fn signal(&self, signal: &str) -> std::io::Result<()> {
        let status = Command::new("kill").arg(format!("-{signal}")).arg(self.pid().to_string()).status()?;
        if status.success() {
            Ok(())
        } else {
            Err(std::io::Error::other(format!("kill -{signal} {} failed: {status}", self.pid())))
        }
    }

    /// Waits up to `limit` for the process to exit; `None` if it is still running.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let end = Instant::now() + limit;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < end => std::thread::sleep(Duration::from_millis(20)),
                _ => return None,
            }
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(program: &Path, args: &[String]) -> Result<(Child, TempDir), String> {
    let logs = TempDir::new("vigie-test-log").map_err(|e| format!("temp dir: {e}"))?;
    let file = std::fs::File::create(logs.path().join("log")).map_err(|e| format!("log file: {e}"))?;
    let err = file.try_clone().map_err(|e| format!("log file: {e}"))?;
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
    Ok((child, logs))
}

fn read_log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("log")).unwrap_or_default()
}

fn wait_listening(child: &mut Child, addr: SocketAddr) -> Result<(), String> {
    // A hang guard, not a measurement: a healthy exporter listens within milliseconds.
    let end = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("exited before listening ({status})"));
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if Instant::now() > end {
            return Err("not listening after 30 s".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `program args` to completion with its output captured (for `--version`, bad flags and
/// config errors that exit at start-up). A process still running after `limit` is killed and
/// reported as an error (a hang guard: a binary that should have exited is serving instead).
pub fn run_to_exit(program: &Path, args: &[&str], limit: Duration) -> std::io::Result<std::process::Output> {
    let mut child =
        Command::new(program).args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let end = Instant::now() + limit;
    while child.try_wait()?.is_none() {
        if Instant::now() > end {
            let _ = child.kill();
            let out = child.wait_with_output()?;
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "{} {args:?} still running after {limit:?}; output:\n{}{}",
                    program.display(),
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ),
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output()
}

/// An HTTP response.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Header names (lower-cased) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked but not decompressed.
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }

    /// The body as text, gunzipped when `Content-Encoding: gzip`.
    pub fn text(&self) -> String {
        if self.header("content-encoding") == Some("gzip") {
            let mut out = Vec::new();
            let mut dec = flate2::read::GzDecoder::new(&self.body[..]);
            if dec.read_to_end(&mut out).is_ok() {
                return String::from_utf8_lossy(&out).into_owned();
            }
            return "<invalid gzip body>".into();
        }
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// `GET path` over plain HTTP/1.1 (`Connection: close`), with extra headers; reads the whole
/// answer (a 60 s read timeout guards against a hang).
pub fn get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nUser-Agent: vigie-test\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_response(&raw).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// Parses a whole HTTP/1.1 response (as read until the server closed).
pub fn parse_response(raw: &[u8]) -> Result<Response, String> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or("no end of headers")?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let body = &raw[end + 4..];
    let chunked = headers.iter().any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked { dechunk(body)? } else { body.to_vec() };
    Ok(Response { status, headers, body })
}

fn dechunk(mut body: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let eol = body.windows(2).position(|w| w == b"\r\n").ok_or("chunk size without CRLF")?;
        let size_text = String::from_utf8_lossy(&body[..eol]);
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| format!("bad chunk size {size_text:?}"))?;
        body = &body[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        if body.len() < size + 2 {
            return Err("truncated chunk".into());
        }
        out.extend_from_slice(&body[..size]);
        body = &body[size + 2..];
    }
}

pub use golden::*;

/// A bcrypt hash of `password` at the lowest cost (fast tests; the server accepts any cost).
pub fn bcrypt_hash(password: &str) -> String {
    bcrypt::hash(password, 4).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_are_dechunked() {
        let raw =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n3\r\nabc\r\n2;x=1\r\nde\r\n0\r\n\r\n";
        let r = parse_response(raw).unwrap();
        assert_eq!((r.status, r.text().as_str(), r.header("x-a")), (200, "abcde", Some("b")));
        let r = parse_response(b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno").unwrap();
        assert_eq!((r.status, r.body.as_slice()), (404, &b"no"[..]));
        assert!(parse_response(b"HTTP/1.1 200 OK\r\n").is_err());
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_err());
    }

    #[test]
    fn line_diff_names_both_sides() {
        let d = line_diff("a\nb\nb\nc\n", "a\nb\nd\n");
        assert_eq!(d, "- b\n- c\n+ d\n");
        assert!(line_diff("a\n", "a").contains("same lines"));
    }
}
