//! Test support: free ports, the router as a child process, a tiny HTTP/1.1 client, the
//! real services (Alertmanager, aiosmtpd) found from env or their Debian paths, Maildir
//! reading.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const FIRING: &[u8] = include_bytes!("../fixtures/alertmanager/webhook-v4-firing.json");
pub const RESOLVED: &[u8] = include_bytes!("../fixtures/alertmanager/webhook-v4-resolved.json");
pub const TOKEN: &str = "test-token";

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `skipped: why` and false, or a panic under `VIGIE_REQUIRE_SERVICES=1`.
pub fn skip(why: &str) -> bool {
    if std::env::var("VIGIE_REQUIRE_SERVICES").is_ok_and(|v| v == "1") {
        panic!("VIGIE_REQUIRE_SERVICES=1 but {why}");
    }
    println!("skipped: {why}");
    false
}

/// The router binary, running.
pub struct Router {
    child: Option<Child>,
    pub addr: SocketAddr,
    pub config: PathBuf,
    pub log: PathBuf,
}

impl Router {
    pub fn start(config: &Path, port: u16) -> Router {
        let log = config.with_extension(format!("{port}.{}.log", std::process::id()));
        let out = std::fs::OpenOptions::new().create(true).append(true).open(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_vigie-router"))
            .args(["serve", "--config"])
            .arg(config)
            .args(["--web.listen-address", &format!("127.0.0.1:{port}"), "--log.level", "debug"])
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let mut r = Router { child: Some(child), addr, config: config.to_owned(), log };
        r.wait_ready();
        r
    }

    fn wait_ready(&mut self) {
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(20) {
            if let Ok((200, _)) = request(self.addr, "GET", "/-/ready", &[], b"") {
                return;
            }
            if let Some(Ok(Some(st))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!("router exited: {st}\n{}", std::fs::read_to_string(&self.log).unwrap_or_default());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("router not ready\n{}", std::fs::read_to_string(&self.log).unwrap_or_default());
    }

    /// SIGKILL: no chance to flush anything.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn post(&self, body: &[u8]) -> (u16, String) {
        request(self.addr, "POST", "/api/v1/alertmanager", &[("Authorization", &format!("Bearer {TOKEN}"))], body)
            .unwrap()
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// One request on a fresh connection; status and body.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(15)))?;
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    if !body.is_empty() && !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
        head.push_str("Content-Type: application/json\r\n");
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes())?;
    // The server may answer (413) and close before the whole body is written: still read.
    let _ = s.write_all(body);
    read_response(s)
}

pub fn read_response(mut s: TcpStream) -> std::io::Result<(u16, String)> {
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status line in {text:?}")))?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Ok((status, body))
}

/// Writes a test config; `{SMTP}` etc. are filled by the caller.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Writes the ingest token and `router.yml`: the store, the ingest token, then `rest`.
pub fn write_config(dir: &Path, rest: &str) -> PathBuf {
    write(dir, "token", TOKEN);
    write(
        dir,
        "router.yml",
        &format!("storage: {{path: router.db}}\ningest: {{bearer_token: {{file: token}}}}\n{rest}"),
    )
}

/// A firing body for group `i` (distinct groupKey, fingerprint and group label).
pub fn group_body(i: usize) -> Vec<u8> {
    String::from_utf8_lossy(FIRING)
        .replace(
            "\"groupLabels\":{\"alertname\":\"HighCPU\",\"instance\":\"web-1:9100\"}",
            &format!("\"groupLabels\":{{\"alertname\":\"Crash\",\"instance\":\"i-{i}\"}}"),
        )
        .replace("instance=\\\"web-1:9100\\\"}", &format!("instance=\\\"i-{i}\\\"}}"))
        .replace("42324f53b8d47c3b", &format!("{i:016x}"))
        .into_bytes()
}

/// The router config the tests use: L1 alice+bob, L2 dora after `l2`, L3 arch after `l3`.
pub fn router_config(dir: &Path, smtp_port: u16, tls: &str, l2: &str, l3: &str) -> PathBuf {
    write(dir, "smtp-password", "secret");
    let auth = if tls == "none" {
        String::new()
    } else {
        "  username: vigie\n  password: {file: smtp-password}\n  ca_file: ca.pem\n  server_name: localhost\n".to_owned()
    };
    let text = format!(
        "email:
  smarthost: 127.0.0.1:{smtp_port}
  from: vigie@example.org
  tls: {tls}
{auth}  timeout: 5s
delivery: {{initial_backoff: 200ms, max_backoff: 1s, max_attempts: 1000}}
contacts:
  - {{name: alice, email: alice@example.org}}
  - {{name: bob, email: bob@example.org}}
  - {{name: dora, email: dora@example.org}}
  - {{name: arch, email: arch@example.org}}
teams:
  - {{name: support, level: 1, members: [alice, bob]}}
policies:
  - name: standard
    levels:
      - {{targets: [support]}}
      - {{targets: [dora], delay: {l2}}}
      - {{targets: [arch], delay: {l3}}}
route: {{policy: standard}}
"
    );
    write_config(dir, &text)
}

// ---- services ----

pub fn alertmanager_bin() -> Option<PathBuf> {
    let p = std::env::var_os("VIGIE_TEST_ALERTMANAGER")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/usr/bin/prometheus-alertmanager".into());
    p.exists().then_some(p)
}

/// A python3 that has aiosmtpd (Debian's; the pyenv one on PATH has not).
pub fn python_with_aiosmtpd() -> Option<PathBuf> {
    let p = std::env::var_os("VIGIE_TEST_PYTHON").map(PathBuf::from).unwrap_or_else(|| "/usr/bin/python3".into());
    let ok = Command::new(&p)
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(p)
}

pub fn openssl() -> Option<PathBuf> {
    let p = PathBuf::from(std::env::var("VIGIE_TEST_OPENSSL").unwrap_or_else(|_| "/usr/bin/openssl".into()));
    p.exists().then_some(p)
}

/// Everything the service tests need, or why not.
pub fn services() -> Result<(PathBuf, PathBuf, PathBuf), String> {
    let am = alertmanager_bin().ok_or("no Alertmanager (apt prometheus-alertmanager, or VIGIE_TEST_ALERTMANAGER)")?;
    let py = python_with_aiosmtpd().ok_or("no python3 with aiosmtpd (apt python3-aiosmtpd, or VIGIE_TEST_PYTHON)")?;
    let ssl = openssl().ok_or("no openssl (apt openssl, or VIGIE_TEST_OPENSSL)")?;
    Ok((am, py, ssl))
}

/// What every service test starts from: Alertmanager and aiosmtpd found, a temporary folder
/// holding a CA-signed certificate for the SMTP server, and a free port for it. `None`, after
/// [`skip`], when a tool is missing.
pub struct Setup {
    /// The Alertmanager binary.
    pub am: PathBuf,
    /// A python3 that has aiosmtpd.
    pub py: PathBuf,
    /// The test's folder (certificate, configs, maildir).
    pub dir: tempfile::TempDir,
    /// A free port for the SMTP server.
    pub smtp_port: u16,
}

pub fn setup() -> Option<Setup> {
    match services() {
        Ok((am, py, ssl)) => {
            let dir = tempfile::tempdir().unwrap();
            make_cert(&ssl, dir.path());
            Some(Setup { am, py, dir, smtp_port: free_port() })
        }
        Err(why) => {
            skip(&why);
            None
        }
    }
}

/// A CA (`ca.pem`) and a server cert for localhost / 127.0.0.1 signed by it (`cert.pem`,
/// `key.pem`) in `dir`. Not one self-signed cert: rustls refuses a CA certificate as the
/// server's own (`CaUsedAsEndEntity`), which `openssl req -x509` makes by default.
pub fn make_cert(openssl: &Path, dir: &Path) {
    let run = |args: &[&str]| {
        let st = Command::new(openssl)
            .current_dir(dir)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(st.success(), "openssl {args:?}");
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca-key.pem",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=vigie test CA",
    ]);
    run(&["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "cert.csr", "-subj", "/CN=localhost"]);
    std::fs::write(dir.join("ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
        .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "cert.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca-key.pem",
        "-CAcreateserial",
        "-out",
        "cert.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
}

/// A child process killed on drop.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn wait_port(port: u16) {
    let t0 = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t0.elapsed() < Duration::from_secs(15), "port {port} never opened");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn smtpd(py: &Path, dir: &Path, port: u16, mode: &str) -> Proc {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtpd.py");
    let log = std::fs::File::create(dir.join(format!("smtpd-{port}.log"))).unwrap();
    let child = Command::new(py)
        .arg(script)
        .arg(port.to_string())
        .arg(dir.join("maildir"))
        .arg(dir.join("cert.pem"))
        .arg(dir.join("key.pem"))
        .arg(mode)
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    wait_port(port);
    Proc(child)
}

pub fn alertmanager(bin: &Path, dir: &Path, router_port: u16) -> (Proc, u16) {
    let port = free_port();
    let cfg = format!(
        "route:
  receiver: vigie
  group_by: ['alertname', 'instance']
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: vigie
    webhook_configs:
      - url: http://127.0.0.1:{router_port}/api/v1/alertmanager
        send_resolved: true
        http_config:
          authorization: {{type: Bearer, credentials: {TOKEN}}}
"
    );
    let cfgp = write(dir, "am.yml", &cfg);
    let log = std::fs::File::create(dir.join("am.log")).unwrap();
    let child = Command::new(bin)
        .arg(format!("--config.file={}", cfgp.display()))
        .arg(format!("--storage.path={}", dir.join("am-data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .arg(format!("--web.external-url=http://127.0.0.1:{port}"))
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let p = Proc(child);
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let t0 = Instant::now();
    while !matches!(request(addr, "GET", "/-/ready", &[], b""), Ok((200, _))) {
        assert!(t0.elapsed() < Duration::from_secs(15), "alertmanager not ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    (p, port)
}

/// One received mail: envelope recipient, subject, whole text.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
}

pub fn mails(maildir: &Path) -> Vec<Mail> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(maildir.join("new")) else { return out };
    for e in rd.flatten() {
        let Ok(text) = std::fs::read_to_string(e.path()) else { continue };
        // Unfold headers.
        let head =
            text.split("\n\n").next().unwrap_or("").replace("\r\n", "\n").replace("\n ", " ").replace("\n\t", " ");
        let get = |name: &str| {
            head.lines().find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_owned)).unwrap_or_default()
        };
        out.push(Mail { to: get("X-RcptTo"), subject: get("Subject"), text: quoted_printable(&text) });
    }
    out
}

/// Undoes quoted-printable (lettre's choice for long lines): soft breaks and `=XX`.
pub fn quoted_printable(s: &str) -> String {
    let s = s.replace("=\r\n", "").replace("=\n", "");
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Waits until `pred` holds for the mails, or panics after `secs` with what arrived.
pub fn wait_mails(maildir: &Path, secs: u64, what: &str, pred: impl Fn(&[Mail]) -> bool) -> Vec<Mail> {
    let t0 = Instant::now();
    loop {
        let m = mails(maildir);
        if pred(&m) {
            return m;
        }
        if t0.elapsed() > Duration::from_secs(secs) {
            let list: Vec<String> = m.iter().map(|m| format!("{} | {}", m.to, m.subject)).collect();
            panic!("timed out waiting for {what}; mails:\n{}", list.join("\n"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn now_rfc3339() -> String {
    vigie_kit::log::rfc3339_millis(std::time::SystemTime::now())
}

// ---- acknowledgements ----

pub const API_TOKEN: &str = "api-token-for-tests";
pub const ACK_KEY: &str = "0123456789abcdef0123456789abcdef-test-key";
pub const SLACK_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
pub const TWILIO_TOKEN: &str = "twilio-auth-token-test";
pub const ALICE_PHONE: &str = "+33600000001";

/// [`router_config`] plus `acks` (links, Slack, Twilio; `ack_ttl`) and `api`, for a router
/// that will listen on `router_port`.
pub fn ack_config(dir: &Path, smtp_port: u16, router_port: u16, l2: &str, ack_ttl: &str) -> PathBuf {
    let p = router_config(dir, smtp_port, "none", l2, "1h");
    write(dir, "api-token", API_TOKEN);
    write(dir, "ack-key", ACK_KEY);
    write(dir, "slack-secret", SLACK_SECRET);
    write(dir, "twilio-token", TWILIO_TOKEN);
    let text = std::fs::read_to_string(&p).unwrap().replace(
        "{name: alice, email: alice@example.org}",
        &format!("{{name: alice, email: alice@example.org, slack: U0ALICE, phone: \"{ALICE_PHONE}\"}}"),
    );
    let text = format!(
        "{text}acks:
  public_url: http://127.0.0.1:{router_port}
  secret: {{file: ack-key}}
  link_ttl: 1h
  ack_ttl: {ack_ttl}
  slack_signing_secret: {{file: slack-secret}}
  twilio_auth_token: {{file: twilio-token}}
api:
  bearer_token: {{file: api-token}}
"
    );
    write(dir, "router.yml", &text)
}

/// A call to the incidents API with the token.
pub fn api(r: &Router, method: &str, path: &str, body: &str) -> (u16, serde_json::Value) {
    let auth = format!("Bearer {API_TOKEN}");
    let (st, text) = request(r.addr, method, path, &[("Authorization", &auth)], body.as_bytes()).unwrap();
    (st, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
}

/// The first incident's id and state, from the API.
pub fn incident_state(r: &Router, id: i64) -> (String, Option<String>) {
    let (st, v) = api(r, "GET", &format!("/api/v1/incidents/{id}"), "");
    assert_eq!(st, 200, "{v}");
    (v["state"].as_str().unwrap().to_owned(), v["acked_by"].as_str().map(str::to_owned))
}

/// A form POST.
pub fn post_form(addr: SocketAddr, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let mut h = vec![("Content-Type", "application/x-www-form-urlencoded")];
    h.extend_from_slice(headers);
    request(addr, "POST", path, &h, body.as_bytes()).unwrap()
}

/// Posts one alert to Alertmanager's `/api/v2/alerts`; `labels` and `annotations` are JSON
/// objects; with `ends_at` it resolves (the same labels and `starts_at` name the same alert).
pub fn post_am_alert(am_port: u16, labels: &str, annotations: &str, starts_at: &str, ends_at: Option<&str>) {
    let addr: SocketAddr = format!("127.0.0.1:{am_port}").parse().unwrap();
    let ends = ends_at.map(|e| format!(",\"endsAt\":\"{e}\"")).unwrap_or_default();
    let body = format!(
        "[{{\"labels\":{labels},\"annotations\":{annotations},\"startsAt\":\"{starts_at}\"{ends},\
          \"generatorURL\":\"http://prometheus.example:9090/graph\"}}]"
    );
    let (st, text) = request(addr, "POST", "/api/v2/alerts", &[], body.as_bytes()).unwrap();
    assert_eq!(st, 200, "{text}");
}

/// Mails to `to` whose subject contains `subject_has`.
pub fn count(m: &[Mail], to: &str, subject_has: &str) -> usize {
    m.iter().filter(|m| m.to.contains(to) && m.subject.contains(subject_has)).count()
}
