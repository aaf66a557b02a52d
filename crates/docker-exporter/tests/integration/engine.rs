//! Starts a private `dockerd` (its own socket, data root and `--cgroup-parent` in a temporary
//! directory, no bridge, vfs storage: `../shared/testenv/docker.md`), imports a busybox image
//! from a local rootfs, runs containers that exercise every family, and checks the
//! exporter's `/metrics` against what `docker inspect` says. Then stops the engine (`up` 0)
//! and starts it again (`up` 1).
//!
//! Needs root, `dockerd`, `docker` and a static busybox, and checks the output with
//! `promtool check metrics` (Debian's `prometheus`). Without one of them the test prints
//! `skipped:` and passes (the kit's rule), unless `VIGIE_REQUIRE_SERVICES=1`.

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use vigie_kit::testing::{free_port, program, promtool_check_metrics, skip};

struct Daemon {
    dir: tempfile::TempDir,
    host: String,
    child: Option<Child>,
}

impl Daemon {
    fn start(dir: tempfile::TempDir) -> Daemon {
        let d = dir.path();
        let log = std::fs::File::create(d.join("dockerd.log")).unwrap();
        let child = Command::new("dockerd")
            .args(["--host", &format!("unix://{}/docker.sock", d.display())])
            .args(["--data-root", &d.join("data").to_string_lossy()])
            .args(["--exec-root", &d.join("exec").to_string_lossy()])
            .args(["--pidfile", &d.join("dockerd.pid").to_string_lossy()])
            .args(["--storage-driver=vfs", "--iptables=false", "--ip-masq=false", "--bridge=none"])
            .arg("--cgroup-parent=vigie-itest")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let host = format!("unix://{}/docker.sock", d.display());
        let daemon = Daemon { dir, host, child: Some(child) };
        wait_for("dockerd to answer", Duration::from_secs(30), || daemon.docker(&["info"]).is_ok());
        daemon
    }

    fn docker(&self, args: &[&str]) -> Result<String, String> {
        let out =
            Command::new("docker").env("DOCKER_HOST", &self.host).args(args).output().map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    fn run(&self, args: &[&str]) {
        let mut all = vec!["run", "-d", "--pull", "never", "--stop-timeout", "1"];
        all.extend_from_slice(args);
        self.docker(&all).unwrap_or_else(|e| panic!("docker run {args:?}: {e}"));
    }

    fn inspect(&self, name: &str, format: &str) -> String {
        self.docker(&["inspect", "-f", format, name]).unwrap()
    }

    /// SIGTERM, then waits for dockerd to exit (it stops the containers first).
    fn stop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        let _ = Command::new("kill").arg(child.id().to_string()).status();
        wait_for("dockerd to exit", Duration::from_secs(60), || child.try_wait().ok().flatten().is_some());
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
        unmount_under(self.dir.path());
    }
}

/// dockerd leaves its network namespace file (`exec/netns/default`) mounted under its exec
/// root: unmount whatever is left under `dir`, deepest first, so that the directory can go.
fn unmount_under(dir: &Path) {
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    let prefix = format!("{}/", dir.display());
    let mut points: Vec<&str> =
        mounts.lines().filter_map(|l| l.split(' ').nth(1)).filter(|p| p.starts_with(&prefix)).collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in points {
        let _ = Command::new("umount").arg(p).status();
    }
}

struct Exporter(Child);

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < limit, "gave up waiting for {what} after {limit:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn get(port: u16) -> String {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else { return String::new() };
    let _ = s.set_read_timeout(Some(Duration::from_secs(15)));
    let _ = write!(s, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default()
}

/// The value of the first sample of `family` whose labels include every `want` pair.
fn value(text: &str, family: &str, want: &[(&str, &str)]) -> Option<f64> {
    text.lines().filter(|l| l.starts_with(family) && l[family.len()..].starts_with(['{', ' '])).find_map(|l| {
        let (labels, v) = l.rsplit_once(' ')?;
        want.iter().all(|(k, val)| labels.contains(&format!("{k}=\"{val}\""))).then(|| v.parse().ok())?
    })
}

fn find_busybox() -> Option<PathBuf> {
    ["/bin/busybox", "/usr/bin/busybox"].iter().map(PathBuf::from).find(|p| p.exists())
}

fn import_image(d: &Daemon, busybox: &Path) {
    let root = d.dir.path().join("rootfs");
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::create_dir_all(root.join("tmp")).unwrap();
    std::fs::copy(busybox, root.join("bin/busybox")).unwrap();
    for c in ["sh", "sleep", "yes", "cat", "head", "touch", "test"] {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(c)).unwrap();
    }
    let script = format!("tar -C {} -c . | docker import - vigie/busybox:test", root.display());
    let ok = Command::new("sh").env("DOCKER_HOST", &d.host).args(["-c", &script]).status().unwrap();
    assert!(ok.success(), "docker import failed");
}

#[test]
fn containers_against_a_private_engine() {
    if program(&["dockerd"], "apt-get install docker.io busybox-static").is_none() {
        return;
    }
    let Some(busybox) = find_busybox() else {
        return skip("no static busybox (apt-get install busybox-static)");
    };
    // A short path: unix socket paths are limited to 108 bytes.
    let dir = tempfile::Builder::new().prefix("vd").tempdir_in("/tmp").unwrap();
    let d = Daemon::start(dir);
    import_image(&d, &busybox);
    let img = "vigie/busybox:test";
    d.run(&[
        "--network",
        "none",
        "--name",
        "busy",
        "--memory",
        "64m",
        "--cpus",
        "0.5",
        "--label",
        "com.docker.compose.project=shop",
        "--label",
        "com.docker.compose.service=web",
        img,
        "sh",
        "-c",
        "yes >/dev/null",
    ]);
    d.run(&["--network", "none", "--name", "flap", "--restart", "on-failure:2", img, "sh", "-c", "sleep 1; exit 3"]);
    // A child is OOM-killed, the init lives on: the cgroup's kill counter moves.
    d.run(&[
        "--network",
        "none",
        "--name",
        "oomchild",
        "--memory",
        "16m",
        "--memory-swap",
        "16m",
        img,
        "sh",
        "-c",
        "sh -c 'x=a; while true; do x=$x$x; done'; sleep 100000",
    ]);
    // The init itself is OOM-killed: Docker's OOMKilled flag.
    d.run(&[
        "--network",
        "none",
        "--name",
        "oominit",
        "--memory",
        "16m",
        "--memory-swap",
        "16m",
        img,
        "sh",
        "-c",
        "x=a; while true; do x=$x$x; done",
    ]);
    d.run(&[
        "--network",
        "none",
        "--name",
        "hc",
        "--health-cmd",
        "test -f /tmp/ok",
        "--health-interval",
        "1s",
        img,
        "sh",
        "-c",
        "touch /tmp/ok; sleep 100000",
    ]);
    d.run(&["--network", "host", "--name", "hostnet", img, "sleep", "100000"]);

    let port = free_port();
    let _exporter = Exporter(
        Command::new(env!("CARGO_BIN_EXE_vigie-docker-exporter"))
            .args([
                "--docker.host",
                &d.host,
                "--web.listen-address",
                &format!("127.0.0.1:{port}"),
                "--collector.process",
            ])
            .args(["--log.level", "debug"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Wait until every slow thing has happened: flap's two restarts, the health check, the kills.
    // Each condition with what the last scrape showed, so a timeout says which one is missing.
    let settled = |text: &str| {
        [
            ("flap restarts 2", value(text, "vigie_docker_container_restarts_total", &[("name", "flap")]) == Some(2.0)),
            (
                "flap exited",
                value(text, "vigie_docker_container_state", &[("name", "flap"), ("state", "exited")]) == Some(1.0),
            ),
            (
                "hc healthy",
                value(text, "vigie_docker_container_health_status", &[("name", "hc"), ("status", "healthy")])
                    == Some(1.0),
            ),
            (
                "oominit oom-killed",
                value(text, "vigie_docker_container_oom_killed", &[("name", "oominit")]) == Some(1.0),
            ),
            (
                "oomchild oom event",
                value(text, "container_oom_events_total", &[("name", "oomchild")]).is_some_and(|v| v >= 1.0),
            ),
            (
                "busy throttled",
                value(text, "container_cpu_cfs_throttled_periods_total", &[("name", "busy")]).is_some_and(|v| v > 0.0),
            ),
        ]
    };
    let mut text;
    let start = Instant::now();
    loop {
        text = get(port);
        let missing: Vec<&str> = settled(&text).iter().filter(|(_, ok)| !ok).map(|(what, _)| *what).collect();
        if missing.is_empty() {
            break;
        }
        // Generous: on a loaded 2-core machine dockerd's restarts and health checks lag.
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "containers did not settle in 120 s; still missing: {missing:?}; docker ps -a:\n{}\nlast scrape had {} bytes",
            d.docker(&["ps", "-a"]).unwrap_or_default(),
            text.len()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(value(&text, "vigie_docker_up", &[]), Some(1.0));

    // Docker's own numbers.
    let restarts: f64 = d.inspect("flap", "{{.RestartCount}}").parse().unwrap();
    let code: f64 = d.inspect("flap", "{{.State.ExitCode}}").parse().unwrap();
    assert_eq!((restarts, code), (2.0, 3.0));
    assert_eq!(value(&text, "vigie_docker_container_exit_code", &[("name", "flap")]), Some(code));
    assert_eq!(value(&text, "vigie_docker_container_exit_code", &[("name", "oominit")]), Some(137.0));
    let busy_id = d.inspect("busy", "{{.Id}}");
    assert!(
        text.contains(&format!("container_id=\"{busy_id}\""))
            && text.contains("compose_project=\"shop\",compose_service=\"web\""),
        "{text}"
    );

    // cAdvisor's families, labels and values.
    let busy = [
        ("name", "busy"),
        ("id", &*format!("/vigie-itest/{busy_id}")),
        ("image", img),
        ("container_label_com_docker_compose_project", "shop"),
    ];
    let busy: Vec<(&str, &str)> = busy.to_vec();
    assert_eq!(value(&text, "container_spec_memory_limit_bytes", &busy), Some(64.0 * 1024.0 * 1024.0), "{text}");
    assert_eq!(value(&text, "container_spec_cpu_quota", &busy), Some(50_000.0));
    assert_eq!(value(&text, "container_spec_cpu_period", &busy), Some(100_000.0));
    assert!(value(&text, "container_cpu_cfs_periods_total", &busy).unwrap() > 0.0);
    assert!(value(&text, "container_cpu_user_seconds_total", &busy).unwrap() > 0.0);
    assert!(
        text.lines().any(|l| l.starts_with("container_cpu_usage_seconds_total{")
            && l.contains("name=\"busy\"")
            && l.contains("cpu=\"cpu0")),
        "{text}"
    );
    assert!(value(&text, "container_memory_usage_bytes", &busy).unwrap() > 0.0);
    assert!(value(&text, "container_memory_working_set_bytes", &busy).is_some());
    assert_eq!(
        value(
            &text,
            "container_memory_failures_total",
            &[("name", "busy"), ("failure_type", "pgfault"), ("scope", "container")]
        )
        .map(|v| v > 0.0),
        Some(true)
    );
    assert_eq!(value(&text, "container_processes", &busy), Some(1.0));
    assert!(value(&text, "container_file_descriptors", &busy).unwrap() >= 3.0);
    let started = value(&text, "container_start_time_seconds", &busy).unwrap();
    assert!(started > 1.6e9, "{started}");
    assert_eq!(value(&text, "container_health_state", &[("name", "hc")]), Some(1.0));
    assert_eq!(value(&text, "container_health_state", &busy), Some(-1.0));
    // --network none: only lo, which cAdvisor leaves out; host network: the host's interfaces.
    assert!(!text.lines().any(|l| l.starts_with("container_network_") && l.contains("name=\"busy\"")));
    assert!(
        text.lines().any(|l| l.starts_with("container_network_receive_bytes_total{") && l.contains("name=\"hostnet\"")),
        "{text}"
    );
    // A stopped container has no cgroup series, but keeps its Docker state.
    assert!(!text.lines().any(|l| l.starts_with("container_cpu") && l.contains("name=\"flap\"")));
    // Every family has HELP and TYPE.
    for l in text.lines().filter(|l| !l.starts_with('#')) {
        let name = l.split(['{', ' ']).next().unwrap();
        assert!(text.contains(&format!("# TYPE {name} ")), "no TYPE for {name}");
    }

    // promtool: no parse error, no family without HELP; lint warnings only on cAdvisor's own
    // names (kept for compatibility: cAdvisor's output gets the same), none on ours.
    if let Some(promtool) = program(&["promtool"], "apt-get install prometheus") {
        let lint = promtool_check_metrics(&promtool, &text).unwrap();
        assert!(lint.errors.is_empty(), "promtool: {:?}", lint.errors);
        for (metric, msg) in &lint.problems {
            assert!(!msg.contains("no help text"), "{metric}: {msg}");
            assert!(metric.starts_with("container_"), "our own name must lint clean: {metric} {msg}");
            println!("promtool, cAdvisor's name: {metric} {msg}");
        }
    }

    // A container that goes away leaves the output with it.
    d.docker(&["rm", "-f", "hostnet"]).unwrap();
    wait_for("hostnet to disappear", Duration::from_secs(10), || !get(port).contains("name=\"hostnet\""));

    // Engine stopped: up 0, quickly, and the scrape still answers.
    let mut d = d;
    d.stop();
    wait_for("vigie_docker_up 0", Duration::from_secs(10), || value(&get(port), "vigie_docker_up", &[]) == Some(0.0));
    let down = get(port);
    assert!(!down.contains("container_cpu"), "no collector runs while the engine is down: {down}");

    // Engine back (same data root): up 1 again, with the containers re-listed.
    let d = d.restart();
    wait_for("vigie_docker_up 1", Duration::from_secs(30), || {
        let t = get(port);
        value(&t, "vigie_docker_up", &[]) == Some(1.0) && t.contains("vigie_docker_container_info{")
    });
    drop(d);
}

impl Daemon {
    /// Stops this daemon and starts a new one on the same directories.
    fn restart(mut self) -> Daemon {
        self.stop();
        let dir = std::mem::replace(&mut self.dir, tempfile::TempDir::new().unwrap());
        drop(self);
        Daemon::start(dir)
    }
}
