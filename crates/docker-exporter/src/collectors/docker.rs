//! What the Engine knows about every container, running or not → `vigie_docker_container_*`
//! (ours: cAdvisor has no such families). Values come from the last inspect, refreshed by
//! the event stream; nothing is asked of the Engine during a scrape.
//!
//! | family | labels | value |
//! | --- | --- | --- |
//! | `vigie_docker_container_info` | name, container_id, image, image_id, compose_project, compose_service | 1 |
//! | `vigie_docker_container_state` | name, state | 1 for the current state, 0 for the others |
//! | `vigie_docker_container_health_status` | name, status | 1 for the current status (containers with a health check) |
//! | `vigie_docker_container_restarts_total` | name | Docker's RestartCount |
//! | `vigie_docker_container_exit_code` | name | last exit code |
//! | `vigie_docker_container_oom_killed` | name | 1 if the last run was OOM-killed |

use vigie_kit::{CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

use super::Conn;

/// The registration.
pub const REG: Registration<Conn> = Registration {
    name: "docker",
    default_enabled: true,
    help: "Docker's own view of every container: state, health, restarts, exit code, OOM kill, image, compose labels.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Docker)),
};

const INFO: Desc = Desc::gauge(
    "vigie_docker_container_info",
    "A container known to the Docker engine, with its image and compose project and service; always 1.",
    &["name", "container_id", "image", "image_id", "compose_project", "compose_service"],
);
const STATE: Desc = Desc::gauge(
    "vigie_docker_container_state",
    "1 for the container's current state (created, running, paused, restarting, removing, exited, dead), 0 for the others.",
    &["name", "state"],
);
const HEALTH: Desc = Desc::gauge(
    "vigie_docker_container_health_status",
    "1 for the current health check status (starting, healthy, unhealthy), 0 for the others; absent without a health check.",
    &["name", "status"],
);
const RESTARTS: Desc =
    Desc::counter("vigie_docker_container_restarts_total", "Restarts by the restart policy (Docker's RestartCount).", &["name"]);
const EXIT_CODE: Desc = Desc::gauge("vigie_docker_container_exit_code", "Exit code of the container's last run.", &["name"]);
const OOM_KILLED: Desc =
    Desc::gauge("vigie_docker_container_oom_killed", "1 if the container's last run was killed for lack of memory.", &["name"]);

/// The states Docker reports.
pub const STATES: [&str; 7] = ["created", "running", "paused", "restarting", "removing", "exited", "dead"];
/// The health statuses Docker reports.
pub const HEALTH_STATUSES: [&str; 3] = ["starting", "healthy", "unhealthy"];

const COMPOSE_PROJECT: &str = "com.docker.compose.project";
const COMPOSE_SERVICE: &str = "com.docker.compose.service";

/// Writes the Engine's view.
pub struct Docker;

impl SyncCollector<Conn> for Docker {
    fn collect_sync(&self, cx: &Scrape<Conn>, out: &mut MetricSet) -> CollectResult {
        for c in &cx.target.all {
            let label = |k: &str| c.labels.get(k).map_or("", String::as_str);
            let name = c.name.as_str();
            out.add(&INFO, &[name, &c.id, &c.image, &c.image_id, label(COMPOSE_PROJECT), label(COMPOSE_SERVICE)], 1.0);
            for s in STATES {
                out.add(&STATE, &[name, s], if c.state == s { 1.0 } else { 0.0 });
            }
            if let Some(h) = &c.health {
                for s in HEALTH_STATUSES {
                    out.add(&HEALTH, &[name, s], if h == s { 1.0 } else { 0.0 });
                }
            }
            out.add(&RESTARTS, &[name], c.restart_count as f64);
            out.add(&EXIT_CODE, &[name], c.exit_code as f64);
            out.add(&OOM_KILLED, &[name], if c.oom_killed { 1.0 } else { 0.0 });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use vigie_kit::{Collector, Paths};

    use super::*;
    use crate::engine::{snapshot_of, Container};

    #[test]
    fn every_container_whatever_its_state() {
        let flap = Container {
            id: "f1".into(),
            name: "flap".into(),
            image: "vigie/busybox:test".into(),
            state: "exited".into(),
            restart_count: 2,
            exit_code: 3,
            labels: [(COMPOSE_PROJECT.to_owned(), "shop".to_owned())].into_iter().collect(),
            ..Container::default()
        };
        let web = Container { id: "w1".into(), name: "web".into(), state: "running".into(), health: Some("healthy".into()), ..Container::default() };
        let snap = Arc::new(snapshot_of(vec![Arc::new(flap), Arc::new(web)]));
        let cx = Scrape::new(Instant::now() + Duration::from_secs(5), Arc::new(Paths::default()), snap);
        let mut out = MetricSet::new();
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(Docker.collect(&cx, &mut out)).unwrap();
        let text = out.encode();
        assert!(text.contains("vigie_docker_container_state{name=\"flap\",state=\"exited\"} 1\n"), "{text}");
        assert!(text.contains("vigie_docker_container_state{name=\"flap\",state=\"running\"} 0\n"), "{text}");
        assert!(text.contains("vigie_docker_container_restarts_total{name=\"flap\"} 2\n"), "{text}");
        assert!(text.contains("vigie_docker_container_exit_code{name=\"flap\"} 3\n"), "{text}");
        assert!(text.contains("compose_project=\"shop\",compose_service=\"\",container_id=\"f1\""), "{text}");
        assert!(text.contains("vigie_docker_container_health_status{name=\"web\",status=\"healthy\"} 1\n"), "{text}");
        assert!(!text.contains("health_status{name=\"flap\""), "{text}");
    }
}
