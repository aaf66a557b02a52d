//! `vigie-docker-exporter`: container metrics for a Docker host, with cAdvisor's names, and
//! what Docker itself knows (state, health, restarts, exit codes, OOM kills).
//!
//! The container list comes from the Engine API and is kept current by its event stream
//! ([`engine`]); usage is read from each container's cgroup files (v1 or v2) and its network
//! namespace's `/proc/<pid>/net/dev`, never from one stats call per container.
//! `vigie_docker_up` is 0 when the Engine API is unreachable, and then no collector runs.

#![forbid(unsafe_code)]

mod cgroup;
mod collectors;
mod engine;
mod labels;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Arg, ArgAction, ArgMatches, Command};
use vigie_kit::{Desc, Exporter, Paths, ScrapeNames, Target};

use crate::engine::Engine;
use crate::labels::LabelPolicy;

/// How the kit knows this exporter.
pub const EXPORTER: Exporter = Exporter {
    name: "vigie-docker-exporter",
    version: env!("CARGO_PKG_VERSION"),
    about: "Docker container metrics from cgroups and the Engine API, with cAdvisor's names.",
    default_listen: ":8080",
    build_info: "vigie_docker_exporter_build_info",
    scrape_names: ScrapeNames::node_style(
        "vigie_docker_scrape_collector_success",
        "vigie_docker_scrape_collector_duration_seconds",
    ),
    path_flags: true,
};

/// 1 when the Engine API answers and the container list is current.
static UP: Desc = Desc::gauge(
    "vigie_docker_up",
    "Whether the Docker Engine API was reachable and its event stream followed (1) or not (0).",
    &[],
);

const HOST: &str = "docker.host";
const STORE_LABELS: &str = "store_container_labels";
const WHITELIST: &str = "whitelisted_container_labels";
const ENV_WHITELIST: &str = "env_metadata_whitelist";

fn flags(cmd: Command) -> Command {
    cmd.arg(
        Arg::new(HOST)
            .long(HOST)
            .alias("docker")
            .value_name("URL")
            .env("DOCKER_HOST")
            .default_value("unix:///var/run/docker.sock")
            .help("Docker Engine API address: unix:///path/to/docker.sock or tcp://host:port (cAdvisor's --docker)."),
    )
    .arg(
        Arg::new(STORE_LABELS)
            .long(STORE_LABELS)
            .value_name("BOOL")
            .num_args(0..=1)
            .require_equals(true)
            .default_value("true")
            .default_missing_value("true")
            .value_parser(clap::value_parser!(bool))
            .action(ArgAction::Set)
            .help("Turn every Docker label into a container_label_<name> label; false: only those of --whitelisted_container_labels."),
    )
    .arg(
        Arg::new(WHITELIST)
            .long(WHITELIST)
            .value_name("LABELS")
            .default_value("")
            .help("Comma-separated Docker labels to keep as container_label_<name> when --store_container_labels=false."),
    )
    .arg(
        Arg::new(ENV_WHITELIST)
            .long(ENV_WHITELIST)
            .value_name("PREFIXES")
            .default_value("")
            .help("Comma-separated prefixes of environment variables to expose as container_env_<NAME> labels."),
    )
}

fn list(m: &ArgMatches, id: &str) -> Vec<String> {
    m.get_one::<String>(id)
        .map(|s| s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default()
}

fn target(m: &ArgMatches) -> Result<Target<collectors::Conn>, String> {
    let host = m.get_one::<String>(HOST).cloned().unwrap_or_default();
    let policy = LabelPolicy {
        store_all: m.get_one::<bool>(STORE_LABELS).copied().unwrap_or(true),
        whitelist: list(m, WHITELIST),
        env_prefixes: list(m, ENV_WHITELIST),
    };
    let defaults = Paths::default();
    let path = |id: &str, default: PathBuf| m.get_one::<PathBuf>(id).cloned().unwrap_or(default);
    let paths =
        Paths { procfs: path("procfs", defaults.procfs), sysfs: path("sysfs", defaults.sysfs), ..Paths::default() };
    let engine = Arc::new(Engine::new(host, paths, policy));
    engine.spawn().map_err(|e| format!("starting the event follower: {e}"))?;
    Ok(Target {
        connect: Arc::new(move |_, deadline| {
            let engine = engine.clone();
            Box::pin(async move { Ok(engine.snapshot(deadline).await?) })
        }),
        up: Some(&UP),
        probe_path: None,
    })
}

/// Raises the soft limit on open files to the hard one, as Go does for cAdvisor: the
/// exporter keeps a few cgroup directories open per running container.
fn raise_nofile_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        let raised = rustix::process::Rlimit { current: limit.maximum, ..limit };
        if let Err(e) = setrlimit(Resource::Nofile, raised) {
            tracing::debug!(err = %e, "Cannot raise the open files limit.");
        }
    }
}

fn main() -> ExitCode {
    raise_nofile_limit();
    vigie_kit::run_target(EXPORTER, collectors::registry(), flags, target)
}
