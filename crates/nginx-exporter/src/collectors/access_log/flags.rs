//! The access_log collector's flags (`--nginx.access-log` and its `--nginx.access-log.*`
//! options) → [`Settings`]: which files, how each is written, which routes, which buckets.
//! Every bad value is an error that names its flag, at start-up.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Arg, ArgAction, ArgMatches};

use super::format::{self, Format};
use super::stats::{self, Route};

const LOG: &str = "nginx.access-log";
const FORMAT: &str = "nginx.access-log.format";
const ROUTE: &str = "nginx.access-log.route";
const BUCKETS: &str = "nginx.access-log.buckets";
const FROM_START: &str = "nginx.access-log.from-start";
const POLL: &str = "nginx.access-log.poll-interval";
const STATUS: &str = "nginx.access-log.status";

/// Adds the flags to the command line.
pub fn args(cmd: clap::Command) -> clap::Command {
    cmd.arg(
        Arg::new(LOG).long(LOG).value_name("PATH[:service=NAME][:format=NAME]").action(ArgAction::Append).help(
            "Access log to follow (repeatable). service= labels its series (default: the file name without \
             .log); format= is combined, vigie (the default; also reads combined lines) or a name given to \
             --nginx.access-log.format.",
        ),
    )
    .arg(
        Arg::new(FORMAT).long(FORMAT).value_name("NAME=LOG_FORMAT").action(ArgAction::Append).help(
            "A named log_format, as in nginx.conf (e.g. 'timed=$remote_addr [$time_local] \"$request\" $status \
             $body_bytes_sent $request_time').",
        ),
    )
    .arg(Arg::new(ROUTE).long(ROUTE).value_name("PATTERN").action(ArgAction::Append).help(
        "A route for the route label (repeatable): /api/users/* (* is one path segment), /static/** (any \
         rest). Paths matching none are route=\"other\"; without routes there is no route label.",
    ))
    .arg(
        Arg::new(BUCKETS)
            .long(BUCKETS)
            .value_name("SECONDS,…")
            .help("Histogram bounds in seconds (default: .005,.01,.025,.05,.1,.2,.25,.5,1,2.5,5,10)."),
    )
    .arg(
        Arg::new(STATUS)
            .long(STATUS)
            .value_name("code|class")
            .value_parser(["code", "class"])
            .default_value("code")
            .help("The status label: the code (503, as prometheus-nginxlog-exporter) or its class (5xx: fewer series)."),
    )
    .arg(
        Arg::new(FROM_START)
            .long(FROM_START)
            .action(ArgAction::SetTrue)
            .help("Read files already there from their start (default: from their end, as tail -F)."),
    )
    .arg(
        Arg::new(POLL)
            .long(POLL)
            .value_name("DURATION")
            .default_value("250ms")
            .value_parser(vigie_kit::flags::parse_duration)
            .help("How often each file is checked for new lines and rotation."),
    )
}

/// One followed file.
#[derive(Clone, Debug)]
pub struct Source {
    /// The file.
    pub path: PathBuf,
    /// Its `service` label.
    pub service: String,
    /// How its lines are written.
    pub format: Format,
}

/// The collector's settings, from its flags.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The files.
    pub sources: Vec<Source>,
    /// Route patterns, in matching order.
    pub routes: Vec<Route>,
    /// Histogram bounds, ascending.
    pub buckets: Vec<f64>,
    /// Read existing files from their start.
    pub from_start: bool,
    /// Poll interval.
    pub poll: Duration,
    /// Label statuses by class (`5xx`) instead of code.
    pub status_class: bool,
}

impl Settings {
    /// Reads the parsed flags.
    pub fn from_matches(m: &ArgMatches) -> Result<Settings, String> {
        let strings = |name: &str| m.get_many::<String>(name).map(|v| v.cloned().collect()).unwrap_or_default();
        let formats: Vec<String> = strings(FORMAT);
        let mut named = Vec::new();
        for f in &formats {
            let (name, text) = f.split_once('=').ok_or_else(|| format!("--{FORMAT} {f:?}: expected NAME=LOG_FORMAT"))?;
            named.push((name.to_owned(), Format::compile(text).map_err(|e| format!("--{FORMAT} {name}: {e}"))?));
        }
        let sources = strings(LOG)
            .iter()
            .map(|spec| parse_source(spec, &named).map_err(|e| format!("--{LOG} {spec:?}: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        let routes = strings(ROUTE).iter().map(|p| Route::parse(p)).collect::<Result<Vec<_>, _>>()?;
        let buckets = match m.get_one::<String>(BUCKETS) {
            Some(text) => parse_buckets(text).map_err(|e| format!("--{BUCKETS} {text:?}: {e}"))?,
            None => stats::DEFAULT_BUCKETS.to_vec(),
        };
        let poll = m.get_one::<Duration>(POLL).copied().unwrap_or(Duration::from_millis(250));
        let status_class = m.get_one::<String>(STATUS).is_some_and(|s| s == "class");
        Ok(Settings { sources, routes, buckets, from_start: m.get_flag(FROM_START), poll, status_class })
    }
}

/// `PATH[:service=NAME][:format=NAME]`; options come last, so a path may hold a `:`.
pub fn parse_source(spec: &str, named: &[(String, Format)]) -> Result<Source, String> {
    let (mut path, mut service, mut format) = (spec, None, None);
    while let Some((head, opt)) = path.rsplit_once(':') {
        match opt.split_once('=') {
            Some(("service", v)) if !v.is_empty() => service = Some(v.to_owned()),
            Some(("format", v)) => format = Some(v),
            _ => break,
        }
        path = head;
    }
    if path.is_empty() {
        return Err("no path".into());
    }
    let format = match format {
        None | Some("vigie") => Format::vigie(),
        Some("combined") => Format::compile(format::COMBINED).map_err(|e| e.to_string())?,
        Some(name) => named
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, f)| f.clone())
            .ok_or_else(|| format!("unknown format {name:?} (combined, vigie, or one of --{FORMAT})"))?,
    };
    let path = PathBuf::from(path);
    let service = service.unwrap_or_else(|| {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        name.strip_suffix(".log").map(str::to_owned).unwrap_or(name)
    });
    Ok(Source { path, service, format })
}

fn parse_buckets(text: &str) -> Result<Vec<f64>, String> {
    let mut out = Vec::new();
    for part in text.split(',') {
        let v: f64 = part.trim().parse().map_err(|_| format!("{part:?} is not a number"))?;
        if !v.is_finite() || out.last().is_some_and(|last| *last >= v) {
            return Err("bounds must be finite and ascending".into());
        }
        out.push(v);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::access_log::format::Var;

    #[test]
    fn source_specs() {
        let s = parse_source("/var/log/nginx/api.log", &[]).unwrap();
        assert_eq!((s.path, s.service.as_str()), (PathBuf::from("/var/log/nginx/api.log"), "api"));
        let s = parse_source("/logs/a:b/access.log:service=shop:format=combined", &[]).unwrap();
        assert_eq!((s.path, s.service.as_str()), (PathBuf::from("/logs/a:b/access.log"), "shop"));
        assert!(!s.format.has(Var::RequestTime));
        let named = [("t".to_owned(), Format::compile("$status $request_length").unwrap())];
        assert!(parse_source("x.log:format=t", &named).unwrap().format.has(Var::RequestLength));
        assert!(parse_source("x.log:format=nope", &named).unwrap_err().contains("unknown format \"nope\""));
        assert!(parse_source(":service=x", &[]).is_err());
    }

    #[test]
    fn bucket_flags() {
        assert_eq!(parse_buckets("0.1, 0.2,1").unwrap(), [0.1, 0.2, 1.0]);
        assert!(parse_buckets("0.2,0.1").is_err());
        assert!(parse_buckets("a").is_err());
    }
}

