//! `vigie-jvm-exporter`: JVM and Tomcat metrics read through the Jolokia HTTP/JSON bridge,
//! one bulk POST per scrape, exposed with the names of client_java's JVM exports (as
//! jmx_exporter's agent serves them) and of jmx_exporter's example Tomcat rules.

#![forbid(unsafe_code)]

mod collectors;
mod jolokia;
mod reply;
mod rules;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use vigie_kit::{Desc, Exporter, ScrapeNames, Secret};

/// What collectors see each scrape: the parsed bulk reply.
pub type Target = Arc<reply::Reply>;

/// How the kit knows this exporter.
pub const EXPORTER: Exporter = Exporter {
    name: "vigie-jvm-exporter",
    version: env!("CARGO_PKG_VERSION"),
    about: "JVM and Tomcat metrics through Jolokia, with jmx_exporter's names.",
    default_listen: ":9404",
    build_info: "vigie_jvm_exporter_build_info",
    scrape_names: ScrapeNames::node_style(
        "vigie_jvm_scrape_collector_success",
        "vigie_jvm_scrape_collector_duration_seconds",
    ),
    path_flags: false,
};

const UP: Desc = Desc::gauge("jvm_up", "Whether Jolokia answered the bulk read on this scrape.", &[]);

/// Most distinct `/probe` targets kept connected at once.
const MAX_PROBE_CLIENTS: usize = 64;

fn args(cmd: clap::Command) -> clap::Command {
    use clap::Arg;
    cmd.arg(
        Arg::new("jolokia.url")
            .long("jolokia.url")
            .value_name("URL")
            .default_value("http://127.0.0.1:8778/jolokia")
            .help("Jolokia endpoint scraped on /metrics."),
    )
    .arg(Arg::new("jolokia.user").long("jolokia.user").value_name("USER").help("Basic auth user for Jolokia."))
    .arg(
        Arg::new("jolokia.password-file")
            .long("jolokia.password-file")
            .value_name("FILE")
            .help("File holding the basic auth password (or set JOLOKIA_PASSWORD)."),
    )
    .arg(
        Arg::new("jolokia.tls.ca-file")
            .long("jolokia.tls.ca-file")
            .value_name("FILE")
            .help("CA bundle for https Jolokia endpoints."),
    )
    .arg(
        Arg::new("config.file")
            .long("config.file")
            .value_name("FILE")
            .help("jmx_exporter rules (YAML: rules, includeObjectNames, lowercaseOutputName…) for any other MBean."),
    )
    .arg(
        Arg::new(collectors::NAMES_FLAG)
            .long(collectors::NAMES_FLAG)
            .value_name("GENERATION")
            .value_parser(["0.x", "1.x"])
            .default_value("0.x")
            .help("JVM metric names: client_java 0.x (jmx_exporter agent ≤ 0.20: jvm_memory_bytes_used) or 1.x (jvm_memory_used_bytes)."),
    )
}

struct Settings {
    user: Option<String>,
    password: Option<Secret>,
    ca_file: Option<PathBuf>,
}

impl Settings {
    fn endpoint(&self, url: &str) -> Result<jolokia::Endpoint, String> {
        jolokia::Endpoint::new(url, self.user.as_deref(), self.password.as_ref(), self.ca_file.as_deref())
            .map_err(|e| e.to_string())
    }
}

/// What every scrape sends and how its reply is read.
struct Request {
    body: Bytes,
    rules: Option<Arc<rules::Rules>>,
}

async fn scrape(client: &jolokia::Client, request: &Request, deadline: std::time::Instant) -> Result<Target, String> {
    let body = client.post(request.body.clone(), deadline).await.map_err(|e| e.to_string())?;
    let reply = reply::parse(&body, request.rules.as_ref())?;
    Ok(Arc::new(reply))
}

fn main() -> ExitCode {
    vigie_kit::run_target(EXPORTER, collectors::registry(), args, |m| {
        let password = match m.get_one::<String>("jolokia.password-file") {
            Some(f) => Some(Secret::from_file(f.as_ref()).map_err(|e| format!("--jolokia.password-file {f}: {e}"))?),
            None => std::env::var("JOLOKIA_PASSWORD").ok().map(Secret::new),
        };
        let settings = Arc::new(Settings {
            user: m.get_one::<String>("jolokia.user").cloned(),
            password,
            ca_file: m.get_one::<String>("jolokia.tls.ca-file").map(PathBuf::from),
        });
        let rules = match m.get_one::<String>("config.file") {
            Some(f) => {
                let r = rules::Rules::load(f.as_ref()).map_err(|e| e.to_string())?;
                tracing::info!(file = %f, rules = r.rules.len(), include = r.include.join(" "), "Rules loaded.");
                Some(Arc::new(r))
            }
            None => None,
        };
        let request = Arc::new(Request { body: Bytes::from(reply::bulk_body(rules.as_deref())), rules });
        let default_url = m.get_one::<String>("jolokia.url").cloned().unwrap_or_default();
        let default = Arc::new(jolokia::Client::new(settings.endpoint(&default_url)?));
        let probes: Arc<Mutex<HashMap<String, Arc<jolokia::Client>>>> = Arc::default();
        Ok(vigie_kit::Target {
            connect: Arc::new(move |probe, deadline| {
                let (settings, default, probes) = (settings.clone(), default.clone(), probes.clone());
                let request = request.clone();
                Box::pin(async move {
                    let client = match probe.as_ref().and_then(|p| p.get("target")) {
                        None => default,
                        Some(url) => {
                            let mut map = probes.lock().map_err(|_| "probe client cache poisoned".to_owned())?;
                            if let Some(c) = map.get(url) {
                                c.clone()
                            } else {
                                if map.len() >= MAX_PROBE_CLIENTS {
                                    map.clear();
                                }
                                let c = Arc::new(jolokia::Client::new(settings.endpoint(url)?));
                                map.insert(url.to_owned(), c.clone());
                                c
                            }
                        }
                    };
                    Ok(scrape(&client, &request, deadline).await?)
                })
            }),
            up: Some(&UP),
            probe_path: Some("/probe"),
        })
    })
}
