//! The Docker Engine side: which containers exist, kept current without polling.
//!
//! A background thread (its own small runtime) lists every container once, inspects each,
//! then follows `/events` (type container: create, start, die, destroy, health_status, oom,
//! pause, rename…) and re-inspects only the container an event names. When the stream breaks
//! (the daemon stopped or restarted) the registry is marked down, and the thread reconnects
//! with a capped backoff and lists again, so no event lost in between matters. A scrape never
//! calls the Engine API per container: it takes a [`Snapshot`] of the registry and reads the
//! cgroup files.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use bollard::models::ContainerInspectResponse;
use bollard::query_parameters::{EventsOptions, ListContainersOptions};
use bollard::Docker;
use futures_util::StreamExt as _;
use vigie_kit::Paths;

use crate::cgroup::{self, Cgroup, Layout, Limits};
use crate::labels::{self, LabelPolicy};

/// Longest wait between two reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Per-request timeout of the Engine API client (not the event stream, which is endless).
const REQUEST_TIMEOUT_SECS: u64 = 10;
/// Longest a scrape waits for the daemon's `/_ping`.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// What the exporter knows about one container, from its last inspect.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Container {
    /// Full id.
    pub id: String,
    /// Name without the leading `/`.
    pub name: String,
    /// The image as the user named it (`Config.Image`).
    pub image: String,
    /// The image id (`sha256:…`).
    pub image_id: String,
    /// Docker labels.
    pub labels: BTreeMap<String, String>,
    /// cAdvisor's base label pairs for this container (`name`, `image`, `container_label_*`,
    /// `container_env_*`), sanitized; `id` is added from the cgroup.
    pub base_labels: Vec<(String, String)>,
    /// `created`, `running`, `paused`, `restarting`, `removing`, `exited`, `dead`.
    pub state: String,
    /// `starting`, `healthy`, `unhealthy`; `None` without a health check.
    pub health: Option<String>,
    /// Docker's `RestartCount`.
    pub restart_count: i64,
    /// `State.ExitCode` of the last run.
    pub exit_code: i64,
    /// `State.OOMKilled`.
    pub oom_killed: bool,
    /// Init process, 0 when not running.
    pub pid: u32,
    /// Creation time, Unix seconds.
    pub created: Option<f64>,
    /// Last start time, Unix seconds.
    pub started: Option<f64>,
    /// The cgroup, for a running container whose init process could be read.
    pub cgroup: Option<Cgroup>,
    /// Its limits, read from the cgroup with the inspect (every event re-reads them).
    pub limits: Limits,
}

impl Container {
    /// Builds the record from an inspect answer, locating the cgroup of a running container.
    pub fn from_inspect(
        r: ContainerInspectResponse,
        layout: &Layout,
        paths: &Paths,
        policy: &LabelPolicy,
    ) -> Container {
        let state = r.state.unwrap_or_default();
        let config = r.config.unwrap_or_default();
        let running = state.running.unwrap_or(false);
        let pid = u32::try_from(state.pid.unwrap_or(0)).unwrap_or(0);
        let cgroup = if running && pid > 0 { locate(layout, paths, pid) } else { None };
        let limits = match cgroup.as_ref().map(Limits::read) {
            Some(Ok(l)) => l,
            Some(Err(e)) => {
                tracing::debug!(err = %e, "Cannot read the container's limits.");
                Limits::default()
            }
            None => Limits::default(),
        };
        let mut c = Container {
            id: r.id.unwrap_or_default(),
            name: r.name.unwrap_or_default().trim_start_matches('/').to_owned(),
            image: config.image.unwrap_or_default(),
            image_id: r.image.unwrap_or_default(),
            labels: config.labels.unwrap_or_default().into_iter().collect(),
            base_labels: Vec::new(),
            state: state.status.map(|s| s.to_string()).unwrap_or_default(),
            health: state.health.and_then(|h| h.status).map(|s| s.to_string()).filter(|s| !s.is_empty() && s != "none"),
            restart_count: r.restart_count.unwrap_or(0),
            exit_code: state.exit_code.unwrap_or(0),
            oom_killed: state.oom_killed.unwrap_or(false),
            pid: if running { pid } else { 0 },
            created: r.created.as_deref().and_then(unix_seconds),
            started: state.started_at.as_deref().and_then(unix_seconds),
            cgroup,
            limits,
        };
        c.base_labels = labels::base(&c, &config.env.unwrap_or_default(), policy);
        c
    }
}

fn locate(layout: &Layout, paths: &Paths, pid: u32) -> Option<Cgroup> {
    let path = paths.proc(format!("{pid}/cgroup"));
    let located = std::fs::read_to_string(&path).map_err(|e| e.to_string()).and_then(|t| cgroup::locate(layout, &t));
    match located {
        Ok(c) => Some(c),
        Err(e) => {
            // The container may have stopped since the event: its next event fixes it.
            tracing::debug!(path = %path.display(), err = %e, "Cannot locate the container's cgroup.");
            None
        }
    }
}

/// Parses Docker's RFC 3339 times (`2024-05-01T10:00:00.123456789Z`, `+02:00`) to Unix
/// seconds. Docker's zero time (`0001-01-01T00:00:00Z`, never started) and anything before
/// 1970 are `None`.
pub fn unix_seconds(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d, h, mi, se) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    let mut rest = &s[19..];
    let mut frac = 0.0;
    if let Some(r) = rest.strip_prefix('.') {
        let digits = r.bytes().take_while(u8::is_ascii_digit).count();
        frac = format!("0.{}", &r[..digits]).parse().ok()?;
        rest = &r[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) => {
            let secs = o.get(1..3)?.parse::<i64>().ok()? * 3600 + o.get(4..6)?.parse::<i64>().ok()? * 60;
            if o.starts_with('-') {
                -secs
            } else {
                secs
            }
        }
        _ => return None,
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let (y, mo) = if mo <= 2 { (y - 1, mo + 12) } else { (y, mo) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (mo - 3) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + mi * 60 + se - offset;
    (secs >= 0).then_some(secs as f64 + frac)
}

/// The registry's state.
#[derive(Default)]
struct State {
    containers: HashMap<String, Arc<Container>>,
    /// The event stream is open and the list is fresh.
    connected: bool,
    /// Why not, when not.
    error: String,
    /// The last scrape's snapshot, kept until the registry changes (labels are built once
    /// per change, not per scrape).
    snapshot: Option<Arc<Snapshot>>,
}

/// The shared registry and how to reach the daemon.
pub struct Engine {
    host: String,
    layout: Layout,
    paths: Paths,
    policy: LabelPolicy,
    state: RwLock<State>,
    /// The scrape side's client (made on the server runtime, where it is used).
    client: Mutex<Option<Docker>>,
}

/// What one scrape sees: every known container, and cAdvisor's label set for the running
/// ones (the union of every running container's label names, empty where absent, as
/// cAdvisor writes them).
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Every container, sorted by name.
    pub all: Vec<Arc<Container>>,
    /// Running containers with a cgroup, and their full label pairs.
    pub running: Vec<Running>,
}

/// A running container and the label pairs of its cAdvisor series.
#[derive(Debug)]
pub struct Running {
    /// The container.
    pub container: Arc<Container>,
    /// Its cgroup.
    pub cgroup: Cgroup,
    /// `id`, `name`, `image`, `container_label_*`… (names sorted, values possibly empty).
    pub labels: Vec<(String, String)>,
}

impl Engine {
    /// A registry for the daemon at `host` (`unix:///var/run/docker.sock`, `tcp://…`).
    pub fn new(host: String, paths: Paths, policy: LabelPolicy) -> Engine {
        let layout = Layout::detect(&paths);
        Engine {
            host,
            layout,
            paths,
            policy,
            state: RwLock::new(State { error: "not connected yet".to_owned(), ..State::default() }),
            client: Mutex::new(None),
        }
    }

    /// Starts the thread that keeps the registry current.
    pub fn spawn(self: &Arc<Self>) -> std::io::Result<()> {
        let engine = self.clone();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        std::thread::Builder::new().name("docker-events".into()).spawn(move || runtime.block_on(engine.follow()))?;
        Ok(())
    }

    fn connect(&self) -> Result<Docker, String> {
        Docker::connect_with_host(&self.host)
            .map(|d| d.with_timeout(Duration::from_secs(REQUEST_TIMEOUT_SECS)))
            .map_err(|e| format!("{}: {e}", self.host))
    }

    async fn follow(self: Arc<Self>) {
        let mut backoff = Duration::from_millis(100);
        loop {
            let started = Instant::now();
            let err = self.session().await;
            let was_up = {
                let mut s = self.state.write().unwrap_or_else(|e| e.into_inner());
                let was = s.connected;
                s.connected = false;
                s.error = err.clone();
                was
            };
            if was_up {
                tracing::warn!(target = %self.host, err = %err, "Lost the Docker event stream; reconnecting.");
            } else {
                tracing::debug!(target = %self.host, err = %err, "Docker engine unreachable.");
            }
            if started.elapsed() > Duration::from_secs(10) {
                backoff = Duration::from_millis(100);
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// One connection: subscribe, list, then apply events until the stream ends.
    async fn session(&self) -> String {
        let docker = match self.connect() {
            Ok(d) => d,
            Err(e) => return e,
        };
        let docker = match docker.negotiate_version().await {
            Ok(d) => d,
            Err(e) => return format!("{}: {e}", self.host),
        };
        // Subscribe before listing, so that nothing happening during the list is missed.
        let filters = HashMap::from([("type".to_owned(), vec!["container".to_owned()])]);
        let mut events = docker.events(Some(EventsOptions { filters: Some(filters), ..Default::default() }));
        let list = ListContainersOptions { all: true, ..Default::default() };
        let summaries = match docker.list_containers(Some(list)).await {
            Ok(l) => l,
            Err(e) => return format!("listing containers: {e}"),
        };
        let mut fresh = HashMap::new();
        for id in summaries.into_iter().filter_map(|s| s.id) {
            if let Some(c) = self.inspect(&docker, &id).await {
                fresh.insert(id, Arc::new(c));
            }
        }
        {
            let mut s = self.state.write().unwrap_or_else(|e| e.into_inner());
            tracing::info!(target = %self.host, containers = fresh.len(), "Following the Docker engine.");
            s.containers = fresh;
            s.snapshot = None;
            s.connected = true;
            s.error.clear();
        }
        while let Some(event) = events.next().await {
            let event = match event {
                Ok(e) => e,
                Err(e) => return format!("event stream: {e}"),
            };
            let action = event.action.unwrap_or_default();
            let Some(id) = event.actor.and_then(|a| a.id) else { continue };
            // Health checks run as execs every interval: their events change nothing here.
            if action.starts_with("exec_") {
                continue;
            }
            tracing::debug!(id = %id, action = %action, "Container event.");
            let updated = if action == "destroy" { None } else { self.inspect(&docker, &id).await };
            let mut s = self.state.write().unwrap_or_else(|e| e.into_inner());
            s.snapshot = None;
            match updated {
                Some(c) => s.containers.insert(id, Arc::new(c)),
                None => s.containers.remove(&id),
            };
        }
        "event stream closed".to_owned()
    }

    async fn inspect(&self, docker: &Docker, id: &str) -> Option<Container> {
        match docker.inspect_container(id, None).await {
            Ok(r) => Some(Container::from_inspect(r, &self.layout, &self.paths, &self.policy)),
            Err(e) => {
                tracing::debug!(id = %id, err = %e, "Cannot inspect container.");
                None
            }
        }
    }

    /// The registry for one scrape, or why the engine is down: the event stream is broken,
    /// or the daemon does not answer `/_ping` in time (a hung daemon keeps its socket open).
    pub async fn snapshot(&self, deadline: Instant) -> Result<Arc<Snapshot>, String> {
        {
            let s = self.state.read().unwrap_or_else(|e| e.into_inner());
            if !s.connected {
                return Err(s.error.clone());
            }
        }
        let client = {
            let mut slot = self.client.lock().unwrap_or_else(|e| e.into_inner());
            match slot.as_ref() {
                Some(c) => c.clone(),
                None => {
                    let c = self.connect()?;
                    *slot = Some(c.clone());
                    c
                }
            }
        };
        let wait = deadline.saturating_duration_since(Instant::now()).min(PING_TIMEOUT);
        match tokio::time::timeout(wait, client.ping()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(format!("ping: {e}")),
            Err(_) => return Err("ping timed out".to_owned()),
        }
        let mut s = self.state.write().unwrap_or_else(|e| e.into_inner());
        if !s.connected {
            return Err(s.error.clone());
        }
        if let Some(snap) = &s.snapshot {
            return Ok(snap.clone());
        }
        let snap = Arc::new(snapshot_of(s.containers.values().cloned().collect()));
        s.snapshot = Some(snap.clone());
        Ok(snap)
    }
}

/// Sorts the containers and gives each running one cAdvisor's full label set.
pub fn snapshot_of(mut all: Vec<Arc<Container>>) -> Snapshot {
    all.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    let running: Vec<(&Arc<Container>, &Cgroup)> =
        all.iter().filter_map(|c| c.cgroup.as_ref().map(|cg| (c, cg))).collect();
    let mut names: Vec<&str> =
        running.iter().flat_map(|(c, _)| c.base_labels.iter().map(|(k, _)| k.as_str())).collect();
    names.push(labels::ID);
    names.sort_unstable();
    names.dedup();
    let running = running
        .into_iter()
        .map(|(c, cg)| {
            let labels = names
                .iter()
                .map(|&n| {
                    let value = if n == labels::ID {
                        cg.name.clone()
                    } else {
                        c.base_labels.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap_or_default()
                    };
                    (n.to_owned(), value)
                })
                .collect();
            Running { container: c.clone(), cgroup: cg.clone(), labels }
        })
        .collect();
    Snapshot { all, running }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_times() {
        assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(unix_seconds("2024-02-29T12:00:00Z"), Some(1_709_208_000.0));
        let t = unix_seconds("2024-02-29T12:00:00.5+01:00").unwrap();
        assert!((t - (1_709_208_000.0 - 3600.0 + 0.5)).abs() < 1e-6, "{t}");
        // Docker's zero time: never started.
        assert_eq!(unix_seconds("0001-01-01T00:00:00Z"), None);
        assert_eq!(unix_seconds("yesterday"), None);
    }

    #[test]
    fn labels_are_the_union_of_running_containers() {
        let cg = |n: &str| Cgroup {
            name: format!("/docker/{n}"),
            dirs: cgroup::Dirs::V2("/x".into()),
            handles: Default::default(),
        };
        let a = Container {
            name: "a".into(),
            base_labels: vec![("name".into(), "a".into()), ("container_label_x".into(), "1".into())],
            cgroup: Some(cg("a")),
            ..Container::default()
        };
        let b = Container {
            name: "b".into(),
            base_labels: vec![("name".into(), "b".into())],
            cgroup: Some(cg("b")),
            ..Container::default()
        };
        let stopped = Container {
            name: "c".into(),
            base_labels: vec![("container_label_y".into(), "2".into())],
            ..Container::default()
        };
        let snap = snapshot_of(vec![Arc::new(b), Arc::new(stopped), Arc::new(a)]);
        assert_eq!(snap.all.len(), 3);
        assert_eq!(snap.all[0].name, "a");
        let b = &snap.running[1];
        let pairs: Vec<(&str, &str)> = b.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(pairs, [("container_label_x", ""), ("id", "/docker/b"), ("name", "b")]);
    }
}
