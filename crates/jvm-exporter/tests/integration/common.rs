//! What the JVM exporter's integration tests share: starting the JVMs (recipes A and B of
//! `shared/testenv/jvm.md`) and our binary on free loopback ports, talking to Jolokia
//! directly (to compare with what the JVM reports), and reading an exposition.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash as _, Hasher as _};
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use vigie_kit::testing::{self, Running, TempDir};

/// What `tests/run` installs; quoted when something is missing.
pub const INSTALL: &str = "apt-get install -y --no-install-recommends openjdk-17-jdk-headless libjolokia-core-java \
                           tomcat10-common tomcat-jakartaee-migration prometheus";

/// Debian's Jolokia 1.7.1 core (javax servlet + protocol handler).
pub const JOLOKIA_JAR: &str = "/usr/share/java/jolokia-core.jar";
/// Its JSON dependency (the jar's manifest Class-Path names it; the webapp needs a copy).
pub const JSON_SIMPLE_JAR: &str = "/usr/share/java/json-simple.jar";
/// Debian's Tomcat 10.1 (package tomcat10-common).
pub const CATALINA_HOME: &str = "/usr/share/tomcat10";

/// Both client_java naming generations.
pub const GENERATIONS: [&str; 2] = ["0.x", "1.x"];

/// Our binary.
pub fn ours() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_vigie-jvm-exporter"))
}

fn file_or_skip(path: &str) -> Option<PathBuf> {
    let p = PathBuf::from(path);
    if p.is_file() {
        Some(p)
    } else {
        testing::skip(format!("{path} missing (install: {INSTALL})"));
        None
    }
}

/// A cache file or folder under cargo's per-target temp dir, named by a hash of `key`, built
/// once by `make(tmp)` into a private folder then renamed into place (several test processes
/// may race; the loser uses the winner's copy).
fn cached(name: &str, key: &[u8], make: impl FnOnce(&Path) -> Result<(), String>) -> Result<PathBuf, String> {
    let mut h = DefaultHasher::new();
    key.hash(&mut h);
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let dest = root.join(format!("{name}-{:016x}", h.finish()));
    if dest.exists() {
        return Ok(dest);
    }
    let tmp = root.join(format!("{name}-tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    make(&tmp)?;
    if std::fs::rename(&tmp, &dest).is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    Ok(dest)
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?}: {}\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The harness compiled once (javac ~1.5 s), or `None` after skip.
fn harness_classes() -> Option<PathBuf> {
    static CLASSES: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let javac = testing::program(&["javac"], INSTALL)?;
    let jar = file_or_skip(JOLOKIA_JAR)?;
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/harness/JolokiaHarness.java");
    let classes = CLASSES.get_or_init(|| {
        let text = std::fs::read(&source).map_err(|e| format!("{}: {e}", source.display()))?;
        cached("jolokia-harness", &text, |dir| {
            run(Command::new(&javac).arg("-nowarn").arg("-cp").arg(&jar).arg("-d").arg(dir).arg(&source))
        })
    });
    Some(classes.clone().unwrap_or_else(|e| panic!("compiling the Jolokia harness: {e}")))
}

/// Jolokia's javax AgentServlet converted to jakarta for Tomcat 10 (javax2jakarta ~1 s), once.
fn jakarta_jolokia() -> Option<PathBuf> {
    static JAR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let convert = testing::program(&["javax2jakarta"], INSTALL)?;
    let jar = file_or_skip(JOLOKIA_JAR)?;
    let dir = JAR.get_or_init(|| {
        let meta = std::fs::metadata(&jar).map_err(|e| e.to_string())?;
        let key = format!("{} {:?}", meta.len(), meta.modified().ok());
        cached("jolokia-jakarta", key.as_bytes(), |dir| {
            run(Command::new(&convert).arg(&jar).arg(dir.join("jolokia-core-jakarta.jar")))
        })
    });
    Some(dir.clone().unwrap_or_else(|e| panic!("converting Jolokia to jakarta: {e}")).join("jolokia-core-jakarta.jar"))
}

/// A JVM serving Jolokia on loopback; killed when dropped.
pub struct Jvm {
    /// The JVM process (its pid is the JVM's).
    pub process: Running,
    /// `http://127.0.0.1:PORT/jolokia`.
    pub url: String,
    _base: Option<TempDir>,
}

impl Jvm {
    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.process.addr
    }

    /// POSTs a JSON request straight to Jolokia (no auth) and returns the parsed reply.
    pub fn post(&self, body: &str) -> serde_json::Value {
        let text = post(self.addr(), "/jolokia/", body, None).unwrap_or_else(|e| panic!("POST to Jolokia: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("Jolokia reply is not JSON ({e}): {text}"))
    }

    /// `value` of one read straight from Jolokia.
    pub fn read(&self, mbean: &str, attribute: &str) -> serde_json::Value {
        let reply = self.post(&serde_json::json!({"type": "read", "mbean": mbean, "attribute": attribute}).to_string());
        assert_eq!(reply["status"], 200, "{reply}");
        reply["value"].clone()
    }

    /// Asks the JVM for a full collection (`MemoryMXBean.gc()`).
    pub fn gc(&self) {
        let reply = self.post(r#"{"type":"exec","mbean":"java.lang:type=Memory","operation":"gc"}"#);
        assert_eq!(reply["status"], 200, "{reply}");
    }
}

/// Starts the plain-JVM harness (recipe B); `auth` = `user:password` makes it demand basic auth.
pub fn plain_jvm(auth: Option<&str>) -> Option<Jvm> {
    let java = testing::program(&["java"], INSTALL)?;
    let classes = harness_classes()?;
    let cp = format!("{}:{JOLOKIA_JAR}", classes.display());
    let env = testing::program(&["env"], "coreutils")?;
    let process = Running::spawn(&env, |addr| {
        let port = addr.rsplit(':').next().unwrap_or("0").to_owned();
        let mut args = Vec::new();
        if let Some(a) = auth {
            args.push(format!("JOLOKIA_HARNESS_AUTH={a}"));
        }
        args.push(java.display().to_string());
        args.extend(["-Xmx128m", "-XX:TieredStopAtLevel=1", "-cp"].map(String::from));
        args.extend([cp.clone(), "JolokiaHarness".into(), port]);
        args
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let url = format!("http://{}/jolokia", process.addr);
    Some(Jvm { process, url, _base: None })
}

/// Starts Tomcat 10.1 with Jolokia's AgentServlet as the `/jolokia` webapp (recipe A) and
/// waits until Jolokia answers.
pub fn tomcat() -> Option<Jvm> {
    testing::program(&["java"], INSTALL)?;
    let catalina = file_or_skip(&format!("{CATALINA_HOME}/bin/catalina.sh"))?;
    let json = file_or_skip(JSON_SIMPLE_JAR)?;
    let jolokia = jakarta_jolokia()?;
    let env = testing::program(&["env"], "coreutils")?;
    let base = TempDir::new("vigie-tomcat").expect("temp dir");
    let b = base.path();
    let lib = b.join("webapps/jolokia/WEB-INF/lib");
    for d in [b.join("conf"), b.join("logs"), b.join("temp"), lib.clone()] {
        std::fs::create_dir_all(d).expect("CATALINA_BASE folders");
    }
    std::fs::copy(&jolokia, lib.join("jolokia-core-jakarta.jar")).expect("copy jolokia");
    std::fs::copy(&json, lib.join("json-simple.jar")).expect("copy json-simple");
    std::fs::write(
        b.join("conf/server.xml"),
        r#"<Server port="-1" shutdown="SHUTDOWN"><Service name="Catalina">
<Connector port="${vigie.http.port}" address="127.0.0.1" protocol="HTTP/1.1" connectionTimeout="20000"/>
<Engine name="Catalina" defaultHost="localhost"><Host name="localhost" appBase="webapps" unpackWARs="false" autoDeploy="false"/></Engine>
</Service></Server>
"#,
    )
    .expect("server.xml");
    std::fs::write(
        b.join("webapps/jolokia/WEB-INF/web.xml"),
        r#"<web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.0">
<servlet><servlet-name>jolokia</servlet-name><servlet-class>org.jolokia.http.AgentServlet</servlet-class>
<init-param><param-name>discoveryEnabled</param-name><param-value>false</param-value></init-param>
<load-on-startup>1</load-on-startup></servlet>
<servlet-mapping><servlet-name>jolokia</servlet-name><url-pattern>/*</url-pattern></servlet-mapping>
</web-app>
"#,
    )
    .expect("web.xml");
    let process = Running::spawn(&env, |addr| {
        let port = addr.rsplit(':').next().unwrap_or("0");
        vec![
            format!("CATALINA_HOME={CATALINA_HOME}"),
            format!("CATALINA_BASE={}", b.display()),
            format!("CATALINA_OPTS=-Dvigie.http.port={port} -Xmx256m"),
            catalina.display().to_string(),
            "run".into(),
        ]
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let url = format!("http://{}/jolokia", process.addr);
    // The connector may accept before the webapp answers: wait for Jolokia's version reply.
    let end = Instant::now() + Duration::from_secs(60);
    loop {
        if testing::get(process.addr, "/jolokia/version", &[]).is_ok_and(|r| r.status == 200) {
            break;
        }
        assert!(Instant::now() < end, "Jolokia in Tomcat not answering after 60 s:\n{}", process.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(Jvm { process, url, _base: Some(base) })
}

/// Starts our binary on a free port with `--jolokia.url=url` and `extra` flags.
pub fn spawn_ours(url: &str, extra: &[&str]) -> Running {
    Running::spawn(&ours(), |addr| {
        let mut args = vec![format!("--web.listen-address={addr}"), format!("--jolokia.url={url}")];
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

/// A plain HTTP/1.1 POST (`Connection: close`) with a JSON body; returns the body.
pub fn post(addr: SocketAddr, path: &str, body: &str, auth: Option<&str>) -> std::io::Result<String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(a) = auth {
        req.push_str(&format!("Authorization: {a}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let r = testing::parse_response(&raw).map_err(std::io::Error::other)?;
    Ok(r.text())
}

/// A sample: name with suffix, labels, value.
type Sample = (String, Vec<(String, String)>, f64);

/// One parsed scrape: every sample.
pub struct Scrape {
    /// The exposition text.
    pub text: String,
    samples: Vec<Sample>,
}

impl Scrape {
    /// Parses `text` (panics on a parse error).
    pub fn new(text: String) -> Scrape {
        let parsed = vigie_kit::parse::parse(&text).unwrap_or_else(|e| panic!("/metrics does not parse: {e}\n{text}"));
        let mut samples = Vec::new();
        for f in parsed.families {
            for s in f.samples {
                let labels = s.labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
                samples.push((format!("{}{}", f.name, s.suffix), labels, s.value));
            }
        }
        Scrape { text, samples }
    }

    /// The samples named `name` whose labels include every pair of `labels`.
    pub fn all(&self, name: &str, labels: &[(&str, &str)]) -> Vec<f64> {
        self.samples
            .iter()
            .filter(|(n, l, _)| n == name && labels.iter().all(|(k, v)| l.iter().any(|(a, b)| a == k && b == v)))
            .map(|(_, _, v)| *v)
            .collect()
    }

    /// The one sample `name{labels…}`; panics if there is not exactly one.
    pub fn one(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        match self.all(name, labels)[..] {
            [v] => v,
            ref other => panic!("{name}{labels:?}: expected one sample, found {other:?}\n{}", self.text),
        }
    }

    /// Sum of every sample named `name`.
    pub fn sum(&self, name: &str) -> f64 {
        self.all(name, &[]).iter().sum()
    }

    /// Whether any sample is named `name`.
    pub fn has(&self, name: &str) -> bool {
        !self.all(name, &[]).is_empty()
    }

    /// Label values of `label` across the samples named `name`.
    pub fn label_values(&self, name: &str, label: &str) -> Vec<String> {
        self.samples
            .iter()
            .filter(|(n, _, _)| n == name)
            .filter_map(|(_, l, _)| l.iter().find(|(k, _)| k == label).map(|(_, v)| v.clone()))
            .collect()
    }
}

/// Scrapes `/metrics` of our exporter.
pub fn scrape(ours: &Running) -> Scrape {
    Scrape::new(ours.scrape())
}

/// Scrapes `/metrics` with Prometheus' timeout header; returns the scrape and how long it took.
pub fn scrape_with_timeout(ours: &Running, timeout_seconds: &str) -> (Scrape, Duration) {
    let start = Instant::now();
    let r = ours.get("/metrics", &[("X-Prometheus-Scrape-Timeout-Seconds", timeout_seconds)]);
    let took = start.elapsed();
    assert_eq!(r.status, 200, "{}", r.text());
    (Scrape::new(r.text()), took)
}

/// The JVM checks both kinds of JVM pass, for one naming generation: values against what the
/// JVM reports through Jolokia read directly, thread states adding up, GC counts rising after
/// a forced GC, the generation's own names and not the other's, and promtool.
pub fn check_jvm(jvm: &Jvm, ours: &Running, generation: &str) {
    let s = scrape(ours);
    assert_eq!(s.one("jvm_up", &[]), 1.0, "{}", ours.log());
    let (used, max, info, other_used) = match generation {
        "0.x" => ("jvm_memory_bytes_used", "jvm_memory_bytes_max", "jvm_info", "jvm_memory_used_bytes"),
        _ => ("jvm_memory_used_bytes", "jvm_memory_max_bytes", "jvm_runtime_info", "jvm_memory_bytes_used"),
    };
    assert!(!s.has(other_used), "{generation} must not serve {other_used}");
    let heap_used = s.one(used, &[("area", "heap")]);
    let heap_max = s.one(max, &[("area", "heap")]);
    assert!(heap_used > 0.0 && heap_used <= heap_max, "heap used {heap_used} within max {heap_max}");
    let reported = jvm.read("java.lang:type=Memory", "HeapMemoryUsage");
    assert_eq!(Some(heap_max), reported["max"].as_f64(), "heap max as the JVM reports it: {reported}");
    let version = jvm.post(r#"{"type":"read","mbean":"java.lang:type=Runtime","attribute":"SystemProperties","path":"java.runtime.version"}"#);
    let version = version["value"].as_str().unwrap_or_default().to_owned();
    assert!(!version.is_empty());
    assert_eq!(s.one(info, &[("version", &version)]), 1.0);
    let max_fds = jvm.read("java.lang:type=OperatingSystem", "MaxFileDescriptorCount");
    assert_eq!(Some(s.one("process_max_fds", &[])), max_fds.as_f64());

    // Thread states come from one dumpAllThreads, the count from the Threading MBean, in
    // the same bulk request: a thread may start or end between the two.
    let current = s.one("jvm_threads_current", &[]);
    let states = s.sum("jvm_threads_state");
    assert!(current > 0.0 && (states - current).abs() <= 2.0, "states {states} vs jvm_threads_current {current}");
    assert_eq!(s.label_values("jvm_threads_state", "state").len(), 6, "every Thread.State");
    assert!(s.one("jvm_threads_peak", &[]) >= current);

    // A forced GC raises the collection count (the sum over collectors: which one runs is
    // the JVM's choice).
    let before = s.sum("jvm_gc_collection_seconds_count");
    assert!(!s.label_values("jvm_gc_collection_seconds_count", "gc").is_empty(), "{}", s.text);
    jvm.gc();
    let after = scrape(ours).sum("jvm_gc_collection_seconds_count");
    assert!(after > before, "GC count {before} → {after} after a forced GC");

    promtool_clean(&s.text);
}

/// `promtool check metrics`: no parse error, every family with HELP, and no lint problem on
/// our own `vigie_*` names (the incumbent's names keep their warnings: compatibility wins).
pub fn promtool_clean(text: &str) {
    let Some(promtool) = testing::program(&["promtool"], INSTALL) else { return };
    let lint = testing::promtool_check_metrics(&promtool, text).expect("promtool runs");
    assert!(lint.errors.is_empty(), "promtool errors: {:?}", lint.errors);
    for (name, msg) in &lint.problems {
        assert!(!msg.contains("no help text"), "{name}: {msg}");
        assert!(!name.starts_with("vigie_"), "our own name fails lint: {name} {msg}");
    }
    let parsed = vigie_kit::parse::parse(text).expect("parses");
    for f in parsed.families {
        assert!(!f.help.is_empty(), "{} has no HELP", f.name);
    }
}
