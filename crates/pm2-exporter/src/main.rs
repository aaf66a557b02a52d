//! `vigie-pm2-exporter`: PM2-managed Node.js processes, read straight from the PM2 daemon's
//! RPC socket (`$PM2_HOME/rpc.sock`) with one `getMonitorData` call per scrape, exposed with
//! pm2-metrics' names plus state, restart, CPU and @pm2/io HTTP families of our own.

#![forbid(unsafe_code)]

mod collectors;
mod model;
mod rpc;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use vigie_kit::{Desc, Exporter, ScrapeNames, Target};

/// What collectors see each scrape: the daemon's process list.
pub type Snapshot = Arc<Vec<model::Process>>;

/// How the kit knows this exporter.
pub const EXPORTER: Exporter = Exporter {
    name: "vigie-pm2-exporter",
    version: env!("CARGO_PKG_VERSION"),
    about: "PM2 processes and @pm2/io metrics, read from the PM2 daemon's RPC socket.",
    default_listen: ":9209",
    build_info: "vigie_pm2_exporter_build_info",
    scrape_names: ScrapeNames::node_style(
        "vigie_pm2_scrape_collector_success",
        "vigie_pm2_scrape_collector_duration_seconds",
    ),
    path_flags: true,
};

const DAEMON_UP: Desc =
    Desc::gauge("pm2_daemon_up", "Whether the PM2 daemon answered getMonitorData on this scrape.", &[]);

fn args(cmd: clap::Command) -> clap::Command {
    cmd.arg(
        clap::Arg::new("pm2.home")
            .long("pm2.home")
            .value_name("DIR")
            .env("PM2_HOME")
            .help("PM2's home directory, holding rpc.sock (default: ~/.pm2)."),
    )
    .arg(
        clap::Arg::new("pm2.socket")
            .long("pm2.socket")
            .value_name("PATH")
            .env("PM2_DAEMON_RPC_PORT")
            .help("Path of the daemon's RPC socket, if not <pm2.home>/rpc.sock."),
    )
}

/// The RPC socket path from the flags, `PM2_HOME`, or `~/.pm2`.
fn socket_path(matches: &clap::ArgMatches) -> Result<PathBuf, String> {
    if let Some(socket) = matches.get_one::<String>("pm2.socket") {
        return Ok(socket.into());
    }
    let home = match matches.get_one::<String>("pm2.home") {
        Some(h) => PathBuf::from(h),
        None => std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(".pm2"))
            .ok_or("neither --pm2.home, PM2_HOME nor HOME is set")?,
    };
    Ok(home.join("rpc.sock"))
}

fn main() -> ExitCode {
    vigie_kit::run_target(EXPORTER, collectors::registry(), args, |matches| {
        let path = socket_path(matches)?;
        tracing::info!(socket = %path.display(), "Reading the PM2 daemon.");
        let client = Arc::new(rpc::Client::new(path));
        Ok(Target {
            connect: Arc::new(move |_, deadline| {
                let client = client.clone();
                Box::pin(async move {
                    let list = client.call_with(rpc::Method::GetMonitorData, deadline, rpc::reply_list).await;
                    list.map(Arc::new).map_err(|e| e.to_string().into())
                })
            }),
            up: Some(&DAEMON_UP),
            probe_path: None,
        })
    })
}
