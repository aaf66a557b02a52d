//! The handler end to end over loopback: targets up, down, unknown; probes; flags.

use super::*;
use crate::*;

#[test]
fn query_pairs_decode() {
    let q = query_pairs("collect[]=cpu&collect%5B%5D=mem+info&x&bad=%zz&end=%4");
    assert_eq!(q[0], ("collect[]".into(), "cpu".into()));
    assert_eq!(q[1], ("collect[]".into(), "mem info".into()));
    assert_eq!(q[2], ("x".into(), "".into()));
    assert_eq!(q[3], ("bad".into(), "%zz".into()));
    assert_eq!(q[4], ("end".into(), "%4".into()));
}

const UP: Desc = Desc::gauge("t_up", "Whether the target answered.", &[]);
const SEEN: Desc = Desc::gauge("t_seen", "The target a collector saw.", &["target"]);

struct Echo;
impl SyncCollector<String> for Echo {
    fn collect_sync(&self, cx: &Scrape<String>, out: &mut MetricSet) -> CollectResult {
        out.add(&SEEN, &[&cx.target], 1.0);
        Ok(())
    }
}

fn get(addr: std::net::SocketAddr, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// An exporter called `t` on a free loopback port, with these per-collector families.
fn test_exporter(scrape_names: ScrapeNames) -> Exporter {
    Exporter {
        name: "t",
        version: "1",
        about: "t",
        default_listen: "127.0.0.1:0",
        build_info: "t_build_info",
        scrape_names,
        path_flags: false,
    }
}

#[test]
fn targets_up_down_and_probe() {
    let exporter = test_exporter(ScrapeNames::node_style("t_collector_success", "t_collector_duration_seconds"));
    let reg = Registration::<String> {
        name: "echo",
        default_enabled: true,
        help: "Echoes the target.",
        args: collector::no_args,
        build: |_| Ok(Box::new(Echo)),
    };
    let (settings, _) = settings_with(&exporter, vec![reg], |c| c, vec!["t".into()]).unwrap();
    let target = Target::<String> {
        connect: Arc::new(|probe, _| {
            Box::pin(async move {
                match probe.as_ref().and_then(|p| p.get("target")) {
                    Some("down:1") => Err("connection refused".into()),
                    Some("stranger:1") => Err(TargetError::Unknown("Unable to find target".into())),
                    Some(t) => Ok(t.to_owned()),
                    None => Ok("default".to_owned()),
                }
            })
        }),
        up: Some(&UP),
        probe_path: Some("/probe"),
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let listeners = rt.block_on(server::Listeners::bind(&["127.0.0.1:0".to_owned()])).unwrap();
    let addr = listeners.local_addrs()[0];
    let engine = Arc::new(Engine::new(Arc::new(settings.paths.clone())));
    let handler = metrics_handler(exporter, settings, target, engine);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || {
        rt.block_on(listeners.serve(Arc::new(web_config::Web::plain()), handler, async {
            let _ = stop_rx.await;
        }))
    });
    let metrics = get(addr, "/metrics");
    assert!(metrics.contains("t_up 1\n") && metrics.contains("t_seen{target=\"default\"} 1"), "{metrics}");
    assert!(metrics.contains("process_cpu_seconds_total"), "{metrics}");
    let probe = get(addr, "/probe?target=db%3A3306");
    assert!(probe.contains("t_seen{target=\"db:3306\"} 1") && probe.contains("t_up 1\n"), "{probe}");
    assert!(!probe.contains("process_cpu_seconds_total"), "probes carry no exporter metrics: {probe}");
    let down = get(addr, "/probe?target=down:1");
    assert!(down.contains("t_up 0\n") && !down.contains("t_seen"), "{down}");
    let stranger = get(addr, "/probe?target=stranger:1");
    assert!(stranger.starts_with("HTTP/1.1 404") && stranger.contains("Unable to find target"), "{stranger}");
    let missing = get(addr, "/probe");
    assert!(missing.starts_with("HTTP/1.1 400") && missing.contains("target parameter is missing"), "{missing}");
    assert!(get(addr, "/nope").starts_with("HTTP/1.1 404"));
    assert!(get(addr, "/-/ready").starts_with("HTTP/1.1 200"));
    stop_tx.send(()).unwrap();
    server.join().unwrap();
}

#[test]
fn deadline_follows_prometheus_timeout_header() {
    use clap::Parser as _;
    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        web: flags::WebArgs,
    }
    let web = Cli::parse_from(["x", "--scrape.timeout=1h", "--scrape.timeout-offset=500ms"]).web;
    let left = |value: &str| {
        let mut h = hyper::HeaderMap::new();
        h.insert("x-prometheus-scrape-timeout-seconds", value.parse().unwrap());
        deadline(&h, &web).saturating_duration_since(Instant::now())
    };
    // 10 s header minus the 0.5 s offset; a bad header falls back to --scrape.timeout.
    let ten = left("10");
    assert!(ten <= Duration::from_millis(9_500) && ten > Duration::from_secs(9), "{ten:?}");
    assert!(left("nonsense") > Duration::from_secs(3_500));
    assert!(left("-3") > Duration::from_secs(3_500));
    // Never below the 100 ms floor, even when the offset exceeds the header.
    let tiny = left("0.2");
    assert!(tiny <= Duration::from_millis(100) && tiny > Duration::from_millis(50), "{tiny:?}");
}

#[test]
fn prefixed_collector_flags_and_labels() {
    let exporter =
        test_exporter(ScrapeNames::node_style("t_success", "t_duration_seconds").prefixed("collect", "collect."));
    let reg = || Registration::<String> {
        name: "echo",
        default_enabled: true,
        help: "Echoes the target.",
        args: collector::no_args,
        build: |_| Ok(Box::new(Echo)),
    };
    let (on, _) = settings_with(&exporter, vec![reg()], |c| c, vec!["t".into()]).unwrap();
    assert_eq!(on.collectors.len(), 1);
    assert_eq!((on.collectors[0].name, on.collectors[0].label), ("echo", "collect.echo"));
    let (off, _) = settings_with(&exporter, vec![reg()], |c| c, vec!["t".into(), "--no-collect.echo".into()]).unwrap();
    assert!(off.collectors.is_empty());
    assert!(settings_with(&exporter, vec![reg()], |c| c, vec!["t".into(), "--collector.echo".into()]).is_err());
}

#[test]
fn landing_page_escapes() {
    let e = Exporter {
        name: "x<y",
        version: "1",
        about: "a&b",
        default_listen: ":1",
        build_info: "x_build_info",
        scrape_names: ScrapeNames::node_style("a", "b"),
        path_flags: false,
    };
    let page = landing_page(&e, "/metrics\"", Some("/probe"));
    assert!(page.contains("x&lt;y") && page.contains("a&amp;b") && page.contains("/metrics&quot;"));
    assert!(page.contains("href=\"/probe?target=\""));
}
