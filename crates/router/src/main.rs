//! `vigie-router`: `serve`, `check-config FILE`, `routes test --config FILE --labels k=v,…`,
//! `oncall --config FILE [--at RFC3339] [--days N] [--format text|json]`.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use vigie_kit::flags::{LogArgs, WebArgs};
use vigie_router::{config, escalation};

/// Default `--web.listen-address`.
const DEFAULT_LISTEN: &str = ":9096";

#[derive(Parser)]
#[command(
    name = "vigie-router",
    version,
    about = "Alertmanager webhook receiver: durable incidents, L1→L2→L3 escalation, email."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Receive webhooks and page people.
    Serve {
        /// Router config (YAML).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        #[command(flatten)]
        web: WebArgs,
        #[command(flatten)]
        log: LogArgs,
    },
    /// Check a config file: prints every problem (file:line:col: field: message), exits 1 if any.
    CheckConfig {
        /// Router config (YAML).
        file: PathBuf,
    },
    /// Dry runs of the route tree.
    Routes {
        #[command(subcommand)]
        command: Routes,
    },
    /// Who is on call in each schedule at an instant, or every shift of the next N days.
    Oncall {
        /// Router config (YAML); only its contacts and schedules are read.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// The instant, RFC 3339 with an offset (`2026-03-30T09:00:00+02:00`); default now.
        #[arg(long, value_name = "RFC3339")]
        at: Option<String>,
        /// List every shift from `--at` to N days later (at most 366).
        #[arg(long, value_name = "N")]
        days: Option<u32>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: OncallFormat,
    },
    /// Read incidents from the store (read-only: works while the router runs).
    Incident {
        #[command(subcommand)]
        command: IncidentCmd,
    },
}

#[derive(Subcommand)]
enum IncidentCmd {
    /// An incident as a root-cause analysis skeleton: facts, timeline, empty sections.
    Show {
        /// Router config (YAML): gives the store file and the resolution target.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value = "markdown")]
        format: Format,
        /// Incident id.
        id: i64,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Markdown,
    Json,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum OncallFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Routes {
    /// Print the policy chosen for a label set and its steps with their times.
    Test {
        /// Router config (YAML).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Labels, `k=v,k2=v2`.
        #[arg(long, value_name = "K=V,…", default_value = "")]
        labels: String,
    },
}

mod oncall {
    //! `oncall` and `check-config`'s coverage warnings.

    use std::path::Path;
    use std::process::ExitCode;

    use jiff::Timestamp;
    use vigie_router::schedule::{report, Schedule};

    use super::OncallFormat;

    /// How far ahead `check-config` looks for uncovered hours.
    const LOOKAHEAD_DAYS: i64 = 28;

    pub(super) fn run(config: &Path, at: Option<&str>, days: Option<u32>, format: OncallFormat) -> ExitCode {
        let at = match at.map(str::parse::<Timestamp>) {
            None => Timestamp::now(),
            Some(Ok(t)) => t,
            Some(Err(_)) => {
                eprintln!("--at: {:?} is not an RFC 3339 instant (2026-03-30T09:00:00+02:00)", at.unwrap_or(""));
                return ExitCode::from(2);
            }
        };
        if days.is_some_and(|d| !(1..=366).contains(&d)) {
            eprintln!("--days: give 1 to 366");
            return ExitCode::from(2);
        }
        let schedules = match vigie_router::config::load_schedules(config) {
            Ok(s) => s,
            Err(errs) => {
                errs.iter().for_each(|e| eprintln!("{e}"));
                eprintln!("{} error(s) in {}", errs.len(), config.display());
                return ExitCode::FAILURE;
            }
        };
        // Phase 1: overrides live in the store from phase 2 on.
        let rows = report::rows(&schedules, at, days, &|_| Vec::new());
        match format {
            OncallFormat::Json => println!("{}", report::json(&schedules, &rows)),
            OncallFormat::Text if schedules.is_empty() => println!("{}: no schedules", config.display()),
            OncallFormat::Text => print!("{}", report::text(&schedules, &rows)),
        }
        ExitCode::SUCCESS
    }

    /// Prints a warning for every stretch of the next 28 days with nobody on call.
    pub(super) fn warn_gaps(schedules: &[Schedule], now: Timestamp) {
        let end = Timestamp::from_second(now.as_second() + LOOKAHEAD_DAYS * 86_400).unwrap_or(now);
        for (i, s) in schedules.iter().enumerate() {
            for (a, b) in s.gaps(now, end, &[]) {
                let hours = (b.as_second() - a.as_second()) as f64 / 3600.0;
                eprintln!(
                    "warning: schedules[{i}] ({}): nobody on call from {} to {} ({hours:.1}h)",
                    s.name,
                    s.rfc3339(a),
                    s.rfc3339(b)
                );
            }
        }
    }
}

fn load(path: &std::path::Path) -> Option<config::Config> {
    match config::load(path) {
        Ok(c) => Some(c),
        Err(errs) => {
            for e in &errs {
                eprintln!("{e}");
            }
            eprintln!("{} error(s) in {}", errs.len(), path.display());
            None
        }
    }
}

fn human(d: std::time::Duration) -> String {
    let s = d.as_secs();
    let ms = d.subsec_millis();
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if sec > 0 || ms > 0 || out.is_empty() {
        if ms > 0 {
            out.push_str(&format!("{sec}.{ms:03}s"));
        } else {
            out.push_str(&format!("{sec}s"));
        }
    }
    out
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::CheckConfig { file } => match load(&file) {
            Some(c) => {
                println!("{}: OK ({} policies)", file.display(), c.policies.len());
                oncall::warn_gaps(&c.schedules, jiff::Timestamp::now());
                ExitCode::SUCCESS
            }
            None => ExitCode::FAILURE,
        },
        Command::Oncall { config, at, days, format } => oncall::run(&config, at.as_deref(), days, format),
        Command::Routes { command: Routes::Test { config, labels } } => {
            let Some(cfg) = load(&config) else { return ExitCode::FAILURE };
            let mut kv = vigie_router::payload::KV::new();
            for pair in labels.split(',').filter(|p| !p.trim().is_empty()) {
                let Some((k, v)) = pair.split_once('=') else {
                    eprintln!("--labels: {pair:?} is not k=v");
                    return ExitCode::from(2);
                };
                kv.insert(k.trim().to_owned(), v.trim().trim_matches('"').to_owned());
            }
            let (policy, steps) = escalation::dry_run(&cfg, &kv);
            println!("policy: {policy}");
            for s in steps {
                let who: Vec<String> =
                    s.targets.iter().map(|t| format!("{} <{}:{}>", t.contact, t.channel.as_str(), t.address)).collect();
                println!(
                    "  +{:<10} level {}{}: {}",
                    human(s.at),
                    s.level,
                    if s.repeat { " (repeat)" } else { "" },
                    who.join(", ")
                );
            }
            ExitCode::SUCCESS
        }
        Command::Incident { command: IncidentCmd::Show { config, format, id } } => {
            let Some(cfg) = load(&config) else { return ExitCode::FAILURE };
            match read_incident(&cfg, id) {
                Ok(Some(d)) => {
                    let now = vigie_router::model::now_ms();
                    let target = cfg.resolution.target.0;
                    match format {
                        Format::Markdown => print!("{}", vigie_router::rca::markdown(&d, target, now)),
                        Format::Json => println!("{}", vigie_router::rca::json(&d, target, now)),
                    }
                    ExitCode::SUCCESS
                }
                Ok(None) => {
                    eprintln!("{}: no incident {id}", cfg.storage.describe());
                    ExitCode::FAILURE
                }
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Serve { config, web, log } => {
            vigie_kit::log::init(log.level, log.format);
            let Some(cfg) = load(&config) else { return ExitCode::FAILURE };
            if !cfg.schedules.is_empty() {
                tracing::warn!(
                    "Schedules are checked, not yet followed: a level whose team has a schedule pages all its members."
                );
            }
            let web_cfg = match &web.config_file {
                Some(p) => match vigie_kit::web_config::Web::load(p) {
                    Ok(w) => w,
                    Err(e) => {
                        eprintln!("{e}");
                        return ExitCode::FAILURE;
                    }
                },
                None => vigie_kit::web_config::Web::plain(),
            };
            let listen = if web.listen.is_empty() { vec![DEFAULT_LISTEN.to_owned()] } else { web.listen.clone() };
            let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("cannot start the runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match rt.block_on(vigie_router::serve::run(cfg, web_cfg, &listen, vigie_kit::server::shutdown_signal())) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!(err = %e, "Exiting.");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// One incident, read from the configured store: the SQLite file read-only (the router may
/// be running), or the PostgreSQL database.
fn read_incident(cfg: &vigie_router::config::Config, id: i64) -> Result<Option<vigie_router::store::Detail>, String> {
    use vigie_router::config::StorageBackend;
    match &cfg.storage {
        StorageBackend::Sqlite(path) => {
            let reader = vigie_router::store::sqlite::Reader::open(path).map_err(|e| e.to_string())?;
            reader.incident(id).map_err(|e| e.to_string())
        }
        StorageBackend::Postgres(_) => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start the runtime: {e}"))?;
            rt.block_on(async {
                let store = vigie_router::serve::open_store(cfg).await?;
                store.incident(id).await.map_err(|e| e.to_string())
            })
        }
    }
}
